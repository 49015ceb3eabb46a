/**
 * @module
 * aes128-gcm@openssh.com and aes256-gcm@openssh.com packet protection (RFC 5647 §7, with the
 * OpenSSH PROTOCOL "transport: AES-GCM" rule that the negotiated MAC is ignored): the length travels in clear
 * as additional authenticated data, the 12-byte nonce is a fixed field and a per-packet counter.
 */

import { createCipheriv, createDecipheriv } from 'node:crypto';
import { asBytes, sealWhole } from './bytes.js';
import type { PacketOpener, PacketSealer } from './types.js';

/** The node:crypto names of the AES-GCM variants SSH uses. */
export type GcmAlgorithm = 'aes-128-gcm' | 'aes-256-gcm';

const TAG_LENGTH = 16;
const IV_LENGTH = 12;

/**
 * Encrypts `plaintext` with AES-GCM and writes `ciphertext ‖ tag` into `out` at `offset`.
 * Exposed for known-answer tests; the packet code calls it with the SSH layout.
 *
 * @example
 * ```ts
 * const [key, iv, msg] = [new Uint8Array(16), new Uint8Array(12), new Uint8Array(16)];
 * const aad = new Uint8Array([0, 0, 0, 16]); // packet_length: authenticated, not encrypted
 * const out = new Uint8Array(msg.length + 16);
 * gcmSealInto('aes-128-gcm', key, iv, aad, msg, out, 0); // ciphertext ‖ 16-byte tag
 * ```
 */
