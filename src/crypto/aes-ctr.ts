/**
 * @module
 * aes128-ctr, aes192-ctr and aes256-ctr (RFC 4344 §4) with an HMAC (RFC 4253 §6.4, RFC 6668),
 * either encrypt-and-MAC or OpenSSH's encrypt-then-MAC (PROTOCOL "-etm@openssh.com" MACs).
 * One streaming AES-CTR object per direction: the 128-bit counter runs on across packets.
 */

import {
  type Cipher,
  createCipheriv,
  createHmac,
  type Hmac as NodeHmac,
  timingSafeEqual,
} from 'node:crypto';
import { asBytes, partsLength, sealWhole } from './bytes.js';
import type { PacketOpener, PacketSealer } from './types.js';

/** The hash functions behind the HMACs SSH negotiates. */
export type HmacHash = 'sha1' | 'sha256' | 'sha512';

const BLOCK = 16;

/** The MAC of RFC 4253 §6.4: `mac = MAC(key, uint32 sequence_number ‖ data)`. */
export interface PacketMac {
  /** Digest length in bytes (the whole HMAC output; no truncated variants). */
  readonly length: number;
  /** Computes the MAC of `uint32 seq ‖ data`; returns a new buffer. */
  compute(seq: number, data: Uint8Array): Uint8Array;
  /** Computes the MAC of `uint32 seq ‖ parts[0] ‖ parts[1] ‖ …` into `out` at `offset`. */
  computeInto(seq: number, parts: readonly Uint8Array[], out: Uint8Array, offset: number): void;
  /** Checks `tag` against the MAC of `uint32 seq ‖ data` in constant time. */
  verify(seq: number, data: Uint8Array, tag: Uint8Array): boolean;
}

const DIGEST_LENGTH: Record<HmacHash, number> = { sha1: 20, sha256: 32, sha512: 64 };

class Hmac implements PacketMac {
  readonly length: number;
  readonly #hash: HmacHash;
  readonly #key: Uint8Array;
  readonly #seq = new Uint8Array(4);

  constructor(hash: HmacHash, key: Uint8Array) {
    this.#hash = hash;
    this.#key = key.slice();
    this.length = DIGEST_LENGTH[hash];
  }

  compute(seq: number, data: Uint8Array): Uint8Array {
    return asBytes(this.#start(seq).update(data).digest());
  }

  computeInto(seq: number, parts: readonly Uint8Array[], out: Uint8Array, offset: number): void {
    const h = this.#start(seq);
    for (const p of parts) h.update(p);
    out.set(h.digest(), offset);
  }

  /** An HMAC over `uint32 seq`, ready for the data. */
  #start(seq: number): NodeHmac {
    const s = this.#seq;
    s[0] = seq >>> 24;
    s[1] = (seq >>> 16) & 0xff;
    s[2] = (seq >>> 8) & 0xff;
    s[3] = seq & 0xff;
    return createHmac(this.#hash, this.#key).update(s);
  }

  verify(seq: number, data: Uint8Array, tag: Uint8Array): boolean {
    const mac = this.compute(seq, data);
    return mac.length === tag.length && timingSafeEqual(mac, tag);
  }
}

/**
 * Creates the SSH packet MAC for one direction.
 * @param hash - the HMAC hash.
 * @param key - the integrity key (letter E or F).
 *
 * @example
 * ```ts
 * const mac = createPacketMac('sha256', new Uint8Array(32)); // integrity key E or F
 * const packet = new Uint8Array([0, 0, 0, 12, 10, 2, ...new Uint8Array(10)]);
 * const tag = mac.compute(0, packet); // 32 bytes over sequence number 0 ‖ packet
 * ```
 */
export function createPacketMac(hash: HmacHash, key: Uint8Array): PacketMac {
  return new Hmac(hash, key);
}

/** How a CTR sealer or opener authenticates: which HMAC, and whether encrypt-then-MAC. */
export interface CtrMacChoice {
  readonly hash: HmacHash;
  /** True for the -etm@openssh.com MACs: length in clear, MAC over the ciphertext. */
  readonly etm: boolean;
}

/** The AES key size in bits, checked. */
function aesBits(key: Uint8Array): 128 | 192 | 256 {
  if (key.length === 16) return 128;
  if (key.length === 24) return 192;
  if (key.length === 32) return 256;
  throw new Error(`AES-CTR needs a 16-, 24- or 32-byte key, got ${key.length}`);
}

function checkIv(iv: Uint8Array): Uint8Array {
  if (iv.length < BLOCK) throw new Error(`AES-CTR needs a 16-byte IV, got ${iv.length}`);
  return iv.subarray(0, BLOCK);
}

class AesCtrSealer implements PacketSealer {
  readonly blockSize = BLOCK;
  readonly lengthExcludedFromAlignment: boolean;
  readonly macLength: number;
  readonly #cipher: Cipher;
  readonly #mac: PacketMac;

