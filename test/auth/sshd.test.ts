/**
 * Our ClientAuth against OpenSSH's sshd 9.2 (`sshd -i` over pipes, one process per
 * connection): publickey with every key type (rsa-sha2-512 through server-sig-algs), refusal
 * of an unknown key, and partial success with `AuthenticationMethods publickey,publickey`.
 */

import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientAuth } from '../../src/auth/client-auth.js';
import type { ClientAuthConfig, Signer } from '../../src/auth/types.js';
import {
  generatePrivateKey,
  type PrivateKey,
  publicKeyToOpenSSH,
  type SessionEvent,
  sessionClose,
  sessionCreate,
  sessionLastError,
  sessionReceive,
} from '../../src/index.js';
import { engineOf } from '../../src/session.js';
import { InputBuffer } from '../../transports/input-buffer.js';
import { type SshdHandle, startSshd } from '../interop/peers.js';
import { AuthLayer } from './harness.js';

let sshd: SshdHandle;
const keys: Record<'ed25519' | 'ecdsa-p256' | 'ecdsa-p384' | 'rsa', PrivateKey> = {
  ed25519: generatePrivateKey('ed25519'),
  'ecdsa-p256': generatePrivateKey('ecdsa-p256'),
  'ecdsa-p384': generatePrivateKey('ecdsa-p384'),
  rsa: generatePrivateKey('rsa', { bits: 2048 }),
};
const stranger = generatePrivateKey('ed25519');

beforeAll(async () => {
  sshd = await startSshd();
  writeFileSync(
    join(sshd.dir, 'authorized_keys'),
    `${Object.values(keys)
      .map((k) => publicKeyToOpenSSH(k.publicKeyBlob, 'auth-test'))
      .join('\n')}\n`,
  );
});

afterAll(async () => {
  await sshd?.stop();
});

interface Run {
  events: SessionEvent[];
  error: string | undefined;
  logs: string;
}

/** Runs one connection to a fresh `sshd -i` until authentication ends either way. */
async function authenticate(auth: ClientAuthConfig): Promise<Run> {
  const child = sshd.spawnInetd();
  const { stdin, stdout } = child.child as unknown as {
    stdin: NodeJS.WritableStream;
    stdout: NodeJS.ReadableStream;
  };
  const events: SessionEvent[] = [];
  const input = new InputBuffer();
  let settle!: () => void;
  const done = new Promise<void>((r) => {
    settle = r;
  });
  const session = sessionCreate(
    null,
    (_h, bytes) => {
      stdin.write(bytes);
      return 0;
    },
    () => stdin.end(),
    {
      role: 'client',
      onHostKey: (r) => r.accept(),
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'closed' || (e.type as string) === 'authenticated') settle();
      },
    },
  );
  const engine = engineOf(session);
  engine.upper = new AuthLayer((ok) => new ClientAuth(engine, auth, () => ok()));
  input.attach((bytes) => sessionReceive(session, bytes));
  stdout.on('data', (chunk: Buffer) => {
    if (input.push(new Uint8Array(chunk)) < 0) stdin.end();
  });
  stdout.on('end', () => sessionClose(session));
  const timer = setTimeout(settle, 20_000);
  await done;
  clearTimeout(timer);
  const logs = child.logs();
  await child.stop();
  return { events, error: sessionLastError(session)?.code, logs };
}

function recordingSigner(key: PrivateKey, used: string[]): Signer {
  return {
    publicKeyBlob: key.publicKeyBlob,
    signatureAlgorithms: key.signatureAlgorithms,
    sign: (req) => {
      used.push(req.algorithm);
      req.complete(key.sign(req.algorithm, req.data));
    },
  };
}

const authEvents = (run: Run) =>
  run.events
    .filter((e) => ['auth-failure', 'authenticated'].includes(e.type))
    .map((e) => JSON.stringify(e));

describe('our client against sshd 9.2', () => {
  const expected = {
    ed25519: 'ssh-ed25519',
    'ecdsa-p256': 'ecdsa-sha2-nistp256',
    'ecdsa-p384': 'ecdsa-sha2-nistp384',
    rsa: 'rsa-sha2-512',
  } as const;
  for (const kind of Object.keys(keys) as (keyof typeof keys)[]) {
    it(`logs in as root with a ${kind} key, signing with ${expected[kind]}`, async () => {
      const used: string[] = [];
      const run = await authenticate({
        username: 'root',
        methods: [
          { type: 'none' },
          { type: 'publickey', signer: recordingSigner(keys[kind], used) },
        ],
      });
      expect(authEvents(run), run.logs).toEqual([
        JSON.stringify({
          type: 'auth-failure',
          method: 'none',
          partialSuccess: false,
          methodsLeft: ['publickey'],
        }),
        JSON.stringify({ type: 'authenticated', username: 'root', method: 'publickey' }),
      ]);
      expect(used).toEqual([expected[kind]]);
      expect(run.logs).toMatch(/Accepted publickey for root/);
    });
  }

  it('fails with SSH_ERR_AUTH_FAILED when sshd does not know the key', async () => {
    const run = await authenticate({
      username: 'root',
      methods: [{ type: 'publickey', key: stranger }],
    });
    expect(run.error, run.logs).toBe('SSH_ERR_AUTH_FAILED');
    expect(authEvents(run)).toEqual([
      JSON.stringify({
        type: 'auth-failure',
        method: 'publickey',
        partialSuccess: false,
        methodsLeft: ['publickey'],
      }),
    ]);
  });

  it('completes AuthenticationMethods publickey,publickey with two keys (partial success)', async () => {
    appendFileSync(
      sshd.configPath,
      'Match User root\n  AuthenticationMethods publickey,publickey\n',
    );
    const run = await authenticate({
      username: 'root',
      methods: [
        { type: 'publickey', key: keys.ed25519 },
        { type: 'publickey', key: keys.rsa },
      ],
    });
    expect(authEvents(run), run.logs).toEqual([
      JSON.stringify({
        type: 'auth-failure',
        method: 'publickey',
        partialSuccess: true,
        methodsLeft: ['publickey'],
      }),
      JSON.stringify({ type: 'authenticated', username: 'root', method: 'publickey' }),
    ]);
  });
});
