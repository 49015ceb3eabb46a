import { describe, expect, it } from 'vitest';
import { deriveKey, type KeyLetter } from '../../src/crypto/kdf.js';
import type { KexHash } from '../../src/crypto/types.js';
import { hex, readVectors, toHex } from './kex-helpers.js';

interface KdfVector {
  hash: KexHash;
  sharedSecret: string;
  exchangeHash: string;
  sessionId: string;
  letter: KeyLetter;
  length: number;
  key: string;
}

const vectors = readVectors<{ tests: KdfVector[] }>('ssh-kdf.json').tests;

describe('deriveKey (RFC 4253 §7.2)', () => {
  it.each(vectors)('matches OpenSSL SSHKDF for $hash letter $letter, $length bytes', (v) => {
    const key = deriveKey(
      v.hash,
      hex(v.sharedSecret),
      hex(v.exchangeHash),
      v.letter,
      hex(v.sessionId),
      v.length,
    );
    expect(toHex(key)).toBe(v.key);
  });

  it('has vectors that need extension past one hash block', () => {
    expect(vectors.some((v) => v.hash === 'sha256' && v.length > 32)).toBe(true);
    expect(vectors.some((v) => v.hash === 'sha512' && v.length > 128)).toBe(true);
  });

  it('has vectors whose K needs a sign byte or has leading zeros', () => {
    expect(vectors.some((v) => Number.parseInt(v.sharedSecret.slice(0, 2), 16) >= 0x80)).toBe(true);
    expect(vectors.some((v) => v.sharedSecret.startsWith('00'))).toBe(true);
  });

  it('gives a shorter key as a prefix of a longer one', () => {
    const v = vectors[0]!;
    const args = [
      v.hash,
      hex(v.sharedSecret),
      hex(v.exchangeHash),
      v.letter,
      hex(v.sessionId),
    ] as const;
    const long = deriveKey(...args, 200);
    for (const n of [0, 1, 31, 32, 33, 64, 65, 199]) {
      expect(toHex(deriveKey(...args, n))).toBe(toHex(long.subarray(0, n)));
    }
  });

  it('treats K with leading zero bytes as the same number', () => {
    const k = hex('7f01020304');
    const h = hex('aa'.repeat(32));
    const plain = deriveKey('sha256', k, h, 'C', h, 48);
    const padded = deriveKey('sha256', hex('0000' + '7f01020304'), h, 'C', h, 48);
    expect(toHex(padded)).toBe(toHex(plain));
  });

  it('gives different keys for different letters', () => {
    const k = hex('01'.repeat(32));
    const h = hex('02'.repeat(32));
    const keys = (['A', 'B', 'C', 'D', 'E', 'F'] as const).map((l) =>
      toHex(deriveKey('sha256', k, h, l, h, 32)),
    );
    expect(new Set(keys).size).toBe(6);
  });

  it('rejects a negative or fractional length', () => {
    const k = hex('01');
    expect(() => deriveKey('sha256', k, k, 'A', k, -1)).toThrow(RangeError);
    expect(() => deriveKey('sha256', k, k, 'A', k, 1.5)).toThrow(RangeError);
  });
});
