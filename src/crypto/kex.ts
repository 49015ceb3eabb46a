/**
 * @module
 * The registry of key exchange methods by their SSH names (RFC 4253 §7.1, RFC 8731, RFC 5656,
 * RFC 8268).
 */

import { CURVE25519_SHA256, CURVE25519_SHA256_LIBSSH } from './kex-curve25519.js';
import { DH_GROUP14_SHA256, DH_GROUP16_SHA512 } from './kex-dh.js';
import { ECDH_SHA2_NISTP256, ECDH_SHA2_NISTP384, ECDH_SHA2_NISTP521 } from './kex-ecdh.js';
import type { KexAlgorithm } from './types.js';

const REGISTRY: ReadonlyMap<string, KexAlgorithm> = new Map(
  [
    CURVE25519_SHA256,
    CURVE25519_SHA256_LIBSSH,
    ECDH_SHA2_NISTP256,
    ECDH_SHA2_NISTP384,
    ECDH_SHA2_NISTP521,
    DH_GROUP16_SHA512,
    DH_GROUP14_SHA256,
  ].map((alg) => [alg.name, alg]),
);

/**
 * Looks up a key exchange method by its negotiated name.
 *
 * @returns the method, or `undefined` for a name this library does not implement (including
 *   the `ext-info-*` and `kex-strict-*` pseudo-algorithms).
 *
 * @example
 * ```ts
 * const kex = kexAlgorithm('curve25519-sha256');
 * const mine = kex?.start((n) => crypto.getRandomValues(new Uint8Array(n)));
 * ```
 */
export function kexAlgorithm(name: string): KexAlgorithm | undefined {
  return REGISTRY.get(name);
}
