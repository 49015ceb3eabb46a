import { describe, expect, it } from 'vitest';
import { encodeFailure, encodePkOk } from '../../src/auth/messages.js';
import {
  decodePublicKeyFields,
  decodeRequestHeader,
  encodePublicKeyRequest,
  publicKeySignedData,
} from '../../src/auth/request-messages.js';
import type { AuthRequest, Signer } from '../../src/auth/types.js';
import { fingerprintSha256, generatePrivateKey, sessionId } from '../../src/index.js';
import { hostKey } from '../helpers.js';
import {
  authPair,
  ended,
  errorCode,
  eventsOf,
  LINK_MODES,
  type RawLayer,
  requestSummary,
  until,
} from './harness.js';

type KeyKind = 'ed25519' | 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | 'rsa';

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

describe('publickey authentication', () => {
  const cases: [KeyKind, string][] = [
    ['ed25519', 'ssh-ed25519'],
    ['ecdsa-p256', 'ecdsa-sha2-nistp256'],
    ['ecdsa-p384', 'ecdsa-sha2-nistp384'],
    ['ecdsa-p521', 'ecdsa-sha2-nistp521'],
    ['rsa', 'rsa-sha2-512'],
  ];
  for (const [kind, algorithm] of cases) {
    it(`queries, gets PK_OK, then signs with ${algorithm} (${kind} key)`, async () => {
      const key = hostKey(kind);
      const seen: AuthRequest[] = [];
      const pair = authPair({
        client: { username: 'alice', methods: [{ type: 'publickey', key }] },
        server: keyServer(key.publicKeyBlob, seen),
      });
      await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
      expect(
        seen.map((r) => [
          r.method,
          r.hasSignature,
          r.publicKey?.algorithm,
          r.publicKey?.fingerprint,
        ]),
      ).toEqual([
        ['publickey', false, algorithm, fingerprintSha256(key.publicKeyBlob)],
        ['publickey', true, algorithm, fingerprintSha256(key.publicKeyBlob)],
      ]);
      expect(eventsOf(pair.serverEvents, 'authenticated')).toEqual([
        { type: 'authenticated', username: 'alice', method: 'publickey' },
      ]);
    });
  }

  for (const mode of LINK_MODES) {
    it(`completes with a signer answering asynchronously (${mode.name})`, async () => {
      const key = hostKey('ed25519');
      const signs: string[] = [];
      const signer: Signer = {
        publicKeyBlob: key.publicKeyBlob,
        signatureAlgorithms: key.signatureAlgorithms,
        sign: (req) => {
          signs.push(req.algorithm);
          setTimeout(() => req.complete(key.sign(req.algorithm, req.data)), 5);
        },
      };
      const pair = authPair({
        link: mode.link,
        client: { username: 'alice', methods: [{ type: 'publickey', signer }] },
        server: keyServer(key.publicKeyBlob, []),
      });
      await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
      expect(signs).toEqual(['ssh-ed25519']);
    });
  }

  it('signs with what the key offers: rsa-sha2-256 when the key has no rsa-sha2-512', async () => {
    const key = hostKey('rsa');
    const signer: Signer = {
      publicKeyBlob: key.publicKeyBlob,
      signatureAlgorithms: ['rsa-sha2-256'],
      sign: (req) => req.complete(key.sign(req.algorithm, req.data)),
    };
    const seen: AuthRequest[] = [];
    const pair = authPair({
      client: { username: 'alice', methods: [{ type: 'publickey', signer }] },
      server: keyServer(key.publicKeyBlob, seen),
    });
    await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
    expect(seen.map((r) => r.publicKey?.algorithm)).toEqual(['rsa-sha2-256', 'rsa-sha2-256']);
  });

  it('moves on when the signer fails', async () => {
    const key = hostKey('ed25519');
    const pair = authPair({
      client: {
        username: 'alice',
        methods: [
          {
            type: 'publickey',
            signer: {
              publicKeyBlob: key.publicKeyBlob,
              signatureAlgorithms: key.signatureAlgorithms,
              sign: (req) => req.fail('agent refused'),
            },
          },
          { type: 'password', password: 'pw' },
        ],
      },
      server: {
        onAuth: (req) =>
          req.method === 'publickey' || req.password === 'pw' ? req.accept() : req.reject(),
      },
    });
    await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
    expect(eventsOf(pair.clientEvents, 'authenticated')[0]?.method).toBe('password');
    expect(eventsOf(pair.clientEvents, 'auth-failure').map((e) => e.method)).toEqual(['publickey']);
  });

  it('rejects a signature blob that names another algorithm with SSH_ERR_USAGE', async () => {
    const key = hostKey('rsa');
    let thrown: unknown;
    const pair = authPair({
      client: {
        username: 'alice',
        methods: [
          {
            type: 'publickey',
            signer: {
              publicKeyBlob: key.publicKeyBlob,
              signatureAlgorithms: key.signatureAlgorithms,
              sign: (req) => {
                try {
                  req.complete(key.sign('rsa-sha2-256', req.data));
                } catch (e) {
                  thrown = e;
                  req.fail();
                }
              },
            },
          },
        ],
      },
      server: keyServer(key.publicKeyBlob, []),
    });
    await until(pair, () => ended(pair));
    expect(thrown).toMatchObject({ code: 'SSH_ERR_USAGE' });
    expect(errorCode(pair.client)).toBe('SSH_ERR_AUTH_FAILED');
  });

  it('refuses a bad signature without asking the application', async () => {
    const key = hostKey('ed25519');
    const seen: AuthRequest[] = [];
    const pair = authPair({
      client: {
        username: 'alice',
        methods: [
          {
            type: 'publickey',
            signer: {
              publicKeyBlob: key.publicKeyBlob,
              signatureAlgorithms: key.signatureAlgorithms,
              // Signs other data: a forged or replayed signature.
              sign: (req) => req.complete(key.sign(req.algorithm, req.data.subarray(1))),
            },
          },
        ],
      },
      server: keyServer(key.publicKeyBlob, seen),
    });
    await until(pair, () => ended(pair));
    expect(seen.map((r) => r.hasSignature)).toEqual([false]);
    expect(errorCode(pair.client)).toBe('SSH_ERR_AUTH_FAILED');
  });

  it('refuses a signature made for another session (replay) without asking', async () => {
    const key = hostKey('ed25519');
    const seen: AuthRequest[] = [];
    const pair = authPair({
      client: 'raw',
      server: keyServer(key.publicKeyBlob, seen),
      clientScript: (layer, pair) => {
        layer.onStart = () => {
          const data = publicKeySignedData(
            new Uint8Array(32),
            'alice',
            'ssh-ed25519',
            key.publicKeyBlob,
          );
          const sig = key.sign('ssh-ed25519', data);
          pair.sendFromClient(
            encodePublicKeyRequest('alice', 'ssh-ed25519', key.publicKeyBlob, sig),
          );
        };
      },
    });
    await until(pair, () => (pair.clientLayer as RawLayer).received.length > 0);
    expect((pair.clientLayer as RawLayer).received).toEqual([encodeFailure(['publickey'], false)]);
    expect(seen).toEqual([]);
  });

  it('accepts a signed request sent without a query first', async () => {
    const key = hostKey('ecdsa-p256');
    const seen: AuthRequest[] = [];
    const pair = authPair({
      client: 'raw',
      server: keyServer(key.publicKeyBlob, seen),
      clientScript: (layer, pair) => {
        layer.onStart = () => {
          const alg = 'ecdsa-sha2-nistp256';
          const data = publicKeySignedData(
            sessionId(pair.client)!,
            'alice',
            alg,
            key.publicKeyBlob,
          );
          pair.sendFromClient(
            encodePublicKeyRequest('alice', alg, key.publicKeyBlob, key.sign(alg, data)),
          );
        };
      },
    });
    await until(pair, () => (pair.clientLayer as RawLayer).received.length > 0);
    expect((pair.clientLayer as RawLayer).received).toEqual([Uint8Array.of(52)]);
    expect(seen.map((r) => r.hasSignature)).toEqual([true]);
  });

  it('refuses ssh-rsa (SHA-1) signatures and algorithm/key mismatches without asking', async () => {
    const rsa = hostKey('rsa');
    const ed = hostKey('ed25519');
    const seen: AuthRequest[] = [];
    const pair = authPair({
      client: 'raw',
      server: { ...keyServer(rsa.publicKeyBlob, seen), maxAuthAttempts: 10 },
      clientScript: (layer, pair) => {
        layer.onStart = () => {
          pair.sendFromClient(encodePublicKeyRequest('alice', 'ssh-rsa', rsa.publicKeyBlob));
          pair.sendFromClient(encodePublicKeyRequest('alice', 'ssh-ed25519', rsa.publicKeyBlob));
          pair.sendFromClient(encodePublicKeyRequest('alice', 'rsa-sha2-256', ed.publicKeyBlob));
          pair.sendFromClient(encodePublicKeyRequest('alice', 'ssh-ed25519', Uint8Array.of(1, 2)));
        };
      },
    });
    await until(pair, () => (pair.clientLayer as RawLayer).received.length >= 4);
    const failure = encodeFailure(['publickey'], false);
    expect((pair.clientLayer as RawLayer).received).toEqual([failure, failure, failure, failure]);
    expect(seen).toEqual([]);
  });

  it('answers an accepted query with PK_OK echoing the algorithm and blob', async () => {
    const key = hostKey('ecdsa-p384');
    const pair = authPair({
      client: 'raw',
      server: keyServer(key.publicKeyBlob, []),
      clientScript: (layer, pair) => {
        layer.onStart = () =>
          pair.sendFromClient(
            encodePublicKeyRequest('alice', 'ecdsa-sha2-nistp384', key.publicKeyBlob),
          );
      },
    });
    await until(pair, () => (pair.clientLayer as RawLayer).received.length > 0);
    expect((pair.clientLayer as RawLayer).received).toEqual([
      encodePkOk('ecdsa-sha2-nistp384', key.publicKeyBlob),
    ]);
  });

  it('ends the session when PK_OK names a key the client did not offer', async () => {
    const key = hostKey('ed25519');
    const other = generatePrivateKey('ed25519');
    const pair = authPair({
      client: { username: 'alice', methods: [{ type: 'publickey', key }] },
      server: 'raw',
      serverScript: (layer, pair) => {
        layer.onMessage = () => pair.sendFromServer(encodePkOk('ssh-ed25519', other.publicKeyBlob));
      },
    });
    await until(pair, () => ended(pair));
    expect(errorCode(pair.client)).toBe('SSH_ERR_UNEXPECTED_MESSAGE');
  });

  it('signs exactly the RFC 4252 §7 data over the session identifier', async () => {
    const key = hostKey('ed25519');
    let signed: Uint8Array | undefined;
    const requests: Uint8Array[] = [];
    const pair = authPair({
      client: {
        username: 'zoë',
        methods: [
          {
            type: 'publickey',
            signer: {
              publicKeyBlob: key.publicKeyBlob,
              signatureAlgorithms: key.signatureAlgorithms,
              sign: (req) => {
                signed = req.data;
                req.complete(key.sign(req.algorithm, req.data));
              },
            },
          },
        ],
      },
      server: 'raw',
      serverScript: (layer, pair) => {
        layer.onMessage = (_t, payload) => {
          requests.push(payload.slice());
          pair.sendFromServer(
            requests.length === 1
              ? encodePkOk('ssh-ed25519', key.publicKeyBlob)
              : Uint8Array.of(52),
          );
        };
      },
    });
    await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
    expect(signed).toEqual(
      publicKeySignedData(sessionId(pair.client)!, 'zoë', 'ssh-ed25519', key.publicKeyBlob),
    );
    expect(requests.map(requestSummary)).toEqual([
      { user: 'zoë', method: 'publickey' },
      { user: 'zoë', method: 'publickey' },
    ]);
    const fields = decodePublicKeyFields(decodeRequestHeader(requests[1]!).reader);
    expect(fields.signature).toEqual(key.sign('ssh-ed25519', signed!));
  });
});
