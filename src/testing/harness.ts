/**
 * @module
 * The deterministic harness: a client and a server, real sessions on the public API, joined
 * by a simulated wire that cuts, delays, drops and corrupts bytes as a seed decides. No clock,
 * no sockets, no promises: a run is a plain function of its options, and a contract monitor
 * checks every `send`, `close`, event and `sessionReceive` result on the way (SPEC.md 2, 5).
 */

import { fingerprintSha256 } from '../crypto/host-key.js';
import type { PrivateKey } from '../crypto/keys.js';
import { SSH_ERR, type SshErrorCode, usageError } from '../errors.js';
import {
  type Session,
  sessionClose,
  sessionDisconnect,
  sessionLastError,
  sessionReceive,
  sessionRekey,
  sessionState,
} from '../session.js';
import type { ClientConfig, ServerConfig, SessionState } from '../types.js';
import { HarnessApp } from './app.js';
import { createPrng, type Prng, seededEd25519Key } from './random.js';
import type { Scenario, Side } from './scenario.js';
import {
  DirectEnd,
  type ReceiveCall,
  type TransportAdapter,
  type TransportEnd,
} from './transport.js';

/** How the wire cuts bytes: as sent, one byte at a time, or seeded pieces of 1 … `maxPiece`. */
export type SplitMode = 'whole' | 'bytes' | { readonly maxPiece: number };

/**
 * When bytes arrive: `sync` inside the sender's `send` (the reentrant case), `deferred` from
 * a queue per direction that the harness drains between calls, choosing the direction by seed.
 */
export type Delivery = 'sync' | 'deferred';

/**
 * One thing that goes wrong during a run:
 * - `send-fails`: `side`'s send number `call` (0-based, failed ones counted) returns -1;
 * - `link-closes-at-send`: send number `send` of either side (0-based) is lost and the link
 *   breaks: later sends return -1 and both ends hear `linkClosed`;
 * - `link-closes-before-step`: the link breaks before step `step` (the step count: after all);
 * - `corrupt`: byte `offset` of the stream `from` sends is XORed with `xor` (1 … 255).
 */
export type Fault =
  | { readonly type: 'send-fails'; readonly side: Side; readonly call: number }
  | { readonly type: 'link-closes-at-send'; readonly send: number }
  | { readonly type: 'link-closes-before-step'; readonly step: number }
  | {
      readonly type: 'corrupt';
      readonly from: Side;
      readonly offset: number;
      readonly xor: number;
    };

/** What `configure` gets to build a side's configuration on. */
export interface ConfigureContext {
  /** The run's seed. */
  readonly seed: number;
  /** The server's seeded Ed25519 host key (the default client pins its fingerprint). */
  readonly hostKey: PrivateKey;
  /** The client's seeded Ed25519 user key (the default server accepts it). */
  readonly userKey: PrivateKey;
}

/**
 * Your application under test: each function gets the harness's configuration for that side
 * (seeded `random`, the default app) and returns the one to use. Keep the seeded `random` for
 * reproducible runs. The harness wraps `onEvent`, `onHostKey` and `onChannelOpen` to record
 * and check events, and calls yours.
 */
export interface Configure {
  /** The client's configuration. */
  client?(base: ClientConfig<Session>, context: ConfigureContext): ClientConfig<Session>;
  /** The server's configuration. */
  server?(base: ServerConfig<Session>, context: ConfigureContext): ServerConfig<Session>;
}

/** Everything a run depends on: the same options give the same transcript. */
export interface RunOptions {
  /** The script (see `SCENARIOS`). */
  readonly scenario: Scenario;
  /** Seeds the sessions' `random`, the keys and the data written. */
  readonly seed: number;
  /** Seeds the pieces and the deferred delivery order (default: `seed`). */
  readonly linkSeed?: number;
  /** Default `whole`. */
  readonly split?: SplitMode;
  /** Default `sync`. */
  readonly delivery?: Delivery;
  /** Default: none. */
  readonly fault?: Fault;
  /** Your application (default: the harness's). */
  readonly configure?: Configure;
  /** Your transport (default: the harness feeds `sessionReceive` itself and checks it). */
  readonly adapter?: TransportAdapter;
  /**
   * How the built-in adapter feeds: `all` held bytes per call (default), or `one-more-byte`:
   * a prefix one byte longer than the last call's until a unit is consumed, so that every unit
   * boundary of the input shows as a `sessionReceive` result (the consumption property's oracle).
   */
  readonly feed?: 'all' | 'one-more-byte';
  /** Deliveries allowed before the run counts as livelocked (default 1,000,000). */
  readonly maxDeliveries?: number;
}

