import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MACS, SUPPORTED_CIPHERS, SUPPORTED_MACS } from '../../src/crypto/algorithms.js';
import {
  cipherInfo,
  createNoneOpener,
  createNoneSealer,
  createOpener,
  createSealer,
  macInfo,
} from '../../src/crypto/packet-protection.js';
import { forcePortableChaChaPoly } from '../../src/crypto/poly1305.js';
import { buildPacket, bytes, keysFor, seeded, toHex } from './packet-helpers.js';

const CTR_MACS = [...SUPPORTED_MACS];

/** Every cipher × MAC pair: AEAD ciphers once, CTR ciphers with each HMAC. */
const COMBOS: [string, string | undefined][] = SUPPORTED_CIPHERS.flatMap((c) =>
  cipherInfo(c)!.aead
    ? [[c, undefined] as [string, string | undefined]]
    : CTR_MACS.map((m) => [c, m] as [string, string | undefined]),
);

function label(cipher: string, mac: string | undefined): string {
  return mac === undefined ? cipher : `${cipher} + ${mac}`;
}

function readLength(packet: Uint8Array): number {
  return new DataView(packet.buffer, packet.byteOffset).getUint32(0);
}

describe('the registry', () => {
  it('describes every supported cipher with the sizes its RFC gives', () => {
    expect(SUPPORTED_CIPHERS.map((c) => cipherInfo(c))).toEqual([
      {
        name: 'chacha20-poly1305@openssh.com',
        keyLength: 64,
        ivLength: 0,
        blockSize: 8,
        aead: true,
      },
      { name: 'aes128-gcm@openssh.com', keyLength: 16, ivLength: 12, blockSize: 16, aead: true },
      { name: 'aes256-gcm@openssh.com', keyLength: 32, ivLength: 12, blockSize: 16, aead: true },
      { name: 'aes128-ctr', keyLength: 16, ivLength: 16, blockSize: 16, aead: false },
      { name: 'aes192-ctr', keyLength: 24, ivLength: 16, blockSize: 16, aead: false },
      { name: 'aes256-ctr', keyLength: 32, ivLength: 16, blockSize: 16, aead: false },
    ]);
    expect(cipherInfo('none')).toEqual({
      name: 'none',
      keyLength: 0,
      ivLength: 0,
      blockSize: 8,
      aead: false,
    });
  });

  it('describes every supported MAC and the explicitly enabled SHA-1 ones', () => {
    expect(CTR_MACS.map((m) => macInfo(m))).toEqual([
      { name: 'hmac-sha2-256-etm@openssh.com', keyLength: 32, digestLength: 32, etm: true },
      { name: 'hmac-sha2-512-etm@openssh.com', keyLength: 64, digestLength: 64, etm: true },
      { name: 'hmac-sha2-256', keyLength: 32, digestLength: 32, etm: false },
      { name: 'hmac-sha2-512', keyLength: 64, digestLength: 64, etm: false },
      { name: 'hmac-sha1-etm@openssh.com', keyLength: 20, digestLength: 20, etm: true },
      { name: 'hmac-sha1', keyLength: 20, digestLength: 20, etm: false },
    ]);
    expect(DEFAULT_MACS).not.toContain('hmac-sha1');
  });

  it('knows nothing of algorithms it does not implement', () => {
    expect(cipherInfo('aes128-cbc')).toBeUndefined();
    expect(cipherInfo('3des-cbc')).toBeUndefined();
    expect(macInfo('hmac-md5')).toBeUndefined();
    expect(macInfo('umac-64@openssh.com')).toBeUndefined();
  });

  it('throws for an unknown cipher or a CTR cipher without a known MAC', () => {
    const keys = { key: new Uint8Array(16), iv: new Uint8Array(16), macKey: new Uint8Array(32) };
    expect(() => createSealer('aes128-cbc', 'hmac-sha2-256', keys)).toThrow(/unknown cipher/);
    expect(() => createOpener('aes128-ctr', 'hmac-md5', keys)).toThrow(/unknown MAC/);
    expect(() => createOpener('aes128-ctr', undefined, keys)).toThrow(/unknown MAC/);
  });

  it('throws for keys of the wrong size', () => {
    const keys = { key: new Uint8Array(20), iv: new Uint8Array(16), macKey: new Uint8Array(32) };
    expect(() => createSealer('aes128-ctr', 'hmac-sha2-256', keys)).toThrow(/key/);
    expect(() => createOpener('aes128-gcm@openssh.com', undefined, keys)).toThrow(/key/);
    expect(() => createOpener('chacha20-poly1305@openssh.com', undefined, keys)).toThrow(/key/);
  });

  it('ignores the MAC for AEAD ciphers', () => {
    const keys = keysFor('aes128-gcm@openssh.com', undefined, seeded(1));
    const sealer = createSealer('aes128-gcm@openssh.com', 'hmac-sha2-512', keys);
    expect(sealer.macLength).toBe(16);
  });

  it.each(COMBOS)('gives the framing the RFCs require (%s, %s)', (cipher, mac) => {
    const keys = keysFor(cipher, mac, seeded(2));
    const sealer = createSealer(cipher, mac, keys);
    const opener = createOpener(cipher, mac, keys);
    const info = cipherInfo(cipher)!;
    const etm = mac !== undefined && macInfo(mac)!.etm;
    const ctrEncryptAndMac = !info.aead && !etm;
    for (const f of [sealer, opener]) {
      expect(f.blockSize).toBe(info.blockSize);
      expect(f.lengthExcludedFromAlignment).toBe(!ctrEncryptAndMac);
      expect(f.macLength).toBe(info.aead ? 16 : macInfo(mac!)!.digestLength);
    }
    expect(opener.lengthFieldBytes).toBe(ctrEncryptAndMac ? 16 : 4);
  });
});

