import { createCipheriv, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { chacha20orig } from '@noble/ciphers/chacha.js';
import { describe, expect, it } from 'vitest';
import { createPacketMac } from '../../src/crypto/aes-ctr.js';
import { type GcmAlgorithm, gcmOpen, gcmSealInto } from '../../src/crypto/aes-gcm.js';
import {
  createChaCha20Poly1305Opener,
  createChaCha20Poly1305Sealer,
} from '../../src/crypto/chacha20-poly1305.js';
import { createOpener, createSealer } from '../../src/crypto/packet-protection.js';
import {
  type ChaChaPolyProvider,
  portableChaChaPoly,
  sodiumChaChaPoly,
} from '../../src/crypto/poly1305.js';
import { buildPacket, bytes, hex, keysFor, seeded, toHex } from './packet-helpers.js';

interface WycheproofFile<T> {
  testGroups: { keySize: number; tagSize: number; ivSize?: number; tests: T[] }[];
}
interface AeadTest {
  tcId: number;
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface MacTest {
  tcId: number;
  key: string;
  msg: string;
  tag: string;
  result: 'valid' | 'invalid' | 'acceptable';
}

function vectors<T>(file: string): WycheproofFile<T> {
  const url = new URL(`../vectors/wycheproof/${file}`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as WycheproofFile<T>;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

// INTEROP.md, from draft-ietf-sshm-chacha20-poly1305 Appendix A: a whole packet at sequence 7.
const KAT = {
  key: hex(
    '8bbff6855fc102338c373e73aac0c914f076a905b2444a32eecaffeae22becc5' +
      'e9b7a7a5825a8249346ec1c28301cf394543fc7569887d76e168f37562ac0740',
  ),
  seq: 7,
  packet: hex(
    '00000048065e00000000000000384c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f' +
      '6e7365637465747572206164697069736963696e6720656c69744e43e804dc6c',
  ),
  wire:
    '2c3ecce4a5bc05895bf07a7ba956b6c68829ac7c83b780b7000ecde745afc705bbc378ce03a280236b87b53bed' +
    '5839662302b164b6286a48cd1e097138e3cb909b8b2b829dd18d2a35ff82d995349e855bf02c298ef775f2d1a7' +
    'e8b8',
};

const sodium = sodiumChaChaPoly();
const providers: [string, ChaChaPolyProvider | undefined][] = [
  ['libsodium', sodium],
  ['portable', portableChaChaPoly],
];

// sodium-native ships prebuilt for this platform and must load here: a silent fallback would
// leave the fast path untested.
it('loads the sodium-native provider on this machine', () => {
  expect(sodium).toBeDefined();
});

describe.each(providers)('chacha20-poly1305@openssh.com on the %s path', (_name, maybe) => {
  const provider = maybe ?? portableChaChaPoly;
  it('seals the known-answer packet to the expected wire', () => {
    const wire = createChaCha20Poly1305Sealer(KAT.key, provider).seal(KAT.seq, KAT.packet.slice());
    expect(toHex(wire)).toBe(KAT.wire);
  });

  it('opens the known-answer wire to the plaintext', () => {
    const opener = createChaCha20Poly1305Opener(KAT.key, provider);
    const wire = hex(KAT.wire);
    expect(opener.peekLength(KAT.seq, wire.subarray(0, 4))).toBe(0x48);
    expect(toHex(opener.open(KAT.seq, wire)!)).toBe(toHex(KAT.packet.subarray(4)));
    expect(opener.open(KAT.seq + 1, wire)).toBeNull();
  });

  it('matches an independent reference built from @noble/ciphers', () => {
    const rand = seeded(30);
    const sealer = createChaCha20Poly1305Sealer(KAT.key, provider);
    const main = KAT.key.subarray(0, 32);
    const lengthKey = KAT.key.subarray(32);
    for (const [seq, n] of [
      [0, 0],
      [1, 100],
      [0xffffffff, 5000],
    ] as const) {
      const packet = buildPacket(bytes(rand, n), sealer, rand);
      const nonce = concat(new Uint8Array(4), u32(seq));
      const encLength = chacha20orig(lengthKey, nonce, packet.subarray(0, 4));
      const polyKey = chacha20orig(main, nonce, new Uint8Array(32));
      const encBody = chacha20orig(main, nonce, packet.subarray(4), undefined, 1);
      const body = concat(encLength, encBody);
      const expected = concat(body, poly1305(body, polyKey));
      expect(toHex(sealer.seal(seq, packet.slice()))).toBe(toHex(expected));
    }
  });
});

it('loads libsodium through sodium-native where it is installed', () => {
  // sodium-native is an optional dependency with prebuilds for this platform.
  expect(sodium?.name).toBe('sodium-native');
});

describe('AES-GCM against node:crypto and Wycheproof', () => {
  it.each([
    ['aes128-gcm@openssh.com', 'aes-128-gcm'],
    ['aes256-gcm@openssh.com', 'aes-256-gcm'],
  ] as const)('%s seals as GCM with IV fixed ‖ counter and the length as AAD', (name, algo) => {
    const rand = seeded(31);
    const keys = keysFor(name, undefined, rand);
    // Start the invocation counter two below 2^64 to see it wrap without touching the fixed part.
    const iv = Uint8Array.from(keys.iv);
    iv.fill(0xff, 4);
    iv[11] = 0xfe;
    const sealer = createSealer(name, undefined, { ...keys, iv });
    const expectedIvs = [
      toHex(iv),
      toHex(iv.subarray(0, 4)) + 'ffffffffffffffff',
      toHex(iv.subarray(0, 4)) + '0000000000000000',
      toHex(iv.subarray(0, 4)) + '0000000000000001',
    ];
    for (const [i, ivHex] of expectedIvs.entries()) {
      const packet = buildPacket(bytes(rand, 50 + i), sealer, rand);
      const c = createCipheriv(algo, keys.key, hex(ivHex));
      c.setAAD(packet.subarray(0, 4));
      const ct = concat(c.update(packet.subarray(4)), c.final());
      const expected = concat(packet.subarray(0, 4), ct, c.getAuthTag());
      expect(toHex(sealer.seal(1000 + i, packet.slice()))).toBe(toHex(expected));
    }
  });

  it('opens what node:crypto sealed and counts packets independently of seq', () => {
    const rand = seeded(32);
    const keys = keysFor('aes128-gcm@openssh.com', undefined, rand);
    const opener = createOpener('aes128-gcm@openssh.com', undefined, keys);
    const iv = Uint8Array.from(keys.iv);
    for (let i = 0; i < 3; i++) {
      const packet = buildPacket(bytes(rand, 30), opener, rand);
      const c = createCipheriv('aes-128-gcm', keys.key, iv);
      c.setAAD(packet.subarray(0, 4));
      const wire = concat(packet.subarray(0, 4), c.update(packet.subarray(4)), c.final());
      const full = concat(wire, c.getAuthTag());
      expect(opener.open(99, full)).toEqual(packet.subarray(4));
      iv[11]!++;
    }
  });

  const gcm = vectors<AeadTest>('aes_gcm_test.json');
  // The SSH layouts: 96-bit nonce, 128-bit tag, AES-128 or AES-256 (the file is trimmed to
  // these; the filter keeps the test right if the full file is dropped in).
  const cases = gcm.testGroups
    .filter((g) => g.ivSize === 96 && g.tagSize === 128 && (g.keySize === 128 || g.keySize === 256))
    .flatMap((g) => g.tests.map((t) => [t.tcId, g.keySize, t] as const));
  it.each(cases)('Wycheproof tcId %i (AES-%i) gives the listed result', (_id, keySize, t) => {
    const algo: GcmAlgorithm = keySize === 128 ? 'aes-128-gcm' : 'aes-256-gcm';
    const plain = gcmOpen(algo, hex(t.key), hex(t.iv), hex(t.aad), hex(t.ct), hex(t.tag));
    if (t.result === 'valid') {
      expect(toHex(plain!)).toBe(t.msg);
      const out = new Uint8Array(t.ct.length / 2 + 16);
      gcmSealInto(algo, hex(t.key), hex(t.iv), hex(t.aad), hex(t.msg), out, 0);
      expect(toHex(out)).toBe(t.ct + t.tag);
    } else {
      expect(plain).toBeNull();
    }
  });
});

describe('HMAC against Wycheproof and node:crypto', () => {
  for (const [file, hash] of [
    ['hmac_sha256_test.json', 'sha256'],
    ['hmac_sha512_test.json', 'sha512'],
  ] as const) {
    const data = vectors<MacTest>(file);
    // The SSH MAC prepends uint32 seq: take it from the first four message bytes.
    const full = hash === 'sha256' ? 256 : 512;
    const cases = data.testGroups
      .filter((g) => g.tagSize === full)
      .flatMap((g) => g.tests.filter((t) => t.msg.length >= 8).map((t) => [t.tcId, t] as const));
    it.each(cases)(`${file} tcId %i gives the listed result`, (_id, t) => {
      const msg = hex(t.msg);
      const seq = new DataView(msg.buffer).getUint32(0);
      const mac = createPacketMac(hash, hex(t.key));
      const ok = mac.verify(seq, msg.subarray(4), hex(t.tag));
      expect(ok).toBe(t.result === 'valid');
      if (t.result === 'valid') expect(toHex(mac.compute(seq, msg.subarray(4)))).toBe(t.tag);
    });
  }
});

describe('AES-CTR with HMAC against node:crypto', () => {
  const combos = [
    ['aes128-ctr', 'hmac-sha2-256', 'aes-128-ctr', 'sha256', false],
    ['aes192-ctr', 'hmac-sha2-512-etm@openssh.com', 'aes-192-ctr', 'sha512', true],
    ['aes256-ctr', 'hmac-sha2-256-etm@openssh.com', 'aes-256-ctr', 'sha256', true],
    ['aes256-ctr', 'hmac-sha1', 'aes-256-ctr', 'sha1', false],
  ] as const;

  it.each(combos)(
    '%s + %s equals one CTR stream and an HMAC per packet',
    (c, m, algo, hash, etm) => {
      const rand = seeded(33);
      const keys = keysFor(c, m, rand);
      // The counter starts three blocks below 2^128 so the stream wraps inside the test.
      const iv = new Uint8Array(16).fill(0xff);
      iv[15] = 0xfd;
      const sealer = createSealer(c, m, { ...keys, iv });
      const opener = createOpener(c, m, { ...keys, iv });
      const stream = createCipheriv(algo, keys.key, iv);
      for (let seq = 0; seq < 5; seq++) {
        const packet = buildPacket(bytes(rand, 20 * seq), sealer, rand);
        let expected: Uint8Array;
        if (etm) {
          const body = concat(packet.subarray(0, 4), stream.update(packet.subarray(4)));
          const tag = createHmac(hash, keys.macKey).update(u32(seq)).update(body).digest();
          expected = concat(body, tag);
        } else {
          const tag = createHmac(hash, keys.macKey).update(u32(seq)).update(packet).digest();
          expected = concat(stream.update(packet), tag);
        }
        const wire = sealer.seal(seq, packet.slice());
        expect(toHex(wire)).toBe(toHex(expected));
        expect(opener.peekLength(seq, wire.subarray(0, opener.lengthFieldBytes))).toBe(
          packet.length - 4,
        );
        expect(opener.open(seq, wire)).toEqual(packet.subarray(4));
      }
    },
  );
});