/** What one side did during a run. */
export interface SideTranscript {
  /** Session events, the host-key request and channel events (`ch<N> …`), in order. */
  readonly events: readonly string[];
  /** Every byte handed to `send` and accepted, concatenated. */
  readonly sent: Uint8Array;
  /** `send` calls that returned 0. */
  readonly sends: number;
  /** `send` calls that returned -1. */
  readonly failedSends: number;
  /** How often the session called `close`. */
  readonly closeCalls: number;
  /** The state at the end of the run. */
  readonly state: SessionState;
  /** `sessionLastError(session)?.code` at the end. */
  readonly error: SshErrorCode | undefined;
  /** Channel data received (bytes) and its FNV-1a digest. */
  readonly data: { readonly bytes: number; readonly digest: string };
  /** Every `sessionReceive` call of the built-in adapter (empty with your own adapter). */
  readonly calls: readonly ReceiveCall[];
}

/** The record of a run. */
export interface Transcript {
  /** The options that reproduce it. */
  readonly options: RunOptions;
  /** One line per step: what it did, or why it was skipped. */
  readonly steps: readonly string[];
  /** The client's side. */
  readonly client: SideTranscript;
  /** The server's side. */
  readonly server: SideTranscript;
}

/**
 * The sessions broke the contract during a run, or two runs that must agree did not. The
 * message names the options (seed, scenario, split, delivery, fault) that reproduce it.
 */
export class ContractViolation extends Error {
  /** The options of the failing run. */
  readonly options: RunOptions;
  /** What went wrong, first problem first. */
  readonly violations: readonly string[];
  /** The failing run's transcript, when it finished. */
  readonly transcript: Transcript | undefined;

  /** A violation of `violations` in the run of `options`. */
  constructor(options: RunOptions, violations: readonly string[], transcript?: Transcript) {
    const shown = violations.slice(0, 8).join('; ');
    const more = violations.length > 8 ? ` (+${violations.length - 8} more)` : '';
    super(`${shown}${more}\n  reproduce: ${describeRun(options)}`);
    this.name = 'ContractViolation';
    this.options = options;
    this.violations = violations;
    this.transcript = transcript;
  }
}

/**
 * The options of a run as a `runScenario` call to paste into a test.
 *
 * @example
 * ```ts
 * console.log(describeRun({ scenario: SCENARIOS.exec, seed: 3, split: 'bytes' }));
 * ```
 */
export function describeRun(options: RunOptions): string {
  const fields = [
    `scenario: ${options.scenario.name}`,
    `seed: ${options.seed}`,
    ...(options.linkSeed !== undefined ? [`linkSeed: ${options.linkSeed}`] : []),
    `split: ${JSON.stringify(options.split ?? 'whole')}`,
    `delivery: '${options.delivery ?? 'sync'}'`,
    ...(options.fault ? [`fault: ${JSON.stringify(options.fault)}`] : []),
    ...(options.feed ? [`feed: '${options.feed}'`] : []),
    ...(options.adapter ? [`adapter: ${options.adapter.name}`] : []),
  ];
  return `runScenario({ ${fields.join(', ')} })`;
}

const other = (side: Side): Side => (side === 'client' ? 'server' : 'client');

/** Per-side state of a run. */
export interface EndState {
  readonly side: Side;
  end: TransportEnd;
  session: Session | undefined;
  depth: number;
  ended: boolean;
  closedEvents: number;
  errorEvent: SshErrorCode | undefined;
  sendFailed: boolean;
  closeCalls: number;
  sends: number;
  failedSends: number;
  readonly sent: Uint8Array[];
  readonly events: string[];
  readonly calls: ReceiveCall[];
}

