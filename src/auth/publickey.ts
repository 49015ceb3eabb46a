/**
 * @module
 * Publickey authentication helpers (RFC 4252 §7): which signature algorithm a client signs
 * with (RFC 8332 §3.3, RFC 8308 §3.1 server-sig-algs), and the shape of signature blobs.
 */

import { AUTH_LIMITS } from '../limits.js';
import { SshReader } from '../wire/reader.js';

/** The RSA SHA-2 algorithms in our order of preference (RFC 8332 §3). */
const RSA_SHA2 = ['rsa-sha2-512', 'rsa-sha2-256'] as const;

/** The key type named at the start of a public key blob (RFC 4253 §6.6), or undefined. */
export function keyTypeOfBlob(blob: Uint8Array): string | undefined {
  try {
    return new SshReader(blob).ascii(AUTH_LIMITS.METHOD_NAME_MAX);
  } catch {
    return undefined;
  }
}

/**
 * The algorithms of the server's `server-sig-algs` extension (RFC 8308 §3.1), or undefined
 * when the server sent none. The value is a name-list without its length prefix.
 */
export function serverSigAlgs(extensions: ReadonlyMap<string, Uint8Array>): string[] | undefined {
  const value = extensions.get('server-sig-algs');
  if (value === undefined) return undefined;
  let text = '';
  for (const c of value) text += String.fromCharCode(c);
  return text.split(',').filter((n) => n.length > 0);
}

/**
 * Chooses the signature algorithm for a key.
 *
 * - Non-RSA keys have one algorithm: the key's first.
 * - RSA keys sign with rsa-sha2-512, else rsa-sha2-256 (RFC 8332), among those the key offers
 *   and — when the server sent server-sig-algs — the server lists. Without server-sig-algs
 *   we try rsa-sha2-512: the query (RFC 4252 §7) tells whether the server takes it. OpenSSH
 *   would fall back to ssh-rsa there; we never sign with SHA-1 unless the key offers nothing
 *   else (signatureAlgorithms exactly `['ssh-rsa']`, an explicit opt-in).
 *
 * @returns undefined when no acceptable algorithm exists (the method is then skipped).
 *
 * @example
 * ```ts
 * chooseSignatureAlgorithm('ssh-rsa', ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'], ['rsa-sha2-256']);
 * // 'rsa-sha2-256'
 * ```
 */
export function chooseSignatureAlgorithm(
  keyType: string,
  keyAlgorithms: readonly string[],
  serverAlgorithms: readonly string[] | undefined,
): string | undefined {
  if (keyType !== 'ssh-rsa') return keyAlgorithms[0];
  if (keyAlgorithms.length === 1 && keyAlgorithms[0] === 'ssh-rsa') return 'ssh-rsa';
  const sha2 = RSA_SHA2.filter((a) => keyAlgorithms.includes(a));
  if (serverAlgorithms === undefined) return sha2[0];
  return sha2.find((a) => serverAlgorithms.includes(a));
}

/**
 * The algorithm named inside a signature blob (`string algorithm ‖ string signature`,
 * RFC 4253 §6.6), or undefined when the blob is not shaped like one.
 */
export function signatureBlobAlgorithm(signatureBlob: Uint8Array): string | undefined {
  try {
    const r = new SshReader(signatureBlob);
    const name = r.ascii(AUTH_LIMITS.METHOD_NAME_MAX);
    r.string();
    r.finish();
    return name;
  } catch {
    return undefined;
  }
}
