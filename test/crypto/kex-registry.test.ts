import { describe, expect, it } from 'vitest';
import { SUPPORTED_KEX } from '../../src/crypto/algorithms.js';
import { kexAlgorithm } from '../../src/crypto/kex.js';
import { seededRandom, toHex } from './kex-helpers.js';

describe('kexAlgorithm', () => {
  it('knows every supported key exchange method by its name', () => {
    for (const name of SUPPORTED_KEX) {
      expect(kexAlgorithm(name)?.name).toBe(name);
    }
  });

  it('knows nothing else, including the pseudo-algorithms', () => {
    for (const name of [
      'ext-info-c',
      'kex-strict-c-v00@openssh.com',
      'diffie-hellman-group1-sha1',
      '',
      'toString',
      '__proto__',
    ]) {
      expect(kexAlgorithm(name)).toBeUndefined();
    }
  });

  it.each(SUPPORTED_KEX)('%s: two sides agree on K, and a seed fixes the public value', (name) => {
    const alg = kexAlgorithm(name)!;
    const client = alg.start(seededRandom(`${name}-client`));
    const server = alg.start(seededRandom(`${name}-server`));
    const kc = client.computeSecret(server.publicValue);
    const ks = server.computeSecret(client.publicValue);
    expect(toHex(kc)).toBe(toHex(ks));
    expect(toHex(alg.start(seededRandom(`${name}-client`)).publicValue)).toBe(
      toHex(client.publicValue),
    );
  });
});
