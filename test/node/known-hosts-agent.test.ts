/**
 * `connect()`'s `knownHosts` and `agent` options against our own server: a known_hosts file
 * trusts a listed key, refuses a changed or revoked one, hands an unlisted host to
 * `verifyHostKey` and remembers it; a real `ssh-agent` (keys added by ssh-add) logs in, by
 * path, by `$SSH_AUTH_SOCK` and as an open `SshAgent`.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConnectOptions,
  connect,
  knownHostsLine,
  parseKnownHosts,
  SshAgent,
  type SshServer,
} from '../../node/index.js';
import {
  generatePrivateKey,
  type PrivateKey,
  parsePrivateKey,
  publicKeyToOpenSSH,
  SSH_ERR,
  type SshError,
} from '../../src/index.js';
import { makeKey, type RunningAgent, startAgent, type UserKey } from '../agent/helpers.js';
import { makeTempDir, removeDir } from '../interop/peers.js';
import { startTestServer, USER } from './server-app.js';

let dir: string;
let server: SshServer;
let port: number;
let hostKey: PrivateKey;
let agent: RunningAgent;
let userKey: UserKey;

beforeAll(async () => {
  dir = makeTempDir('pssh-node-kh-');
  userKey = await makeKey(dir, 'ed25519');
  const started = await startTestServer({
    userKey: parsePrivateKey(readFileSync(userKey.path)),
  });
  server = started.server;
  port = started.port;
  hostKey = started.hostKey;
  agent = await startAgent(dir);
  await agent.add(userKey);
});

afterAll(async () => {
  await agent?.stop();
  await server?.close();
  removeDir(dir);
});

const base = (extra: Partial<ConnectOptions>): ConnectOptions => ({
  host: '127.0.0.1',
  port,
  username: USER,
  agent: agent.socket,
  ...extra,
});

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('connected');
    },
    (e: SshError) => e.code,
  );

describe('connect({ knownHosts })', () => {
  it('trusts the key a known_hosts file lists for [host]:port', async () => {
    const path = join(dir, 'known_hosts_match');
    writeFileSync(path, `${knownHostsLine('127.0.0.1', port, hostKey.publicKeyBlob)}\n`);
    const client = await connect(base({ knownHosts: path }));
    expect((await client.execResult('echo ok')).stdout).toBe('ok\n');
    await client.end();
  });

  it('refuses a changed key without asking verifyHostKey', async () => {
    const path = join(dir, 'known_hosts_changed');
    const other = generatePrivateKey('ed25519').publicKeyBlob;
    writeFileSync(path, `${knownHostsLine('127.0.0.1', port, other, { hash: true })}\n`);
    let asked = 0;
    const verifyHostKey = () => {
      asked++;
      return true;
    };
    expect(await refusal(connect(base({ knownHosts: path, verifyHostKey })))).toBe(
      SSH_ERR.HOST_KEY_REJECTED,
    );
    expect(asked).toBe(0);
  });

  it('refuses a @revoked key even when another line lists it', async () => {
    const path = join(dir, 'known_hosts_revoked');
    const line = knownHostsLine('127.0.0.1', port, hostKey.publicKeyBlob);
    writeFileSync(path, `${line}\n@revoked * ${publicKeyToOpenSSH(hostKey.publicKeyBlob)}\n`);
    expect(await refusal(connect(base({ knownHosts: path })))).toBe(SSH_ERR.HOST_KEY_REJECTED);
  });

  it('refuses an unlisted host when nothing is asked, and asks verifyHostKey otherwise', async () => {
    const path = join(dir, 'known_hosts_tofu');
    expect(await refusal(connect(base({ knownHosts: path })))).toBe(SSH_ERR.HOST_KEY_REJECTED);
    const seen: string[] = [];
    const client = await connect(
      base({
        knownHosts: { path, hash: true },
        verifyHostKey: (info) => {
          seen.push(`${info.host}:${info.port} ${info.keyType} ${info.fingerprint}`);
          return true;
        },
      }),
    );
    await client.end();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^127\.0\.0\.1:\d+ ssh-ed25519 SHA256:/);
    const remembered = parseKnownHosts(readFileSync(path, 'utf8'));
    expect(remembered.check('127.0.0.1', port, hostKey.publicKeyBlob)).toBe('match');
    expect(readFileSync(path, 'utf8')).toMatch(/^\|1\|/);
    // Now listed: the next connection does not ask.
    const again = await connect(base({ knownHosts: path, verifyHostKey: () => false }));
    await again.end();
  });

  it("takes knownHosts: '~/.ssh/known_hosts' (as in docs/ssh2-compat.md), creating ~/.ssh", async () => {
    const home = join(dir, 'home');
    mkdirSync(home);
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      const knownHosts = '~/.ssh/known_hosts';
      const client = await connect(base({ knownHosts, verifyHostKey: () => true }));
      await client.end();
      const file = readFileSync(join(home, '.ssh', 'known_hosts'), 'utf8');
      expect(parseKnownHosts(file).check('127.0.0.1', port, hostKey.publicKeyBlob)).toBe('match');
      const again = await connect(base({ knownHosts, verifyHostKey: () => false }));
      await again.end();
    } finally {
      process.env.HOME = saved;
    }
  });

  it('needs host with a link, not to look the key up under localhost', async () => {
    const path = join(dir, 'known_hosts_link');
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    const link = { readable: toClient, writable: toServer };
    await expect(
      connect({
        username: USER,
        knownHosts: path,
        verifyHostKey: () => true,
        link,
        readyTimeout: 500,
      }),
    ).rejects.toMatchObject({
      code: SSH_ERR.USAGE,
      message: 'knownHosts with a link needs host: the name to look the key up under',
    });
    expect(toServer.readableLength).toBe(0);
    // With host, the key is looked up (and remembered) under it.
    server.serve({ readable: toServer, writable: toClient });
    const client = await connect({
      username: USER,
      agent: agent.socket,
      host: 'via-link.test',
      knownHosts: path,
      verifyHostKey: () => true,
      link,
    });
    await client.end();
    expect(parseKnownHosts(readFileSync(path, 'utf8')).lookup('via-link.test')).toHaveLength(1);
  });

  it('needs verifyHostKey or knownHosts', async () => {
    await expect(connect(base({}))).rejects.toMatchObject({ code: SSH_ERR.USAGE });
  });
});

describe('connect({ agent })', () => {
  const trust = { verifyHostKey: () => true };

  it('logs in with the keys of the agent at a path', async () => {
    const client = await connect(base({ ...trust }));
    expect((await client.execResult('echo agent')).stdout).toBe('agent\n');
    await client.end();
  });

  it('uses $SSH_AUTH_SOCK for agent: true', async () => {
    const saved = process.env.SSH_AUTH_SOCK;
    process.env.SSH_AUTH_SOCK = agent.socket;
    try {
      const client = await connect(base({ ...trust, agent: true }));
      await client.end();
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
    }
  });

  it('uses an open SshAgent and leaves it open', async () => {
    const open = await SshAgent.connect({ path: agent.socket });
    const client = await connect(base({ ...trust, agent: open }));
    await client.end();
    expect(await open.identities()).toHaveLength(1);
    await open.close();
  });

  it('fails with AUTH_FAILED when the agent holds no key the server takes', async () => {
    const empty = await startAgent(dir, 'empty.sock');
    try {
      const other = await makeKey(dir, 'ecdsa');
      await empty.add(other);
      expect(await refusal(connect(base({ ...trust, agent: empty.socket })))).toBe(
        SSH_ERR.AUTH_FAILED,
      );
    } finally {
      await empty.stop();
    }
  });

  it('rejects with CONNECTION_LOST when there is no agent at the path', async () => {
    expect(await refusal(connect(base({ ...trust, agent: join(dir, 'nothing.sock') })))).toBe(
      SSH_ERR.CONNECTION_LOST,
    );
  });
});
