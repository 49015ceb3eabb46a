/**
 * @module
 * Private keys for host keys and user authentication: reading OpenSSH, PEM and PKCS#8 key
 * files, generating keys, signing in the SSH formats (RFC 8709 §6, RFC 5656 §3.1.2,
 * RFC 8332 §3), and OpenSSH public key lines.
 */

import {
  constants,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  type PrivateKeyInput,
} from 'node:crypto';
import ssh2 from 'ssh2';
import { SshReader } from '../wire/reader.js';
import { SshWriter } from '../wire/writer.js';
import {
  ecdsaCurveOf,
  type PublicKeyInfo,
  parsePublicKeyBlob,
  publicKeyBlobOf,
  RSA_MAX_BITS,
  SIGNATURE_SCHEMES,
} from './host-key.js';

/**
 * A private key that signs in the SSH formats. Made by {@link parsePrivateKey} or
 * {@link generatePrivateKey}; an application may also implement it itself (for example over an
 * SSH agent or a hardware token).
 *
 * @example
 * ```ts
 * const key = generatePrivateKey('ed25519'); // or parsePrivateKey(text)
 * const data = new TextEncoder().encode('to be signed');
 * const signature = key.sign(key.signatureAlgorithms[0]!, data); // string algorithm ‖ string sig
 * ```
 */
export interface PrivateKey {
  /** The SSH key type, e.g. `ssh-ed25519` or `ssh-rsa`. */
  readonly type: PublicKeyInfo['type'];
  /** The SSH public key blob (RFC 4253 §6.6). */
  readonly publicKeyBlob: Uint8Array;
  /**
   * The signature algorithms this key can sign with, most preferred first: RSA keys give
   * `['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']`, other keys their own type.
   */
  readonly signatureAlgorithms: readonly string[];
  /**
   * Signs `data` and returns the full SSH signature blob: `string algorithm ‖ string signature`.
   * Throws TypeError when `algorithm` is not one of {@link PrivateKey.signatureAlgorithms}.
   */
  sign(algorithm: string, data: Uint8Array): Uint8Array;
}

/** The key types {@link generatePrivateKey} makes. */
export type GeneratedKeyType = 'ed25519' | 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | 'rsa';

const RSA_ALGORITHMS = ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] as const;
const RSA_DEFAULT_BITS = 3072;
const RSA_MIN_GENERATED_BITS = 2048;
const OPENSSH_PRIVATE_KEY = '-----BEGIN OPENSSH PRIVATE KEY-----';

/** The node:crypto key behind each key this module made, for {@link privateKeyToPem}. */
const KEY_OBJECTS = new WeakMap<PrivateKey, KeyObject>();

function signWith(
  key: KeyObject,
  type: PublicKeyInfo['type'],
  algorithm: string,
  data: Uint8Array,
): Uint8Array {
  const scheme = SIGNATURE_SCHEMES.get(algorithm);
  if (scheme === undefined || scheme.keyType !== type) {
    throw new TypeError(`a ${type} key cannot sign with ${algorithm}`);
  }
  let signature: Uint8Array;
  if (type === 'ssh-ed25519') {
    // RFC 8709 §6: the 64-byte Ed25519 signature.
    signature = nodeSign(null, data, key);
  } else if (type === 'ssh-rsa') {
    // RFC 8332 §3: RSASSA-PKCS1-v1_5 with SHA-512, SHA-256 or (ssh-rsa) SHA-1.
    signature = nodeSign(scheme.hash, data, { key, padding: constants.RSA_PKCS1_PADDING });
  } else {
    // RFC 5656 §3.1.2: mpint r ‖ mpint s, signed with the curve's hash.
    const curve = ecdsaCurveOf(type)!;
    const raw = nodeSign(curve.hash, data, { key, dsaEncoding: 'ieee-p1363' });
    signature = new SshWriter(raw.length + 16)
      .mpintUnsigned(raw.subarray(0, curve.fieldLength))
      .mpintUnsigned(raw.subarray(curve.fieldLength))
      .finish();
  }
  return new SshWriter(signature.length + algorithm.length + 8)
    .string(algorithm)
    .string(signature)
    .finish();
}

/** Wraps a node:crypto private key of a supported type. */
function wrap(key: KeyObject): PrivateKey {
  let blob: Uint8Array;
  try {
    blob = publicKeyBlobOf(key);
  } catch (err) {
    throw new TypeError(`unsupported private key: ${(err as Error).message}`, { cause: err });
  }
  const pub = parsePublicKeyBlob(blob);
  if (pub === undefined) {
    throw new TypeError('unsupported private key: RSA modulus outside 1024–16384 bits');
  }
  const type = pub.type;
  const privateKey: PrivateKey = Object.freeze({
    type,
    publicKeyBlob: blob,
    signatureAlgorithms: Object.freeze(type === 'ssh-rsa' ? [...RSA_ALGORITHMS] : [type]),
    sign: (algorithm: string, data: Uint8Array) => signWith(key, type, algorithm, data),
  });
  KEY_OBJECTS.set(privateKey, key);
  return privateKey;
}

