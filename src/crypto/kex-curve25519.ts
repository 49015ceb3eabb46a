/**
 * @module
 * curve25519-sha256 and curve25519-sha256@libssh.org key exchange (RFC 8731) on node:crypto's
 * X25519 (RFC 7748).
 */

import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { DISCONNECT_REASON } from '../constants.js';
import { peerError, SSH_ERR, type SshError } from '../errors.js';
import { systemRandom } from './random.js';
import type { KexAlgorithm, KexExchange, RandomFn } from './types.js';

/** PKCS#8 PrivateKeyInfo header for an X25519 key (RFC 8410 §7); the 32 key bytes follow. */
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

const X25519_LENGTH = 32;

function kexFailed(message: string): SshError {
  return peerError(SSH_ERR.KEX_FAILED, message, DISCONNECT_REASON.KEY_EXCHANGE_FAILED);
}

/**
 * Builds an X25519 private key from 32 random bytes. The bytes are the RFC 7748 scalar before
 * clamping; X25519 clamps when it is used, so any 32 bytes are a valid key.
 */
function x25519PrivateKey(scalar: Uint8Array): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_X25519_PREFIX, scalar]),
    format: 'der',
    type: 'pkcs8',
  });
}

class Curve25519Exchange implements KexExchange {
  readonly publicValue: Uint8Array;
  readonly #privateKey: KeyObject;

  constructor(random: RandomFn) {
    if (random === systemRandom) {
      // node's own key generation is ~10× cheaper than importing a PKCS#8 key (bench/RESULTS.md).
      const pair = generateKeyPairSync('x25519');
      this.#privateKey = pair.privateKey;
      const x = pair.publicKey.export({ format: 'jwk' }).x;
      this.publicValue = new Uint8Array(Buffer.from(x ?? '', 'base64url'));
      return;
    }
    // An injected random source decides the key, so a seeded session is reproducible.
    const scalar = random(X25519_LENGTH);
    if (scalar.length !== X25519_LENGTH)
      throw new RangeError('random source returned too few bytes');
    this.#privateKey = x25519PrivateKey(scalar);
    const spki = createPublicKey(this.#privateKey).export({ format: 'der', type: 'spki' });
    this.publicValue = new Uint8Array(spki.subarray(spki.length - X25519_LENGTH));
  }

  computeSecret(peerPublic: Uint8Array): Uint8Array {
    // RFC 8731 §3: public keys are exactly 32 bytes.
    if (peerPublic.length !== X25519_LENGTH) {
      throw kexFailed(`curve25519 public key is ${peerPublic.length} bytes, not 32`);
    }
    let secret: Buffer;
    try {
      // As a JWK: ~10× cheaper than decoding an SPKI DER through OpenSSL 3's decoders
      // (bench/RESULTS.md, handshake profile).
      const x = Buffer.from(peerPublic.buffer, peerPublic.byteOffset, X25519_LENGTH);
      const publicKey = createPublicKey({
        key: { kty: 'OKP', crv: 'X25519', x: x.toString('base64url') },
        format: 'jwk',
      });
      secret = diffieHellman({ privateKey: this.#privateKey, publicKey });
    } catch {
      // OpenSSL refuses an all-zero result (a low-order peer point), as RFC 8731 §3 requires.
      throw kexFailed('curve25519 shared secret is all zero');
    }
    // Checked again here so the rule holds whatever the crypto backend does (RFC 8731 §3).
    let acc = 0;
    for (const b of secret) acc |= b;
    if (acc === 0) throw kexFailed('curve25519 shared secret is all zero');
    // RFC 8731 §3.1: the 32 bytes are read as a big-endian unsigned number (then sent as mpint).
    return new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength);
  }
}

function curve25519(name: string): KexAlgorithm {
  return {
    name,
    hash: 'sha256',
    encoding: 'string',
    start: (random) => new Curve25519Exchange(random),
  };
}

/** curve25519-sha256 (RFC 8731). */
export const CURVE25519_SHA256: KexAlgorithm = curve25519('curve25519-sha256');

/** curve25519-sha256@libssh.org, the same method under its pre-RFC name (RFC 8731 §2). */
export const CURVE25519_SHA256_LIBSSH: KexAlgorithm = curve25519('curve25519-sha256@libssh.org');
