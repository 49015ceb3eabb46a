import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fingerprintSha256,
  keyTypeOfAlgorithm,
  parsePublicKeyBlob,
  publicKeyBlobOf,
  verifySignature,
} from '../../src/crypto/host-key.js';
import { generatePrivateKey } from '../../src/crypto/keys.js';
import { SshReader } from '../../src/wire/reader.js';
import { SshWriter } from '../../src/wire/writer.js';
import { bigToBytes, toHex } from './kex-helpers.js';

const ed = generatePrivateKey('ed25519');
const p256 = generatePrivateKey('ecdsa-p256');
const p384 = generatePrivateKey('ecdsa-p384');
const p521 = generatePrivateKey('ecdsa-p521');
const rsa = generatePrivateKey('rsa', { bits: 2048 });
const ALL = [ed, p256, p384, p521, rsa];

/** Splits a blob into its top-level strings/mpints. */
function fields(blob: Uint8Array): Uint8Array[] {
  const r = new SshReader(blob);
  const out: Uint8Array[] = [];
  while (r.remaining > 0) out.push(r.string());
  return out;
}

function blobOf(...parts: (string | Uint8Array)[]): Uint8Array {
  const w = new SshWriter();
  for (const p of parts) w.string(p);
  return w.finish();
}

function rsaBlob(e: bigint, n: bigint): Uint8Array {
  return new SshWriter()
    .string('ssh-rsa')
    .mpintUnsigned(bigToBytes(e))
    .mpintUnsigned(bigToBytes(n))
    .finish();
}