describe('the unencrypted initial state', () => {
  it('frames with block size 8, the length counted, no MAC', () => {
    const sealer = createNoneSealer();
    const opener = createNoneOpener();
    for (const f of [sealer, opener]) {
      expect(f).toMatchObject({ blockSize: 8, lengthExcludedFromAlignment: false, macLength: 0 });
    }
    expect(opener.lengthFieldBytes).toBe(4);
  });

  it('sends the packet unchanged, in a buffer of its own', () => {
    const packet = buildPacket(new Uint8Array([20, 1, 2, 3]), createNoneSealer(), seeded(3));
    const wire = createNoneSealer().seal(0, packet);
    expect(wire).toEqual(packet);
    packet[5] = 99;
    expect(wire[5]).toBe(20);
  });

  it('returns a copy of everything after the length, never a view of the input', () => {
    const packet = buildPacket(new Uint8Array([21]), createNoneSealer(), seeded(4));
    const opener = createNoneOpener();
    expect(opener.peekLength(0, packet)).toBe(packet.length - 4);
    const plain = opener.open(0, packet)!;
    expect(plain).toEqual(packet.subarray(4));
    expect(plain.buffer).not.toBe(packet.buffer);
    packet[5] = 0;
    expect(plain[1]).toBe(21);
  });

  it('is reachable through the registry as cipher none', () => {
    const keys = { key: new Uint8Array(0), iv: new Uint8Array(0), macKey: new Uint8Array(0) };
    expect(createSealer('none', undefined, keys).macLength).toBe(0);
    expect(createOpener('none', undefined, keys).lengthFieldBytes).toBe(4);
  });
});

