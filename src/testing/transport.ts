/**
 * @module
 * How a transport plugs into the testing harness: the harness owns a simulated wire, a
 * transport adapter owns how one end feeds its session. The built-in adapter feeds
 * `sessionReceive` directly and checks the consumption contract on every call (SPEC.md 2.1).
 */

import {
  type Session,
  sessionClose,
  sessionCreate,
  sessionReceive,
  sessionState,
} from '../session.js';
import type { SessionConfig } from '../types.js';

/** The simulated link one end of the harness writes to. */
export interface Wire {
  /** Puts bytes on the wire: the `send` of `sessionCreate` (0 taken, -1 the link is dead). */
  send(bytes: Uint8Array): 0 | -1;
  /** Asks for the link to close: the `close` of `sessionCreate`. */
  close(): void;
}

/** One end of a transport under test, built on a {@link Wire}. */
export interface TransportEnd {
  /**
   * Creates the session on this end (with `sessionCreate`, `send` and `close` going to the
   * wire). Bytes that arrived before, even during this call, must be held and fed afterwards.
   */
  create(config: SessionConfig<Session>): Session;
  /** Bytes arrived from the wire, cut as the harness chose. */
  receive(bytes: Uint8Array): void;
  /** The wire broke or the peer closed it: tell the session once the held bytes were fed. */
  linkClosed(): void;
}

/**
 * A transport to test: the harness calls `open` once per side. Plug your own to fuzz your
 * buffering and framing; without one, the harness feeds `sessionReceive` itself and checks
 * every call against the consumption contract.
 *
 * @example
 * ```ts
 * const adapter: TransportAdapter = {
 *   name: 'input-buffer',
 *   open(wire) {
 *     const input = new InputBuffer();
 *     let session: Session | undefined;
 *     return {
 *       create(config) {
 *         const s = sessionCreate(wire, (w, b) => w.send(b), (w) => w.close(), config);
 *         session = s;
 *         input.attach((bytes) => sessionReceive(s, bytes));
 *         return s;
 *       },
 *       receive: (bytes) => void input.push(bytes),
 *       linkClosed: () => input.afterDrain(() => session && sessionClose(session)),
 *     };
 *   },
 * };
 * ```
 */
export interface TransportAdapter {
  /** Printed in failure messages. */
  readonly name: string;
  /** Makes one end of the transport on `wire`. */
  open(wire: Wire): TransportEnd;
}

/** One `sessionReceive` call seen by the built-in adapter. */
export interface ReceiveCall {
  /** Bytes of this end's input stream consumed before the call. */
  readonly offset: number;
  /** Bytes presented. */
  readonly length: number;
  /** What `sessionReceive` returned. */
  readonly result: number;
}

/** What the built-in adapter reports to the harness. */
export interface DirectEndHooks {
  /** A call finished. */
  call(call: ReceiveCall): void;
  /** The session broke the transport contract. */
  violation(message: string): void;
}

const SCRIBBLE = 0xa5;

/**
 * The built-in end: keeps the unconsumed tail itself, presents it in a fresh copy on each call
 * and scribbles over that copy afterwards (the session must keep no reference to its input),
 * never nests `sessionReceive`, and checks each result: an integer in [-1, length], -1 exactly
 * when the session is closed, and -1 forever once returned.
 */
export class DirectEnd implements TransportEnd {
  readonly #wire: Wire;
  readonly #hooks: DirectEndHooks;
  readonly #oneByteMore: boolean;
  #session: Session | undefined;
  #held = new Uint8Array(0);
  #offset = 0;
  #feeding = false;
  #appended = false;
  #ended = false;
  /** The length of the prefix presented last (one-more-byte feeding). */
  #probe = 0;

  /** An end on `wire` reporting to `hooks`. */
  constructor(wire: Wire, hooks: DirectEndHooks, oneByteMore = false) {
    this.#wire = wire;
    this.#hooks = hooks;
    this.#oneByteMore = oneByteMore;
  }

  /** Creates the session and feeds what arrived before. */
  create(config: SessionConfig<Session>): Session {
    const session = sessionCreate(
      this.#wire,
      (w, b) => w.send(b),
      (w) => w.close(),
      config,
    );
    this.#session = session;
    this.#feed();
    return session;
  }

  /** Appends a copy of `bytes` and feeds unless a feed is running. */
  receive(bytes: Uint8Array): void {
    const next = new Uint8Array(this.#held.length + bytes.length);
    next.set(this.#held);
    next.set(bytes, this.#held.length);
    this.#held = next;
    this.#appended = true;
    this.#feed();
  }

  /** Tells the session its link closed (the harness calls it between feeds). */
  linkClosed(): void {
    if (this.#session) sessionClose(this.#session);
  }

  #feed(): void {
    const session = this.#session;
    if (!session || this.#feeding) return;
    this.#feeding = true;
    try {
      let n = 0;
      do {
        this.#appended = false;
        if (this.#held.length === 0) break;
        // One more byte per call when probing: every unit boundary then shows as a result.
        const probe = this.#oneByteMore
          ? Math.min(this.#probe + 1, this.#held.length)
          : this.#held.length;
        this.#probe = probe;
        // A fresh copy, scribbled over afterwards: the session must keep no reference to it.
        // (Probing presents a view instead, to stay linear in the input size.)
        const input = this.#oneByteMore ? this.#held.subarray(0, probe) : this.#held.slice();
        n = sessionReceive(session, input);
        if (!this.#oneByteMore) input.fill(SCRIBBLE);
        this.#check(session, input.length, n);
        this.#hooks.call({ offset: this.#offset, length: input.length, result: n });
        if (n < 0) {
          this.#ended = true;
          this.#held = new Uint8Array(0);
          break;
        }
        this.#held = this.#held.subarray(Math.min(n, this.#held.length));
        this.#offset += n;
        if (n > 0) this.#probe = 0;
      } while (n > 0 || this.#appended || this.#probe < this.#held.length);
    } finally {
      this.#feeding = false;
    }
  }

  #check(session: Session, length: number, n: number): void {
    const closed = sessionState(session) === 'closed';
    if (!Number.isInteger(n) || n < -1 || n > length) {
      this.#hooks.violation(`sessionReceive returned ${n} for ${length} bytes`);
    } else if (this.#ended && n !== -1) {
      this.#hooks.violation(`sessionReceive returned ${n} after it had returned -1`);
    } else if (n === -1 && !closed) {
      this.#hooks.violation('sessionReceive returned -1 but the session is not closed');
    } else if (n >= 0 && closed) {
      this.#hooks.violation(`sessionReceive returned ${n} but the session is closed`);
    }
  }
}
