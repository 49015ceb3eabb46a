import { describe, expect, it } from 'vitest';
import { DH_GROUP14_SHA256, DH_GROUP16_SHA512, MODP_PRIMES } from '../../src/crypto/kex-dh.js';
import type { RandomFn } from '../../src/crypto/types.js';
import { SshReader } from '../../src/wire/reader.js';
import { SshWriter } from '../../src/wire/writer.js';
import {
  bigToBytes,
  bytesToBig,
  expectKexFailed,
  hex,
  modPow,
  scriptedRandom,
  seededRandom,
  toHex,
} from './kex-helpers.js';

const CASES = [
  { alg: DH_GROUP14_SHA256, prime: MODP_PRIMES.group14(), bits: 2048, hash: 'sha256' },
  { alg: DH_GROUP16_SHA512, prime: MODP_PRIMES.group16(), bits: 4096, hash: 'sha512' },
] as const;

/** A random source that remembers what it handed out. */
function recording(random: RandomFn): { random: RandomFn; draws: Uint8Array[] } {
  const draws: Uint8Array[] = [];
  return {
    draws,
    random: (n) => {
      const b = random(n);
      draws.push(b);
      return b;
    },
  };
}

/** Through the wire: an mpint written and read back, as the peer's magnitude arrives. */
function viaMpint(magnitude: Uint8Array): Uint8Array {
  const bytes = new SshWriter().mpintUnsigned(magnitude).finish();
  return new SshReader(bytes).mpintPositive();
}

describe('diffie-hellman-group14-sha256 and group16-sha512 (RFC 8268)', () => {
  it('uses the RFC 3526 primes: paramiko known answers for e = 2^x and K = 69^x mod p', () => {
    // paramiko's test_kex draws x from a patched os.urandom (0xcc bytes, top bit cleared).
    const x = bytesToBig(hex('4c' + 'cc'.repeat(127)));
    const e14 =
      '9850b3a8de3eccd3f19644139137c93d9c11bc28ed8be850908ee294e1d43b88b9295311efaef5b736a1b652ebe184ccf36cfb0681c1ed66430088fa448b83619f928e7b9592ed6160ec11d639d51c303603f930f743c646b1b67da38a1d44598dce6c3f3019422b898044141420e9a10c29b9c58668f7f20a40f154b2c4768fcf7a9aa7179fb6366a7167ee26dd58963e8b880a0572f641de0a73dc74c930f7c3a0c9388553f3f8403e40cf8b95fedb1d366596fcf3fddeb21a0005ada650ef1733628d807be5acb83925462765d9076570056e39994fb328e3108fe406275758d6bf5f32790ef15d8416bf5548164859e785db45e7787bb0e727ade08641ed';
    const p14 = bytesToBig(MODP_PRIMES.group14());
    expect(modPow(2n, x, p14).toString(16)).toBe(e14);
    expect(modPow(69n, x, p14)).toBe(
      21526936926159575624241589599003964979640840086252478029709904308461709651400109485351462666820496096345766733042945918306284902585618061272525323382142547359684512114160415969631877620660064043178086464811345023251493620331559440565662862858765724251890489795332144543057725932216208403143759943169004775947331771556537814494448612329251887435553890674764339328444948425882382475260315505741818518926349729970262019325118040559191290279100613049085709127598666890434114956464502529053036826173452792849566280474995114751780998069614898221773345705289637708545219204637224261997310181473787577166103031529148842107599n,
    );
    const p16 = bytesToBig(MODP_PRIMES.group16());
    expect(modPow(2n, x, p16).toString(16).slice(0, 32)).toBe('859ff55a23e0f66463561dd8bfc4764c');
  });

  it.each(CASES)('$alg.name uses $hash, mpint encoding and a $bits-bit prime', (c) => {
    expect(c.alg.hash).toBe(c.hash);
    expect(c.alg.encoding).toBe('mpint');
    expect(c.prime.length * 8).toBe(c.bits);
    expect(toHex(c.prime).slice(0, 16)).toBe('ffffffffffffffff');
    expect(toHex(c.prime).slice(-16)).toBe('ffffffffffffffff');
  });

  it.each(CASES)(
    '$alg.name: the public value is 2^x mod p for the x drawn from random (node keeps a set private key)',
    (c) => {
      const rec = recording(seededRandom(`dh-${c.bits}`));
      const mine = c.alg.start(rec.random);
      expect(rec.draws).toHaveLength(1);
      const x = bytesToBig(rec.draws[0]!);
      expect(rec.draws[0]!.length * 8).toBeGreaterThanOrEqual(512);
      expect(bytesToBig(mine.publicValue)).toBe(modPow(2n, x, bytesToBig(c.prime)));
    },
  );

  it.each(CASES)('$alg.name: both sides agree on K through the wire encoding', (c) => {
    const a = c.alg.start(seededRandom('a'));
    const b = c.alg.start(seededRandom('b'));
    const ka = a.computeSecret(viaMpint(b.publicValue));
    const kb = b.computeSecret(viaMpint(a.publicValue));
    expect(toHex(ka)).toBe(toHex(kb));
    expect(bytesToBig(ka)).toBeGreaterThan(1n);
  });

  it.each(CASES)('$alg.name: same random gives the same public value', (c) => {
    const a = c.alg.start(seededRandom('same'));
    const b = c.alg.start(seededRandom('same'));
    expect(toHex(a.publicValue)).toBe(toHex(b.publicValue));
    expect(toHex(c.alg.start(seededRandom('other')).publicValue)).not.toBe(toHex(a.publicValue));
  });

  it('redraws an exponent below 2', () => {
    const one = new Uint8Array(64);
    one[63] = 1;
    const good = seededRandom('good')(64);
    const viaRetries = DH_GROUP14_SHA256.start(scriptedRandom(new Uint8Array(64), one, good));
    const direct = DH_GROUP14_SHA256.start(scriptedRandom(good));
    expect(toHex(viaRetries.publicValue)).toBe(toHex(direct.publicValue));
  });

  describe.each(CASES)('$alg.name rejects peer values outside 1 < f < p-1', (c) => {
    const mine = c.alg.start(seededRandom('mine'));
    const p = bytesToBig(c.prime);
    it.each([
      ['0 (empty)', new Uint8Array(0)],
      ['0', Uint8Array.of(0)],
      ['1', Uint8Array.of(1)],
      ['1 with leading zeros', Uint8Array.of(0, 0, 1)],
      ['p - 1', bigToBytes(p - 1n)],
      ['p', bigToBytes(p)],
      ['p + 1', bigToBytes(p + 1n)],
      ['2^(bits+8)', bigToBytes(1n << BigInt(c.bits + 8))],
    ])('%s', (_name, f) => {
      expectKexFailed(() => mine.computeSecret(f));
    });

    it('accepts 2 and p - 2', () => {
      expect(() => mine.computeSecret(Uint8Array.of(2))).not.toThrow();
      expect(() => mine.computeSecret(bigToBytes(p - 2n))).not.toThrow();
    });
  });
});
