/**
 * ClientAuthConfig.pipeline: the client's first authentication request leaves right behind
 * SERVICE_REQUEST, so the server reads both in one delivery and a login takes one round trip
 * less. Each send is delivered whole, in its own sessionReceive call, on a later macrotask,
 * and the server notes in which call the service started and the request arrived.
 */

import { describe, expect, it } from 'vitest';
import type { ClientAuthConfig, ClientAuthMethod } from '../../src/auth/types.js';
import {
  type ClientConfig,
  type ServerConfig,
  type Session,
  sessionAuthenticate,
  sessionCreate,
  sessionReceive,
} from '../../src/index.js';
import { hostKey } from '../helpers.js';

interface Login {
  /** The server's sessionReceive call in which SERVICE_ACCEPT went out. */
  serviceCall: number;
  /** The call in which the first USERAUTH_REQUEST reached onAuth. */
  firstAuthCall: number;
  /** Client sends until authenticated. */
  clientSends: number;
  authenticated: boolean;
}

async function login(
  method: ClientAuthMethod | ClientAuthMethod[],
  pipeline?: boolean,
  /** Give the config to sessionAuthenticate at this client event instead of as `auth`. */
  lateAt?: 'handshake-complete' | 'ext-info' | 'service-accepted',
): Promise<Login> {
  const auth: ClientAuthConfig = {
    username: 'u',
    methods: Array.isArray(method) ? method : [method],
    ...(pipeline === undefined ? {} : { pipeline }),
  };
  const out: Login = { serviceCall: -1, firstAuthCall: -1, clientSends: 0, authenticated: false };
  let serverCall = 0;
  let client: Session | undefined;
  let server!: Session;
  const deliver = (to: () => Session | undefined, bytes: Uint8Array, count: boolean) =>
    setImmediate(() => {
      if (count) serverCall++;
      const session = to();
      if (session !== undefined) sessionReceive(session, bytes);
    });
  const serverKey = hostKey('ed25519');
  server = sessionCreate(
    null,
    (_h, b) => {
      deliver(() => client, b.slice(), false);
      return 0;
    },
    () => {},
    {
      role: 'server',
      hostKeys: [serverKey],
      authMethods: ['password', 'publickey', 'keyboard-interactive'],
      onAuth: (r) => {
        if (out.firstAuthCall < 0) out.firstAuthCall = serverCall;
        r.accept();
      },
      onEvent: (e) => {
        if (e.type === 'service-accepted') out.serviceCall = serverCall;
      },
    } as ServerConfig<Session>,
  );
  await new Promise<void>((resolve, reject) => {
    client = sessionCreate(
      null,
      (_h, b) => {
        if (!out.authenticated) out.clientSends++;
        deliver(() => server, b.slice(), true);
        return 0;
      },
      () => {},
      {
        role: 'client',
        onHostKey: (r) => r.accept(),
        ...(lateAt ? {} : { auth }),
        onEvent: (e, session) => {
          if (e.type === lateAt) sessionAuthenticate(session, auth);
          if (e.type === 'authenticated') {
            out.authenticated = true;
            resolve();
          } else if (e.type === 'error') reject(e.error);
        },
      } as ClientConfig<Session>,
    );
  });
  return out;
}

describe('the first authentication request right behind SERVICE_REQUEST (pipeline)', () => {
  const ed25519 = hostKey('ed25519');
  const rsa = hostKey('rsa');
  const early: [string, ClientAuthMethod | ClientAuthMethod[]][] = [
    ['password', { type: 'password', password: 'p' }],
    ['keyboard-interactive', { type: 'keyboard-interactive', onPrompt: (r) => r.answer([]) }],
    ['publickey (ed25519)', { type: 'publickey', key: ed25519 }],
  ];

  it.each(early)(
    '%s: the server reads it in the delivery that started the service',
    async (_n, m) => {
      const r = await login(m);
      expect(r.authenticated).toBe(true);
      expect(r.serviceCall).toBeGreaterThan(0);
      expect(r.firstAuthCall).toBe(r.serviceCall);
    },
  );

  it('password: one client send fewer than with pipeline false', async () => {
    const method: ClientAuthMethod = { type: 'password', password: 'p' };
    const on = await login(method);
    const off = await login(method, false);
    expect(off.firstAuthCall).toBe(off.serviceCall + 1);
    expect(on.clientSends).toBe(off.clientSends - 1);
  });

  it('waits for SERVICE_ACCEPT (and EXT_INFO) when the first method is an RSA key', async () => {
    const r = await login({ type: 'publickey', key: rsa });
    expect(r.authenticated).toBe(true);
    expect(r.firstAuthCall).toBe(r.serviceCall + 1);
  });

  it('rejects a pipeline setting that is not a boolean', async () => {
    await expect(login({ type: 'none' }, 'yes' as unknown as boolean)).rejects.toMatchObject({
      code: 'SSH_ERR_USAGE',
    });
  });

  it('pipelines a config given by sessionAuthenticate at handshake-complete (before SERVICE_REQUEST)', async () => {
    const r = await login({ type: 'password', password: 'p' }, undefined, 'handshake-complete');
    expect(r.authenticated).toBe(true);
    expect(r.firstAuthCall).toBe(r.serviceCall);
  });

  it('pipelines a config given by sessionAuthenticate between SERVICE_REQUEST and SERVICE_ACCEPT (at ext-info)', async () => {
    const r = await login({ type: 'password', password: 'p' }, undefined, 'ext-info');
    expect(r.authenticated).toBe(true);
    expect(r.firstAuthCall).toBe(r.serviceCall);
  });

  it('starts a config given at service-accepted at once, and an RSA key given early on SERVICE_ACCEPT', async () => {
    const late = await login({ type: 'password', password: 'p' }, undefined, 'service-accepted');
    expect(late.firstAuthCall).toBe(late.serviceCall + 1);
    const rsaEarly = await login({ type: 'publickey', key: rsa }, undefined, 'handshake-complete');
    expect(rsaEarly.authenticated).toBe(true);
    expect(rsaEarly.firstAuthCall).toBe(rsaEarly.serviceCall + 1);
  });
});
