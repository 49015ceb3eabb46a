/**
 * @module
 * Host matching for OpenSSH known_hosts files (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"): the
 * name looked up for a host and port, comma-separated patterns with `*` and `?` and `!`
 * negation, and hashed names `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
 */

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The port whose hosts are written without brackets (sshd(8)). */
const DEFAULT_PORT = 22;

/** Length of the hashed-name salt and of its HMAC-SHA1: 20 bytes (SHA-1's output). */
const HASH_BYTES = 20;

/** The magic that starts a hashed name (OpenSSH's HASH_MAGIC). */
const HASH_MAGIC = '|1|';

/**
 * The name a host and port are looked up as: the lower-cased host for port 22, else
 * `[host]:port` (sshd(8): "enclosed within '[' and ']' brackets then followed by ':' and a
 * non-standard port number"). Lower-cased as ssh(1) does before it consults the file.
 */
export function lookupName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === DEFAULT_PORT ? h : `[${h}]:${port}`;
}

/**
 * Whether `text` matches a wildcard pattern (`*` any run, `?` one character), compared
 * without case. Linear backtracking to the last `*`: O(|text|·|pattern|) at worst, never
 * exponential in the number of stars.
 */
export function wildcardMatch(text: string, pattern: string): boolean {
  const t = text.toLowerCase();
  const p = pattern.toLowerCase();
  let ti = 0;
  let pi = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || (p[pi] !== '*' && p[pi] === t[ti]))) {
      ti++;
      pi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/**
 * Whether `name` matches a comma-separated pattern list: a negated pattern (`!pattern`) that
 * matches rejects the line whatever else matches; otherwise at least one plain pattern must
 * match (sshd(8); OpenSSH match_hostname).
 */
export function patternListMatch(name: string, list: string): boolean {
  let positive = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    if (!wildcardMatch(name, pattern)) continue;
    if (negated) return false;
    positive = true;
  }
  return positive;
}

/** A hashed name decoded: its salt and HMAC. */
export interface HashedName {
  readonly salt: Uint8Array;
  readonly hash: Uint8Array;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict base64: canonical padding and alphabet, or undefined. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) return undefined;
  return new Uint8Array(bytes);
}

/**
 * Decodes `|1|salt|hash` (OpenSSH hostfile.c, HASH_MAGIC "|1|"), or returns a reason it is
 * not one: another magic, bad base64, or a salt or hash that is not 20 bytes.
 */
export function parseHashedName(field: string): HashedName | string {
  if (!field.startsWith(HASH_MAGIC)) return 'hashed host name with an unknown magic';
  const parts = field.slice(HASH_MAGIC.length).split('|');
  if (parts.length !== 2) return 'hashed host name is not |1|salt|hash';
  const salt = decodeBase64(parts[0]!);
  const hash = decodeBase64(parts[1]!);
  if (!salt || !hash || salt.length !== HASH_BYTES || hash.length !== HASH_BYTES)
    return 'hashed host name with a bad salt or hash';
  return { salt, hash };
}

/** HMAC-SHA1 keyed with the salt over the lookup name. */
function hmac(salt: Uint8Array, name: string): Buffer {
  return createHmac('sha1', salt).update(name, 'utf8').digest();
}

/** Whether a hashed name is the hash of `name`. */
export function hashedNameMatch(hashed: HashedName, name: string): boolean {
  return timingSafeEqual(hmac(hashed.salt, name), hashed.hash);
}

/** Hashes a lookup name with a fresh 20-byte salt: `|1|base64(salt)|base64(hmac)`. */
export function hashName(name: string, salt: Uint8Array = randomBytes(HASH_BYTES)): string {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  return `${HASH_MAGIC}${b64(salt)}|${b64(hmac(salt, name))}`;
}