  constructor(key: Uint8Array, iv: Uint8Array, mac: CtrMacChoice, macKey: Uint8Array) {
    this.#cipher = createCipheriv(`aes-${aesBits(key)}-ctr`, key, checkIv(iv));
    this.#mac = createPacketMac(mac.hash, macKey);
    this.macLength = this.#mac.length;
    this.lengthExcludedFromAlignment = mac.etm;
  }

  sealInto(seq: number, parts: readonly Uint8Array[], out: Uint8Array, offset: number): number {
    const packetBytes = partsLength(parts);
    // The stream counter must stay block-aligned or peekLength on the far side breaks; a
    // misaligned packet here is a bug in the caller's padding.
    const encrypted = this.lengthExcludedFromAlignment ? packetBytes - 4 : packetBytes;
    if (encrypted < 0 || encrypted % BLOCK !== 0) {
      throw new Error(`AES-CTR packet of ${packetBytes} bytes is not block-aligned`);
    }
    const end = offset + packetBytes;
    const first = parts[0]!;
    let pos = offset;
    if (this.lengthExcludedFromAlignment) {
      // EtM: uint32 length in clear, the rest encrypted, MAC over seq ‖ length ‖ ciphertext.
      out.set(first.subarray(0, 4), pos);
      pos = this.#encrypt(first.subarray(4), out, pos + 4);
      for (let i = 1; i < parts.length; i++) pos = this.#encrypt(parts[i]!, out, pos);
      this.#mac.computeInto(seq, [out.subarray(offset, end)], out, end);
    } else {
      // Encrypt-and-MAC (RFC 4253 §6.4): MAC over seq ‖ plaintext, whole packet encrypted.
      this.#mac.computeInto(seq, parts, out, end);
      for (const p of parts) pos = this.#encrypt(p, out, pos);
    }
    return end + this.macLength - offset;
  }

  seal(seq: number, packet: Uint8Array): Uint8Array {
    return sealWhole(this, seq, packet);
  }

  /** Runs one piece through the stream cipher into `out`; returns the offset after it. */
  #encrypt(piece: Uint8Array, out: Uint8Array, pos: number): number {
    const c = this.#cipher.update(piece);
    out.set(c, pos);
    return pos + c.length;
  }
}

/** Adds `blocks` to a 128-bit big-endian counter in place (mod 2^128). */
function addToCounter(counter: Uint8Array, blocks: number): void {
  let carry = blocks;
  for (let i = BLOCK - 1; i >= 0 && carry !== 0; i--) {
    const sum = counter[i]! + (carry % 256);
    counter[i] = sum & 0xff;
    carry = Math.floor(carry / 256) + (sum >>> 8);
  }
}

class AesCtrOpener implements PacketOpener {
  readonly blockSize = BLOCK;
  readonly lengthExcludedFromAlignment: boolean;
  readonly macLength: number;
  readonly lengthFieldBytes: number;
  readonly #decipher: Cipher;
  readonly #mac: PacketMac;
  /** Encrypt-and-MAC only: one-block AES-ECB to peek at the length without touching #decipher. */
  readonly #ecb: Cipher | undefined;
  /** Encrypt-and-MAC only: the counter block #decipher will use next. */
  readonly #counter: Uint8Array;

