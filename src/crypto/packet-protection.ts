/**
 * @module
 * The packet-protection registry (RFC 4253 §6): cipher and MAC facts by name, and sealers and
 * openers for the negotiated pair, including the unencrypted state before the first NEWKEYS.
 */

import { createAesCtrOpener, createAesCtrSealer, type HmacHash } from './aes-ctr.js';
import { createAesGcmOpener, createAesGcmSealer } from './aes-gcm.js';
import { putParts } from './bytes.js';
import { createChaCha20Poly1305Opener, createChaCha20Poly1305Sealer } from './chacha20-poly1305.js';
import type { CipherInfo, DirectionKeys, MacInfo, PacketOpener, PacketSealer } from './types.js';

type CipherKind = 'none' | 'chacha20-poly1305' | 'aes-gcm' | 'aes-ctr';

interface CipherEntry extends CipherInfo {
  readonly kind: CipherKind;
}

interface MacEntry extends MacInfo {
  readonly hash: HmacHash;
}

const CIPHERS: ReadonlyMap<string, CipherEntry> = new Map(
  (
    [
      // PROTOCOL.chacha20poly1305: two 256-bit keys, no IV, 8-byte alignment.
      ['chacha20-poly1305@openssh.com', 64, 0, 8, true, 'chacha20-poly1305'],
      // RFC 5647 §7.1: 12-byte IV (fixed field ‖ invocation counter).
      ['aes128-gcm@openssh.com', 16, 12, 16, true, 'aes-gcm'],
      ['aes256-gcm@openssh.com', 32, 12, 16, true, 'aes-gcm'],
      // RFC 4344 §4: the IV is the initial 128-bit counter block.
      ['aes128-ctr', 16, 16, 16, false, 'aes-ctr'],
      ['aes192-ctr', 24, 16, 16, false, 'aes-ctr'],
      ['aes256-ctr', 32, 16, 16, false, 'aes-ctr'],
      // RFC 4253 §6: before the first NEWKEYS; block size 8.
      ['none', 0, 0, 8, false, 'none'],
    ] as const
  ).map(([name, keyLength, ivLength, blockSize, aead, kind]) => [
    name,
    { name, keyLength, ivLength, blockSize, aead, kind },
  ]),
);

const MACS: ReadonlyMap<string, MacEntry> = new Map(
  (
    [
      // RFC 6668 §2; the -etm@openssh.com variants from OpenSSH PROTOCOL
      // ("Encrypt-then-MAC MAC algorithms").
      ['hmac-sha2-256', 'sha256', 32, false],
      ['hmac-sha2-512', 'sha512', 64, false],
      ['hmac-sha2-256-etm@openssh.com', 'sha256', 32, true],
      ['hmac-sha2-512-etm@openssh.com', 'sha512', 64, true],
      // RFC 4253 §6.4; only when enabled explicitly.
      ['hmac-sha1', 'sha1', 20, false],
      ['hmac-sha1-etm@openssh.com', 'sha1', 20, true],
    ] as const
  ).map(([name, hash, length, etm]) => [
    name,
    { name, hash, keyLength: length, digestLength: length, etm },
  ]),
);

function publicCipherInfo(entry: CipherEntry): CipherInfo {
  const { name, keyLength, ivLength, blockSize, aead } = entry;
  return { name, keyLength, ivLength, blockSize, aead };
}

/**
 * Facts about a cipher by its SSH name, or `undefined` when this library does not implement it.
 *
 * @example
 * ```ts
 * cipherInfo('aes128-gcm@openssh.com'); // { keyLength: 16, ivLength: 12, blockSize: 16, aead: true, … }
 * ```
 */
export function cipherInfo(name: string): CipherInfo | undefined {
  const entry = CIPHERS.get(name);
  return entry === undefined ? undefined : publicCipherInfo(entry);
}

/**
 * Facts about a MAC by its SSH name, or `undefined` when this library does not implement it.
 *
 * @example
 * ```ts
 * macInfo('hmac-sha2-256-etm@openssh.com'); // { keyLength: 32, digestLength: 32, etm: true, … }
 * ```
 */
export function macInfo(name: string): MacInfo | undefined {
  const entry = MACS.get(name);
  if (entry === undefined) return undefined;
  const { keyLength, digestLength, etm } = entry;
  return { name: entry.name, keyLength, digestLength, etm };
}

function lookup(cipher: string, mac: string | undefined): [CipherEntry, MacEntry | undefined] {
  const c = CIPHERS.get(cipher);
  if (c === undefined) throw new Error(`unknown cipher ${cipher}`);
  if (c.aead) return [c, undefined];
  if (c.kind === 'none') {
    if (mac !== undefined && mac !== 'none') throw new Error(`cipher none with MAC ${mac}`);
    return [c, undefined];
  }
  const m = mac === undefined ? undefined : MACS.get(mac);
  if (m === undefined) throw new Error(`unknown MAC ${mac ?? '(none)'} for cipher ${cipher}`);
  return [c, m];
}

