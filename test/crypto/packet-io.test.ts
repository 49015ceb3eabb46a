import { describe, expect, it } from 'vitest';
import { createSealer } from '../../src/crypto/packet-protection.js';
import { sealPacket } from '../../src/transport/binary-packet.js';
import { PacketIO } from '../../src/transport/packet-io.js';
import { bytes, keysFor, seeded, toHex } from './packet-helpers.js';

const CIPHERS: [string, string | undefined][] = [
  ['none', undefined],
  ['aes128-gcm@openssh.com', undefined],
  ['chacha20-poly1305@openssh.com', undefined],
  ['aes128-ctr', 'hmac-sha2-256'],
  ['aes128-ctr', 'hmac-sha2-256-etm@openssh.com'],
];

/** A deterministic random source: the same bytes for the engine and for the reference. */
function counterRandom(): (n: number) => Uint8Array {
  let i = 0;
  return (n) => Uint8Array.from({ length: n }, () => i++ & 0xff);
}

describe.each(CIPHERS)('PacketIO output with %s %s', (cipher, mac) => {
  const keys = keysFor(cipher, mac, seeded(21));
  const sealerOf = () =>
    cipher === 'none' ? undefined : createSealer(cipher, mac, { ...keys, iv: keys.iv.slice() });

  /** What the packets must be: each sealed alone with a fresh sealer, then joined. */
  function expected(payloads: Uint8Array[]): string {
    const io = new PacketIO(counterRandom());
    const sealer = sealerOf();
    if (sealer) io.useSealer(sealer, false);
    // Reference: the packets one per call (takeOutput after each), joined here.
    return payloads
      .map((p) => {
        io.seal(p);
        return toHex(io.takeOutput()!);
      })
      .join('');
  }

  it.each([
    ['without a reservation', 0],
    ['with a reservation too small', 1],
    ['with a reservation that fits', 2],
  ] as const)('hands out one buffer per call holding every packet in order, %s', (_, mode) => {
    const rand = seeded(22);
    const sizes = [10, 3000, 1, 40000, 300, 257, 256, 70000];
    const payloads = sizes.map((n) => bytes(rand, n));
    const io = new PacketIO(counterRandom());
    const sealer = sealerOf();
    if (sealer) io.useSealer(sealer, false);
    if (mode === 1) io.reserve(1000, 2);
    if (mode === 2)
      io.reserve(
        sizes.reduce((a, b) => a + b, 0),
        sizes.length,
      );
    for (const [i, p] of payloads.entries()) {
      // Split some payloads into head and body, as channel data is sent.
      if (i % 2 === 1 && p.length > 9) io.seal(p.subarray(0, 9), p.subarray(9));
      else io.seal(p);
    }
    const out = io.takeOutput()!;
    expect(toHex(out)).toBe(expected(payloads));
    expect(io.takeOutput()).toBeUndefined();
    // Bytes of the underlying buffer past the output are zero, never stale memory.
    const whole = new Uint8Array(out.buffer);
    expect(whole.subarray(out.byteOffset + out.length).every((b) => b === 0)).toBe(true);
  });

  it('does not hand a small call a view of a large buffer after a large batch', () => {
    const io = new PacketIO(counterRandom());
    const sealer = sealerOf();
    if (sealer) io.useSealer(sealer, false);
    const big = bytes(seeded(24), 32768);
    const bigBatch = () => {
      for (let i = 0; i < 64; i++) {
        io.reserve(big.length, 1);
        io.seal(big);
      }
      expect(io.takeOutput()!.length).toBeGreaterThan(64 * 32768);
    };
    bigBatch();
    // A lone small write does not reserve the last batch's size.
    io.seal(bytes(seeded(25), 32));
    const small = io.takeOutput()!;
    expect(small.buffer.byteLength).toBeLessThan(4096);
    // Repeated reservations guess the last batch's size; barely used, the chunk is trimmed.
    bigBatch();
    const mid = bytes(seeded(26), 1500);
    io.reserve(mid.length, 1);
    io.seal(mid);
    io.reserve(mid.length, 1); // out of room: sized for a batch like the last (2 MiB)
    io.seal(mid);
    const guessed = io.takeOutput()!;
    expect(guessed.length).toBeGreaterThan(3000);
    expect(guessed.buffer.byteLength).toBe(guessed.length);
  });

  it('seals exactly as sealPacket does, packet for packet', () => {
    const payload = bytes(seeded(23), 100);
    const io = new PacketIO(counterRandom());
    const a = sealerOf();
    const b = sealerOf();
    if (a) io.useSealer(a, false);
    io.seal(payload);
    const ref = b ? sealPacket(b, 0, payload, counterRandom()) : undefined;
    if (ref) expect(toHex(io.takeOutput()!)).toBe(toHex(ref));
  });
});