describe('parsePublicKeyBlob', () => {
  it('reads every supported key type with its size', () => {
    expect(parsePublicKeyBlob(ed.publicKeyBlob)).toMatchObject({ type: 'ssh-ed25519', bits: 256 });
    expect(parsePublicKeyBlob(p256.publicKeyBlob)).toMatchObject({
      type: 'ecdsa-sha2-nistp256',
      bits: 256,
    });
    expect(parsePublicKeyBlob(p384.publicKeyBlob)).toMatchObject({
      type: 'ecdsa-sha2-nistp384',
      bits: 384,
    });
    expect(parsePublicKeyBlob(p521.publicKeyBlob)).toMatchObject({
      type: 'ecdsa-sha2-nistp521',
      bits: 521,
    });
    expect(parsePublicKeyBlob(rsa.publicKeyBlob)).toMatchObject({ type: 'ssh-rsa', bits: 2048 });
  });

  it('gives a key object whose blob is the one parsed, in a copy', () => {
    for (const k of ALL) {
      const info = parsePublicKeyBlob(k.publicKeyBlob)!;
      expect(toHex(publicKeyBlobOf(info.key))).toBe(toHex(k.publicKeyBlob));
      expect(info.blob).not.toBe(k.publicKeyBlob);
      expect(toHex(info.blob)).toBe(toHex(k.publicKeyBlob));
    }
  });

  it('honours the byteOffset of a blob inside a larger buffer', () => {
    const big = new Uint8Array(ed.publicKeyBlob.length + 10);
    big.set(ed.publicKeyBlob, 5);
    expect(parsePublicKeyBlob(big.subarray(5, 5 + ed.publicKeyBlob.length))?.type).toBe(
      'ssh-ed25519',
    );
  });

  it('rejects trailing bytes and truncation', () => {
    for (const k of ALL) {
      expect(parsePublicKeyBlob(Uint8Array.from([...k.publicKeyBlob, 0]))).toBeUndefined();
      expect(
        parsePublicKeyBlob(k.publicKeyBlob.subarray(0, k.publicKeyBlob.length - 1)),
      ).toBeUndefined();
    }
  });

  it('rejects unknown types and empty input', () => {
    expect(parsePublicKeyBlob(new Uint8Array(0))).toBeUndefined();
    expect(parsePublicKeyBlob(blobOf('ssh-dss', new Uint8Array(4)))).toBeUndefined();
    expect(parsePublicKeyBlob(blobOf('ssh-ed448', new Uint8Array(57)))).toBeUndefined();
  });

  it('rejects an Ed25519 key that is not 32 bytes', () => {
    expect(parsePublicKeyBlob(blobOf('ssh-ed25519', new Uint8Array(31)))).toBeUndefined();
    expect(parsePublicKeyBlob(blobOf('ssh-ed25519', new Uint8Array(33)))).toBeUndefined();
  });

  it('rejects an ECDSA key whose curve name does not match its type', () => {
    const [, , q] = fields(p256.publicKeyBlob);
    expect(parsePublicKeyBlob(blobOf('ecdsa-sha2-nistp256', 'nistp384', q!))).toBeUndefined();
    expect(parsePublicKeyBlob(blobOf('ecdsa-sha2-nistp384', 'nistp256', q!))).toBeUndefined();
  });

  it('rejects an ECDSA point that is compressed, of the wrong length or off the curve', () => {
    const [type, id, q] = fields(p256.publicKeyBlob);
    const compressed = Uint8Array.from([2 + (q![64]! & 1), ...q!.subarray(1, 33)]);
    expect(parsePublicKeyBlob(blobOf(type!, id!, compressed))).toBeUndefined();
    expect(parsePublicKeyBlob(blobOf(type!, id!, q!.subarray(0, 64)))).toBeUndefined();
    const off = Uint8Array.from(q!);
    off[64]! ^= 1;
    expect(parsePublicKeyBlob(blobOf(type!, id!, off))).toBeUndefined();
    const infinity = new Uint8Array(65);
    infinity[0] = 4;
    expect(parsePublicKeyBlob(blobOf(type!, id!, infinity))).toBeUndefined();
  });

  it('rejects RSA moduli below 1024 or above 16384 bits and accepts both limits', () => {
    const odd = (bits: number) => (1n << BigInt(bits - 1)) | 1n;
    expect(parsePublicKeyBlob(rsaBlob(65537n, odd(1023)))).toBeUndefined();
    expect(parsePublicKeyBlob(rsaBlob(65537n, odd(1024)))?.bits).toBe(1024);
    expect(parsePublicKeyBlob(rsaBlob(65537n, odd(16384)))?.bits).toBe(16384);
    expect(parsePublicKeyBlob(rsaBlob(65537n, odd(16385)))).toBeUndefined();
  });

  it('rejects RSA exponents that are even, 1, or negative', () => {
    const n = (1n << 2047n) | 1n;
    expect(parsePublicKeyBlob(rsaBlob(65536n, n))).toBeUndefined();
    expect(parsePublicKeyBlob(rsaBlob(1n, n))).toBeUndefined();
    expect(parsePublicKeyBlob(rsaBlob(3n, n))?.type).toBe('ssh-rsa');
    const negative = new SshWriter()
      .string('ssh-rsa')
      .string(Uint8Array.of(0x81))
      .mpintUnsigned(bigToBytes(n))
      .finish();
    expect(parsePublicKeyBlob(negative)).toBeUndefined();
  });

  it('never throws on arbitrary bytes or mutated blobs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        parsePublicKeyBlob(bytes);
      }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...ALL),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (k, pos, x) => {
          const b = Uint8Array.from(k.publicKeyBlob);
          b[pos % b.length]! ^= x;
          parsePublicKeyBlob(b);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('keyTypeOfAlgorithm', () => {
  it('maps the RSA signature algorithms to ssh-rsa and the rest to themselves', () => {
    expect(keyTypeOfAlgorithm('rsa-sha2-256')).toBe('ssh-rsa');
    expect(keyTypeOfAlgorithm('rsa-sha2-512')).toBe('ssh-rsa');
    expect(keyTypeOfAlgorithm('ssh-rsa')).toBe('ssh-rsa');
    for (const a of [
      'ssh-ed25519',
      'ecdsa-sha2-nistp256',
      'ecdsa-sha2-nistp384',
      'ecdsa-sha2-nistp521',
    ]) {
      expect(keyTypeOfAlgorithm(a)).toBe(a);
    }
  });

  it('knows no other algorithm', () => {
    for (const a of ['ssh-dss', 'ssh-ed25519-cert-v01@openssh.com', 'constructor', '']) {
      expect(keyTypeOfAlgorithm(a)).toBeUndefined();
    }
  });
});

describe('verifySignature', () => {
  const data = new TextEncoder().encode('exchange hash');

  it('rejects an algorithm that does not fit the key', () => {
    const sig = ed.sign('ssh-ed25519', data);
    expect(verifySignature('ssh-ed25519', ed.publicKeyBlob, sig, data)).toBe(true);
    expect(verifySignature('ssh-ed25519', p256.publicKeyBlob, sig, data)).toBe(false);
    const rsaSig = rsa.sign('rsa-sha2-256', data);
    expect(verifySignature('ecdsa-sha2-nistp256', rsa.publicKeyBlob, rsaSig, data)).toBe(false);
    expect(verifySignature('ssh-dss', rsa.publicKeyBlob, rsaSig, data)).toBe(false);
  });

  it('rejects an ECDSA signature checked against a key of another curve', () => {
    const sig = p256.sign('ecdsa-sha2-nistp256', data);
    expect(verifySignature('ecdsa-sha2-nistp256', p384.publicKeyBlob, sig, data)).toBe(false);
  });

  it('rejects trailing bytes after the signature and inside an ECDSA signature', () => {
    for (const k of ALL) {
      const alg = k.signatureAlgorithms[0]!;
      const sig = k.sign(alg, data);
      expect(verifySignature(alg, k.publicKeyBlob, Uint8Array.from([...sig, 0]), data)).toBe(false);
    }
    const [name, inner] = fields(p256.sign('ecdsa-sha2-nistp256', data));
    const padded = blobOf(name!, Uint8Array.from([...inner!, 0, 0, 0, 0]));
    expect(verifySignature('ecdsa-sha2-nistp256', p256.publicKeyBlob, padded, data)).toBe(false);
  });

  it('accepts ECDSA r and s with redundant leading zeros, as OpenSSH does', () => {
    const [name, inner] = fields(p256.sign('ecdsa-sha2-nistp256', data));
    const [r, s] = fields(inner!);
    const loose = new SshWriter()
      .string(Uint8Array.from([0, ...r!]))
      .string(Uint8Array.from([0, 0, ...s!]))
      .finish();
    expect(
      verifySignature('ecdsa-sha2-nistp256', p256.publicKeyBlob, blobOf(name!, loose), data),
    ).toBe(true);
  });

  it('rejects ECDSA r or s that is zero, negative or wider than the curve', () => {
    const [name, inner] = fields(p256.sign('ecdsa-sha2-nistp256', data));
    const [r, s] = fields(inner!);
    const bad = [
      [new Uint8Array(0), s!],
      [r!, Uint8Array.of(0)],
      [Uint8Array.of(0x80, ...r!.subarray(1)), s!],
      [Uint8Array.of(1, ...new Uint8Array(32)), s!],
    ];
    for (const [br, bs] of bad) {
      const sig = blobOf(name!, new SshWriter().string(br!).string(bs!).finish());
      expect(verifySignature('ecdsa-sha2-nistp256', p256.publicKeyBlob, sig, data)).toBe(false);
    }
  });

  it('pads a short RSA signature on the left and rejects a long one', () => {
    // Find a signature with a leading zero byte by signing varying data.
    let found = false;
    for (let i = 0; i < 2000 && !found; i++) {
      const msg = new TextEncoder().encode(`message ${i}`);
      const [name, sig] = fields(rsa.sign('rsa-sha2-256', msg));
      if (sig![0] !== 0) continue;
      found = true;
      const short = blobOf(name!, sig!.subarray(1));
      expect(verifySignature('rsa-sha2-256', rsa.publicKeyBlob, short, msg)).toBe(true);
    }
    expect(found).toBe(true);
    const [name, sig] = fields(rsa.sign('rsa-sha2-256', data));
    const long = blobOf(name!, Uint8Array.from([0, ...sig!]));
    expect(verifySignature('rsa-sha2-256', rsa.publicKeyBlob, long, data)).toBe(false);
  });

  it('rejects an Ed25519 signature that is not 64 bytes', () => {
    const [name, sig] = fields(ed.sign('ssh-ed25519', data));
    expect(
      verifySignature('ssh-ed25519', ed.publicKeyBlob, blobOf(name!, sig!.subarray(0, 63)), data),
    ).toBe(false);
    expect(
      verifySignature(
        'ssh-ed25519',
        ed.publicKeyBlob,
        blobOf(name!, Uint8Array.from([...sig!, 0])),
        data,
      ),
    ).toBe(false);
  });

  it('never throws on arbitrary signature or key bytes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-256', 'ssh-rsa', 'x'),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 300 }),
        (alg, key, sig) => {
          expect(verifySignature(alg, key, sig, data)).toBe(false);
        },
      ),
    );
  });
});

describe('fingerprintSha256', () => {
  it('is SHA256: and unpadded base64 of the blob digest', () => {
    const fp = fingerprintSha256(ed.publicKeyBlob);
    expect(fp).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

describe('publicKeyBlobOf', () => {
  it('rejects key types SSH does not use here', () => {
    expect(() => publicKeyBlobOf(generateKeyPairSync('x25519').publicKey)).toThrow(TypeError);
    expect(() =>
      publicKeyBlobOf(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey),
    ).toThrow(TypeError);
  });
});
