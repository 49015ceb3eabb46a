/**
 * @module
 * The oracle: a session under test wrapped so that every break of the SPEC.md contract is
 * noticed — an exception out of sessionReceive, a consumption count that is not a unit
 * boundary, life after -1, `send` after `close`, `close` twice, application events after the
 * end, an end by SSH_ERR_INTERNAL.
 */

import {
  type ClientConfig,
  type ServerConfig,
  type Session,
  type SessionEvent,
  SSH_ERR,
  SshError,
  sessionClose,
  sessionCreate,
  sessionLastError,
  sessionReceive,
  sessionState,
} from '../src/index.js';
import { type Boundaries, isBoundary } from './framing.js';

/** A break of the contract found by the fuzzer. */
export class Violation extends Error {
  /** A short stable name for the kind of break, used to group crashes. */
  readonly kind: string;

  constructor(kind: string, message: string, options?: { cause?: unknown }) {
    super(`${kind}: ${message}`, options);
    this.name = 'Violation';
    this.kind = kind;
  }
}

const KNOWN_CODES = new Set<string>(Object.values(SSH_ERR));

/**
 * One session and its link, instrumented. Its `outbox` collects what it sends; violations
 * found inside callbacks are recorded (throwing there would only end the session) and
 * raised by {@link Monitored.check}.
 */
export class Monitored {
  readonly session: Session;
  readonly outbox: Uint8Array[] = [];
  readonly events: SessionEvent[] = [];
  #closes = 0;
  #ended = false;
  #returnedClosed = false;
  #linkClosed = false;
  readonly #violations: Violation[] = [];
  /** Bytes being fed right now: application data must never be a view of them. */
  #input: Uint8Array | undefined;

  /** `makeConfig` builds the session's configuration; its callbacks may report to the monitor. */
  constructor(makeConfig: (self: Monitored) => ClientConfig<Session> | ServerConfig<Session>) {
    const config = makeConfig(this);
    const onEvent = config.onEvent;
    this.session = sessionCreate(
      this,
      (self, bytes) => {
        if (self.#closes > 0) self.#record('send-after-close', `${bytes.length} bytes sent`);
        self.outbox.push(bytes);
        return 0;
      },
      (self) => {
        self.#closes++;
        if (self.#closes > 1) self.#record('close-twice', `close called ${self.#closes} times`);
      },
      {
        ...config,
        onEvent: (event, session) => {
          this.appEvent(`session event ${event.type}`);
          this.events.push(event);
          if (event.type === 'ext-info') {
            for (const [k, v] of event.extensions) this.appData(`ext-info ${k}`, v);
          }
          if (event.type === 'error') this.#checkError(event.error);
          if (event.type === 'closed') this.#ended = true;
          onEvent?.(event, session);
        },
      } as ClientConfig<Session> | ServerConfig<Session>,
    );
  }

  /** Whether the session reported its end. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Call at the top of every application callback: none may come after the end. */
  appEvent(what: string): void {
    if (this.#ended) this.#record('event-after-end', `${what} after the session ended`);
  }

  /** Call for bytes handed to the application: they must not alias the transport's input. */
  appData(what: string, data: Uint8Array): void {
    const input = this.#input;
    if (input && data.buffer === input.buffer) {
      this.#record('aliased-input', `${what} is a view of the transport's input buffer`);
    }
  }

  /** Takes the bytes sent since the last call, as one buffer. */
  takeOutput(): Uint8Array {
    const parts = this.outbox.splice(0);
    let n = 0;
    for (const p of parts) n += p.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /**
   * Feeds `bytes` as a transport would: one call, then one more with the unconsumed tail,
   * which must consume nothing. `boundaries`, when given, holds every offset at which a
   * whole unit may end; a count elsewhere is a violation. Returns the bytes consumed or -1.
   */
  feed(bytes: Uint8Array, boundaries?: Boundaries): number {
    const n = this.#receive(bytes);
    if (n < 0) {
      if (this.#receive(bytes) !== -1)
        this.#record('alive-after-end', 'a second call did not return -1');
      this.check();
      return -1;
    }
    if (n > 0 && boundaries && !isBoundary(boundaries, n)) {
      this.#record('not-a-boundary', `consumed ${n} of ${bytes.length}, not at a unit boundary`);
    }
    const again = this.#receive(bytes.subarray(n));
    if (again > 0) {
      this.#record('partial-consumption', `consumed ${n}, then ${again} more from the same bytes`);
    }
    this.check();
    return again < 0 ? -1 : n;
  }

  /** Tells the session its link closed (the end of an input), then checks. */
  linkClosed(): void {
    this.#linkClosed = true;
    const before = this.#closes;
    try {
      // sessionClose is part of the contract too: it must never throw for a live session.
      sessionClose(this.session);
    } catch (e) {
      this.#record('threw', `sessionClose threw ${describeError(e)}`, e);
    }
    if (this.#closes !== before) this.#record('close-after-link-closed', 'close called back');
    this.check();
  }

  /** Raises the first violation recorded, and checks the end-of-session rules. */
  check(): void {
    if (sessionState(this.session) === 'closed') {
      if (!this.#ended) this.#record('silent-end', 'the session ended without a closed event');
      if (!this.#linkClosed && this.#closes !== 1) {
        this.#record('close-count', `ended with close called ${this.#closes} times`);
      }
      const err = sessionLastError(this.session);
      if (err) this.#checkError(err);
    }
    const first = this.#violations[0];
    if (first) throw first;
  }

  #receive(bytes: Uint8Array): number {
    let n: number;
    this.#input = bytes;
    try {
      n = sessionReceive(this.session, bytes);
    } catch (e) {
      this.#record('threw', `sessionReceive threw ${describeError(e)}`, e);
      this.check();
      return -1;
    } finally {
      this.#input = undefined;
    }
    if (!Number.isInteger(n) || n < -1 || n > bytes.length) {
      this.#record('bad-count', `returned ${n} for ${bytes.length} bytes`);
    }
    if (n >= 0 && this.#returnedClosed) this.#record('alive-after-end', `returned ${n} after -1`);
    if (n === -1) this.#returnedClosed = true;
    if (n === -1 && sessionState(this.session) !== 'closed') {
      this.#record('bad-count', 'returned -1 but the session is not closed');
    }
    return n;
  }

  #checkError(error: SshError): void {
    if (!(error instanceof SshError) || !KNOWN_CODES.has(error.code)) {
      this.#record('untyped-error', `ended with ${describeError(error)}`, error);
    } else if (error.code === SSH_ERR.INTERNAL) {
      const cause = error.cause instanceof Error ? error.cause : error;
      this.#record('internal', error.message, cause);
    }
  }

  #record(kind: string, message: string, cause?: unknown): void {
    const detail =
      cause instanceof Error && cause.stack
        ? `${message}\n${cause.stack.split('\n').slice(1, 8).join('\n')}`
        : message;
    if (this.#violations.some((v) => v.kind === kind)) return;
    this.#violations.push(new Violation(kind, detail, { cause }));
  }
}

function describeError(e: unknown): string {
  if (e instanceof SshError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
