/**
 * @module
 * ecdh-sha2-nistp256/384/521 key exchange (RFC 5656 §4, §6.2) on node:crypto's ECDH.
 */

import { createECDH, type ECDH } from 'node:crypto';
import { DISCONNECT_REASON } from '../constants.js';
import { peerError, SSH_ERR, type SshError } from '../errors.js';
import type { KexAlgorithm, KexExchange, KexHash, RandomFn } from './types.js';

/** The facts about one NIST curve the exchange needs. */
interface NistCurve {
  /** OpenSSL's name for the curve. */
  readonly openssl: string;
  /** Bytes in a field element (one coordinate of Q). */
  readonly fieldLength: number;
  /** The group order n (FIPS 186-4 / SEC 2); private keys lie in [1, n-1]. */
  readonly order: bigint;
}

const P256: NistCurve = {
  openssl: 'prime256v1',
  fieldLength: 32,
  order: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
};
const P384: NistCurve = {
  openssl: 'secp384r1',
  fieldLength: 48,
  order:
    0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
};
const P521: NistCurve = {
  openssl: 'secp521r1',
  fieldLength: 66,
  order:
    0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
};

/** How many random draws to try before concluding the random source is broken. */
const MAX_DRAWS = 64;

function kexFailed(message: string): SshError {
  return peerError(SSH_ERR.KEX_FAILED, message, DISCONNECT_REASON.KEY_EXCHANGE_FAILED);
}

function toBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/**
 * Draws a private scalar d uniformly from [1, n-1] by rejection sampling (FIPS 186-4 B.4.2):
 * take as many random bytes as n has, clear the bits above n's top bit, retry when d = 0 or
 * d ≥ n. Deterministic for a deterministic `random`.
 */
function drawScalar(curve: NistCurve, random: RandomFn): Uint8Array {
  const bits = curve.order.toString(2).length;
  const length = Math.ceil(bits / 8);
  const topMask = 0xff >> (length * 8 - bits);
  for (let i = 0; i < MAX_DRAWS; i++) {
    const d = Uint8Array.from(random(length));
    if (d.length !== length) throw new RangeError('random source returned too few bytes');
    d[0]! &= topMask;
    const v = toBigInt(d);
    if (v !== 0n && v < curve.order) return d;
  }
  throw new Error('random source keeps producing invalid ECDH private keys');
}

class EcdhExchange implements KexExchange {
  readonly publicValue: Uint8Array;
  readonly #curve: NistCurve;
  readonly #ecdh: ECDH;

  constructor(curve: NistCurve, random: RandomFn) {
    this.#curve = curve;
    this.#ecdh = createECDH(curve.openssl);
    this.#ecdh.setPrivateKey(drawScalar(curve, random));
    // RFC 5656 §4: Q_C / Q_S as octet strings, SEC 1 §2.3.3 uncompressed form 0x04 || X || Y.
    this.publicValue = new Uint8Array(this.#ecdh.getPublicKey(null, 'uncompressed'));
  }

  computeSecret(peerPublic: Uint8Array): Uint8Array {
    const expected = 1 + 2 * this.#curve.fieldLength;
    // OpenSSH sends and accepts only the uncompressed form; it is also the only form whose
    // length pins down the curve.
    if (peerPublic.length !== expected || peerPublic[0] !== 0x04) {
      throw kexFailed(`ECDH public key is not an uncompressed ${this.#curve.openssl} point`);
    }
    let secret: Buffer;
    try {
      // OpenSSL validates the point (on the curve, not infinity) while decoding it, as
      // RFC 5656 §4 requires; every curve here has cofactor 1, so that is full validation.
      secret = this.#ecdh.computeSecret(peerPublic);
    } catch {
      throw kexFailed(`ECDH public key is not a point on ${this.#curve.openssl}`);
    }
    // RFC 5656 §4: K is the x coordinate of the shared point, read as an unsigned integer.
    return new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength);
  }
}

function ecdh(name: string, hash: KexHash, curve: NistCurve): KexAlgorithm {
  return { name, hash, encoding: 'string', start: (random) => new EcdhExchange(curve, random) };
}

/** ecdh-sha2-nistp256: P-256 with SHA-256 (RFC 5656 §6.2.1). */
export const ECDH_SHA2_NISTP256: KexAlgorithm = ecdh('ecdh-sha2-nistp256', 'sha256', P256);

/** ecdh-sha2-nistp384: P-384 with SHA-384 (RFC 5656 §6.2.1). */
export const ECDH_SHA2_NISTP384: KexAlgorithm = ecdh('ecdh-sha2-nistp384', 'sha384', P384);

/** ecdh-sha2-nistp521: P-521 with SHA-512 (RFC 5656 §6.2.1). */
export const ECDH_SHA2_NISTP521: KexAlgorithm = ecdh('ecdh-sha2-nistp521', 'sha512', P521);

/** The group orders, exported for tests that check them against OpenSSL. */
export const NIST_CURVE_ORDERS: Readonly<Record<string, bigint>> = {
  prime256v1: P256.order,
  secp384r1: P384.order,
  secp521r1: P521.order,
};
