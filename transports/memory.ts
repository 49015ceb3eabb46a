/**
 * @module
 * An in-memory link between two sessions: synchronous by default (the reentrant case), or
 * deferred; bytes delivered whole, one at a time, or in seeded random pieces. It is the
 * test and fuzz harness of this project and a model of a transport in a few dozen lines.
 */

import {
  type Session,
  type SessionConfig,
  sessionClose,
  sessionCreate,
  sessionReceive,
} from '../src/index.js';
import { InputBuffer } from './input-buffer.js';

/** How bytes are cut into pieces on the way. */
export type Split = 'whole' | 'bytes' | { readonly seed: number; readonly maxPiece?: number };

/** Options of a memory link. */
export interface MemoryLinkOptions {
  /** `sync` delivers inside `send`; `deferred` on a later macrotask (setImmediate). */
  readonly delivery?: 'sync' | 'deferred';
  /** With `deferred` delivery: a latency in ms per `send` (setTimeout) instead of setImmediate. */
  readonly delayMs?: number;
  /** How each `send` is cut into pieces before delivery. */
  readonly split?: Split;
}

/**
 * One end of a memory link.
 *
 * @example
 * ```ts
 * const [client, server] = createMemoryLink({ delivery: 'deferred' });
 * server.create({ role: 'server', hostKeys: [key] });
 * client.create({ role: 'client', onHostKey: (request) => request.accept() });
 * await client.idle(); // every delivery done: the handshake is over
 * console.log(sessionState(client.session!)); // prints: established
 * ```
 */
export class MemoryEndpoint {
  readonly input = new InputBuffer();
  session: Session | undefined;
  peer!: MemoryEndpoint;
  closed = false;
  /** Bytes this end has sent. */
  bytesSent = 0;
  readonly #options: MemoryLinkOptions;
  readonly #rng: (() => number) | undefined;
  #pending = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(options: MemoryLinkOptions, seedOffset: number) {
    this.#options = options;
    const split = options.split;
    this.#rng = typeof split === 'object' ? mulberry32(split.seed + seedOffset) : undefined;
  }

  /** Creates a session on this end; bytes that arrived before are fed to it. */
  create(config: SessionConfig<Session>): Session {
    const session = sessionCreate(this, memorySend, memoryClose, config);
    this.session = session;
    this.input.attach((bytes) => sessionReceive(session, bytes));
    return session;
  }

  /** Cuts `bytes` as configured and delivers the pieces to the other end. */
  deliver(bytes: Uint8Array): void {
    // No copy: a buffer handed to `send` belongs to the transport (SPEC §2.2).
    const pieces = this.#cut(bytes);
    if (this.#options.delivery === 'deferred') {
      this.#pending++;
      this.#later(() => {
        for (const p of pieces) this.peer.#receivePiece(p);
        this.#settle();
      });
    } else {
      for (const p of pieces) this.peer.#receivePiece(p);
    }
  }

  #receivePiece(piece: Uint8Array): void {
    if (this.closed) return;
    if (this.input.push(piece) < 0) this.closed = true;
  }

  /** Closes the link from this end; the other end's session hears sessionClose. */
  hangUp(): void {
    if (this.closed) return;
    this.closed = true;
    const peer = this.peer;
    const tell = () =>
      peer.input.afterDrain(() => {
        if (peer.closed) return;
        peer.closed = true;
        if (peer.session) sessionClose(peer.session);
      });
    if (this.#options.delivery === 'deferred') {
      this.#pending++;
      this.#later(() => {
        tell();
        this.#settle();
      });
    } else {
      tell();
    }
  }

  /** Runs `fn` on a later macrotask, after `delayMs` when set (order is kept: equal delays). */
  #later(fn: () => void): void {
    const delay = this.#options.delayMs;
    if (delay !== undefined && delay > 0) setTimeout(fn, delay);
    else setImmediate(fn);
  }

  #settle(): void {
    this.#pending--;
    if (this.#pending === 0 && this.peer.#pending === 0) {
      for (const ep of [this, this.peer]) {
        const waiters = ep.#idleWaiters;
        ep.#idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  /** Resolves when no delivery is pending in either direction (deferred mode). */
  idle(): Promise<void> {
    if (this.#pending === 0 && this.peer.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #cut(bytes: Uint8Array): Uint8Array[] {
    const split = this.#options.split ?? 'whole';
    if (split === 'whole') return [bytes];
    const pieces: Uint8Array[] = [];
    const max = split === 'bytes' ? 1 : (split.maxPiece ?? 64);
    for (let i = 0; i < bytes.length; ) {
      const n = split === 'bytes' ? 1 : 1 + Math.floor(this.#rng!() * max);
      pieces.push(bytes.subarray(i, i + n));
      i += n;
    }
    return pieces;
  }
}

function memorySend(ep: MemoryEndpoint, bytes: Uint8Array): 0 | -1 {
  if (ep.closed) return -1;
  ep.bytesSent += bytes.length;
  ep.deliver(bytes);
  return 0;
}

function memoryClose(ep: MemoryEndpoint): void {
  ep.hangUp();
}

/**
 * Makes a linked pair of endpoints.
 *
 * @example
 * ```ts
 * const [a, b] = createMemoryLink({ split: { seed: 7 } });
 * const server = b.create({ role: 'server', hostKeys: [key] });
 * const client = a.create({ role: 'client', onHostKey: (r) => r.accept() });
 * ```
 */
export function createMemoryLink(
  options: MemoryLinkOptions = {},
): [MemoryEndpoint, MemoryEndpoint] {
  const a = new MemoryEndpoint(options, 0);
  const b = new MemoryEndpoint(options, 1);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/**
 * A small seeded PRNG (mulberry32): deterministic pieces for reproducible tests.
 *
 * @example
 * ```ts
 * const [a, b] = [mulberry32(7), mulberry32(7)];
 * console.log(a() === b(), a() < 1); // prints: true true
 * ```
 */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
