/**
 * The physical reference: the same sealing and opening the protocol does per packet, one
 * thread doing both, with no protocol around it. Per cipher and packet size it reports
 * payload MiB/s; the bulk tables divide by it ("ratio to the floor").
 *
 * - aes-128-gcm: node:crypto, a new cipher object per packet (the IV changes per packet),
 *   4-byte length as AAD, 16-byte tag.
 * - chacha20-poly1305@openssh.com: sodium-native, as our default provider: the length with
 *   K_1, the Poly1305 key from block 0 and the payload from block 1 with K_2, then the tag.
 * - aes-128-ctr + hmac-sha256: one streaming cipher per direction, a new Hmac per packet over
 *   `uint32 seq ‖ data` (the cost is the same for EtM and encrypt-and-MAC).
 */

import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { createRequire } from 'node:module';
import { Poly1305 } from '@noble/ciphers/_poly1305.js';
import { MiB, median } from './lib.js';

interface Sodium {
  crypto_stream_chacha20_xor_ic(
    c: Uint8Array,
    m: Uint8Array,
    n: Uint8Array,
    ic: number,
    k: Uint8Array,
  ): void;
  crypto_onetimeauth(out: Uint8Array, input: Uint8Array, k: Uint8Array): void;
}

const sodium = createRequire(import.meta.url)('sodium-native') as Sodium;

/** Seals and opens one packet of `payload` bytes; returns nothing (the result is checked). */
type RoundTrip = (seq: number) => void;

export type FloorId =
  | 'aes-128-gcm'
  | 'chacha20-poly1305 (sodium-native)'
  | 'aes-128-ctr + hmac-sha256';
export const FLOOR_IDS: readonly FloorId[] = [
  'aes-128-gcm',
  'chacha20-poly1305 (sodium-native)',
  'aes-128-ctr + hmac-sha256',
];

function gcm(size: number): RoundTrip {
  const key = randomBytes(16);
  const iv = randomBytes(12);
  const plain = randomBytes(size);
  const aad = Buffer.alloc(4);
  aad.writeUInt32BE(size);
  return (seq) => {
    iv.writeUInt32BE(seq, 8);
    const c = createCipheriv('aes-128-gcm', key, iv, { authTagLength: 16 });
    c.setAAD(aad);
    const ct = c.update(plain);
    c.final();
    const tag = c.getAuthTag();
    const d = createDecipheriv('aes-128-gcm', key, iv, { authTagLength: 16 });
    d.setAuthTag(tag);
    d.setAAD(aad);
    const pt = d.update(ct);
    d.final();
    if (pt.length !== size) throw new Error('gcm round trip');
  };
}

function chacha(size: number): RoundTrip {
  const kMain = randomBytes(32);
  const kLen = randomBytes(32);
  const nonce = Buffer.alloc(8);
  const zero32 = new Uint8Array(32);
  const polyKey = new Uint8Array(32);
  const tag = new Uint8Array(16);
  const plain = randomBytes(size + 4);
  return (seq) => {
    nonce.writeUInt32BE(seq, 4);
    // seal
    const out = Buffer.allocUnsafe(size + 4 + 16);
    sodium.crypto_stream_chacha20_xor_ic(out.subarray(0, 4), plain.subarray(0, 4), nonce, 0, kLen);
    sodium.crypto_stream_chacha20_xor_ic(polyKey, zero32, nonce, 0, kMain);
    sodium.crypto_stream_chacha20_xor_ic(
      out.subarray(4, 4 + size),
      plain.subarray(4),
      nonce,
      1,
      kMain,
    );
    sodium.crypto_onetimeauth(out.subarray(4 + size), out.subarray(0, 4 + size), polyKey);
    // open
    const len = new Uint8Array(4);
    sodium.crypto_stream_chacha20_xor_ic(len, out.subarray(0, 4), nonce, 0, kLen);
    sodium.crypto_stream_chacha20_xor_ic(polyKey, zero32, nonce, 0, kMain);
    sodium.crypto_onetimeauth(tag, out.subarray(0, 4 + size), polyKey);
    if (!timingSafeEqual(tag, out.subarray(4 + size))) throw new Error('chacha tag');
    const pt = Buffer.allocUnsafe(size);
    sodium.crypto_stream_chacha20_xor_ic(pt, out.subarray(4, 4 + size), nonce, 1, kMain);
  };
}

/**
 * aes-128-gcm as above plus the one copy node's API forces on a sender: `update()` returns a
 * fresh buffer, and the SSH packet (length, ciphertext, tag) must be contiguous in the buffer
 * handed to `send`, so the ciphertext is written into a fresh send buffer (2 MiB at a time, as
 * a window's batch is). Opened from there. For reference: what any node:crypto SSH can reach.
 */