/**
 * Creates the sealer for one direction after NEWKEYS.
 * @param cipher - the negotiated cipher name.
 * @param mac - the negotiated MAC name; ignored for AEAD ciphers.
 * @param keys - this direction's keys (RFC 4253 §7.2).
 * @throws Error for a name {@link cipherInfo} / {@link macInfo} does not know (a bug: names are
 *   negotiated from the supported lists).
 *
 * @example
 * ```ts
 * const keys = { key: new Uint8Array(16), iv: new Uint8Array(16), macKey: new Uint8Array(32) };
 * const sealer = createSealer('aes128-ctr', 'hmac-sha2-256-etm@openssh.com', keys);
 * // packet_length 16 ‖ padding_length 14 ‖ payload (one byte: SSH_MSG_IGNORE) ‖ padding
 * const packet = new Uint8Array([0, 0, 0, 16, 14, 2, ...new Uint8Array(14)]);
 * const wire = sealer.seal(0, packet); // 20 bytes, then the 32-byte MAC
 * ```
 */
export function createSealer(
  cipher: string,
  mac: string | undefined,
  keys: DirectionKeys,
): PacketSealer {
  const [c, m] = lookup(cipher, mac);
  switch (c.kind) {
    case 'none':
      return createNoneSealer();
    case 'chacha20-poly1305':
      return createChaCha20Poly1305Sealer(keys.key);
    case 'aes-gcm':
      return createAesGcmSealer(keys.key, keys.iv);
    case 'aes-ctr':
      return createAesCtrSealer(keys.key, keys.iv, m!, keys.macKey);
  }
}

/**
 * Creates the opener for one direction after NEWKEYS.
 * @param cipher - the negotiated cipher name.
 * @param mac - the negotiated MAC name; ignored for AEAD ciphers.
 * @param keys - this direction's keys (RFC 4253 §7.2).
 * @throws Error for an unknown name (a bug, as for {@link createSealer}).
 *
 * @example
 * ```ts
 * const keys = { key: new Uint8Array(64), iv: new Uint8Array(0), macKey: new Uint8Array(0) };
 * const packet = new Uint8Array([0, 0, 0, 8, 6, 2, 0, 0, 0, 0, 0, 0]);
 * const input = createSealer('chacha20-poly1305@openssh.com', undefined, keys).seal(0, packet);
 * const opener = createOpener('chacha20-poly1305@openssh.com', undefined, keys);
 * const length = opener.peekLength(0, input.subarray(0, opener.lengthFieldBytes)); // 8
 * const plain = opener.open(0, input.subarray(0, 4 + length + opener.macLength)); // or null
 * ```
 */
export function createOpener(
  cipher: string,
  mac: string | undefined,
  keys: DirectionKeys,
): PacketOpener {
  const [c, m] = lookup(cipher, mac);
  switch (c.kind) {
    case 'none':
      return createNoneOpener();
    case 'chacha20-poly1305':
      return createChaCha20Poly1305Opener(keys.key);
    case 'aes-gcm':
      return createAesGcmOpener(keys.key, keys.iv);
    case 'aes-ctr':
      return createAesCtrOpener(keys.key, keys.iv, m!, keys.macKey);
  }
}

/** RFC 4253 §6: before keys are in use the packet goes as is, aligned to 8 with its length. */
const NONE_FRAMING = { blockSize: 8, lengthExcludedFromAlignment: false, macLength: 0 } as const;

/**
 * The sealer of the unencrypted initial state: returns a copy of the packet.
 *
 * @example
 * ```ts
 * const packet = new Uint8Array([0, 0, 0, 12, 10, 2, ...new Uint8Array(10)]);
 * const wire = createNoneSealer().seal(0, packet); // a copy: nothing to encrypt yet
 * ```
 */
export function createNoneSealer(): PacketSealer {
  return NONE_SEALER;
}

/** Stateless, so one object serves every session (made once: not per session). */
const NONE_SEALER: PacketSealer = Object.freeze({
  ...NONE_FRAMING,
  sealInto: (_seq: number, parts: readonly Uint8Array[], out: Uint8Array, offset: number) =>
    putParts(parts, out, offset) - offset,
  seal: (_seq: number, packet: Uint8Array) => packet.slice(),
});

/**
 * The opener of the unencrypted initial state: reads the clear length, returns a copy of
 * everything after it.
 *
 * @example
 * ```ts
 * const input = new Uint8Array([0, 0, 0, 12, 10, 2, ...new Uint8Array(10)]);
 * const opener = createNoneOpener();
 * const length = opener.peekLength(0, input); // 12
 * const plain = opener.open(0, input.subarray(0, 4 + length)); // padding_length ‖ payload ‖ padding
 * ```
 */
export function createNoneOpener(): PacketOpener {
  return NONE_OPENER;
}

const NONE_OPENER: PacketOpener = Object.freeze({
  ...NONE_FRAMING,
  lengthFieldBytes: 4,
  peekLength: (_seq: number, head: Uint8Array) =>
    ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0,
  open: (_seq: number, wire: Uint8Array) => (wire.length < 4 ? null : wire.slice(4)),
});
