/**
 * @module
 * Public host and user keys: the SSH public key blobs (RFC 4253 §6.6, RFC 5656 §3.1,
 * RFC 8709 §4) and signature verification (RFC 4253 §6.6, RFC 5656 §3.1.2, RFC 8709 §6,
 * RFC 8332 §3) on node:crypto.
 */

import { constants, createPublicKey, type JsonWebKey, type KeyObject, verify } from 'node:crypto';
import { SshReader } from '../wire/reader.js';
import { SshWriter } from '../wire/writer.js';
import { hashOf } from './hash.js';

/** The public key types this library reads, by their SSH names. */
export type PublicKeyType =
  | 'ssh-ed25519'
  | 'ecdsa-sha2-nistp256'
  | 'ecdsa-sha2-nistp384'
  | 'ecdsa-sha2-nistp521'
  | 'ssh-rsa';

/** A decoded public key. */
export interface PublicKeyInfo {
  /** The key type named inside the blob. */
  readonly type: PublicKeyType;
  /** The SSH public key blob (a copy of the parsed bytes). */
  readonly blob: Uint8Array;
  /** The key for node:crypto. */
  readonly key: KeyObject;
  /** Key size: the RSA modulus bits, the curve size for ECDSA, 256 for Ed25519. */
  readonly bits: number;
}

/** A NIST curve as SSH names it (RFC 5656 §6.1) and as JWK names it (RFC 7518 §6.2.1.1). */
export interface EcdsaCurve {
  readonly type: PublicKeyType;
  readonly sshName: string;
  readonly jwkName: string;
  readonly opensslName: string;
  readonly fieldLength: number;
  readonly bits: number;
  /** The hash ECDSA signs with on this curve (RFC 5656 §6.2.1). */
  readonly hash: 'sha256' | 'sha384' | 'sha512';
}

const ECDSA_CURVES: readonly EcdsaCurve[] = [
  {
    type: 'ecdsa-sha2-nistp256',
    sshName: 'nistp256',
    jwkName: 'P-256',
    opensslName: 'prime256v1',
    fieldLength: 32,
    bits: 256,
    hash: 'sha256',
  },
  {
    type: 'ecdsa-sha2-nistp384',
    sshName: 'nistp384',
    jwkName: 'P-384',
    opensslName: 'secp384r1',
    fieldLength: 48,
    bits: 384,
    hash: 'sha384',
  },
  {
    type: 'ecdsa-sha2-nistp521',
    sshName: 'nistp521',
    jwkName: 'P-521',
    opensslName: 'secp521r1',
    fieldLength: 66,
    bits: 521,
    hash: 'sha512',
  },
];

/** The ECDSA curve facts for a key type, or undefined when it is not ECDSA. */
export function ecdsaCurveOf(type: string): EcdsaCurve | undefined {
  return ECDSA_CURVES.find((c) => c.type === type);
}

/** The smallest RSA modulus accepted, in bits (OpenSSH's SSH_RSA_MINIMUM_MODULUS_SIZE). */
export const RSA_MIN_BITS = 1024;
/** The largest RSA modulus accepted, in bits (OpenSSL's OPENSSL_RSA_MAX_MODULUS_BITS). */
export const RSA_MAX_BITS = 16384;

const ED25519_KEY_LENGTH = 32;
const ED25519_SIGNATURE_LENGTH = 64;

/** A signature algorithm: the key type it uses and the hash it signs with. */
export interface SignatureScheme {
  readonly keyType: PublicKeyType;
  /** `null` for Ed25519, which hashes internally (RFC 8032). */
  readonly hash: 'sha1' | 'sha256' | 'sha384' | 'sha512' | null;
}

/** Every signature algorithm we sign and verify with (RFC 8709, RFC 5656, RFC 8332, RFC 4253). */
export const SIGNATURE_SCHEMES: ReadonlyMap<string, SignatureScheme> = new Map([
  ['ssh-ed25519', { keyType: 'ssh-ed25519', hash: null }],
  ['ecdsa-sha2-nistp256', { keyType: 'ecdsa-sha2-nistp256', hash: 'sha256' }],
  ['ecdsa-sha2-nistp384', { keyType: 'ecdsa-sha2-nistp384', hash: 'sha384' }],
  ['ecdsa-sha2-nistp521', { keyType: 'ecdsa-sha2-nistp521', hash: 'sha512' }],
  ['rsa-sha2-512', { keyType: 'ssh-rsa', hash: 'sha512' }],
  ['rsa-sha2-256', { keyType: 'ssh-rsa', hash: 'sha256' }],
  ['ssh-rsa', { keyType: 'ssh-rsa', hash: 'sha1' }],
]);

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function bitLength(magnitude: Uint8Array): number {
  let i = 0;
  while (i < magnitude.length && magnitude[i] === 0) i++;
  if (i === magnitude.length) return 0;
  return (magnitude.length - i - 1) * 8 + (32 - Math.clz32(magnitude[i]!));
}

function info(type: PublicKeyType, blob: Uint8Array, jwk: JsonWebKey, bits: number): PublicKeyInfo {
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  return { type, blob: Uint8Array.from(blob), key, bits };
}