describe.each(COMBOS)('%s with MAC %s', (cipher, mac) => {
  const name = label(cipher, mac);

  it('round-trips packets with increasing (and wrapping) sequence numbers', () => {
    const rand = seeded(10);
    const keys = keysFor(cipher, mac, rand);
    const sealer = createSealer(cipher, mac, keys);
    const opener = createOpener(cipher, mac, keys);
    const sizes = [0, 1, 15, 16, 17, 100, 255, 1000, 32768, 35000];
    for (let i = 0; i < 10; i++) sizes.push(Math.floor(rand() * 2000));
    const first = 0xfffffff9;
    const packets = sizes.map((n, i) => buildPacket(bytes(rand, n), sealer, rand, i % 3));
    // Seal everything, then read it back as one stream the way the transport does.
    const wires = packets.map((p, i) => sealer.seal((first + i) >>> 0, p.slice()));
    const stream = new Uint8Array(3 + wires.reduce((n, w) => n + w.length, 0));
    let pos = 3; // a non-zero byteOffset for every view
    for (const w of wires) {
      stream.set(w, pos);
      pos += w.length;
    }
    pos = 3;
    packets.forEach((packet, i) => {
      const seq = (first + i) >>> 0;
      expect(wires[i]!.length, name).toBe(packet.length + sealer.macLength);
      const head = stream.subarray(pos, pos + opener.lengthFieldBytes);
      expect(opener.peekLength(seq, head)).toBe(packet.length - 4);
      expect(opener.peekLength(seq, head)).toBe(packet.length - 4);
      const wire = stream.subarray(pos, pos + packet.length + opener.macLength);
      const plain = opener.open(seq, wire);
      expect(plain).not.toBeNull();
      expect(plain!.buffer).not.toBe(stream.buffer);
      expect(Buffer.from(plain!).equals(Buffer.from(packet.subarray(4)))).toBe(true);
      pos += wire.length;
    });
  });

  it('seals a packet given in pieces exactly as the whole packet, at every split point', () => {
    const rand = seeded(13);
    const keys = keysFor(cipher, mac, rand);
    const packet = buildPacket(bytes(rand, 43), createSealer(cipher, mac, keys), rand);
    const whole = createSealer(cipher, mac, keys);
    const pieced = createSealer(cipher, mac, keys);
    let seq = 0;
    // parts[0] must hold at least the length and padding_length bytes.
    for (let i = 5; i <= packet.length; i += 3) {
      for (let j = i; j <= packet.length; j += 7) {
        const expected = whole.seal(seq, packet.slice());
        const parts = [packet.subarray(0, i), packet.subarray(i, j), packet.subarray(j)];
        const out = new Uint8Array(expected.length + 5).fill(0xee);
        expect(pieced.sealInto(seq, parts, out, 2), name).toBe(expected.length);
        expect(toHex(out.subarray(2, 2 + expected.length)), `${name} ${i} ${j}`).toBe(
          toHex(expected),
        );
        expect([...out.subarray(0, 2), ...out.subarray(2 + expected.length)]).toEqual(
          new Array(5).fill(0xee),
        );
        seq++;
      }
    }
  });

  it('seals deterministically: fresh sealers give the same bytes for the same packet', () => {
    const rand = seeded(11);
    const keys = keysFor(cipher, mac, rand);
    const framing = createSealer(cipher, mac, keys);
    const packet = buildPacket(bytes(rand, 77), framing, rand);
    const a = createSealer(cipher, mac, keys).seal(42, packet.slice());
    const b = createSealer(cipher, mac, keys).seal(42, packet.slice());
    expect(a).toEqual(b);
    expect(a.subarray(0, packet.length)).not.toEqual(packet);
  });

  it('rejects a packet when any single bit of length, body or MAC is flipped', () => {
    const rand = seeded(12);
    const keys = keysFor(cipher, mac, rand);
    const sealer = createSealer(cipher, mac, keys);
    const packet = buildPacket(bytes(rand, 40), sealer, rand);
    const length = packet.length - 4;
    const wire = sealer.seal(5, packet);
    for (let bit = 0; bit < wire.length * 8; bit++) {
      const bad = wire.slice();
      bad[bit >> 3]! ^= 1 << (bit & 7);
      const opener = createOpener(cipher, mac, keys);
      if (bit < 32) {
        // Every construction maps a flipped length bit to a different length (for the
        // encrypted lengths by stream-cipher malleability); the transport bounds-checks it,
        // and open on the original extent then fails authentication.
        expect(opener.peekLength(5, bad.subarray(0, opener.lengthFieldBytes))).not.toBe(length);
      }
      expect(opener.open(5, bad), `${name}: bit ${bit}`).toBeNull();
    }
  });

  it('rejects a packet whose tag was altered or truncated', () => {
    const rand = seeded(13);
    const keys = keysFor(cipher, mac, rand);
    const sealer = createSealer(cipher, mac, keys);
    const wire = sealer.seal(0, buildPacket(bytes(rand, 10), sealer, rand));
    const altered = wire.slice();
    altered[altered.length - 1]! ^= 0x80;
    expect(createOpener(cipher, mac, keys).open(0, altered)).toBeNull();
    expect(createOpener(cipher, mac, keys).open(0, wire.subarray(0, wire.length - 1))).toBeNull();
    expect(createOpener(cipher, mac, keys).open(0, wire)).not.toBeNull();
  });

  it('rejects a packet opened with the wrong sequence number or out of order', () => {
    const rand = seeded(14);
    const keys = keysFor(cipher, mac, rand);
    const sealer = createSealer(cipher, mac, keys);
    const p0 = sealer.seal(0, buildPacket(bytes(rand, 30), sealer, rand));
    const p1 = sealer.seal(1, buildPacket(bytes(rand, 30), sealer, rand));
    expect(createOpener(cipher, mac, keys).open(0, p1)).toBeNull();
    if (cipher.includes('gcm')) {
      // GCM ignores the sequence number; its invocation counter binds the order instead.
      expect(createOpener(cipher, mac, keys).open(1, p1)).toBeNull();
    } else {
      expect(createOpener(cipher, mac, keys).open(1, p0)).toBeNull();
    }
  });

  it('never throws for arbitrary bytes and authenticates none of them', () => {
    const keys = keysFor(cipher, mac, seeded(15));
    const opener0 = createOpener(cipher, mac, keys);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        fc.nat({ max: 0xffffffff }),
        (wire, seq) => {
          const opener = createOpener(cipher, mac, keys);
          if (wire.length >= opener.lengthFieldBytes) {
            const length = opener.peekLength(seq, wire.subarray(0, opener.lengthFieldBytes));
            expect(Number.isInteger(length) && length >= 0 && length <= 0xffffffff).toBe(true);
          }
          expect(opener.open(seq, wire)).toBeNull();
          expect(opener0.open(seq, wire)).toBeNull();
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('chacha20-poly1305@openssh.com providers', () => {
  it('seal identically on the libsodium and the portable path', () => {
    const cipher = 'chacha20-poly1305@openssh.com';
    const rand = seeded(20);
    const keys = keysFor(cipher, undefined, rand);
    const fast = createSealer(cipher, undefined, keys);
    forcePortableChaChaPoly(true);
    let portable: ReturnType<typeof createSealer>;
    let portableOpener: ReturnType<typeof createOpener>;
    try {
      portable = createSealer(cipher, undefined, keys);
      portableOpener = createOpener(cipher, undefined, keys);
    } finally {
      forcePortableChaChaPoly(false);
    }
    const fastOpener = createOpener(cipher, undefined, keys);
    for (const n of [0, 3, 60, 61, 1000, 33000]) {
      const packet = buildPacket(bytes(rand, n), fast, rand);
      const a = fast.seal(n, packet.slice());
      const b = portable.seal(n, packet.slice());
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
      expect(readLength(packet)).toBe(portableOpener.peekLength(n, a));
      expect(portableOpener.open(n, a)).toEqual(fastOpener.open(n, b));
    }
  });
});
