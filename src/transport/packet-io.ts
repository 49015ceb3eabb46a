/**
 * @module
 * One session's packet state (RFC 4253 §6): the current protection in each direction, the
 * sequence numbers, the volume counted since each direction's last key change (for RFC 4344
 * rekeying), and the wire bytes produced during the current call, handed out as one buffer.
 */

import { createNoneOpener, createNoneSealer } from '../crypto/packet-protection.js';
import type { PacketOpener, PacketSealer, RandomFn } from '../crypto/types.js';
import { concatPackets, openPacket, sealPacket } from './binary-packet.js';

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
  #out: Uint8Array[] = [];
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
    this.#out.push(bytes);
  }

  /** Frames, pads and seals one payload with the current keys, and queues it. */
  seal(payload: Uint8Array): void {
    const wire = sealPacket(this.#sealer, this.#sendSeq, payload, this.#random);
    this.#sendSeq = (this.#sendSeq + 1) >>> 0;
    this.sentBytes += wire.length;
    this.sentPackets++;
    this.#out.push(wire);
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
    const chunks = this.#out;
    if (chunks.length === 0) return undefined;
    this.#out = [];
    return chunks.length === 1 ? chunks[0]! : concatPackets(chunks);
  }

  /** Drops queued output (the link is gone). */
  discardOutput(): void {
    this.#out = [];
  }
}
