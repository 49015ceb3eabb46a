/**
 * @module
 * One harness run's simulated wire and contract monitor: it cuts, queues, delivers, drops and
 * corrupts bytes as the seed and fault say, and records every rule a session breaks on the way
 * (SPEC.md 18.3).
 */

import { SSH_ERR, type SshErrorCode } from '../errors.js';
import {
  type Session,
  sessionClose,
  sessionDisconnect,
  sessionLastError,
  sessionReceive,
  sessionRekey,
  sessionState,
} from '../session.js';
import type { ClientConfig, ServerConfig } from '../types.js';
import { ContractViolation, type RunOptions } from './options.js';
import { createPrng, type Prng } from './random.js';
import type { Side } from './scenario.js';
import { DirectEnd, type ReceiveCall, type TransportEnd } from './transport.js';

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
