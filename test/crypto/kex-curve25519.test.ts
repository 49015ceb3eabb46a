import { describe, expect, it } from 'vitest';
import { CURVE25519_SHA256, CURVE25519_SHA256_LIBSSH } from '../../src/crypto/kex-curve25519.js';
import {
  expectKexFailed,
  hex,
  readVectors,
  scriptedRandom,
  seededRandom,
  toHex,
  type WycheproofFile,
  type WycheproofTest,
} from './kex-helpers.js';

/** X25519(scalar, u) through the exchange: the scalar goes in as the "random" private key. */
function x25519(scalar: string, u: string): Uint8Array {
  return CURVE25519_SHA256.start(scriptedRandom(hex(scalar))).computeSecret(hex(u));
}

describe('curve25519-sha256 (RFC 8731)', () => {
  it('computes the RFC 7748 §5.2 X25519 test vectors through the PKCS#8 import', () => {
    expect(
      toHex(
        x25519(
          'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
          'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
        ),
      ),
    ).toBe('c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552');
    expect(
      toHex(
        x25519(
          '4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
          'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
        ),
      ),
    ).toBe('95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957');
  });

  it('reproduces the RFC 7748 §6.1 Diffie-Hellman example from both sides', () => {
    const alice = CURVE25519_SHA256.start(
      scriptedRandom(hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')),
    );
    const bob = CURVE25519_SHA256.start(
      scriptedRandom(hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb')),
    );
    expect(toHex(alice.publicValue)).toBe(
      '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
    );
    expect(toHex(bob.publicValue)).toBe(
      'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
    );
    const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
    expect(toHex(alice.computeSecret(bob.publicValue))).toBe(shared);
    expect(toHex(bob.computeSecret(alice.publicValue))).toBe(shared);
  });

  describe('Wycheproof x25519 vectors', () => {
    const file = readVectors<WycheproofFile<object>>('wycheproof/x25519_test.json');
    const tests = file.testGroups.flatMap((g) => g.tests) as (WycheproofTest & {
      public: string;
      private: string;
      shared: string;
    })[];

    it('include all-zero results and ordinary results', () => {
      expect(tests.filter((t) => t.flags.includes('ZeroSharedSecret')).length).toBeGreaterThan(20);
      expect(tests.filter((t) => !t.flags.includes('ZeroSharedSecret')).length).toBeGreaterThan(50);
    });

    it.each(tests.map((t) => [t.tcId, t.comment, t] as const))(
      'tcId %i (%s)',
      (_id, _comment, t) => {
        if (t.shared === '00'.repeat(32)) {
          // RFC 8731 §3: an all-zero shared secret MUST abort the exchange.
          expectKexFailed(() => x25519(t.private, t.public));
        } else {
          expect(toHex(x25519(t.private, t.public))).toBe(t.shared);
        }
      },
    );
  });

  it('rejects a peer public key that is not exactly 32 bytes', () => {
    const ours = CURVE25519_SHA256.start(seededRandom('c'));
    const peer = CURVE25519_SHA256.start(seededRandom('d')).publicValue;
    expectKexFailed(() => ours.computeSecret(new Uint8Array(0)));
    expectKexFailed(() => ours.computeSecret(peer.subarray(0, 31)));
    expectKexFailed(() => ours.computeSecret(Uint8Array.from([...peer, 0])));
  });

  it('rejects the low-order points u = 0 and u = 1', () => {
    const ours = CURVE25519_SHA256.start(seededRandom('c'));
    expectKexFailed(() => ours.computeSecret(new Uint8Array(32)));
    const one = new Uint8Array(32);
    one[0] = 1;
    expectKexFailed(() => ours.computeSecret(one));
  });

  it('makes the same key from the same random bytes', () => {
    const a = CURVE25519_SHA256.start(seededRandom('same'));
    const b = CURVE25519_SHA256_LIBSSH.start(seededRandom('same'));
    const c = CURVE25519_SHA256.start(seededRandom('other'));
    expect(toHex(a.publicValue)).toBe(toHex(b.publicValue));
    expect(toHex(a.publicValue)).not.toBe(toHex(c.publicValue));
  });

  it('names both methods with SHA-256 and string encoding', () => {
    for (const alg of [CURVE25519_SHA256, CURVE25519_SHA256_LIBSSH]) {
      expect(alg.hash).toBe('sha256');
      expect(alg.encoding).toBe('string');
    }
    expect(CURVE25519_SHA256.name).toBe('curve25519-sha256');
    expect(CURVE25519_SHA256_LIBSSH.name).toBe('curve25519-sha256@libssh.org');
  });
});