function gcmForcedCopy(size: number): RoundTrip {
  const key = randomBytes(16);
  const iv = randomBytes(12);
  const plain = randomBytes(size);
  const aad = Buffer.alloc(4);
  aad.writeUInt32BE(size);
  const step = 4 + size + 16;
  const perBuffer = Math.max(1, Math.floor((2 * MiB) / step));
  let wire = Buffer.allocUnsafe(step * perBuffer);
  let at = 0;
  return (seq) => {
    if (at + step > wire.length) {
      wire = Buffer.allocUnsafe(step * perBuffer);
      at = 0;
    }
    iv.writeUInt32BE(seq, 8);
    const c = createCipheriv('aes-128-gcm', key, iv, { authTagLength: 16 });
    c.setAAD(aad);
    wire.set(aad, at);
    wire.set(c.update(plain), at + 4);
    c.final();
    wire.set(c.getAuthTag(), at + 4 + size);
    const d = createDecipheriv('aes-128-gcm', key, iv, { authTagLength: 16 });
    d.setAuthTag(wire.subarray(at + 4 + size, at + step));
    d.setAAD(wire.subarray(at, at + 4));
    const pt = d.update(wire.subarray(at + 4, at + 4 + size));
    d.final();
    at += step;
    if (pt.length !== size) throw new Error('gcm round trip');
  };
}

/** The portable path (node chacha20 + @noble Poly1305), for reference. */
function chachaPortable(size: number): RoundTrip {
  const kMain = randomBytes(32);
  const plain = randomBytes(size + 4);
  const iv = Buffer.alloc(16);
  const zero32 = new Uint8Array(32);
  return (seq) => {
    iv.writeUInt32BE(seq, 12);
    iv[0] = 0;
    const polyKey = createCipheriv('chacha20', kMain, iv).update(zero32);
    iv[0] = 1;
    const ct = createCipheriv('chacha20', kMain, iv).update(plain);
    const tag = new Poly1305(polyKey).update(ct).digest();
    iv[0] = 0;
    const polyKey2 = createCipheriv('chacha20', kMain, iv).update(zero32);
    const tag2 = new Poly1305(polyKey2).update(ct).digest();
    if (!timingSafeEqual(tag, tag2)) throw new Error('portable tag');
    iv[0] = 1;
    createCipheriv('chacha20', kMain, iv).update(ct);
  };
}

function ctrHmac(size: number): RoundTrip {
  const key = randomBytes(16);
  const iv = randomBytes(16);
  const macKey = randomBytes(32);
  const enc = createCipheriv('aes-128-ctr', key, iv);
  const dec = createDecipheriv('aes-128-ctr', key, iv);
  const plain = randomBytes(size + 4);
  const seqBuf = Buffer.alloc(4);
  return (seq) => {
    seqBuf.writeUInt32BE(seq);
    const ct = enc.update(plain);
    const mac = createHmac('sha256', macKey).update(seqBuf).update(ct).digest();
    const mac2 = createHmac('sha256', macKey).update(seqBuf).update(ct).digest();
    if (!timingSafeEqual(mac, mac2)) throw new Error('hmac');
    dec.update(ct);
  };
}

const GCM_FORCED = 'aes-128-gcm + the copy into the send buffer (reference)';

const MAKERS: Record<
  FloorId | typeof GCM_FORCED | 'chacha20-poly1305 (portable: node + @noble)',
  (n: number) => RoundTrip
> = {
  'aes-128-gcm': gcm,
  [GCM_FORCED]: gcmForcedCopy,
  'chacha20-poly1305 (sodium-native)': chacha,
  'chacha20-poly1305 (portable: node + @noble)': chachaPortable,
  'aes-128-ctr + hmac-sha256': ctrHmac,
};

export interface FloorResult {
  readonly id: string;
  readonly packet: number;
  readonly mibps: number;
  readonly runs: readonly number[];
}

/** Measures every floor at each packet size: `repeats` runs of `mib` MiB each, median. */
export function measureFloors(
  sizes: readonly number[],
  mib: number,
  repeats: number,
  includePortable = true,
): FloorResult[] {
  const out: FloorResult[] = [];
  for (const [id, make] of Object.entries(MAKERS)) {
    if (!includePortable && (id.includes('portable') || id.includes('reference'))) continue;
    for (const size of sizes) {
      const rt = make(size);
      const portable = id.includes('portable');
      const bytes = (portable ? Math.min(mib, 16) : mib) * MiB;
      const packets = Math.max(1, Math.floor(bytes / size));
      for (let i = 0; i < Math.min(200, packets); i++) rt(i); // warm-up
      const runs: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const t0 = performance.now();
        for (let i = 0; i < packets; i++) rt(i);
        const s = (performance.now() - t0) / 1000;
        runs.push((packets * size) / MiB / s);
      }
      out.push({ id, packet: size, mibps: median(runs), runs });
    }
  }
  return out;
}

/** The floor id for a cipher under test. */
export function floorFor(cipher: string): FloorId {
  if (cipher.startsWith('aes128-gcm')) return 'aes-128-gcm';
  if (cipher.startsWith('chacha20')) return 'chacha20-poly1305 (sodium-native)';
  return 'aes-128-ctr + hmac-sha256';
}

if (process.argv[1]?.endsWith('floor.ts')) {
  for (const r of measureFloors([32 * 1024, 256 * 1024], 128, 3)) {
    console.log(`${r.id.padEnd(44)} ${String(r.packet).padStart(7)}  ${r.mibps.toFixed(0)} MiB/s`);
  }
}
