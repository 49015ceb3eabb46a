import { describe, expect, it } from 'vitest';
import { chooseSignatureAlgorithm } from '../../src/auth/publickey.js';
import type { AuthRequest } from '../../src/auth/types.js';
import { hostKey } from '../helpers.js';
import { authPair, ended, errorCode, eventsOf, until } from './harness.js';

/** A server that accepts one key, recording each request it is asked about. */
function keyServer(blob: Uint8Array, seen: AuthRequest[]) {
  return {
    authMethods: ['publickey' as const],
    onAuth: (req: AuthRequest) => {
      seen.push(req);
      if (req.publicKey && Buffer.from(req.publicKey.blob).equals(Buffer.from(blob))) req.accept();
      else req.reject();
    },
  };
}

describe('chooseSignatureAlgorithm', () => {
  const rsa = ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  it('prefers rsa-sha2-512 when server-sig-algs lists it', () => {
    expect(
      chooseSignatureAlgorithm('ssh-rsa', rsa, ['ssh-ed25519', 'rsa-sha2-256', 'rsa-sha2-512']),
    ).toBe('rsa-sha2-512');
  });
  it('takes rsa-sha2-256 when the server lists only that', () => {
    expect(chooseSignatureAlgorithm('ssh-rsa', rsa, ['rsa-sha2-256', 'ssh-rsa'])).toBe(
      'rsa-sha2-256',
    );
  });
  it('tries rsa-sha2-512 when the server sent no server-sig-algs', () => {
    expect(chooseSignatureAlgorithm('ssh-rsa', rsa, undefined)).toBe('rsa-sha2-512');
  });
  it('never falls back to SHA-1 for a key that can do SHA-2', () => {
    expect(chooseSignatureAlgorithm('ssh-rsa', rsa, ['ssh-rsa'])).toBeUndefined();
  });
  it('signs ssh-rsa only for a key that offers nothing else', () => {
    expect(chooseSignatureAlgorithm('ssh-rsa', ['ssh-rsa'], ['rsa-sha2-512'])).toBe('ssh-rsa');
  });
  it("uses a non-RSA key's own algorithm", () => {
    expect(chooseSignatureAlgorithm('ssh-ed25519', ['ssh-ed25519'], ['rsa-sha2-512'])).toBe(
      'ssh-ed25519',
    );
  });
});

describe('server-sig-algs (RFC 8308 §3.1)', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const rsaPair = (extensions: Map<string, Uint8Array>, seen: AuthRequest[]) => {
    const key = hostKey('rsa');
    return authPair({
      clientExtensions: extensions,
      client: { username: 'alice', methods: [{ type: 'publickey', key }] },
      server: keyServer(key.publicKeyBlob, seen),
    });
  };

  it('signs with rsa-sha2-256 when the server lists only that', async () => {
    const seen: AuthRequest[] = [];
    const pair = rsaPair(new Map([['server-sig-algs', enc('ssh-ed25519,rsa-sha2-256')]]), seen);
    await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
    expect(seen.map((r) => r.publicKey?.algorithm)).toEqual(['rsa-sha2-256', 'rsa-sha2-256']);
  });

  it('tries rsa-sha2-512 when the server sent no server-sig-algs', async () => {
    const seen: AuthRequest[] = [];
    const pair = rsaPair(new Map(), seen);
    await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
    expect(seen.map((r) => r.publicKey?.algorithm)).toEqual(['rsa-sha2-512', 'rsa-sha2-512']);
  });

  it('skips an RSA key when the server lists only ssh-rsa: no SHA-1 signature', async () => {
    const seen: AuthRequest[] = [];
    const pair = rsaPair(new Map([['server-sig-algs', enc('ssh-ed25519,ssh-rsa')]]), seen);
    await until(pair, () => ended(pair));
    expect(seen).toEqual([]);
    expect(eventsOf(pair.clientEvents, 'auth-failure').map((e) => e.method)).toEqual(['publickey']);
    expect(errorCode(pair.client)).toBe('SSH_ERR_AUTH_FAILED');
  });
});