function parseBlobOrThrow(blob: Uint8Array): PublicKeyInfo | undefined {
  const r = new SshReader(blob);
  const type = r.ascii(64);
  if (type === 'ssh-ed25519') {
    // RFC 8709 §4: string "ssh-ed25519", string key (32 bytes).
    const pk = r.string();
    r.finish();
    if (pk.length !== ED25519_KEY_LENGTH) return undefined;
    return info(type, blob, { kty: 'OKP', crv: 'Ed25519', x: base64url(pk) }, 256);
  }
  if (type === 'ssh-rsa') {
    // RFC 4253 §6.6: string "ssh-rsa", mpint e, mpint n.
    const e = r.mpintPositive();
    const n = r.mpintPositive();
    r.finish();
    const bits = bitLength(n);
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) return undefined;
    // e must be odd and at least 3 (a valid RSA public exponent) and no longer than n.
    if (e.length > n.length || (e[e.length - 1]! & 1) === 0 || bitLength(e) < 2) return undefined;
    return info(type, blob, { kty: 'RSA', n: base64url(n), e: base64url(e) }, bits);
  }
  const curve = ecdsaCurveOf(type);
  if (curve === undefined) return undefined;
  // RFC 5656 §3.1: string "ecdsa-sha2-[identifier]", string identifier, string Q.
  const identifier = r.ascii(64);
  const q = r.string();
  r.finish();
  if (identifier !== curve.sshName) return undefined;
  if (q.length !== 1 + 2 * curve.fieldLength || q[0] !== 0x04) return undefined;
  const x = q.subarray(1, 1 + curve.fieldLength);
  const y = q.subarray(1 + curve.fieldLength);
  // node/OpenSSL rejects a point that is not on the curve while importing it.
  return info(
    curve.type,
    blob,
    { kty: 'EC', crv: curve.jwkName, x: base64url(x), y: base64url(y) },
    curve.bits,
  );
}

/**
 * Decodes an SSH public key blob of a supported type. Rejects (returns `undefined`, never
 * throws) unknown types, wrong lengths, trailing bytes, curve name mismatches, points off the
 * curve, and RSA moduli outside 1024–16384 bits.
 *
 * @example
 * ```ts
 * const host = parsePublicKeyBlob(key.publicKeyBlob);
 * if (host === undefined) throw new Error('unsupported host key');
 * console.log(host.type, host.bits); // prints: ssh-ed25519 256
 * ```
 */
export function parsePublicKeyBlob(blob: Uint8Array): PublicKeyInfo | undefined {
  try {
    return parseBlobOrThrow(blob);
  } catch {
    return undefined;
  }
}

/**
 * The public key type a signature algorithm uses: `ssh-rsa` for rsa-sha2-256, rsa-sha2-512
 * and ssh-rsa (RFC 8332 §3); the algorithm name itself for Ed25519 and ECDSA.
 *
 * @returns `undefined` for an algorithm this library does not implement.
 *
 * @example
 * ```ts
 * keyTypeOfAlgorithm('rsa-sha2-512'); // 'ssh-rsa'
 * keyTypeOfAlgorithm('ssh-ed25519'); // 'ssh-ed25519'
 * ```
 */
export function keyTypeOfAlgorithm(alg: string): string | undefined {
  return SIGNATURE_SCHEMES.get(alg)?.keyType;
}

/**
 * Reads an mpint's bytes as a positive integer of at most `width` bytes and returns it
 * left-padded to exactly `width` bytes. Like OpenSSH, tolerates redundant leading zeros.
 */
function mpintToFixed(m: Uint8Array, width: number): Uint8Array | undefined {
  if (m.length === 0 || (m[0]! & 0x80) !== 0) return undefined;
  let i = 0;
  while (i < m.length && m[i] === 0) i++;
  const magnitude = m.subarray(i);
  if (magnitude.length === 0 || magnitude.length > width) return undefined;
  const out = new Uint8Array(width);
  out.set(magnitude, width - magnitude.length);
  return out;
}

