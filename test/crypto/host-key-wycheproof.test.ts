import { describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/crypto/host-key.js';
import { SshWriter } from '../../src/wire/writer.js';
import { hex, readVectors, type WycheproofFile, type WycheproofTest } from './kex-helpers.js';

type SigTest = WycheproofTest & { msg: string; sig: string };

function sshSignature(algorithm: string, signature: Uint8Array): Uint8Array {
  return new SshWriter().string(algorithm).string(signature).finish();
}

/** `valid` must verify, `invalid` must not; `acceptable` may go either way. */
function expectOutcome(t: SigTest, verified: boolean): void {
  if (t.result === 'valid') expect(verified, `tcId ${t.tcId} ${t.comment}`).toBe(true);
  if (t.result === 'invalid') expect(verified, `tcId ${t.tcId} ${t.comment}`).toBe(false);
}

describe('verifySignature against Wycheproof vectors wrapped in SSH blobs', () => {
  it('ssh-ed25519 (RFC 8709)', () => {
    const file = readVectors<WycheproofFile<{ publicKey: { pk: string } }>>(
      'wycheproof/ed25519_test.json',
    );
    let count = 0;
    for (const g of file.testGroups) {
      const blob = new SshWriter().string('ssh-ed25519').string(hex(g.publicKey.pk)).finish();
      for (const t of g.tests as SigTest[]) {
        const ok = verifySignature(
          'ssh-ed25519',
          blob,
          sshSignature('ssh-ed25519', hex(t.sig)),
          hex(t.msg),
        );
        expectOutcome(t, ok);
        count++;
      }
    }
    expect(count).toBeGreaterThan(100);
  });

  describe.each([
    {
      file: 'ecdsa_secp256r1_sha256_p1363_test.json',
      alg: 'ecdsa-sha2-nistp256',
      id: 'nistp256',
      width: 32,
    },
    {
      file: 'ecdsa_secp384r1_sha384_p1363_test.json',
      alg: 'ecdsa-sha2-nistp384',
      id: 'nistp384',
      width: 48,
    },
    {
      file: 'ecdsa_secp521r1_sha512_p1363_test.json',
      alg: 'ecdsa-sha2-nistp521',
      id: 'nistp521',
      width: 66,
    },
  ])('$alg (RFC 5656)', ({ file, alg, id, width }) => {
    const vectors = readVectors<WycheproofFile<{ publicKey: { uncompressed: string } }>>(
      `wycheproof/${file}`,
    );

    it('gives the Wycheproof verdict for every r ‖ s of the curve width', () => {
      let count = 0;
      for (const g of vectors.testGroups) {
        const blob = new SshWriter()
          .string(alg)
          .string(id)
          .string(hex(g.publicKey.uncompressed))
          .finish();
        for (const t of g.tests as SigTest[]) {
          const raw = hex(t.sig);
          // P1363 signatures of another length test the fixed-width encoding itself, which SSH
          // does not use (it carries r and s as mpints); they cannot be mapped to an SSH blob.
          if (raw.length !== 2 * width) continue;
          const inner = new SshWriter()
            .mpintUnsigned(raw.subarray(0, width))
            .mpintUnsigned(raw.subarray(width))
            .finish();
          expectOutcome(t, verifySignature(alg, blob, sshSignature(alg, inner), hex(t.msg)));
          count++;
        }
      }
      expect(count).toBeGreaterThan(50);
    });
  });

  describe.each([
    { file: 'rsa_signature_2048_sha256_test.json', alg: 'rsa-sha2-256', wrong: 'rsa-sha2-512' },
    { file: 'rsa_signature_2048_sha512_test.json', alg: 'rsa-sha2-512', wrong: 'rsa-sha2-256' },
  ])('$alg (RFC 8332)', ({ file, alg, wrong }) => {
    const vectors = readVectors<
      WycheproofFile<{ publicKey: { modulus: string; publicExponent: string } }>
    >(`wycheproof/${file}`);

    const blobOf = (g: (typeof vectors.testGroups)[number]) =>
      new SshWriter()
        .string('ssh-rsa')
        .mpintUnsigned(hex(g.publicKey.publicExponent))
        .mpintUnsigned(hex(g.publicKey.modulus))
        .finish();

    it('gives the Wycheproof verdict for every test', () => {
      let count = 0;
      for (const g of vectors.testGroups) {
        const blob = blobOf(g);
        for (const t of g.tests as SigTest[]) {
          expectOutcome(t, verifySignature(alg, blob, sshSignature(alg, hex(t.sig)), hex(t.msg)));
          count++;
        }
      }
      expect(count).toBeGreaterThan(50);
    });

    it('rejects a valid signature presented under the other hash', () => {
      const g = vectors.testGroups[0]!;
      const t = g.tests.find((x) => x.result === 'valid') as SigTest;
      const blob = blobOf(g);
      expect(verifySignature(alg, blob, sshSignature(alg, hex(t.sig)), hex(t.msg))).toBe(true);
      expect(verifySignature(wrong, blob, sshSignature(wrong, hex(t.sig)), hex(t.msg))).toBe(false);
      expect(
        verifySignature('ssh-rsa', blob, sshSignature('ssh-rsa', hex(t.sig)), hex(t.msg)),
      ).toBe(false);
      // The name inside the blob must be the algorithm asked for.
      expect(verifySignature(wrong, blob, sshSignature(alg, hex(t.sig)), hex(t.msg))).toBe(false);
      expect(verifySignature(alg, blob, sshSignature(wrong, hex(t.sig)), hex(t.msg))).toBe(false);
    });
  });
});
