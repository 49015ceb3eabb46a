/**
 * @module
 * diffie-hellman-group14-sha256 and diffie-hellman-group16-sha512 key exchange (RFC 8268,
 * RFC 4253 §8) over the RFC 3526 MODP groups, on node:crypto's DiffieHellman.
 */

import { createDiffieHellman, type DiffieHellman, getDiffieHellman } from 'node:crypto';
import { DISCONNECT_REASON } from '../constants.js';
import { peerError, SSH_ERR, type SshError } from '../errors.js';
import type { KexAlgorithm, KexExchange, KexHash, RandomFn } from './types.js';

/** A MODP group: prime p and generator g = 2 (RFC 3526 §3, §5). */
interface ModpGroup {
  /** node's name for the RFC 3526 group. */
  readonly nodeName: 'modp14' | 'modp16';
  /** Bits in the private exponent x. */
  readonly exponentBits: number;
}

/**
 * RFC 8268 §4 asks for an exponent of at least twice the security strength of the group's
 * intended use. 512 bits covers the 256-bit strength of the strongest ciphers and MACs we
 * negotiate (the same rule OpenSSH applies), for both groups.
 */
const GROUP14: ModpGroup = { nodeName: 'modp14', exponentBits: 512 };
const GROUP16: ModpGroup = { nodeName: 'modp16', exponentBits: 512 };

const MAX_DRAWS = 64;

function kexFailed(message: string): SshError {
  return peerError(SSH_ERR.KEX_FAILED, message, DISCONNECT_REASON.KEY_EXCHANGE_FAILED);
}

function toBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** The prime of an RFC 3526 group as node ships it (node's modp14/modp16 are RFC 3526). */
function primeOf(group: ModpGroup): Buffer {
  return getDiffieHellman(group.nodeName).getPrime();
}

class DhExchange implements KexExchange {
  readonly publicValue: Uint8Array;
  readonly #dh: DiffieHellman;
  readonly #prime: bigint;
  readonly #primeLength: number;

  constructor(group: ModpGroup, random: RandomFn) {
    const prime = primeOf(group);
    this.#prime = toBigInt(prime);
    this.#primeLength = prime.length;
    this.#dh = createDiffieHellman(prime, Buffer.of(2));
    // node's generateKeys() keeps a private key set with setPrivateKey and derives g^x mod p
    // from it (checked by a test), so a seeded `random` gives a deterministic e.
    this.#dh.setPrivateKey(drawExponent(group.exponentBits, random));
    const e = this.#dh.generateKeys();
    this.publicValue = new Uint8Array(e.buffer, e.byteOffset, e.byteLength);
  }

  computeSecret(peerPublic: Uint8Array): Uint8Array {
    let start = 0;
    while (start < peerPublic.length && peerPublic[start] === 0) start++;
    const magnitude = peerPublic.subarray(start);
    // RFC 4253 §8: values not in the range [1, p-1] MUST NOT be accepted; 1 and p-1 are
    // rejected too, since they confine K to {1, p-1} (RFC 8268 §4, NIST SP 800-56A 5.6.2.3.1).
    if (magnitude.length > this.#primeLength) throw kexFailed('DH public value is out of range');
    const f = toBigInt(magnitude);
    if (f <= 1n || f >= this.#prime - 1n) throw kexFailed('DH public value is out of range');
    let secret: Buffer;
    try {
      secret = this.#dh.computeSecret(magnitude);
    } catch {
      throw kexFailed('DH public value was refused');
    }
    return new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength);
  }
}

/** Draws x with exactly `bits` random bits, retrying while x < 2. */
function drawExponent(bits: number, random: RandomFn): Uint8Array {
  const length = Math.ceil(bits / 8);
  const topMask = 0xff >> (length * 8 - bits);
  for (let i = 0; i < MAX_DRAWS; i++) {
    const x = Uint8Array.from(random(length));
    if (x.length !== length) throw new RangeError('random source returned too few bytes');
    x[0]! &= topMask;
    if (toBigInt(x) >= 2n) return x;
  }
  throw new Error('random source keeps producing invalid DH exponents');
}

function dh(name: string, hash: KexHash, group: ModpGroup): KexAlgorithm {
  return { name, hash, encoding: 'mpint', start: (random) => new DhExchange(group, random) };
}

/** diffie-hellman-group14-sha256: the 2048-bit MODP group with SHA-256 (RFC 8268 §3). */
export const DH_GROUP14_SHA256: KexAlgorithm = dh(
  'diffie-hellman-group14-sha256',
  'sha256',
  GROUP14,
);

/** diffie-hellman-group16-sha512: the 4096-bit MODP group with SHA-512 (RFC 8268 §3). */
export const DH_GROUP16_SHA512: KexAlgorithm = dh(
  'diffie-hellman-group16-sha512',
  'sha512',
  GROUP16,
);

/** The primes in use, exported for tests that check them against RFC 3526. */
export const MODP_PRIMES: Readonly<Record<'group14' | 'group16', () => Uint8Array>> = {
  group14: () => new Uint8Array(primeOf(GROUP14)),
  group16: () => new Uint8Array(primeOf(GROUP16)),
};
