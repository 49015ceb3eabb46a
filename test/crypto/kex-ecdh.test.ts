import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  ECDH_SHA2_NISTP256,
  ECDH_SHA2_NISTP384,
  ECDH_SHA2_NISTP521,
  NIST_CURVE_ORDERS,
} from '../../src/crypto/kex-ecdh.js';
import {
  bigToBytes,
  expectKexFailed,
  hex,
  scriptedRandom,
  seededRandom,
  toHex,
} from './kex-helpers.js';

const CASES = [
  { alg: ECDH_SHA2_NISTP256, curve: 'prime256v1', field: 32, hash: 'sha256' },
  { alg: ECDH_SHA2_NISTP384, curve: 'secp384r1', field: 48, hash: 'sha384' },
  { alg: ECDH_SHA2_NISTP521, curve: 'secp521r1', field: 66, hash: 'sha512' },
] as const;

describe('ecdh-sha2-nistp* (RFC 5656)', () => {
  it('uses SHA-256/384/512 and string encoding', () => {
    for (const c of CASES) {
      expect(c.alg.hash).toBe(c.hash);
      expect(c.alg.encoding).toBe('string');
    }
  });

  it('has group orders that match OpenSSL', () => {
    for (const c of CASES) {
      const text = execFileSync(
        'openssl',
        ['ecparam', '-name', c.curve, '-param_enc', 'explicit', '-text', '-noout'],
        { encoding: 'utf8' },
      );
      const m = /Order:\s*([\s0-9a-f:]+?)\n\S/.exec(text);
      expect(m).not.toBeNull();
      const order = BigInt('0x' + m![1]!.replace(/[\s:]/g, ''));
      expect(NIST_CURVE_ORDERS[c.curve]).toBe(order);
    }
  });

  it('reproduces paramiko nistp256 known answer: Q from d, and K', () => {
    const d = 94761803665136558137557783047955027733968423115106677159790289642479432803037n;
    const mine = ECDH_SHA2_NISTP256.start(scriptedRandom(bigToBytes(d, 32)));
    expect(toHex(mine.publicValue)).toBe(
      '042bdab212fa8ba1b7c843301682a4db424d307246c7e1e6083c41d9ca7b098bf30b3d63e2ec6278488c135360456cc054b3444ecc45998c08894cbc1370f5f989',
    );
    const k = mine.computeSecret(
      hex(
        '043ae159594ba062efa121480e9ef136203fa9ec6b6e1f8723a321c16e62b945f573f3b822258cbcd094b9fa1c125cbfe5f043280893e66863cc0cb4dccbe70210',
      ),
    );
    expect(BigInt('0x' + toHex(k))).toBe(
      91610929826364598472338906427792435253694642563583721654249504912114314269754n,
    );
  });

  it.each(CASES)('$curve: both sides agree on a K the size of a field element', (c) => {
    const a = c.alg.start(seededRandom(`${c.curve}-a`));
    const b = c.alg.start(seededRandom(`${c.curve}-b`));
    expect(a.publicValue.length).toBe(1 + 2 * c.field);
    expect(a.publicValue[0]).toBe(4);
    const ka = a.computeSecret(b.publicValue);
    expect(ka.length).toBe(c.field);
    expect(toHex(ka)).toBe(toHex(b.computeSecret(a.publicValue)));
  });

  it.each(CASES)('$curve: same random gives the same public value', (c) => {
    const a = c.alg.start(seededRandom('same'));
    const b = c.alg.start(seededRandom('same'));
    const other = c.alg.start(seededRandom('other'));
    expect(toHex(a.publicValue)).toBe(toHex(b.publicValue));
    expect(toHex(a.publicValue)).not.toBe(toHex(other.publicValue));
  });

  it.each(CASES)('$curve: redraws a private key that is 0 or not below the order', (c) => {
    const n = NIST_CURVE_ORDERS[c.curve]!;
    const len = Math.ceil(n.toString(2).length / 8);
    const good = bigToBytes(12345n, len);
    const viaRetries = c.alg.start(
      scriptedRandom(new Uint8Array(len), bigToBytes(n, len), new Uint8Array(len).fill(0xff), good),
    );
    const direct = c.alg.start(scriptedRandom(good));
    expect(toHex(viaRetries.publicValue)).toBe(toHex(direct.publicValue));
    // n - 1 is the largest valid key.
    expect(() => c.alg.start(scriptedRandom(bigToBytes(n - 1n, len)))).not.toThrow();
  });

  it('gives up on a random source that only returns zeros', () => {
    expect(() => ECDH_SHA2_NISTP256.start((len) => new Uint8Array(len))).toThrow(/random/);
  });

  describe.each(CASES)('$curve rejects invalid peer points', (c) => {
    const mine = c.alg.start(seededRandom('mine'));
    const peer = c.alg.start(seededRandom('peer')).publicValue;

    it('of the wrong length', () => {
      expectKexFailed(() => mine.computeSecret(new Uint8Array(0)));
      expectKexFailed(() => mine.computeSecret(peer.subarray(0, peer.length - 1)));
      expectKexFailed(() => mine.computeSecret(Uint8Array.from([...peer, 0])));
    });

    it('in compressed form', () => {
      const compressed = Uint8Array.from([
        2 + (peer[peer.length - 1]! & 1),
        ...peer.subarray(1, 1 + c.field),
      ]);
      expectKexFailed(() => mine.computeSecret(compressed));
    });

    it('with a prefix other than 0x04', () => {
      const bad = Uint8Array.from(peer);
      bad[0] = 0x06;
      expectKexFailed(() => mine.computeSecret(bad));
    });

    it('not on the curve', () => {
      const bad = Uint8Array.from(peer);
      bad[bad.length - 1]! ^= 1;
      expectKexFailed(() => mine.computeSecret(bad));
      const zeros = new Uint8Array(peer.length);
      zeros[0] = 4;
      expectKexFailed(() => mine.computeSecret(zeros));
    });

    it('from another curve', () => {
      const otherAlg = c.alg === ECDH_SHA2_NISTP256 ? ECDH_SHA2_NISTP384 : ECDH_SHA2_NISTP256;
      expectKexFailed(() => mine.computeSecret(otherAlg.start(seededRandom('x')).publicValue));
    });
  });
});
