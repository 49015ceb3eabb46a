/**
 * @module
 * One session's packet state (RFC 4253 §6): the current protection in each direction, the
 * sequence numbers, the volume counted since each direction's last key change (for RFC 4344
 * rekeying), and the wire bytes produced during the current call, handed out as one buffer.
 *
 * Output is written once: each packet is sealed straight into the current call's output
 * buffer, which is handed to `send` whole (SPEC §2.2: fresh, one `send` per call). Callers
 * that know a batch is coming (channel data) reserve room for it first, so a batch is one
 * allocation and no copy; otherwise the buffer grows by chunks, joined once at the end.
 */

import { allocBytes } from '../crypto/bytes.js';
import { createNoneOpener, createNoneSealer } from '../crypto/packet-protection.js';
import type { PacketOpener, PacketSealer, RandomFn } from '../crypto/types.js';
import {
  concatPackets,
  maxWireLength,
  openPacket,
  sealPacketInto,
  wireLength,
} from './binary-packet.js';

const NO_BYTES = new Uint8Array(0);
/** The smallest output chunk: a call's few control packets share one allocation. */
const MIN_CHUNK = 2048;
/** The largest output buffer set aside on a guess (a batch can be larger; it is then joined). */
const BATCH_GUESS_MAX = 8 * 1024 * 1024;

/** A packet found and opened at the front of the input. */
export interface ReceivedPacket {
  readonly payload: Uint8Array;
  readonly seq: number;
  readonly consumed: number;
}

/** Sealing, opening, sequence numbers and counters for one session. */
export class PacketIO {
  readonly #random: RandomFn;
  #sealer: PacketSealer = createNoneSealer();
  #opener: PacketOpener = createNoneOpener();
  #sendSeq = 0;
  #recvSeq = 0;
  /** Output chunks of this call already filled (rare: only when a reservation fell short). */
  #filled: Uint8Array[] = [];
  /** The output chunk being filled, and how much of it is. */
  #buf: Uint8Array | undefined;
  #used = 0;
  /** Room reserved in this call, and in the last call that sent anything (the next guess). */
  #batchNeed = 0;
  #lastBatchNeed = 0;
  /** Wire bytes and packets sent since our last NEWKEYS. */
  sentBytes = 0;
  sentPackets = 0;
  /** Wire bytes and packets received since the peer's last NEWKEYS. */
  recvBytes = 0;
  recvPackets = 0;

  constructor(random: RandomFn) {
    this.#random = random;
  }

  /** The sequence number the next sealed packet gets. */
  get sendSeq(): number {
    return this.#sendSeq;
  }