  constructor(key: Uint8Array, iv: Uint8Array, mac: CtrMacChoice, macKey: Uint8Array) {
    const initial = checkIv(iv);
    // A cipher, not a decipher: CTR decryption is the same keystream XOR.
    const bits = aesBits(key);
    this.#decipher = createCipheriv(`aes-${bits}-ctr`, key, initial);
    this.#mac = createPacketMac(mac.hash, macKey);
    this.macLength = this.#mac.length;
    this.lengthExcludedFromAlignment = mac.etm;
    this.lengthFieldBytes = mac.etm ? 4 : BLOCK;
    this.#counter = initial.slice();
    if (mac.etm) {
      this.#ecb = undefined;
    } else {
      this.#ecb = createCipheriv(`aes-${bits}-ecb`, key, null);
      this.#ecb.setAutoPadding(false);
    }
  }

  peekLength(_seq: number, head: Uint8Array): number {
    if (this.#ecb === undefined) {
      return ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
    }
    // The first keystream block is AES(key, counter) (RFC 4344 §4); ECB gives it statelessly.
    const k = this.#ecb.update(this.#counter);
    return (
      (((head[0]! ^ k[0]!) << 24) |
        ((head[1]! ^ k[1]!) << 16) |
        ((head[2]! ^ k[2]!) << 8) |
        (head[3]! ^ k[3]!)) >>>
      0
    );
  }

  open(seq: number, wire: Uint8Array): Uint8Array | null {
    const end = wire.length - this.macLength;
    if (this.#ecb === undefined) {
      // EtM: verify the MAC over seq ‖ length ‖ ciphertext before decrypting anything.
      if (end < 4 || (end - 4) % BLOCK !== 0) return null;
      if (!this.#mac.verify(seq, wire.subarray(0, end), wire.subarray(end))) return null;
      return asBytes(this.#decipher.update(wire.subarray(4, end)));
    }
    // Encrypt-and-MAC: the MAC is over the plaintext, so decrypt first, then verify.
    if (end < BLOCK || end % BLOCK !== 0) return null;
    const plain = this.#decipher.update(wire.subarray(0, end));
    addToCounter(this.#counter, end / BLOCK);
    if (!this.#mac.verify(seq, plain, wire.subarray(end))) return null;
    return asBytes(plain.subarray(4));
  }
}

/**
 * Creates the AES-CTR sealer for one direction; the key size picks aes128/192/256-ctr.
 * @param key - encryption key (letter C or D).
 * @param iv - the 16-byte initial counter block (letter A or B).
 * @param mac - the negotiated HMAC and whether it is an -etm@openssh.com one.
 * @param macKey - integrity key (letter E or F).
 *
 * @example
 * ```ts
 * const [key, iv, macKey] = [new Uint8Array(16), new Uint8Array(16), new Uint8Array(32)];
 * const sealer = createAesCtrSealer(key, iv, { hash: 'sha256', etm: true }, macKey);
 * ```
 */
export function createAesCtrSealer(
  key: Uint8Array,
  iv: Uint8Array,
  mac: CtrMacChoice,
  macKey: Uint8Array,
): PacketSealer {
  return new AesCtrSealer(key, iv, mac, macKey);
}

/**
 * Creates the AES-CTR opener for one direction.
 * @param key - encryption key (letter C or D).
 * @param iv - the 16-byte initial counter block (letter A or B).
 * @param mac - the negotiated HMAC and whether it is an -etm@openssh.com one.
 * @param macKey - integrity key (letter E or F).
 *
 * @example
 * ```ts
 * const [key, iv, macKey] = [new Uint8Array(16), new Uint8Array(16), new Uint8Array(32)];
 * const mac = { hash: 'sha256', etm: false } as const;
 * const wire = createAesCtrSealer(key, iv, mac, macKey).seal(0, new Uint8Array([0, 0, 0, 12, 10, 2, ...new Uint8Array(10)]));
 * const opener = createAesCtrOpener(key, iv, mac, macKey);
 * const length = opener.peekLength(0, wire.subarray(0, opener.lengthFieldBytes)); // 12
 * ```
 */
export function createAesCtrOpener(
  key: Uint8Array,
  iv: Uint8Array,
  mac: CtrMacChoice,
  macKey: Uint8Array,
): PacketOpener {
  return new AesCtrOpener(key, iv, mac, macKey);
}
