/**
 * @module
 * Shared helpers for the packet-protection tests: a seeded generator, RFC 4253 §6 packet
 * framing with correct padding, and key material sized from the registry.
 */

import { cipherInfo, macInfo } from '../../src/crypto/packet-protection.js';
import type { DirectionKeys, PacketFraming } from '../../src/crypto/types.js';

/** A small seeded PRNG (mulberry32) so failures reproduce. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` bytes from the generator. */
export function bytes(rand: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/**
 * Frames `payload` as RFC 4253 §6 does: uint32 packet_length ‖ byte padding_length ‖ payload ‖
 * random padding, with at least 4 bytes of padding and the alignment the framing asks for.
 */
export function buildPacket(
  payload: Uint8Array,
  framing: PacketFraming,
  rand: () => number,
  extraBlocks = 0,
): Uint8Array {
  const align = Math.max(8, framing.blockSize);
  const counted = (framing.lengthExcludedFromAlignment ? 0 : 4) + 1 + payload.length;
  let padding = align - (counted % align);
  if (padding < 4) padding += align;
  padding += extraBlocks * align;
  const packetLength = 1 + payload.length + padding;
  const packet = new Uint8Array(4 + packetLength);
  new DataView(packet.buffer).setUint32(0, packetLength);
  packet[4] = padding;
  packet.set(payload, 5);
  packet.set(bytes(rand, padding), 5 + payload.length);
  return packet;
}

/** Keys of the sizes the registry gives for `cipher` and `mac`. */
export function keysFor(
  cipher: string,
  mac: string | undefined,
  rand: () => number,
): DirectionKeys {
  const c = cipherInfo(cipher);
  if (c === undefined) throw new Error(`no cipher ${cipher}`);
  const m = mac === undefined ? undefined : macInfo(mac);
  return {
    key: bytes(rand, c.keyLength),
    iv: bytes(rand, c.ivLength),
    macKey: bytes(rand, c.aead || m === undefined ? 0 : m.keyLength),
  };
}