export function gcmSealInto(
  algorithm: GcmAlgorithm,
  key: Uint8Array,
  iv: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  out: Uint8Array,
  offset: number,
): void {
  const cipher = createCipheriv(algorithm, key, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  out.set(body, offset);
  let pos = offset + body.length;
  const rest = cipher.final(); // empty for GCM, kept for exactness
  out.set(rest, pos);
  pos += rest.length;
  out.set(cipher.getAuthTag(), pos);
}

/**
 * Verifies `tag` and decrypts `ciphertext` with AES-GCM. Returns the plaintext in a new buffer,
 * or `null` when the tag does not verify (node compares it in constant time). Never throws
 * for any bytes; the plaintext computed before the tag check is discarded on failure.
 *
 * @example
 * ```ts
 * const [key, iv, aad] = [new Uint8Array(16), new Uint8Array(12), new Uint8Array([0, 0, 0, 16])];
 * const sealed = new Uint8Array(32);
 * gcmSealInto('aes-128-gcm', key, iv, aad, new Uint8Array(16), sealed, 0);
 * const plain = gcmOpen('aes-128-gcm', key, iv, aad, sealed.subarray(0, 16), sealed.subarray(16));
 * if (plain === null) throw new Error('bad tag');
 * ```
 */
export function gcmOpen(
  algorithm: GcmAlgorithm,
  key: Uint8Array,
  iv: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
): Uint8Array | null {
  if (tag.length !== TAG_LENGTH) return null;
  try {
    const decipher = createDecipheriv(algorithm, key, iv, { authTagLength: TAG_LENGTH });
    decipher.setAuthTag(tag);
    decipher.setAAD(aad);
    const plain = decipher.update(ciphertext);
    decipher.final(); // throws when the tag does not verify
    return asBytes(plain);
  } catch {
    return null;
  }
}

/** RFC 5647 §7.1: the low 64 bits of the nonce are a big-endian counter, +1 per packet. */
function incrementInvocationCounter(iv: Uint8Array): void {
  for (let i = IV_LENGTH - 1; i >= 4; i--) {
    const v = (iv[i]! + 1) & 0xff;
    iv[i] = v;
    if (v !== 0) return;
  }
}

function algorithmFor(key: Uint8Array): GcmAlgorithm {
  if (key.length === 16) return 'aes-128-gcm';
  if (key.length === 32) return 'aes-256-gcm';
  throw new Error(`AES-GCM needs a 16- or 32-byte key, got ${key.length}`);
}

function initialNonce(iv: Uint8Array): Uint8Array {
  if (iv.length < IV_LENGTH) throw new Error(`AES-GCM needs a 12-byte IV, got ${iv.length}`);
  return iv.slice(0, IV_LENGTH);
}

class AesGcmSealer implements PacketSealer {
  readonly blockSize = 16;
  readonly lengthExcludedFromAlignment = true;
  readonly macLength = TAG_LENGTH;
  readonly #algorithm: GcmAlgorithm;
  readonly #key: Uint8Array;
  readonly #nonce: Uint8Array;

  constructor(key: Uint8Array, iv: Uint8Array) {
    this.#algorithm = algorithmFor(key);
    this.#key = key.slice();
    this.#nonce = initialNonce(iv);
  }

  sealInto(_seq: number, parts: readonly Uint8Array[], out: Uint8Array, offset: number): number {
    const first = parts[0]!;
    const length = first.subarray(0, 4);
    out.set(length, offset);
    // RFC 5647 §7.3: the clear packet_length is the AAD; everything after it is encrypted.
    // One cipher.update per piece: node returns each piece's ciphertext in a buffer of its
    // own (the one copy its API forces), which is written once, into `out`.
    const cipher = createCipheriv(this.#algorithm, this.#key, this.#nonce, {
      authTagLength: TAG_LENGTH,
    });
    cipher.setAAD(length);
    let pos = offset + 4;
    const head = cipher.update(first.subarray(4));
    out.set(head, pos);
    pos += head.length;
    for (let i = 1; i < parts.length; i++) {
      const body = cipher.update(parts[i]!);
      out.set(body, pos);
      pos += body.length;
    }
    const rest = cipher.final(); // empty for GCM, kept for exactness
    out.set(rest, pos);
    pos += rest.length;
    out.set(cipher.getAuthTag(), pos);
    incrementInvocationCounter(this.#nonce);
    return pos + TAG_LENGTH - offset;
  }

  seal(seq: number, packet: Uint8Array): Uint8Array {
    return sealWhole(this, seq, packet);
  }
}

class AesGcmOpener implements PacketOpener {
  readonly blockSize = 16;
  readonly lengthExcludedFromAlignment = true;
  readonly macLength = TAG_LENGTH;
  readonly lengthFieldBytes = 4;
  readonly #algorithm: GcmAlgorithm;
  readonly #key: Uint8Array;
  readonly #nonce: Uint8Array;

  constructor(key: Uint8Array, iv: Uint8Array) {
    this.#algorithm = algorithmFor(key);
    this.#key = key.slice();
    this.#nonce = initialNonce(iv);
  }

  peekLength(_seq: number, head: Uint8Array): number {
    return ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
  }

  open(_seq: number, wire: Uint8Array): Uint8Array | null {
    const end = wire.length - TAG_LENGTH;
    if (end < 4) return null;
    const plain = gcmOpen(
      this.#algorithm,
      this.#key,
      this.#nonce,
      wire.subarray(0, 4),
      wire.subarray(4, end),
      wire.subarray(end),
    );
    incrementInvocationCounter(this.#nonce);
    return plain;
  }
}

/**
 * Creates the AES-GCM sealer for one direction; the key size (16 or 32 bytes) picks
 * aes128-gcm@openssh.com or aes256-gcm@openssh.com.
 * @param key - encryption key (letter C or D).
 * @param iv - the 12-byte initial nonce (letter A or B).
 *
 * @example
 * ```ts
 * const sealer = createAesGcmSealer(new Uint8Array(16), new Uint8Array(12)); // key C, IV A
 * ```
 */
export function createAesGcmSealer(key: Uint8Array, iv: Uint8Array): PacketSealer {
  return new AesGcmSealer(key, iv);
}

/**
 * Creates the AES-GCM opener for one direction.
 * @param key - encryption key (letter C or D).
 * @param iv - the 12-byte initial nonce (letter A or B).
 *
 * @example
 * ```ts
 * const opener = createAesGcmOpener(new Uint8Array(16), new Uint8Array(12)); // key D, IV B
 * ```
 */
export function createAesGcmOpener(key: Uint8Array, iv: Uint8Array): PacketOpener {
  return new AesGcmOpener(key, iv);
}