function verifyOrThrow(
  algorithm: string,
  publicKeyBlob: Uint8Array,
  signatureBlob: Uint8Array,
  data: Uint8Array,
): boolean {
  const scheme = SIGNATURE_SCHEMES.get(algorithm);
  if (scheme === undefined) return false;
  const pub = parsePublicKeyBlob(publicKeyBlob);
  if (pub === undefined || pub.type !== scheme.keyType) return false;
  // RFC 4253 §6.6: string signature format identifier, string signature blob; the name must be
  // the algorithm negotiated or requested (RFC 8332 §3), and nothing may follow.
  const r = new SshReader(signatureBlob);
  const name = r.ascii(64);
  const sig = r.string();
  r.finish();
  if (name !== algorithm) return false;

  if (pub.type === 'ssh-ed25519') {
    // RFC 8709 §6: the 64-byte signature of RFC 8032.
    if (sig.length !== ED25519_SIGNATURE_LENGTH) return false;
    return verify(null, data, pub.key, sig);
  }
  if (pub.type === 'ssh-rsa') {
    // RFC 8332 §3: RSASSA-PKCS1-v1_5. The signature must be as long as the modulus; like
    // OpenSSH, a shorter one (leading zeros dropped by the signer) is padded on the left.
    const modulusLength = Math.ceil(pub.bits / 8);
    if (sig.length > modulusLength) return false;
    const padded = new Uint8Array(modulusLength);
    padded.set(sig, modulusLength - sig.length);
    return verify(
      scheme.hash,
      data,
      { key: pub.key, padding: constants.RSA_PKCS1_PADDING },
      padded,
    );
  }
  const curve = ecdsaCurveOf(pub.type)!;
  // RFC 5656 §3.1.2: the signature blob is mpint r ‖ mpint s.
  const rs = new SshReader(sig);
  const rBytes = mpintToFixed(rs.string(), curve.fieldLength);
  const sBytes = mpintToFixed(rs.string(), curve.fieldLength);
  rs.finish();
  if (rBytes === undefined || sBytes === undefined) return false;
  const p1363 = new Uint8Array(2 * curve.fieldLength);
  p1363.set(rBytes, 0);
  p1363.set(sBytes, curve.fieldLength);
  return verify(curve.hash, data, { key: pub.key, dsaEncoding: 'ieee-p1363' }, p1363);
}

/**
 * Verifies an SSH signature blob (`string algorithm ‖ string signature`) over `data` with a
 * public key blob. The name inside the signature blob must equal `algorithm`, and `algorithm`
 * must fit the key type. Never throws: anything malformed is `false`.
 *
 * `ssh-rsa` (SHA-1) is verified when asked for; whether to accept it is the caller's policy.
 *
 * @example
 * ```ts
 * const exchangeHash = new Uint8Array(32);
 * const signatureBlob = key.sign('ssh-ed25519', exchangeHash);
 * if (!verifySignature('ssh-ed25519', key.publicKeyBlob, signatureBlob, exchangeHash)) {
 *   throw new Error('SSH_ERR_HOST_KEY_SIGNATURE_INVALID');
 * }
 * ```
 */
export function verifySignature(
  algorithm: string,
  publicKeyBlob: Uint8Array,
  signatureBlob: Uint8Array,
  data: Uint8Array,
): boolean {
  try {
    return verifyOrThrow(algorithm, publicKeyBlob, signatureBlob, data);
  } catch {
    return false;
  }
}

/**
 * The SHA-256 fingerprint of a public key blob as `ssh-keygen -l` prints it: `SHA256:` and the
 * unpadded base64 of the digest.
 *
 * @example
 * ```ts
 * console.log(fingerprintSha256(key.publicKeyBlob)); // e.g. SHA256:r9dcNTiuP/TKDK/YHP8mowu8Sv2lwEVKsLkqAGVLXUc
 * ```
 */
export function fingerprintSha256(blob: Uint8Array): string {
  const digest = hashOf('sha256', blob);
  return 'SHA256:' + Buffer.from(digest).toString('base64').replace(/=+$/, '');
}

function jwkBytes(value: string | undefined, what: string): Uint8Array {
  if (value === undefined) throw new TypeError(`key has no ${what}`);
  return new Uint8Array(Buffer.from(value, 'base64url'));
}

/**
 * The SSH public key blob of a node:crypto key (public or private): Ed25519, ECDSA on
 * P-256/384/521, or RSA.
 *
 * @throws TypeError for other key types (DSA, RSA-PSS, X25519, other curves).
 *
 * @example
 * ```ts
 * import { generateKeyPairSync } from 'node:crypto';
 *
 * const { publicKey } = generateKeyPairSync('ed25519');
 * const blob = publicKeyBlobOf(publicKey);
 * ```
 */
export function publicKeyBlobOf(key: KeyObject): Uint8Array {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = pub.export({ format: 'jwk' });
  const w = new SshWriter(512);
  switch (pub.asymmetricKeyType) {
    case 'ed25519':
      return w.string('ssh-ed25519').string(jwkBytes(jwk.x, 'x')).finish();
    case 'rsa':
      return w
        .string('ssh-rsa')
        .mpintUnsigned(jwkBytes(jwk.e, 'e'))
        .mpintUnsigned(jwkBytes(jwk.n, 'n'))
        .finish();
    case 'ec': {
      const curve = ECDSA_CURVES.find((c) => c.jwkName === jwk.crv);
      if (curve === undefined) throw new TypeError(`unsupported elliptic curve ${jwk.crv}`);
      const q = new Uint8Array(1 + 2 * curve.fieldLength);
      q[0] = 0x04;
      const x = jwkBytes(jwk.x, 'x');
      const y = jwkBytes(jwk.y, 'y');
      q.set(x, 1 + curve.fieldLength - x.length);
      q.set(y, q.length - y.length);
      return w.string(curve.type).string(curve.sshName).string(q).finish();
    }
    default:
      throw new TypeError(`unsupported key type ${pub.asymmetricKeyType}`);
  }
}
