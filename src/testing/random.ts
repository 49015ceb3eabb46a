/**
 * @module
 * Seeded randomness for the testing kit: a small PRNG (the splitmix32 mixing function), a
 * `RandomFn` built on it for `SessionConfig.random`, and Ed25519 keys derived from a seed, so
 * that a session run twice with one seed sends the same bytes.
 */

import { type PrivateKey, parsePrivateKey } from '../crypto/keys.js';
import type { RandomFn } from '../types.js';

/** A deterministic pseudo-random source. Never use it for real keys. */
export interface Prng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [lo, hi], both included. */
  int(lo: number, hi: number): number;
  /** `n` pseudo-random bytes in a fresh array. */
  bytes(n: number): Uint8Array;
}

/**
 * A PRNG whose whole output is fixed by `seed` (any number; it is reduced to 32 bits).
 *
 * @example
 * ```ts
 * const prng = createPrng(42);
 * const piece = prng.int(1, 64);
 * ```
 */
export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  const next32 = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  return {
    next: () => next32() / 4294967296,
    int: (lo, hi) => lo + Math.floor((next32() / 4294967296) * (hi - lo + 1)),
    bytes: (n) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = next32() & 0xff;
      return out;
    },
  };
}

/**
 * A `SessionConfig.random` source fixed by `seed`: inject it (and an Ed25519 or RSA host key)
 * to make a session byte-for-byte reproducible. For tests only: it is not a CSPRNG.
 *
 * @example
 * ```ts
 * const random = seededRandom(7);
 * console.log(Buffer.from(random(4)).equals(Buffer.from(seededRandom(7)(4)))); // prints: true
 * // In a session: sessionCreate(handle, send, close, { role: 'client', random, ... })
 * ```
 */
export function seededRandom(seed: number): RandomFn {
  const prng = createPrng(seed);
  return (n) => prng.bytes(n);
}

/** DER PKCS#8 prefix of an Ed25519 private key (RFC 8410 §7); the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Uint8Array.of(
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x04,
  0x22,
  0x04,
  0x20,
);

/**
 * An Ed25519 key derived from `seed`: the same seed gives the same key in every process.
 * Ed25519 signatures are deterministic, so a session using it stays reproducible. For tests
 * only.
 *
 * @example
 * ```ts
 * const hostKey = seededEd25519Key(1);
 * const server = { role: 'server', hostKeys: [hostKey], random: seededRandom(2) };
 * ```
 */
export function seededEd25519Key(seed: number): PrivateKey {
  const der = new Uint8Array(ED25519_PKCS8_PREFIX.length + 32);
  der.set(ED25519_PKCS8_PREFIX);
  der.set(createPrng(seed).bytes(32), ED25519_PKCS8_PREFIX.length);
  return parsePrivateKey(der);
}
