/**
 * @module
 * chacha20-poly1305@openssh.com packet protection (OpenSSH PROTOCOL.chacha20poly1305): the
 * length is encrypted with its own key so it can be read statelessly, and a Poly1305 tag covers
 * the encrypted length and payload.
 */

import { timingSafeEqual } from 'node:crypto';
import { allocBytes, putParts, sealWhole } from './bytes.js';
import { type ChaChaPolyProvider, defaultChaChaPoly } from './poly1305.js';
import type { PacketOpener, PacketSealer } from './types.js';

const KEY_LENGTH = 64;
const TAG_LENGTH = 16;
/** Input for deriving the Poly1305 key: the first 32 keystream bytes at block counter 0. */
const ZERO_32 = new Uint8Array(32);

/** Splits the 64-byte key by offset: bytes 0–31 payload (K_2), bytes 32–63 length (K_1). */
function splitKey(key: Uint8Array): { main: Uint8Array; length: Uint8Array } {
  if (key.length !== KEY_LENGTH) {
    throw new Error(`chacha20-poly1305@openssh.com needs a 64-byte key, got ${key.length}`);
  }
  return { main: key.slice(0, 32), length: key.slice(32, 64) };
}

/** The nonce is the packet sequence number as uint64 big-endian; ours is a uint32. */
function writeNonce(nonce: Uint8Array, seq: number): void {
  nonce[4] = seq >>> 24;
  nonce[5] = (seq >>> 16) & 0xff;
  nonce[6] = (seq >>> 8) & 0xff;
  nonce[7] = seq & 0xff;
}

class ChaCha20Poly1305Sealer implements PacketSealer {
  readonly blockSize = 8;
  readonly lengthExcludedFromAlignment = true;
  readonly macLength = TAG_LENGTH;
  readonly #main: Uint8Array;
  readonly #length: Uint8Array;
  readonly #provider: ChaChaPolyProvider;
  readonly #nonce = new Uint8Array(8);
  readonly #polyKey = new Uint8Array(32);

  constructor(key: Uint8Array, provider: ChaChaPolyProvider) {
    const keys = splitKey(key);
    this.#main = keys.main;
    this.#length = keys.length;
    this.#provider = provider;
  }

  sealInto(seq: number, parts: readonly Uint8Array[], out: Uint8Array, offset: number): number {
    const p = this.#provider;
    // The plaintext is copied into `out` once and encrypted there in place (the stream XOR
    // writes where it is told), so the payload is written exactly once.
    const end = putParts(parts, out, offset);
    const length = out.subarray(offset, offset + 4);
    writeNonce(this.#nonce, seq);
    p.chacha20(this.#length, this.#nonce, 0, length, length);
    p.chacha20(this.#main, this.#nonce, 0, ZERO_32, this.#polyKey);
    const body = out.subarray(offset + 4, end);
    p.chacha20(this.#main, this.#nonce, 1, body, body);
    p.poly1305(this.#polyKey, out.subarray(offset, end), out.subarray(end, end + TAG_LENGTH));
    return end + TAG_LENGTH - offset;
  }

  seal(seq: number, packet: Uint8Array): Uint8Array {
    return sealWhole(this, seq, packet);
  }
}

class ChaCha20Poly1305Opener implements PacketOpener {
  readonly blockSize = 8;
  readonly lengthExcludedFromAlignment = true;
  readonly macLength = TAG_LENGTH;
  readonly lengthFieldBytes = 4;
  readonly #main: Uint8Array;
  readonly #length: Uint8Array;
  readonly #provider: ChaChaPolyProvider;
  readonly #nonce = new Uint8Array(8);
  readonly #polyKey = new Uint8Array(32);
  readonly #tag = new Uint8Array(TAG_LENGTH);
  readonly #plainLength = new Uint8Array(4);

  constructor(key: Uint8Array, provider: ChaChaPolyProvider) {
    const keys = splitKey(key);
    this.#main = keys.main;
    this.#length = keys.length;
    this.#provider = provider;
  }

  peekLength(seq: number, head: Uint8Array): number {
    writeNonce(this.#nonce, seq);
    const l = this.#plainLength;
    this.#provider.chacha20(this.#length, this.#nonce, 0, head.subarray(0, 4), l);
    return ((l[0]! << 24) | (l[1]! << 16) | (l[2]! << 8) | l[3]!) >>> 0;
  }

  open(seq: number, wire: Uint8Array): Uint8Array | null {
    const end = wire.length - TAG_LENGTH;
    if (end < 4) return null;
    const p = this.#provider;
    writeNonce(this.#nonce, seq);
    // Authenticate before decrypting (PROTOCOL.chacha20poly1305).
    p.chacha20(this.#main, this.#nonce, 0, ZERO_32, this.#polyKey);
    p.poly1305(this.#polyKey, wire.subarray(0, end), this.#tag);
    if (!timingSafeEqual(this.#tag, wire.subarray(end))) return null;
    const plain = allocBytes(end - 4);
    p.chacha20(this.#main, this.#nonce, 1, wire.subarray(4, end), plain);
    return plain;
  }
}

/**
 * Creates the sealer for one direction.
 * @param key - the 64-byte encryption key derived for this direction (letter C or D).
 * @param provider - the primitives to use; defaults to {@link defaultChaChaPoly}.
 *
 * @example
 * ```ts
 * const sealer = createChaCha20Poly1305Sealer(new Uint8Array(64)); // K_2 ‖ K_1
 * const wire = sealer.seal(0, new Uint8Array([0, 0, 0, 8, 6, 2, 0, 0, 0, 0, 0, 0])); // 12 + 16 bytes
 * ```
 */
export function createChaCha20Poly1305Sealer(
  key: Uint8Array,
  provider: ChaChaPolyProvider = defaultChaChaPoly(),
): PacketSealer {
  return new ChaCha20Poly1305Sealer(key, provider);
}

/**
 * Creates the opener for one direction.
 * @param key - the 64-byte encryption key derived for this direction (letter C or D).
 * @param provider - the primitives to use; defaults to {@link defaultChaChaPoly}.
 *
 * @example
 * ```ts
 * const key = new Uint8Array(64);
 * const bytes = createChaCha20Poly1305Sealer(key).seal(0, new Uint8Array([0, 0, 0, 8, 6, 2, 0, 0, 0, 0, 0, 0]));
 * const opener = createChaCha20Poly1305Opener(key);
 * const length = opener.peekLength(0, bytes.subarray(0, 4)); // 8, decrypted with K_1
 * const plain = opener.open(0, bytes.subarray(0, 4 + length + opener.macLength)); // or null
 * ```
 */
export function createChaCha20Poly1305Opener(
  key: Uint8Array,
  provider: ChaChaPolyProvider = defaultChaChaPoly(),
): PacketOpener {
  return new ChaCha20Poly1305Opener(key, provider);
}
