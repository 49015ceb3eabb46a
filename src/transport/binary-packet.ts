/**
 * @module
 * The binary packet protocol (RFC 4253 §6): framing and padding on the way out, length
 * checks and opening on the way in. Pure functions over one packet; the engine keeps the
 * sequence numbers and the current protections.
 */

import { DISCONNECT_REASON } from '../constants.js';
import type { PacketOpener, PacketSealer, RandomFn } from '../crypto/types.js';
import { peerError, SSH_ERR } from '../errors.js';
import { LIMITS } from '../limits.js';

/*
 * uint32    packet_length
 * byte      padding_length
 * byte[n1]  payload; n1 = packet_length - padding_length - 1
 * byte[n2]  random padding; n2 = padding_length (at least 4)
 * byte[m]   mac (Message Authentication Code - MAC); m = mac_length
 */

/** Frames, pads and seals one payload; returns the wire bytes. */
export function sealPacket(
  sealer: PacketSealer,
  seq: number,
  payload: Uint8Array,
  random: RandomFn,
): Uint8Array {
  const block = sealer.blockSize;
  const unpadded = payload.length + (sealer.lengthExcludedFromAlignment ? 1 : 5);
  let padding = block - (unpadded % block);
  if (padding < 4) padding += block;
  const packetLength = 1 + payload.length + padding;
  const packet = new Uint8Array(4 + packetLength);
  new DataView(packet.buffer).setUint32(0, packetLength);
  packet[4] = padding;
  packet.set(payload, 5);
  packet.set(random(padding), 5 + payload.length);
  return sealer.seal(seq, packet);
}

/** One whole packet found at the front of the input. */
export interface OpenedPacket {
  /** Wire bytes the packet took, MAC included. */
  readonly consumed: number;
  /** The payload, in memory that does not alias the input. */
  readonly payload: Uint8Array;
}

/**
 * Opens the packet at `offset` if it is all there; returns undefined when it is not yet.
 * The declared length is checked as soon as it is visible, before the rest arrives.
 * Throws SshError for an impossible length or padding and for a MAC failure.
 */
export function openPacket(
  opener: PacketOpener,
  seq: number,
  bytes: Uint8Array,
  offset: number,
): OpenedPacket | undefined {
  const available = bytes.length - offset;
  if (available < opener.lengthFieldBytes) return undefined;
  const packetLength = opener.peekLength(
    seq,
    bytes.subarray(offset, offset + opener.lengthFieldBytes),
  );
  const aligned = opener.lengthExcludedFromAlignment ? packetLength : packetLength + 4;
  if (
    packetLength < LIMITS.PACKET_LENGTH_MIN ||
    packetLength > LIMITS.PACKET_LENGTH_MAX ||
    aligned % opener.blockSize !== 0
  ) {
    throw peerError(SSH_ERR.BAD_PACKET_LENGTH, `impossible packet length ${packetLength}`);
  }
  const consumed = 4 + packetLength + opener.macLength;
  if (available < consumed) return undefined;
  const body = opener.open(seq, bytes.subarray(offset, offset + consumed));
  if (body === null) {
    throw peerError(
      SSH_ERR.MAC_INVALID,
      'message authentication failed',
      DISCONNECT_REASON.MAC_ERROR,
    );
  }
  const padding = body[0]!;
  const payloadLength = packetLength - padding - 1;
  if (padding < 4 || payloadLength < 1) {
    throw peerError(SSH_ERR.BAD_PADDING, `impossible padding length ${padding}`);
  }
  return { consumed, payload: body.subarray(1, 1 + payloadLength) };
}

/** Joins the packets of one call into one buffer for a single `send`. */
export function concatPackets(chunks: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
