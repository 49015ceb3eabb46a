import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parsePublicKeyBlob, verifySignature } from '../../src/crypto/host-key.js';
import {
  type GeneratedKeyType,
  generatePrivateKey,
  type PrivateKey,
  parsePrivateKey,
  parsePublicKey,
  privateKeyToPem,
  publicKeyToOpenSSH,
} from '../../src/crypto/keys.js';
import { SshReader } from '../../src/wire/reader.js';
import { toHex } from './kex-helpers.js';

const TYPES: { type: GeneratedKeyType; ssh: string; algorithms: string[] }[] = [
  { type: 'ed25519', ssh: 'ssh-ed25519', algorithms: ['ssh-ed25519'] },
  { type: 'ecdsa-p256', ssh: 'ecdsa-sha2-nistp256', algorithms: ['ecdsa-sha2-nistp256'] },
  { type: 'ecdsa-p384', ssh: 'ecdsa-sha2-nistp384', algorithms: ['ecdsa-sha2-nistp384'] },
  { type: 'ecdsa-p521', ssh: 'ecdsa-sha2-nistp521', algorithms: ['ecdsa-sha2-nistp521'] },
  { type: 'rsa', ssh: 'ssh-rsa', algorithms: ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] },
];

const KEYS = new Map<GeneratedKeyType, PrivateKey>(
  TYPES.map((t) => [
    t.type,
    generatePrivateKey(t.type, t.type === 'rsa' ? { bits: 2048 } : undefined),
  ]),
);
const data = new TextEncoder().encode('session id and userauth request');

describe.each(TYPES)('$type keys', ({ type, ssh, algorithms }) => {
  const key = KEYS.get(type)!;

  it('have the SSH type and signature algorithms', () => {
    expect(key.type).toBe(ssh);
    expect(key.signatureAlgorithms).toEqual(algorithms);
    expect(parsePublicKeyBlob(key.publicKeyBlob)?.type).toBe(ssh);
  });

  it.each(algorithms)('sign with %s: the signature verifies, a tampered one does not', (alg) => {
    const sig = key.sign(alg, data);
    const r = new SshReader(sig);
    expect(r.ascii()).toBe(alg);
    r.string();
    r.finish();
    expect(verifySignature(alg, key.publicKeyBlob, sig, data)).toBe(true);

    const otherData = Uint8Array.from(data);
    otherData[0]! ^= 1;
    expect(verifySignature(alg, key.publicKeyBlob, sig, otherData)).toBe(false);

    const flipped = Uint8Array.from(sig);
    flipped[flipped.length - 5]! ^= 0x10;
    expect(verifySignature(alg, key.publicKeyBlob, flipped, data)).toBe(false);

    const otherKey = generatePrivateKey(type === 'rsa' ? 'ed25519' : type);
    expect(verifySignature(alg, otherKey.publicKeyBlob, sig, data)).toBe(false);
  });

  it('refuse to sign with an algorithm of another key type', () => {
    const foreign = type === 'ed25519' ? 'rsa-sha2-256' : 'ssh-ed25519';
    expect(() => key.sign(foreign, data)).toThrow(TypeError);
    expect(() => key.sign('nonsense', data)).toThrow(TypeError);
  });

  it('survive privateKeyToPem and parsePrivateKey', () => {
    const pem = privateKeyToPem(key);
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const back = parsePrivateKey(pem);
    expect(toHex(back.publicKeyBlob)).toBe(toHex(key.publicKeyBlob));
    const sig = back.sign(algorithms[0]!, data);
    expect(verifySignature(algorithms[0]!, key.publicKeyBlob, sig, data)).toBe(true);
  });

  it('survive publicKeyToOpenSSH and parsePublicKey', () => {
    const line = publicKeyToOpenSSH(key.publicKeyBlob, 'user@host with spaces');
    expect(line.startsWith(`${ssh} AAAA`)).toBe(true);
    const parsed = parsePublicKey(line + '\n');
    expect(parsed.type).toBe(ssh);
    expect(parsed.comment).toBe('user@host with spaces');
    expect(toHex(parsed.blob)).toBe(toHex(key.publicKeyBlob));
    expect(parsePublicKey(publicKeyToOpenSSH(key.publicKeyBlob)).comment).toBe('');
  });
});

describe('ECDSA signatures', () => {
  it('encode r and s as minimal positive mpints', () => {
    const key = KEYS.get('ecdsa-p521')!;
    for (let i = 0; i < 20; i++) {
      const sig = new SshReader(key.sign('ecdsa-sha2-nistp521', Uint8Array.of(i)));
      sig.ascii();
      const inner = new SshReader(sig.string());
      // mpintPositive rejects non-minimal and non-positive encodings.
      expect(inner.mpintPositive().length).toBeLessThanOrEqual(66);
      expect(inner.mpintPositive().length).toBeLessThanOrEqual(66);
      inner.finish();
    }
  });
});

describe('RSA signatures', () => {
  it('are as long as the modulus', () => {
    const key = KEYS.get('rsa')!;
    for (const alg of key.signatureAlgorithms) {
      const r = new SshReader(key.sign(alg, data));
      r.ascii();
      expect(r.string().length).toBe(256);
    }
  });
});

