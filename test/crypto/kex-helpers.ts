/**
 * @module
 * Shared helpers for the key exchange, KDF, host-key and private-key tests: hex, a seeded
 * random source, vector loading, and the expected KEX_FAILED error.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { RandomFn } from '../../src/crypto/types.js';
import { SshError } from '../../src/errors.js';

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export function bigToBytes(v: bigint, length?: number): Uint8Array {
  let h = v.toString(16);
  if (h.length % 2) h = '0' + h;
  const b = hex(h);
  if (length === undefined || b.length >= length) return b;
  const out = new Uint8Array(length);
  out.set(b, length - b.length);
  return out;
}

export function bytesToBig(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + toHex(b));
}

export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

/** A deterministic random source: SHA-256 of `seed:counter`, block after block. */
export function seededRandom(seed: string): RandomFn {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let off = 0; off < n; off += 32) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, n - off)), off);
    }
    return out;
  };
}

/** A random source that hands out the given byte strings in order. */
export function scriptedRandom(...draws: Uint8Array[]): RandomFn {
  let i = 0;
  return (n) => {
    const next = draws[i++];
    if (next === undefined || next.length !== n) {
      throw new Error(`scripted random: draw ${i} of ${n} bytes not scripted`);
    }
    return next;
  };
}

export function readVectors<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'utf8')) as T;
}

/** Asserts that `fn` throws SshError SSH_ERR_KEX_FAILED with disconnect reason 3. */
export function expectKexFailed(fn: () => unknown): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(SshError);
  const err = thrown as SshError;
  expect(err.code).toBe('SSH_ERR_KEX_FAILED');
  expect(err.origin).toBe('peer');
  expect(err.disconnectReason).toBe(3);
}

/** Wycheproof file shape (the fields these tests read). */
export interface WycheproofFile<G> {
  readonly testGroups: readonly (G & { readonly tests: readonly WycheproofTest[] })[];
}

export interface WycheproofTest {
  readonly tcId: number;
  readonly comment: string;
  readonly flags: readonly string[];
  readonly result: 'valid' | 'invalid' | 'acceptable';
  readonly [field: string]: unknown;
}