/** A queue of bytes one side sent, waiting for deferred delivery. */
class ByteQueue {
  #chunks: Uint8Array[] = [];
  #length = 0;
  get length(): number {
    return this.#length;
  }
  push(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#length += bytes.length;
  }
  clear(): void {
    this.#chunks = [];
    this.#length = 0;
  }
  /** The next `n` bytes, or the next chunk when `n` is undefined. */
  take(n: number | undefined): Uint8Array {
    const first = this.#chunks[0]!;
    if (n === undefined || n === first.length) {
      this.#chunks.shift();
      this.#length -= first.length;
      return first;
    }
    if (n < first.length) {
      this.#chunks[0] = first.subarray(n);
      this.#length -= n;
      return first.subarray(0, n);
    }
    const out = new Uint8Array(Math.min(n, this.#length));
    let o = 0;
    while (o < out.length) {
      const c = this.#chunks[0]!;
      const k = Math.min(c.length, out.length - o);
      out.set(c.subarray(0, k), o);
      o += k;
      if (k === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    this.#length -= out.length;
    return out;
  }
}

/** One run: the wire, the two ends and the monitor. */
export class Run {
  readonly options: RunOptions;
  readonly violations: string[] = [];
  readonly steps: string[] = [];
  readonly ends: Record<Side, EndState>;
  readonly #link: Prng;
  readonly #queues: Record<Side, ByteQueue> = { client: new ByteQueue(), server: new ByteQueue() };
  readonly #streamOffset: Record<Side, number> = { client: 0, server: 0 };
  readonly #closedBy: Record<Side, boolean> = { client: false, server: false };
  readonly #mustHearClose: Record<Side, boolean> = { client: false, server: false };
  readonly #delivering: Record<Side, boolean> = { client: false, server: false };
  #broken = false;
  #globalSends = 0;

  /** A run of `options`, not started. */
  constructor(options: RunOptions) {
    this.options = options;
    this.#link = createPrng(options.linkSeed ?? options.seed);
    const makeEnd = (side: Side): EndState => {
      const state: EndState = {
        side,
        end: undefined as unknown as TransportEnd,
        session: undefined,
        depth: 0,
        ended: false,
        closedEvents: 0,
        errorEvent: undefined,
        sendFailed: false,
        closeCalls: 0,
        sends: 0,
        failedSends: 0,
        sent: [],
        events: [],
        calls: [],
      };
      const wire = { send: (b: Uint8Array) => this.#send(side, b), close: () => this.#close(side) };
      state.end = options.adapter
        ? options.adapter.open(wire)
        : new DirectEnd(
            wire,
            {
              call: (c) => state.calls.push(c),
              violation: (m) => this.violation(`${side}: ${m}`),
            },
            options.feed === 'one-more-byte',
          );
      return state;
    };
    this.ends = { client: makeEnd('client'), server: makeEnd('server') };
  }

  /** Records a broken rule. */
  violation(message: string): void {
    if (this.violations.length < 100) this.violations.push(message);
  }

  /** Runs `fn` as a call into `side`'s session; checks its state once no call is left. */
  call(side: Side, what: string, fn: () => void): void {
    const e = this.ends[side];
    e.depth++;
    try {
      fn();
    } catch (error) {
      this.violation(`${side}: ${what} threw ${describeError(error)}`);
    } finally {
      e.depth--;
      if (e.depth === 0 && e.session && !e.ended && sessionState(e.session) === 'closed') {
        e.ended = true;
      }
    }
  }

  #send(side: Side, bytes: Uint8Array): 0 | -1 {
    const e = this.ends[side];
    const index = e.sends + e.failedSends;
    if (e.closeCalls > 0) this.violation(`${side}: send after close`);
    else if (e.ended) this.violation(`${side}: send after the session ended`);
    else if (e.sendFailed) this.violation(`${side}: send after a send failed`);
    const fault = this.options.fault;
    if (
      (fault?.type === 'send-fails' && fault.side === side && fault.call === index) ||
      this.#broken ||
      e.closeCalls > 0
    ) {
      e.failedSends++;
      e.sendFailed = true;
      return -1;
    }
    e.sends++;
    e.sent.push(bytes.slice());
    if (fault?.type === 'link-closes-at-send' && fault.send === this.#globalSends++) {
      this.#break();
      return 0;
    }
    const copy = bytes.slice();
    if (fault?.type === 'corrupt' && fault.from === side) {
      const at = fault.offset - this.#streamOffset[side];
      if (at >= 0 && at < copy.length) copy[at]! ^= fault.xor & 0xff || 1;
    }
    this.#streamOffset[side] += copy.length;
    // Bytes sent to a side that closed are accepted and lost, as TCP does before its reset.
    if (this.#closedBy[other(side)]) return 0;
    if (this.options.delivery === 'deferred') {
      this.#queues[side].push(copy);
      return 0;
    }
    // Sync: queue every piece before delivering any, since a delivery can re-enter the sender
    // and its next send must land after this one (SPEC.md 2.2, wire order is call order).
    const queue = this.#queues[side];
    for (const piece of this.#cut(copy)) queue.push(piece);
    if (this.#delivering[side]) return 0;
    this.#delivering[side] = true;
    try {
      while (queue.length > 0) this.#deliver(other(side), queue.take(undefined));
    } finally {
      this.#delivering[side] = false;
    }
    return 0;
  }

  #close(side: Side): void {
    const e = this.ends[side];
    e.closeCalls++;
    if (e.closeCalls > 1) this.violation(`${side}: close called ${e.closeCalls} times`);
    if (this.#closedBy[side]) return;
    this.#closedBy[side] = true;
    this.#queues[other(side)].clear();
    this.#mustHearClose[other(side)] = true;
  }

  #break(): void {
    this.#broken = true;
    this.#queues.client.clear();
    this.#queues.server.clear();
    this.#mustHearClose.client = true;
    this.#mustHearClose.server = true;
  }

  /** The link breaks now (a fault). */
  breakLink(): void {
    this.#break();
  }

  #deliver(to: Side, piece: Uint8Array): void {
    if (this.#closedBy[to] || this.#broken) return;
    const e = this.ends[to];
    this.call(to, 'receive', () => e.end.receive(piece));
  }

  #cut(bytes: Uint8Array): Uint8Array[] {
    const split = this.options.split ?? 'whole';
    if (split === 'whole') return [bytes];
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; ) {
      const n = split === 'bytes' ? 1 : this.#link.int(1, split.maxPiece);
      pieces.push(bytes.subarray(i, i + n));
      i += n;
    }
    return pieces;
  }

  /** Delivers everything in flight and the link-closed notices, until nothing is left. */
  pump(): void {
    const max = this.options.maxDeliveries ?? 1_000_000;
    for (let n = 0; ; n++) {
      if (n > max) {
        this.violation(`no quiescence after ${max} deliveries`);
        return;
      }
      let noticed = false;
      for (const side of ['client', 'server'] as const) {
        const e = this.ends[side];
        if (this.#mustHearClose[side] && this.#queues[other(side)].length === 0) {
          this.#mustHearClose[side] = false;
          noticed = true;
          this.call(side, 'linkClosed', () => e.end.linkClosed());
        }
      }
      if (noticed) continue;
      const ready = (['client', 'server'] as const).filter((s) => this.#queues[s].length > 0);
      if (ready.length === 0) return;
      const from = ready.length === 1 ? ready[0]! : ready[this.#link.int(0, 1)]!;
      const split = this.options.split ?? 'whole';
      const size =
        split === 'whole' ? undefined : split === 'bytes' ? 1 : this.#link.int(1, split.maxPiece);
      this.#deliver(other(from), this.#queues[from].take(size));
    }
  }

  /** Creates both sessions (server first) with `configs`. */
  start(client: ClientConfig<Session>, server: ServerConfig<Session>): void {
    this.call('server', 'sessionCreate', () => {
      this.ends.server.session = this.ends.server.end.create(server);
    });
    this.call('client', 'sessionCreate', () => {
      this.ends.client.session = this.ends.client.end.create(client);
    });
    if (!this.ends.client.session || !this.ends.server.session)
      throw new ContractViolation(this.options, this.violations);
  }

  /** The end-of-run checks: each side's end is consistent and, once ended, inert. */
  finish(channelsOf: (side: Side) => readonly { close(): void }[]): void {
    for (const side of ['client', 'server'] as const) {
      const e = this.ends[side];
      const session = e.session!;
      const state = sessionState(session);
      const code = sessionLastError(session)?.code;
      if (state !== 'closed') {
        if (e.closedEvents !== 0) this.violation(`${side}: 'closed' event but state ${state}`);
        if (e.closeCalls !== 0) this.violation(`${side}: close called but state ${state}`);
        continue;
      }
      if (e.closedEvents !== 1) this.violation(`${side}: ${e.closedEvents} 'closed' events`);
      if (e.errorEvent !== code)
        this.violation(`${side}: error event ${e.errorEvent} but sessionLastError ${code}`);
      const owed = code === SSH_ERR.CONNECTION_LOST ? 0 : 1;
      if (e.closeCalls !== owed)
        this.violation(`${side}: close called ${e.closeCalls} times, ended with ${code ?? 'none'}`);
      const before = [e.sends + e.failedSends, e.events.length, e.closeCalls].join();
      this.call(side, 'calls after the end', () => {
        const n = sessionReceive(session, new Uint8Array(64).fill(0x41));
        if (n !== -1) this.violation(`${side}: sessionReceive returned ${n} after the end`);
        if (sessionRekey(session)) this.violation(`${side}: sessionRekey true after the end`);
        sessionDisconnect(session);
        sessionClose(session);
        for (const ch of channelsOf(side)) ch.close();
      });
      const after = [e.sends + e.failedSends, e.events.length, e.closeCalls].join();
      if (after !== before)
        this.violation(`${side}: sends/events/close changed after the end (${before} → ${after})`);
    }
  }
}

/** A short description of a thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${typeof code === 'string' ? `${code} ` : ''}${error.message}`;
  }
  return String(error);
}

function validate(options: RunOptions): void {
  const s = options.scenario;
  if (typeof s !== 'object' || s === null || typeof s.name !== 'string' || !Array.isArray(s.steps))
    throw usageError('runScenario: scenario must be {name, steps}');
  if (!Number.isFinite(options.seed)) throw usageError('runScenario: seed must be a number');
  const split = options.split;
  if (
    split !== undefined &&
    split !== 'whole' &&
    split !== 'bytes' &&
    !(typeof split === 'object' && Number.isInteger(split.maxPiece) && split.maxPiece >= 1)
  )
    throw usageError("runScenario: split must be 'whole', 'bytes' or {maxPiece: integer ≥ 1}");
  if (
    options.delivery !== undefined &&
    options.delivery !== 'sync' &&
    options.delivery !== 'deferred'
  )
    throw usageError("runScenario: delivery must be 'sync' or 'deferred'");
  if (options.feed !== undefined && options.feed !== 'all' && options.feed !== 'one-more-byte')
    throw usageError("runScenario: feed must be 'all' or 'one-more-byte'");
}

/**
 * Runs a scenario between a client and a server and returns its transcript. Deterministic:
 * the same options give a byte-identical transcript. Throws {@link ContractViolation} (its
 * message names the options that reproduce it) when the contract monitor saw a broken rule:
 * an exception out of a session call, a `sessionReceive` result out of range, -1 with the
 * session open or a count with it closed, a `send` after `close`, after the end or after a
 * failed `send`, `close` more than once (or not exactly once when the session ended by other
 * than `sessionClose`), an event after `closed`, `closed` not exactly once, an error event
 * that differs from `sessionLastError`, anything sent, emitted or closed by calls made after
 * the end, or no quiescence.
 *
 * @example
 * ```ts
 * const t = runScenario({ scenario: SCENARIOS.exec, seed: 1, split: { maxPiece: 7 } });
 * console.log(t.client.events.join('\n'));
 * ```
 */
export function runScenario(options: RunOptions): Transcript {
  validate(options);
  const run = new Run(options);
  const keys = createPrng(options.seed);
  const seeds = { client: keys.int(0, 2 ** 31), server: keys.int(0, 2 ** 31) };
  const hostKey = seededEd25519Key(keys.int(0, 2 ** 31));
  const userKey = seededEd25519Key(keys.int(0, 2 ** 31));
  const data = createPrng(keys.int(0, 2 ** 31));
  const app = new HarnessApp(run, options.scenario, data, userKey);
  const context: ConfigureContext = { seed: options.seed, hostKey, userKey };
  const pinned = fingerprintSha256(hostKey.publicKeyBlob);
  const clientBase = app.clientConfig(seeds.client, pinned);
  const serverBase = app.serverConfig(seeds.server, hostKey);
  const client = options.configure?.client?.(clientBase, context) ?? clientBase;
  const server = options.configure?.server?.(serverBase, context) ?? serverBase;
  run.start(app.monitorClient(client), app.monitorServer(server));
  run.pump();
  const fault = options.fault;
  options.scenario.steps.forEach((step, i) => {
    if (fault?.type === 'link-closes-before-step' && fault.step === i) {
      run.steps.push(`${i} link breaks`);
      run.breakLink();
      run.pump();
    }
    app.runStep(step, i);
    run.pump();
  });
  if (fault?.type === 'link-closes-before-step' && fault.step >= options.scenario.steps.length) {
    run.steps.push('link breaks');
    run.breakLink();
    run.pump();
  }
  run.finish((side) => app.channelsOf(side));
  const transcript: Transcript = {
    options,
    steps: run.steps,
    client: sideTranscript(run.ends.client, app.data('client')),
    server: sideTranscript(run.ends.server, app.data('server')),
  };
  if (run.violations.length > 0) throw new ContractViolation(options, run.violations, transcript);
  return transcript;
}

function sideTranscript(e: EndState, data: SideTranscript['data']): SideTranscript {
  const total = e.sent.reduce((n, b) => n + b.length, 0);
  const sent = new Uint8Array(total);
  let o = 0;
  for (const b of e.sent) {
    sent.set(b, o);
    o += b.length;
  }
  const session = e.session!;
  return {
    events: e.events,
    sent,
    sends: e.sends,
    failedSends: e.failedSends,
    closeCalls: e.closeCalls,
    state: sessionState(session),
    error: sessionLastError(session)?.code,
    data,
    calls: e.calls,
  };
}

/**
 * The first difference between two transcripts that must agree (events, bytes sent, final
 * state, error, `close` calls, data received), or `undefined`. Send counts and
 * `sessionReceive` calls are not compared: they depend on how bytes were cut.
 *
 * @example
 * ```ts
 * const a = runScenario({ scenario: SCENARIOS.exec, seed: 1 });
 * const b = runScenario({ scenario: SCENARIOS.exec, seed: 1, split: 'bytes' });
 * if (compareTranscripts(a, b)) throw new Error('split changed the outcome');
 * ```
 */
export function compareTranscripts(a: Transcript, b: Transcript): string | undefined {
  const steps = firstDifference(a.steps, b.steps);
  if (steps) return `steps: ${steps}`;
  for (const side of ['client', 'server'] as const) {
    const x = a[side];
    const y = b[side];
    const events = firstDifference(x.events, y.events);
    if (events) return `${side} events: ${events}`;
    if (x.state !== y.state) return `${side} state: ${x.state} vs ${y.state}`;
    if (x.error !== y.error) return `${side} error: ${x.error} vs ${y.error}`;
    if (x.closeCalls !== y.closeCalls)
      return `${side} close calls: ${x.closeCalls} vs ${y.closeCalls}`;
    if (x.data.bytes !== y.data.bytes || x.data.digest !== y.data.digest)
      return `${side} data: ${x.data.bytes}/${x.data.digest} vs ${y.data.bytes}/${y.data.digest}`;
    const bytes = firstByteDifference(x.sent, y.sent);
    if (bytes !== undefined)
      return `${side} sent bytes differ at offset ${bytes} (${x.sent.length} vs ${y.sent.length} bytes)`;
  }
  return undefined;
}

function firstDifference(a: readonly string[], b: readonly string[]): string | undefined {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `#${i}: ${a[i] ?? '(none)'} vs ${b[i] ?? '(none)'}`;
  }
  return undefined;
}

function firstByteDifference(a: Uint8Array, b: Uint8Array): number | undefined {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? undefined : n;
}
