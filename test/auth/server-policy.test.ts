import { describe, expect, it } from 'vitest';
import { encodeFailure } from '../../src/auth/messages.js';
import { encodeNoneRequest, encodePasswordRequest } from '../../src/auth/request-messages.js';
import type { AuthRequest } from '../../src/auth/types.js';
import { sessionDisconnect, sessionRekey } from '../../src/index.js';
import { hostKey } from '../helpers.js';
import {
  authPair,
  ended,
  errorCode,
  eventsOf,
  LINK_MODES,
  type RawLayer,
  until,
} from './harness.js';

describe('server policy', () => {
  for (const mode of LINK_MODES) {
    it(`supports partial success: publickey, then password (${mode.name})`, async () => {
      const key = hostKey('ed25519');
      const seen: string[] = [];
      const pair = authPair({
        link: mode.link,
        client: {
          username: 'alice',
          methods: [
            { type: 'publickey', key },
            { type: 'password', password: 'pw' },
          ],
        },
        server: {
          authMethods: ['publickey'],
          onAuth: (req) => {
            seen.push(`${req.method} ${req.hasSignature ?? ''} [${req.completedMethods.join()}]`);
            if (req.method === 'publickey') {
              if (!req.hasSignature) return req.accept();
              return req.acceptPartially(['password']);
            }
            if (req.completedMethods.includes('publickey') && req.password === 'pw') req.accept();
            else req.reject();
          },
        },
      });
      await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
      expect(seen).toEqual(['publickey false []', 'publickey true []', 'password  [publickey]']);
      expect(eventsOf(pair.clientEvents, 'auth-failure')).toEqual([
        {
          type: 'auth-failure',
          method: 'publickey',
          partialSuccess: true,
          methodsLeft: ['password'],
        },
      ]);
      expect(eventsOf(pair.clientEvents, 'authenticated')[0]?.method).toBe('password');
    });
  }

  it('retries a refused method after a partial success changed the list', async () => {
    const key = hostKey('ed25519');
    const pair = authPair({
      client: {
        username: 'alice',
        methods: [
          { type: 'password', password: 'pw' },
          { type: 'publickey', key },
        ],
      },
      server: {
        authMethods: ['publickey'],
        onAuth: (req) => {
          if (req.method === 'publickey')
            return req.hasSignature ? req.acceptPartially(['password']) : req.accept();
          req.accept();
        },
      },
    });
    await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
    expect(
      eventsOf(pair.clientEvents, 'auth-failure').map((e) => [e.method, e.partialSuccess]),
    ).toEqual([
      ['password', false],
      ['publickey', true],
    ]);
  });

  it('sends the banner before its first reply', async () => {
    const pair = authPair({
      client: {
        username: 'alice',
        methods: [{ type: 'none' }, { type: 'password', password: 'pw' }],
      },
      server: { banner: 'Authorized use only.\r\n', onAuth: (req) => req.accept() },
    });
    await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
    const types = pair.clientEvents.map((e) => e.type).filter((t) => t.startsWith('auth'));
    expect(types).toEqual(['auth-banner', 'auth-failure', 'authenticated']);
    expect(eventsOf(pair.clientEvents, 'auth-banner')[0]?.message).toBe('Authorized use only.\r\n');
  });

  it('waits for an answer given later (asynchronous onAuth)', async () => {
    const pair = authPair({
      link: { delivery: 'deferred' },
      client: { username: 'alice', methods: [{ type: 'password', password: 'pw' }] },
      server: {
        onAuth: (req, session) => {
          expect(session).toBeDefined();
          setTimeout(() => (req.password === 'pw' ? req.accept() : req.reject()), 20);
        },
      },
    });
    await until(pair, () => eventsOf(pair.serverEvents, 'authenticated').length > 0);
    expect(eventsOf(pair.clientEvents, 'authenticated')).toHaveLength(1);
  });

  it('holds its answer while a key re-exchange runs, then completes', async () => {
    const held: AuthRequest[] = [];
    const pair = authPair({
      link: { delivery: 'deferred' },
      client: { username: 'alice', methods: [{ type: 'password', password: 'pw' }] },
      server: { onAuth: (req) => held.push(req) },
    });
    await until(pair, () => held.length === 1);
    expect(sessionRekey(pair.server)).toBe(true);
    held[0]!.accept(); // SUCCESS waits for our NEWKEYS
    await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
    const types = pair.clientEvents.map((e) => e.type);
    expect(types.indexOf('rekey-complete')).toBeGreaterThan(-1);
    expect(types.indexOf('rekey-started')).toBeLessThan(types.indexOf('authenticated'));
  });

  it('makes an unanswered request stale when a new one arrives, and counts it as failed', async () => {
    const held: AuthRequest[] = [];
    const pair = authPair({
      client: 'raw',
      server: { maxAuthAttempts: 2, onAuth: (req) => held.push(req) },
      clientScript: (layer, pair) => {
        layer.onStart = () => {
          pair.sendFromClient(encodePasswordRequest('alice', 'first'));
          pair.sendFromClient(encodePasswordRequest('alice', 'second'));
        };
      },
    });
    await until(pair, () => held.length === 2);
    held[0]!.accept(); // stale: ignored
    expect(() => held[0]!.reject()).toThrow(expect.objectContaining({ code: 'SSH_ERR_USAGE' }));
    await pair.settle();
    expect((pair.clientLayer as RawLayer).received).toEqual([]);
    held[1]!.reject(); // the second failure reaches maxAuthAttempts = 2
    await until(pair, () => ended(pair));
    expect(errorCode(pair.server)).toBe('SSH_ERR_AUTH_ATTEMPTS_EXCEEDED');
  });

  it('throws SSH_ERR_USAGE when a request is answered twice, ignores answers after the end', async () => {
    const held: AuthRequest[] = [];
    const pair = authPair({
      link: { delivery: 'deferred' },
      client: { username: 'alice', methods: [{ type: 'password', password: 'pw' }] },
      server: { onAuth: (req) => held.push(req) },
    });
    await until(pair, () => held.length === 1);
    sessionDisconnect(pair.server);
    await until(pair, () => ended(pair));
    expect(() => held[0]!.accept()).not.toThrow();
    expect(() => held[0]!.reject()).toThrow(expect.objectContaining({ code: 'SSH_ERR_USAGE' }));
  });

  it('rejects nonsense partial-success lists and partial acceptance of a query', async () => {
    const key = hostKey('ed25519');
    const errors: string[] = [];
    const pair = authPair({
      client: { username: 'alice', methods: [{ type: 'publickey', key }] },
      server: {
        onAuth: (req) => {
          if (req.hasSignature) return req.accept();
          for (const next of [[], ['none'], ['password']] as never[][]) {
            try {
              req.acceptPartially(next);
            } catch (e) {
              errors.push((e as { code: string }).code);
            }
          }
          req.accept();
        },
      },
    });
    await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
    // [] and ['none'] are invalid; ['password'] is valid but the first request is a query.
    expect(errors).toEqual(['SSH_ERR_USAGE', 'SSH_ERR_USAGE', 'SSH_ERR_USAGE']);
  });

  it('flushes partial success when the user name changes (RFC 4252 §5)', async () => {
    const completed: string[][] = [];
    const pair = authPair({
      client: 'raw',
      server: {
        onAuth: (req) => {
          completed.push([...req.completedMethods]);
          if (req.username === 'alice') req.acceptPartially(['password']);
          else req.reject();
        },
      },
      clientScript: (layer, pair) => {
        layer.onStart = () => pair.sendFromClient(encodePasswordRequest('alice', 'x'));
        layer.onMessage = () => {
          if (layer.received.length === 1) pair.sendFromClient(encodePasswordRequest('root', 'x'));
        };
      },
    });
    await until(pair, () => (pair.clientLayer as RawLayer).received.length >= 2);
    expect(completed).toEqual([[], []]);
    expect((pair.clientLayer as RawLayer).received).toEqual([
      encodeFailure(['password'], true),
      encodeFailure(['publickey', 'password'], false),
    ]);
  });

  it('rejects an invalid server configuration with SSH_ERR_USAGE', () => {
    for (const server of [
      { authMethods: ['none'] },
      { maxAuthAttempts: 0 },
      { banner: 'x'.repeat(17 * 1024) },
      { onAuth: 'yes' },
    ]) {
      expect(() => authPair({ client: 'raw', server: server as never })).toThrow(
        expect.objectContaining({ code: 'SSH_ERR_USAGE' }),
      );
    }
  });

  it('rejects an invalid client configuration with SSH_ERR_USAGE', () => {
    for (const client of [
      { username: 'a', methods: [] },
      { username: 1, methods: [{ type: 'none' }] },
      { username: 'a', methods: [{ type: 'hostbased' }] },
      { username: 'a', methods: [{ type: 'password' }] },
      {
        username: 'a',
        methods: [
          {
            type: 'publickey',
            signer: { publicKeyBlob: new Uint8Array(3), signatureAlgorithms: ['x'], sign() {} },
          },
        ],
      },
    ]) {
      expect(() => authPair({ client: client as never, server: {} })).toThrow(
        expect.objectContaining({ code: 'SSH_ERR_USAGE' }),
      );
    }
  });

  it('answers "none" from a raw client with the list and does not ask', async () => {
    let asked = 0;
    const pair = authPair({
      client: 'raw',
      server: {
        authMethods: ['keyboard-interactive', 'publickey'],
        onAuth: () => asked++,
      },
      clientScript: (layer, pair) => {
        layer.onStart = () => pair.sendFromClient(encodeNoneRequest('alice'));
      },
    });
    await until(pair, () => (pair.clientLayer as RawLayer).received.length > 0);
    expect((pair.clientLayer as RawLayer).received).toEqual([
      encodeFailure(['keyboard-interactive', 'publickey'], false),
    ]);
    expect(asked).toBe(0);
  });

  it('counts every "none" after the first, so a raw client cannot send them forever', async () => {
    const pair = authPair({
      client: 'raw',
      server: { authMethods: ['password'], maxAuthAttempts: 3, onAuth: (r) => r.reject() },
      clientScript: (layer, pair) => {
        layer.onStart = () => {
          for (let i = 0; i < 10; i++) pair.sendFromClient(encodeNoneRequest('alice'));
        };
      },
    });
    await until(pair, () => ended(pair));
    expect(errorCode(pair.server)).toBe('SSH_ERR_AUTH_ATTEMPTS_EXCEEDED');
    // The first is free; three more reach the limit of 3.
    expect((pair.clientLayer as RawLayer).received.length).toBe(3);
  });
});