function loadOpenSsh(text: string, passphrase: string | undefined): KeyObject {
  // The OpenSSH format (PROTOCOL.key), bcrypt-pbkdf encrypted or not, read by ssh2's parser.
  const parsed = ssh2.utils.parseKey(text, passphrase);
  if (parsed instanceof Error) {
    throw new TypeError(`cannot read the OpenSSH private key: ${parsed.message}`, {
      cause: parsed,
    });
  }
  if (!parsed || Array.isArray(parsed) || !parsed.isPrivateKey()) {
    throw new TypeError('cannot read the OpenSSH private key: it holds no private key');
  }
  return createPrivateKey(parsed.getPrivatePEM());
}

function loadWithNode(input: PrivateKeyInput, passphrase: string | undefined): KeyObject {
  try {
    return createPrivateKey(passphrase === undefined ? input : { ...input, passphrase });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_MISSING_PASSPHRASE') {
      throw new TypeError('the private key is encrypted: a passphrase is needed', { cause: err });
    }
    const hint = passphrase === undefined ? '' : ' (wrong passphrase?)';
    throw new TypeError(`cannot read the private key${hint}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function loadDer(der: Uint8Array, passphrase: string | undefined): KeyObject {
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  let firstError: unknown;
  for (const type of ['pkcs8', 'sec1', 'pkcs1'] as const) {
    try {
      return loadWithNode({ key, format: 'der', type }, passphrase);
    } catch (err) {
      firstError ??= err;
    }
  }
  throw firstError;
}

/**
 * Reads a private key file: the OpenSSH format (`-----BEGIN OPENSSH PRIVATE KEY-----`), PEM
 * PKCS#1 RSA or SEC1 EC keys (`-----BEGIN RSA/EC PRIVATE KEY-----`), PKCS#8
 * (`-----BEGIN (ENCRYPTED) PRIVATE KEY-----`), each optionally encrypted; or DER bytes of
 * PKCS#8, SEC1 or PKCS#1. Supported key types: Ed25519, ECDSA P-256/384/521, RSA of
 * 1024–16384 bits.
 *
 * @param passphrase - for encrypted keys; ignored for unencrypted ones.
 * @throws TypeError when the data is not a key, the key is encrypted and no or the wrong
 *   passphrase is given, or the key type is not supported.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 *
 * const key = parsePrivateKey(readFileSync(keyFile, 'utf8')); // e.g. ~/.ssh/id_ed25519
 * const pem = privateKeyToPem(generatePrivateKey('ecdsa-p256'));
 * const same = parsePrivateKey(pem); // an encrypted key takes its passphrase second
 * console.log(key.type, same.type); // prints: ssh-ed25519 ecdsa-sha2-nistp256
 * ```
 */
export function parsePrivateKey(data: string | Uint8Array, passphrase?: string): PrivateKey {
  let text: string | undefined;
  if (typeof data === 'string') {
    text = data;
  } else if (data[0] !== 0x30) {
    // Anything not starting like a DER SEQUENCE is treated as text.
    text = new TextDecoder().decode(data);
  }
  if (text === undefined) return wrap(loadDer(data as Uint8Array, passphrase));
  if (text.includes(OPENSSH_PRIVATE_KEY)) return wrap(loadOpenSsh(text, passphrase));
  if (text.includes('-----BEGIN ')) {
    // Encrypted PKCS#8 (RFC 5958 §3) or OpenSSL's encrypted PEM header (RFC 1421 §4.6.1.1).
    const encrypted =
      text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') ||
      /^Proc-Type: 4,ENCRYPTED/m.test(text);
    if (encrypted && passphrase === undefined) {
      throw new TypeError('the private key is encrypted: a passphrase is needed');
    }
    return wrap(loadWithNode({ key: text, format: 'pem' }, passphrase));
  }
  throw new TypeError('unrecognised private key format: expected an OpenSSH, PEM or DER key');
}

/**
 * Generates a new private key. RSA keys have 3072 bits unless `options.bits` says otherwise
 * (2048–16384).
 *
 * @throws TypeError for an unknown type or a bad `bits`.
 *
 * @example
 * ```ts
 * const hostKey = generatePrivateKey('ed25519');
 * const rsaKey = generatePrivateKey('rsa', { bits: 2048 }); // 3072 bits by default
 * ```
 */
export function generatePrivateKey(
  type: GeneratedKeyType,
  options?: { bits?: number },
): PrivateKey {
  const bits = options?.bits;
  if (bits !== undefined && type !== 'rsa') {
    throw new TypeError(`bits only applies to rsa keys, not ${type}`);
  }
  switch (type) {
    case 'ed25519':
      return wrap(generateKeyPairSync('ed25519').privateKey);
    case 'ecdsa-p256':
      return wrap(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
    case 'ecdsa-p384':
      return wrap(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey);
    case 'ecdsa-p521':
      return wrap(generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).privateKey);
    case 'rsa': {
      const modulusLength = bits ?? RSA_DEFAULT_BITS;
      if (
        !Number.isInteger(modulusLength) ||
        modulusLength < RSA_MIN_GENERATED_BITS ||
        modulusLength > RSA_MAX_BITS
      ) {
        throw new TypeError(
          `rsa bits must be an integer from ${RSA_MIN_GENERATED_BITS} to ${RSA_MAX_BITS}`,
        );
      }
      return wrap(generateKeyPairSync('rsa', { modulusLength, publicExponent: 65537 }).privateKey);
    }
    default:
      throw new TypeError(`unknown key type ${String(type)}`);
  }
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Reads one OpenSSH public key line (`type base64-blob [comment]`, as in `*.pub` files). The
 * type before the blob must match the type inside it, and a key of a supported type must be
 * valid. Keys of other types (e.g. `ssh-dss`, certificates) are returned undecoded.
 *
 * @throws TypeError for a malformed line.
 *
 * @example
 * ```ts
 * const line = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDlFxCKNwUJfKipPMmW3dTzXN0W+vYvr/wKQpG8Keh2j me@host';
 * const { type, blob, comment } = parsePublicKey(line); // e.g. a line of ~/.ssh/id_ed25519.pub
 * console.log(type, blob.length, comment); // prints: ssh-ed25519 51 me@host
 * ```
 */
export function parsePublicKey(text: string): { type: string; blob: Uint8Array; comment: string } {
  const line = text.trim();
  if (/[\r\n]/.test(line)) throw new TypeError('expected a single public key line');
  const m = /^(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(line);
  if (m === null) throw new TypeError('expected "type base64 [comment]"');
  const type = m[1]!;
  const encoded = m[2]!;
  if (!BASE64.test(encoded) || encoded.length % 4 !== 0) {
    throw new TypeError('the public key is not valid base64');
  }
  const blob = new Uint8Array(Buffer.from(encoded, 'base64'));
  let inner: string;
  try {
    inner = new SshReader(blob).ascii(64);
  } catch {
    throw new TypeError('the public key blob is malformed');
  }
  if (inner !== type) {
    throw new TypeError(`the line names a ${type} key but the blob holds ${inner}`);
  }
  if (SIGNATURE_SCHEMES.get(type)?.keyType === type && parsePublicKeyBlob(blob) === undefined) {
    throw new TypeError(`the ${type} public key is invalid`);
  }
  return { type, blob, comment: m[3]?.trim() ?? '' };
}

/**
 * Formats a public key blob as an OpenSSH public key line (`type base64 [comment]`).
 *
 * @throws TypeError when the blob does not start with a key type, or the comment spans lines.
 *
 * @example
 * ```ts
 * console.log(publicKeyToOpenSSH(key.publicKeyBlob, 'me@host')); // ssh-ed25519 AAAAC3… me@host
 * ```
 */
export function publicKeyToOpenSSH(blob: Uint8Array, comment?: string): string {
  let type: string;
  try {
    type = new SshReader(blob).ascii(64);
  } catch {
    throw new TypeError('not an SSH public key blob');
  }
  if (comment !== undefined && /[\r\n]/.test(comment)) {
    throw new TypeError('a public key comment cannot span lines');
  }
  const encoded = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).toString('base64');
  return comment ? `${type} ${encoded} ${comment}` : `${type} ${encoded}`;
}

/**
 * Exports a key made by {@link parsePrivateKey} or {@link generatePrivateKey} as an
 * unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), which {@link parsePrivateKey} reads
 * back.
 *
 * @throws TypeError for a {@link PrivateKey} implemented elsewhere.
 *
 * @example
 * ```ts
 * import { mkdtempSync, writeFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 *
 * const file = join(mkdtempSync(join(tmpdir(), 'keys-')), 'host_key.pem');
 * writeFileSync(file, privateKeyToPem(generatePrivateKey('ed25519')), { mode: 0o600 });
 * ```
 */
export function privateKeyToPem(key: PrivateKey): string {
  const keyObject = KEY_OBJECTS.get(key);
  if (keyObject === undefined) {
    throw new TypeError(
      'privateKeyToPem only exports keys made by parsePrivateKey or generatePrivateKey',
    );
  }
  return keyObject.export({ format: 'pem', type: 'pkcs8' }).toString();
}
