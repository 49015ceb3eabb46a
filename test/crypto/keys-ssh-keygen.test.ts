/**
 * Interop with OpenSSH's ssh-keygen: keys it writes in every format parse to the same public
 * blob and fingerprint, its SSHSIG signatures verify with verifySignature, and it accepts
 * SSHSIG signatures made with our sign().
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashOf } from '../../src/crypto/hash.js';
import { fingerprintSha256, verifySignature } from '../../src/crypto/host-key.js';
import { type PrivateKey, parsePrivateKey, parsePublicKey } from '../../src/crypto/keys.js';
import { SshReader } from '../../src/wire/reader.js';
import { SshWriter } from '../../src/wire/writer.js';
import { toHex } from './kex-helpers.js';

const SSH_KEYGEN = '/usr/bin/ssh-keygen';

interface KeyCase {
  name: string;
  args: string[];
  type: string;
  passphrase?: string;
}

const CASES: KeyCase[] = [
  { name: 'ed25519', args: ['-t', 'ed25519'], type: 'ssh-ed25519' },
  { name: 'ecdsa256', args: ['-t', 'ecdsa', '-b', '256'], type: 'ecdsa-sha2-nistp256' },
  { name: 'ecdsa384', args: ['-t', 'ecdsa', '-b', '384'], type: 'ecdsa-sha2-nistp384' },
  { name: 'ecdsa521', args: ['-t', 'ecdsa', '-b', '521'], type: 'ecdsa-sha2-nistp521' },
  { name: 'rsa3072', args: ['-t', 'rsa', '-b', '3072'], type: 'ssh-rsa' },
  { name: 'ed25519-pass', args: ['-t', 'ed25519'], type: 'ssh-ed25519', passphrase: 'secret' },
  {
    name: 'ecdsa256-pass',
    args: ['-t', 'ecdsa', '-b', '256'],
    type: 'ecdsa-sha2-nistp256',
    passphrase: 'secret',
  },
  {
    name: 'ecdsa256-pem',
    args: ['-t', 'ecdsa', '-b', '256', '-m', 'PEM'],
    type: 'ecdsa-sha2-nistp256',
  },
  {
    name: 'ecdsa521-pem-pass',
    args: ['-t', 'ecdsa', '-b', '521', '-m', 'PEM'],
    type: 'ecdsa-sha2-nistp521',
    passphrase: 'secret',
  },
  {
    name: 'ecdsa384-pkcs8',
    args: ['-t', 'ecdsa', '-b', '384', '-m', 'PKCS8'],
    type: 'ecdsa-sha2-nistp384',
  },
  { name: 'rsa-pem', args: ['-t', 'rsa', '-b', '2048', '-m', 'PEM'], type: 'ssh-rsa' },
  {
    name: 'rsa-pem-pass',
    args: ['-t', 'rsa', '-b', '2048', '-m', 'PEM'],
    type: 'ssh-rsa',
    passphrase: 'secret',
  },
  {
    name: 'rsa-pkcs8-pass',
    args: ['-t', 'rsa', '-b', '2048', '-m', 'PKCS8'],
    type: 'ssh-rsa',
    passphrase: 'secret',
  },
];

const HAVE_SSH_KEYGEN = existsSync(SSH_KEYGEN);
let dir = '';

function keyPath(c: KeyCase): string {
  return join(dir, c.name);
}

function load(c: KeyCase): PrivateKey {
  return parsePrivateKey(readFileSync(keyPath(c), 'utf8'), c.passphrase);
}

beforeAll(() => {
  // A missing ssh-keygen (openssh-client) fails these tests; it never skips them.
  if (!HAVE_SSH_KEYGEN) throw new Error(`${SSH_KEYGEN} is missing: install openssh-client`);
  dir = mkdtempSync(join(tmpdir(), 'pluggable-ssh-keys-'));
  for (const c of CASES) {
    execFileSync(SSH_KEYGEN, [
      '-q',
      ...c.args,
      '-N',
      c.passphrase ?? '',
      '-C',
      `test ${c.name}`,
      '-f',
      keyPath(c),
    ]);
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('keys written by ssh-keygen', () => {
  it('come in the formats the test means to cover', () => {
    const head = (c: KeyCase) => readFileSync(keyPath(c), 'utf8').split('\n')[0];
    expect(head(CASES[0]!)).toBe('-----BEGIN OPENSSH PRIVATE KEY-----');
    expect(head(CASES.find((c) => c.name === 'ecdsa256-pem')!)).toBe(
      '-----BEGIN EC PRIVATE KEY-----',
    );
    expect(head(CASES.find((c) => c.name === 'ecdsa384-pkcs8')!)).toBe(
      '-----BEGIN PRIVATE KEY-----',
    );
    expect(head(CASES.find((c) => c.name === 'rsa-pem')!)).toBe('-----BEGIN RSA PRIVATE KEY-----');
    expect(head(CASES.find((c) => c.name === 'rsa-pkcs8-pass')!)).toBe(
      '-----BEGIN ENCRYPTED PRIVATE KEY-----',
    );
    expect(readFileSync(keyPath(CASES.find((c) => c.name === 'rsa-pem-pass')!), 'utf8')).toMatch(
      /Proc-Type: 4,ENCRYPTED/,
    );
  });

  it.each(CASES)('$name parses to the public key of its .pub file', (c) => {
    const key = load(c);
    const pub = parsePublicKey(readFileSync(`${keyPath(c)}.pub`, 'utf8'));
    expect(key.type).toBe(c.type);
    expect(pub.type).toBe(c.type);
    expect(pub.comment).toBe(`test ${c.name}`);
    expect(toHex(key.publicKeyBlob)).toBe(toHex(pub.blob));
  });

  it.each(CASES)('$name parses from bytes as well as text', (c) => {
    const key = parsePrivateKey(new Uint8Array(readFileSync(keyPath(c))), c.passphrase);
    expect(toHex(key.publicKeyBlob)).toBe(toHex(load(c).publicKeyBlob));
  });

  it.each(CASES)('$name has the fingerprint ssh-keygen -l prints', (c) => {
    const out = execFileSync(SSH_KEYGEN, ['-lf', `${keyPath(c)}.pub`], { encoding: 'utf8' });
    const fp = out.split(' ')[1];
    expect(fingerprintSha256(parsePublicKey(readFileSync(`${keyPath(c)}.pub`, 'utf8')).blob)).toBe(
      fp,
    );
  });

  it.each(CASES.filter((c) => c.passphrase !== undefined))(
    '$name is refused without or with the wrong passphrase',
    (c) => {
      const text = readFileSync(keyPath(c), 'utf8');
      expect(() => parsePrivateKey(text)).toThrow(TypeError);
      expect(() => parsePrivateKey(text)).toThrow(/passphrase/);
      expect(() => parsePrivateKey(text, 'wrong')).toThrow(TypeError);
    },
  );

  it('names a wrong OpenSSH passphrase in the error', () => {
    const c = CASES.find((x) => x.name === 'ed25519-pass')!;
    expect(() => parsePrivateKey(readFileSync(keyPath(c), 'utf8'), 'wrong')).toThrow(/passphrase/);
  });
});

// SSHSIG (OpenSSH PROTOCOL.sshsig): the signed data is
// "SSHSIG" ‖ string namespace ‖ string reserved ‖ string hash_algorithm ‖ string H(message).
const MAGIC = new TextEncoder().encode('SSHSIG');
const NAMESPACE = 'file';

function sshsigSignedData(message: Uint8Array, hashAlg: 'sha256' | 'sha512'): Uint8Array {
  return new SshWriter()
    .raw(MAGIC)
    .string(NAMESPACE)
    .string('')
    .string(hashAlg)
    .string(hashOf(hashAlg, message))
    .finish();
}

function armor(blob: Uint8Array): string {
  const b64 = Buffer.from(blob).toString('base64').replace(/.{70}/g, '$&\n');
  return `-----BEGIN SSH SIGNATURE-----\n${b64}\n-----END SSH SIGNATURE-----\n`;
}

function unarmor(text: string): Uint8Array {
  const b64 = text.replace(/-----(BEGIN|END) SSH SIGNATURE-----/g, '').replace(/\s/g, '');
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

const SIGNING = CASES.filter((c) => c.passphrase === undefined && !c.args.includes('-m'));

describe('signatures exchanged with ssh-keygen -Y (SSHSIG)', () => {
  const message = new TextEncoder().encode('a message signed by both implementations\n');

  it.each(SIGNING)('$name: an ssh-keygen signature verifies with verifySignature', (c) => {
    const msgPath = join(dir, `${c.name}.msg`);
    writeFileSync(msgPath, message);
    execFileSync(SSH_KEYGEN, ['-q', '-Y', 'sign', '-f', keyPath(c), '-n', NAMESPACE, msgPath], {
      stdio: 'pipe',
    });
    const r = new SshReader(unarmor(readFileSync(`${msgPath}.sig`, 'utf8')));
    expect(new TextDecoder().decode(r.raw(6))).toBe('SSHSIG');
    expect(r.uint32()).toBe(1);
    const publicKey = r.string();
    expect(r.ascii()).toBe(NAMESPACE);
    r.string();
    const hashAlg = r.ascii() as 'sha256' | 'sha512';
    const signature = r.string();
    r.finish();
    expect(toHex(publicKey)).toBe(toHex(load(c).publicKeyBlob));
    const alg = new SshReader(signature).ascii();
    const signed = sshsigSignedData(message, hashAlg);
    expect(verifySignature(alg, publicKey, signature, signed)).toBe(true);
    const tampered = sshsigSignedData(new TextEncoder().encode('another message'), hashAlg);
    expect(verifySignature(alg, publicKey, signature, tampered)).toBe(false);
  });

  it.each(SIGNING)('$name: ssh-keygen accepts signatures made with sign()', (c) => {
    const key = load(c);
    for (const alg of key.signatureAlgorithms.filter((a) => a !== 'ssh-rsa')) {
      const signature = key.sign(alg, sshsigSignedData(message, 'sha512'));
      const blob = new SshWriter()
        .raw(MAGIC)
        .uint32(1)
        .string(key.publicKeyBlob)
        .string(NAMESPACE)
        .string('')
        .string('sha512')
        .string(signature)
        .finish();
      const sigPath = join(dir, `${c.name}.${alg}.ours.sig`);
      writeFileSync(sigPath, armor(blob));
      const check = spawnSync(
        SSH_KEYGEN,
        ['-Y', 'check-novalidate', '-n', NAMESPACE, '-s', sigPath],
        {
          input: message,
          encoding: 'utf8',
        },
      );
      expect(check.status, `${alg}: ${check.stdout}${check.stderr}`).toBe(0);
      const forged = spawnSync(
        SSH_KEYGEN,
        ['-Y', 'check-novalidate', '-n', NAMESPACE, '-s', sigPath],
        {
          input: 'another message',
          encoding: 'utf8',
        },
      );
      expect(forged.status).not.toBe(0);
    }
  });
});