  /** Queues bytes that are not a packet (our identification line). */
  queueRaw(bytes: Uint8Array): void {
    const out = this.#room(bytes.length);
    out.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  /**
   * Sets aside output room for `packets` packets carrying `payloadBytes` of payload in all,
   * about to be sealed in this call, so they land in one buffer without copying.
   */
  reserve(payloadBytes: number, packets: number): void {
    const need =
      maxWireLength(this.#sealer, payloadBytes) + (packets - 1) * maxWireLength(this.#sealer, 0);
    this.#batchNeed += need;
    const buf = this.#buf;
    if (buf !== undefined && buf.length - this.#used >= need) return;
    // An application that writes again and again inside one call (a `writable` handler that
    // fills the window) makes batches like the last one: from the second reservation of a call
    // on, size for that at once, so the call's output stays one buffer and is not joined by a
    // copy at the end. A lone small write never reserves the last batch's size; a wrong guess
    // is trimmed when the chunk is retired.
    const guess =
      this.#batchNeed > need ? Math.min(this.#lastBatchNeed, BATCH_GUESS_MAX) + MIN_CHUNK : 0;
    const want = Math.max(need, guess - this.#batchBytes());
    if (guess > 0 && buf !== undefined && this.#filled.length === 0 && want > this.#used) {
      // The call's first write sized the current chunk to itself; the batch turned out larger.
      // Move what it holds (one write's packets) into a chunk sized for the whole batch now,
      // rather than joining every chunk of the batch by a copy when the call ends.
      const used = this.#used;
      const next = allocBytes(used + want);
      next.set(buf.subarray(0, used));
      this.#buf = next;
      return;
    }
    this.#room(want);
  }

  /**
   * Frames, pads and seals one payload (`payload ‖ body`) with the current keys into the
   * call's output. `body` is read once, by the cipher, and not retained.
   */
  seal(payload: Uint8Array, body: Uint8Array = NO_BYTES): void {
    const sealer = this.#sealer;
    const out = this.#room(wireLength(sealer, payload.length + body.length));
    const n = sealPacketInto(sealer, this.#sendSeq, payload, body, this.#random, out, this.#used);
    this.#used += n;
    this.#sendSeq = (this.#sendSeq + 1) >>> 0;
    this.sentBytes += n;
    this.sentPackets++;
  }

  /** Opens the packet at `offset` if it is whole; throws SshError for a bad one. */
  open(bytes: Uint8Array, offset: number): ReceivedPacket | undefined {
    const packet = openPacket(this.#opener, this.#recvSeq, bytes, offset);
    if (!packet) return undefined;
    const seq = this.#recvSeq;
    this.#recvSeq = (seq + 1) >>> 0;
    this.recvBytes += packet.consumed;
    this.recvPackets++;
    return { payload: packet.payload, seq, consumed: packet.consumed };
  }

  /** Our NEWKEYS went out: later packets use `sealer`; strict kex restarts the numbering. */
  useSealer(sealer: PacketSealer, restartSequence: boolean): void {
    this.#sealer = sealer;
    if (restartSequence) this.#sendSeq = 0;
    this.sentBytes = 0;
    this.sentPackets = 0;
  }

  /** The peer's NEWKEYS came in: later packets use `opener`; strict kex restarts the numbering. */
  useOpener(opener: PacketOpener, restartSequence: boolean): void {
    this.#opener = opener;
    if (restartSequence) this.#recvSeq = 0;
    this.recvBytes = 0;
    this.recvPackets = 0;
  }

  /** The bytes queued since the last call, as one buffer (coalesced), or undefined. */
  takeOutput(): Uint8Array | undefined {
    this.#retire();
    const chunks = this.#filled;
    if (chunks.length === 0) return undefined;
    this.#filled = [];
    this.#lastBatchNeed = this.#batchNeed;
    this.#batchNeed = 0;
    return chunks.length === 1 ? chunks[0]! : concatPackets(chunks);
  }

  /** Bytes queued in this call so far. */
  #batchBytes(): number {
    let n = this.#used;
    for (const c of this.#filled) n += c.length;
    return n;
  }

  /** Drops queued output (the link is gone). */
  discardOutput(): void {
    this.#filled = [];
    this.#buf = undefined;
    this.#used = 0;
  }

  /** The current chunk with at least `n` bytes free after `#used`, starting a new one if needed. */
  #room(n: number): Uint8Array {
    const buf = this.#buf;
    const used = this.#used;
    if (buf !== undefined && buf.length - used >= n) return buf;
    if (buf !== undefined && used <= MIN_CHUNK) {
      // A few small packets so far: carry them over (cheap) rather than join chunks later.
      const next = allocBytes(used + Math.max(n, MIN_CHUNK));
      next.set(buf.subarray(0, used));
      this.#buf = next;
      return next;
    }
    this.#retire();
    const next = allocBytes(Math.max(n, MIN_CHUNK));
    this.#buf = next;
    return next;
  }

  /**
   * Moves the filled part of the current chunk to `#filled`. The unused rest is zeroed: the
   * transport gets a view whose underlying memory came unzeroed from the allocator, and none
   * of it may leak. A chunk less than half used is copied out exactly instead.
   */
  #retire(): void {
    const buf = this.#buf;
    if (buf === undefined) return;
    const used = this.#used;
    this.#buf = undefined;
    this.#used = 0;
    if (used === 0) return;
    if (used < buf.length / 2 && buf.length > MIN_CHUNK) {
      // Mostly unused (a guess that did not come true): hand over an exact copy rather than
      // a view that keeps the whole chunk alive in the transport's queue.
      this.#filled.push(buf.slice(0, used));
      return;
    }
    if (used < buf.length) buf.fill(0, used);
    this.#filled.push(buf.subarray(0, used));
  }
}
