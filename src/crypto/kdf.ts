/**
 * @module
 * Key derivation from the shared secret and exchange hash, RFC 4253 §7.2.
 */

import { SshWriter } from '../wire/writer.js';
import { hashOf } from './hash.js';
import type { KexHash } from './types.js';

/** The letter that selects what a derived key is for (RFC 4253 §7.2). */
export type KeyLetter = 'A' | 'B' | 'C' | 'D' | 'E' | 'F';

/**
 * Derives `length` bytes of key material (RFC 4253 §7.2):
 * `K1 = HASH(K || H || letter || session_id)`, and while more is needed
 * `Kn = HASH(K || H || K1 || … || K(n-1))`; the key is the first `length` bytes of K1 || K2 ….
 * K enters every hash as an mpint.
 *
 * @param sharedSecret - K as an unsigned big-endian magnitude (leading zeros allowed).
 * @param exchangeHash - H of this key exchange.
 * @param letter - A/B: IV client→server / server→client; C/D: encryption key; E/F: MAC key.
 * @param sessionId - H of the first key exchange of the session.
 *
 * @example
 * ```ts
 * const [k, h] = [new Uint8Array(32).fill(7), new Uint8Array(32).fill(9)]; // K and H
 * const sessionId = h; // the first exchange's H
 * const ivClientToServer = deriveKey('sha256', k, h, 'A', sessionId, 16);
 * ```
 */
export function deriveKey(
  hash: KexHash,
  sharedSecret: Uint8Array,
  exchangeHash: Uint8Array,
  letter: KeyLetter,
  sessionId: Uint8Array,
  length: number,
): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`key length must be a non-negative integer, got ${length}`);
  }
  const k = new SshWriter(sharedSecret.length + 8).mpintUnsigned(sharedSecret).finish();
  const out = new Uint8Array(length);
  if (length === 0) return out;
  const blocks: Uint8Array[] = [
    hashOf(hash, k, exchangeHash, Uint8Array.of(letter.charCodeAt(0)), sessionId),
  ];
  let filled = 0;
  for (;;) {
    const block = blocks[blocks.length - 1]!;
    const take = Math.min(block.length, length - filled);
    out.set(block.subarray(0, take), filled);
    filled += take;
    if (filled === length) return out;
    blocks.push(hashOf(hash, k, exchangeHash, ...blocks));
  }
}
