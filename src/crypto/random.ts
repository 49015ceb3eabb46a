/**
 * @module
 * The default random source: node:crypto's CSPRNG, drawn in 4 KiB blocks so that the small
 * per-packet requests (padding, cookies) do not each cost a call into OpenSSL.
 */

import { randomBytes, randomFillSync } from 'node:crypto';
import type { RandomFn } from './types.js';

const POOL_BYTES = 4096;
const pool = new Uint8Array(POOL_BYTES);
let used = POOL_BYTES;

/** Returns `length` cryptographically strong random bytes (each byte handed out once). */
export const systemRandom: RandomFn = (length) => {
  if (length > POOL_BYTES / 4) return new Uint8Array(randomBytes(length));
  if (used + length > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const out = pool.slice(used, used + length);
  used += length;
  return out;
};
