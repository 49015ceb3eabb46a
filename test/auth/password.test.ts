import { describe, expect, it } from 'vitest';
import {
  encodeFailure,
  encodePasswordChangeRequest,
  encodeSuccess,
} from '../../src/auth/messages.js';
import { encodePasswordRequest } from '../../src/auth/request-messages.js';
import type { AuthRequest, PasswordRequest } from '../../src/auth/types.js';
import { DISCONNECT_REASON, sessionState } from '../../src/index.js';
import { SshReader } from '../../src/wire/reader.js';
import {
  authPair,
  disconnectReason,
  ended,
  errorCode,
  eventsOf,
  LINK_MODES,
  requestSummary,
  until,
} from './harness.js';

function passwordServer(expected: string, seen: AuthRequest[] = []) {
  return {
    onAuth: (req: AuthRequest) => {
      seen.push(req);
      if (req.method === 'password' && req.password === expected) req.accept();
      else req.reject();
    },
  };
}

describe('password authentication', () => {
  for (const mode of LINK_MODES) {
    it(`authenticates with the right password (${mode.name})`, async () => {
      const seen: AuthRequest[] = [];
      const pair = authPair({
        link: mode.link,
        client: { username: 'alice', methods: [{ type: 'password', password: 'pässword' }] },
        server: passwordServer('pässword', seen),
      });
      await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
      expect(seen.map((r) => [r.username, r.method, r.password])).toEqual([
        ['alice', 'password', 'pässword'],
      ]);
      expect(eventsOf(pair.clientEvents, 'authenticated')).toEqual([
        { type: 'authenticated', username: 'alice', method: 'password' },
      ]);
      expect(eventsOf(pair.serverEvents, 'authenticated')).toEqual([
        { type: 'authenticated', username: 'alice', method: 'password' },
      ]);
      expect(pair.serverLayer).toMatchObject({ successes: ['alice'] });
      expect(sessionState(pair.client)).toBe('established');
      expect(sessionState(pair.server)).toBe('established');
    });
  }

  it('ends the client with SSH_ERR_AUTH_FAILED and reason 14 when the password is wrong', async () => {
    const pair = authPair({
      client: { username: 'alice', methods: [{ type: 'password', password: 'wrong' }] },
      server: passwordServer('right'),
    });
    await until(pair, () => ended(pair));
    expect(eventsOf(pair.clientEvents, 'auth-failure')).toEqual([
      {
        type: 'auth-failure',
        method: 'password',
        partialSuccess: false,
        methodsLeft: ['publickey', 'password'],
      },
    ]);
    expect(errorCode(pair.client)).toBe('SSH_ERR_AUTH_FAILED');
    expect(disconnectReason(pair.serverEvents)).toBe(
      DISCONNECT_REASON.NO_MORE_AUTH_METHODS_AVAILABLE,
    );
  });

  it('ends the session with SSH_ERR_AUTH_ATTEMPTS_EXCEEDED after maxAuthAttempts failures', async () => {
    let asked = 0;
    const pair = authPair({
      client: {
        username: 'mallory',
        methods: Array.from({ length: 10 }, (_, i) => ({
          type: 'password',
          password: `guess${i}`,
        })),
      },
      server: {
        maxAuthAttempts: 3,
        onAuth: (req) => {
          asked++;
          req.reject();
        },
      },
    });
    await until(pair, () => ended(pair));
    expect(asked).toBe(3);
    expect(errorCode(pair.server)).toBe('SSH_ERR_AUTH_ATTEMPTS_EXCEEDED');
    expect(disconnectReason(pair.clientEvents)).toBe(14);
    expect(errorCode(pair.client)).toBe('SSH_ERR_PEER_DISCONNECTED');
    // Two FAILUREs, then the third attempt ends the session instead (like sshd's MaxAuthTries).
    expect(eventsOf(pair.clientEvents, 'auth-failure')).toHaveLength(2);
  });

  it('defaults to six attempts and does not count "none"', async () => {
    let asked = 0;
    const pair = authPair({
      client: {
        username: 'mallory',
        methods: [
          { type: 'none' },
          ...Array.from({ length: 10 }, (_, i) => ({
            type: 'password' as const,
            password: `${i}`,
          })),
        ],
      },
      server: {
        onAuth: (req) => {
          asked++;
          req.reject();
        },
      },
    });
    await until(pair, () => ended(pair));
    expect(asked).toBe(6);
    expect(eventsOf(pair.clientEvents, 'auth-failure').map((e) => e.method)).toEqual([
      'none',
      'password',
      'password',
      'password',
      'password',
      'password',
    ]);
  });

  it('answers "none" with the methods that can continue, then uses one of them', async () => {
    const pair = authPair({
      client: {
        username: 'bob',
        methods: [{ type: 'none' }, { type: 'password', password: 'pw' }],
      },
      server: { authMethods: ['password'], ...passwordServer('pw') },
    });
    await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
    expect(eventsOf(pair.clientEvents, 'auth-failure')).toEqual([
      { type: 'auth-failure', method: 'none', partialSuccess: false, methodsLeft: ['password'] },
    ]);
  });

  it('skips methods the server does not list', async () => {
    const prompted: string[] = [];
    const pair = authPair({
      client: {
        username: 'bob',
        methods: [
          { type: 'none' },
          { type: 'keyboard-interactive', onPrompt: () => prompted.push('kbd') },
          { type: 'password', password: 'pw' },
        ],
      },
      server: passwordServer('pw'),
    });
    await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
    expect(prompted).toEqual([]);
  });

  it('refuses every attempt with an empty list when the server has no onAuth', async () => {
    const pair = authPair({
      client: { username: 'bob', methods: [{ type: 'password', password: 'pw' }] },
      server: {},
    });
    await until(pair, () => ended(pair));
    expect(eventsOf(pair.clientEvents, 'auth-failure')[0]?.methodsLeft).toEqual([]);
    expect(errorCode(pair.client)).toBe('SSH_ERR_AUTH_FAILED');
  });

  it('asks onPassword and accepts an answer given later', async () => {
    const pair = authPair({
      link: { delivery: 'deferred' },
      client: {
        username: 'carol',
        methods: [
          {
            type: 'password',
            onPassword: (req, session) => {
              expect(req.prompt).toBeUndefined();
              expect(session).toBeDefined();
              setTimeout(() => req.answer('later'), 10);
            },
          },
        ],
      },
      server: passwordServer('later'),
    });
    await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
  });

  it('moves to the next method when onPassword is cancelled', async () => {
    const pair = authPair({
      client: {
        username: 'carol',
        methods: [
          { type: 'password', onPassword: (req) => req.cancel() },
          { type: 'password', password: 'pw' },
        ],
      },
      server: passwordServer('pw'),
    });
    await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
    expect(eventsOf(pair.clientEvents, 'auth-failure')).toEqual([
      { type: 'auth-failure', method: 'password', partialSuccess: false, methodsLeft: [] },
    ]);
  });

  it('throws SSH_ERR_USAGE when a password request is answered twice', async () => {
    let thrown: unknown;
    const pair = authPair({
      client: {
        username: 'carol',
        methods: [
          {
            type: 'password',
            onPassword: (req: PasswordRequest) => {
              req.answer('pw');
              try {
                req.answer('again');
              } catch (e) {
                thrown = e;
              }
            },
          },
        ],
      },
      server: passwordServer('pw'),
    });
    await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
    expect(thrown).toMatchObject({ code: 'SSH_ERR_USAGE' });
  });

  it('answers a password change request with the old and the new password', async () => {
    const requests: Uint8Array[] = [];
    const prompts: (string | undefined)[] = [];
    const pair = authPair({
      client: {
        username: 'dave',
        methods: [
          {
            type: 'password',
            onPassword: (req) => {
              prompts.push(req.prompt);
              req.answer(req.prompt === undefined ? 'old' : 'new');
            },
          },
        ],
      },
      server: 'raw',
      serverScript: (layer, pair) => {
        layer.onMessage = (_type, payload) => {
          requests.push(payload.slice());
          pair.sendFromServer(
            requests.length === 1 ? encodePasswordChangeRequest('expired') : encodeSuccess(),
          );
        };
      },
    });
    await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
    expect(prompts).toEqual([undefined, 'expired']);
    const r = new SshReader(requests[1]!);
    r.byte();
    expect([r.utf8(), r.ascii(), r.ascii(), r.bool(), r.utf8(), r.utf8()]).toEqual([
      'dave',
      'ssh-connection',
      'password',
      true,
      'old',
      'new',
    ]);
  });

  it('gives up a fixed password when the server demands a change', async () => {
    const methods: string[] = [];
    const pair = authPair({
      client: { username: 'dave', methods: [{ type: 'password', password: 'old' }] },
      server: 'raw',
      serverScript: (layer, pair) => {
        layer.onMessage = (_type, payload) => {
          methods.push(requestSummary(payload).method);
          pair.sendFromServer(encodePasswordChangeRequest('expired'));
        };
      },
    });
    await until(pair, () => ended(pair));
    expect(methods).toEqual(['password']);
    expect(errorCode(pair.client)).toBe('SSH_ERR_AUTH_FAILED');
  });

  it('refuses a password change request on the server without asking the application', async () => {
    let asked = 0;
    const pair = authPair({
      client: 'raw',
      server: {
        onAuth: (req) => {
          asked++;
          req.accept();
        },
      },
      clientScript: (layer, pair) => {
        layer.onStart = () => pair.sendFromClient(encodePasswordRequest('eve', 'old', 'new'));
      },
    });
    await until(pair, () => (pair.clientLayer as { received: Uint8Array[] }).received.length > 0);
    const [reply] = (pair.clientLayer as { received: Uint8Array[] }).received;
    expect(reply).toEqual(encodeFailure(['publickey', 'password'], false));
    expect(asked).toBe(0);
  });
});