describe('generatePrivateKey', () => {
  it('makes 3072-bit RSA keys by default', () => {
    expect(parsePublicKeyBlob(generatePrivateKey('rsa').publicKeyBlob)?.bits).toBe(3072);
  });

  it('rejects bad sizes and sizes for non-RSA keys', () => {
    expect(() => generatePrivateKey('rsa', { bits: 1024 })).toThrow(TypeError);
    expect(() => generatePrivateKey('rsa', { bits: 2048.5 })).toThrow(TypeError);
    expect(() => generatePrivateKey('rsa', { bits: 32768 })).toThrow(TypeError);
    expect(() => generatePrivateKey('ed25519', { bits: 256 })).toThrow(TypeError);
    expect(() => generatePrivateKey('dsa' as GeneratedKeyType)).toThrow(TypeError);
  });

  it('makes a different key every time', () => {
    const a = generatePrivateKey('ed25519');
    const b = generatePrivateKey('ed25519');
    expect(toHex(a.publicKeyBlob)).not.toBe(toHex(b.publicKeyBlob));
  });
});

describe('parsePrivateKey', () => {
  it('reads DER PKCS#8 bytes', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    expect(parsePrivateKey(new Uint8Array(der)).type).toBe('ssh-ed25519');
  });

  it('reads PEM given as bytes', () => {
    const pem = privateKeyToPem(KEYS.get('ecdsa-p256')!);
    expect(parsePrivateKey(new TextEncoder().encode(pem)).type).toBe('ecdsa-sha2-nistp256');
  });

  it('rejects what is not a private key', () => {
    expect(() => parsePrivateKey('')).toThrow(TypeError);
    expect(() => parsePrivateKey('hello')).toThrow(TypeError);
    expect(() => parsePrivateKey(Uint8Array.of(0x30, 1, 2))).toThrow(TypeError);
    const pub = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' });
    expect(() => parsePrivateKey(pub.toString())).toThrow(TypeError);
  });

  it('rejects key types it cannot sign with', () => {
    const x = generateKeyPairSync('x25519').privateKey.export({ format: 'pem', type: 'pkcs8' });
    expect(() => parsePrivateKey(x.toString())).toThrow(/unsupported/);
    const dsa = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }).privateKey;
    expect(() => parsePrivateKey(dsa.export({ format: 'pem', type: 'pkcs8' }).toString())).toThrow(
      /unsupported/,
    );
  });

  it('reads an encrypted PKCS#8 key only with the right passphrase', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const pem = privateKey
      .export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' })
      .toString();
    expect(parsePrivateKey(pem, 'pw').type).toBe('ecdsa-sha2-nistp384');
    expect(() => parsePrivateKey(pem)).toThrow(/passphrase/);
    expect(() => parsePrivateKey(pem, 'nope')).toThrow(/wrong passphrase/);
  });
});

describe('parsePublicKey', () => {
  const line = publicKeyToOpenSSH(KEYS.get('ed25519')!.publicKeyBlob);

  it('rejects a type that does not match the blob', () => {
    expect(() => parsePublicKey(line.replace('ssh-ed25519', 'ssh-rsa'))).toThrow(/blob holds/);
  });

  it('rejects bad base64 and missing fields', () => {
    expect(() => parsePublicKey('ssh-ed25519')).toThrow(TypeError);
    expect(() => parsePublicKey('ssh-ed25519 AAAA*AAA')).toThrow(TypeError);
    expect(() => parsePublicKey(line.slice(0, -1))).toThrow(TypeError);
    expect(() => parsePublicKey(`${line}\n${line}`)).toThrow(TypeError);
  });

  it('rejects an invalid key of a supported type', () => {
    const blob = new Uint8Array([
      0,
      0,
      0,
      11,
      ...new TextEncoder().encode('ssh-ed25519'),
      0,
      0,
      0,
      1,
      7,
    ]);
    expect(() => parsePublicKey(`ssh-ed25519 ${Buffer.from(blob).toString('base64')}`)).toThrow(
      /invalid/,
    );
  });

  it('keeps other key types undecoded', () => {
    const blob = new Uint8Array([0, 0, 0, 7, ...new TextEncoder().encode('ssh-dss'), 1, 2, 3]);
    const parsed = parsePublicKey(`ssh-dss ${Buffer.from(blob).toString('base64')} old key`);
    expect(parsed).toMatchObject({ type: 'ssh-dss', comment: 'old key' });
  });
});

describe('publicKeyToOpenSSH', () => {
  it('rejects a multi-line comment and a blob that is not a key', () => {
    const blob = KEYS.get('ed25519')!.publicKeyBlob;
    expect(() => publicKeyToOpenSSH(blob, 'a\nb')).toThrow(TypeError);
    expect(() => publicKeyToOpenSSH(Uint8Array.of(0, 0))).toThrow(TypeError);
  });
});

describe('privateKeyToPem', () => {
  it('refuses a PrivateKey implemented elsewhere', () => {
    const key = KEYS.get('ed25519')!;
    const foreign: PrivateKey = {
      type: key.type,
      publicKeyBlob: key.publicKeyBlob,
      signatureAlgorithms: key.signatureAlgorithms,
      sign: (alg, d) => key.sign(alg, d),
    };
    expect(() => privateKeyToPem(foreign)).toThrow(TypeError);
  });
});
