/**
 * @module
 * One-shot hashing over several chunks, for the exchange hash (RFC 4253 §8), key derivation
 * (RFC 4253 §7.2) and fingerprints.
 */

import { createHash } from 'node:crypto';
import type { KexHash } from './types.js';

/**
 * Hashes the concatenation of `chunks` without copying them into one buffer.
 *
 * @example
 * ```ts
 * const [header, body] = [new Uint8Array([0, 0, 0, 3]), new TextEncoder().encode('abc')];
 * const digest = hashOf('sha256', header, body); // 32 bytes: SHA-256(header ‖ body)
 * ```
 */
export function hashOf(alg: KexHash | 'sha1', ...chunks: Uint8Array[]): Uint8Array {
  const h = createHash(alg);
  for (const chunk of chunks) h.update(chunk);
  const digest = h.digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}
