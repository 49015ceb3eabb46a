/**
 * @module
 * The binary packet protocol (RFC 4253 §6): framing and padding on the way out, length
 * checks and opening on the way in. Pure functions over one packet; the engine keeps the
 * sequence numbers and the current protections.
 */

import { DISCONNECT_REASON } from '../constants.js';
import { allocBytes } from '../crypto/bytes.js';
import type { PacketFraming, PacketOpener, PacketSealer, RandomFn } from '../crypto/types.js';
import { peerError, SSH_ERR } from '../errors.js';
import { LIMITS } from '../limits.js';

/*
 * uint32    packet_length
 * byte      padding_length
 * byte[n1]  payload; n1 = packet_length - padding_length - 1
 * byte[n2]  random padding; n2 = padding_length (at least 4)
 * byte[m]   mac (Message Authentication Code - MAC); m = mac_length
 */

/** Payloads up to this size are framed in one small head buffer (one piece for the cipher). */
const SMALL_PAYLOAD = 256;
const NO_BYTES = new Uint8Array(0);

/** RFC 4253 §6: the padding length for a payload, 4 … blockSize + 3 bytes. */
export function paddingLength(framing: PacketFraming, payloadLength: number): number {
  const block = framing.blockSize;
  const unpadded = payloadLength + (framing.lengthExcludedFromAlignment ? 1 : 5);
  const padding = block - (unpadded % block);
  return padding < 4 ? padding + block : padding;
}

/** The most wire bytes a packet with `payloadLength` bytes of payload can take. */
export function maxWireLength(framing: PacketFraming, payloadLength: number): number {
  return 5 + payloadLength + framing.blockSize + 3 + framing.macLength;
}

/** The wire length of a packet with `payloadLength` bytes of payload. */
export function wireLength(framing: PacketFraming, payloadLength: number): number {
  return 5 + payloadLength + paddingLength(framing, payloadLength) + framing.macLength;
}

/**
 * Frames, pads and seals one payload, `payload ‖ body`, writing the wire bytes into `out` at
 * `offset` (which must have {@link wireLength} bytes of room). The payload is never copied
 * into a frame of its own: the sealer gets the framing, the payload and the padding as pieces
 * and writes the packet once. `body` lets a message's bulk (channel data) go straight from
 * the application's buffer to the cipher. Returns the bytes written.
 */
export function sealPacketInto(
  sealer: PacketSealer,
  seq: number,
  payload: Uint8Array,
  body: Uint8Array,
  random: RandomFn,
  out: Uint8Array,
  offset: number,
): number {
  const payloadLength = payload.length + body.length;
  const padding = paddingLength(sealer, payloadLength);
  const pad = random(padding);
  let parts: Uint8Array[];
  if (payload.length <= SMALL_PAYLOAD) {
    // packet_length ‖ padding_length ‖ payload (‖ padding when there is no body) in one piece.
    const alone = body.length === 0;
    const head = new Uint8Array(5 + payload.length + (alone ? padding : 0));
    putFrame(head, payloadLength, padding);
    head.set(payload, 5);
    if (alone) head.set(pad, 5 + payload.length);
    parts = alone ? [head] : [head, body, pad];
  } else {
    const head = new Uint8Array(5);
    putFrame(head, payloadLength, padding);
    parts = body.length === 0 ? [head, payload, pad] : [head, payload, body, pad];
  }
  return sealer.sealInto(seq, parts, out, offset);
}

/** Writes uint32 packet_length and byte padding_length. */
function putFrame(head: Uint8Array, payloadLength: number, padding: number): void {
  const packetLength = 1 + payloadLength + padding;
  head[0] = packetLength >>> 24;
  head[1] = (packetLength >>> 16) & 0xff;
  head[2] = (packetLength >>> 8) & 0xff;
  head[3] = packetLength & 0xff;
  head[4] = padding;
}

/** Frames, pads and seals one payload; returns the wire bytes in a new buffer. */
export function sealPacket(
  sealer: PacketSealer,
  seq: number,
  payload: Uint8Array,
  random: RandomFn,
): Uint8Array {
  const out = new Uint8Array(wireLength(sealer, payload.length));
  sealPacketInto(sealer, seq, payload, NO_BYTES, random, out, 0);
  return out;
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
  const out = allocBytes(n); // every byte is written below
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
