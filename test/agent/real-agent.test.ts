/**
 * node/agent.ts against OpenSSH's ssh-agent: listing what ssh-add loaded, signing with each
 * key type (RSA through the SHA-2 flags) checked by node:crypto, certificates left out, and
 * the failure paths: a removed key, a stopped agent (timeout, abort), a killed agent, a
 * closed connection.
 */

import { execFile } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshAgent } from '../../node/agent.js';
import {
  type AgentIdentity,
  agentClose,
  agentCreate,
  agentDisconnect,
  agentReceive,
  agentRequestIdentities,
  agentSigner,
  SSH_ERR,
} from '../../src/index.js';
import { InputBuffer } from '../../transports/input-buffer.js';
import { makeTempDir, removeDir } from '../interop/peers.js';
import {
  AGENT_BIN,
  makeKey,
  type RunningAgent,
  startAgent,
  type UserKey,
  verifyWithNodeCrypto,
} from './helpers.js';

const run = promisify(execFile);

let dir: string;
let agent: RunningAgent;
let keys: Record<UserKey['kind'], UserKey>;

beforeAll(async () => {
  dir = makeTempDir('agent');
  const [ed25519, ecdsa, rsa] = await Promise.all([
    makeKey(dir, 'ed25519'),
    makeKey(dir, 'ecdsa'),
    makeKey(dir, 'rsa'),
  ]);
  keys = { ed25519: ed25519!, ecdsa: ecdsa!, rsa: rsa! };
  agent = await startAgent(dir);
  for (const k of Object.values(keys)) await agent.add(k);
});

afterAll(async () => {
  await agent?.stop();
  if (dir) removeDir(dir);
});

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: { code?: string }) => e.code,
  );

describe('node SshAgent against ssh-agent', () => {
  it('lists the keys ssh-add -L shows, in order, with their comments', async () => {
    const a = await SshAgent.connect({ path: agent.socket });
    const ids = await a.identities();
    const listed = await agent.list();
    expect(ids.map((i) => `${i.keyType} ${b64(i.keyBlob)}`)).toEqual(
      listed.map((l) => l.split(' ').slice(0, 2).join(' ')),
    );
    expect(ids.map((i) => i.comment)).toEqual(listed.map((l) => l.split(' ')[2]));
    await a.close();
  });

  it('uses SSH_AUTH_SOCK when no path is given', async () => {
    const saved = process.env.SSH_AUTH_SOCK;
    process.env.SSH_AUTH_SOCK = agent.socket;
    try {
      const a = await SshAgent.connect();
      expect(await a.identities()).toHaveLength(3);
      await a.close();
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
    }
  });

  const cases = [
    ['ed25519', 'ssh-ed25519'],
    ['ecdsa', 'ecdsa-sha2-nistp256'],
    ['rsa', 'rsa-sha2-512'],
    ['rsa', 'rsa-sha2-256'],
  ] as const;
  for (const [kind, algorithm] of cases) {
    it(`signs with the ${kind} key as ${algorithm}, verified by node:crypto`, async () => {
      const a = await SshAgent.connect({ path: agent.socket });
      const data = new TextEncoder().encode(`data for ${algorithm}`);
      const sig = await a.sign(keys[kind].blob, data, algorithm);
      expect(verifyWithNodeCrypto(keys[kind].blob, data, sig)).toBe(algorithm);
      expect(() => verifyWithNodeCrypto(keys[kind].blob, new Uint8Array([1]), sig)).toThrow();
      await a.close();
    });
  }

  it('makes signers: RSA offers rsa-sha2-512 then rsa-sha2-256, each signs through the agent', async () => {
    const a = await SshAgent.connect({ path: agent.socket });
    const signers = await a.signers();
    expect(signers.map((s) => s.signatureAlgorithms)).toEqual([
      ['ssh-ed25519'],
      ['ecdsa-sha2-nistp256'],
      ['rsa-sha2-512', 'rsa-sha2-256'],
    ]);
    const data = new Uint8Array([7, 7, 7]);
    const results = await Promise.all(
      signers.map(
        (s) =>
          new Promise<Uint8Array>((resolve, reject) =>
            s.sign({
              algorithm: s.signatureAlgorithms[0]!,
              data,
              complete: resolve,
              fail: (why) => reject(new Error(why)),
            }),
          ),
      ),
    );
    results.forEach((sig, i) => {
      verifyWithNodeCrypto(signers[i]!.publicKeyBlob, data, sig);
    });
    await a.close();
  });

  it('leaves certificates out of the list', async () => {
    const certDir = makeTempDir('agent-cert');
    const other = await startAgent(certDir);
    try {
      const [ca, user] = await Promise.all([
        makeKey(certDir, 'ecdsa'),
        makeKey(certDir, 'ed25519'),
      ]);
      await run(AGENT_BIN.keygen, [
        '-q',
        '-s',
        ca!.path,
        '-I',
        'test',
        '-n',
        'root',
        `${user!.path}.pub`,
      ]);
      await other.add(user!);
      const listed = await other.list();
      expect(listed.map((l) => l.split(' ')[0])).toEqual([
        'ssh-ed25519',
        'ssh-ed25519-cert-v01@openssh.com',
      ]);
      const a = await SshAgent.connect({ path: other.socket });
      const ids = await a.identities();
      expect(ids.map((i) => b64(i.keyBlob))).toEqual([b64(user!.blob)]);
      await a.close();
    } finally {
      await other.stop();
      removeDir(certDir);
    }
  });

  it('talks over any Duplex (here a socket the caller opened)', async () => {
    const stream = netConnect(agent.socket);
    await new Promise((r) => stream.once('connect', r));
    const a = await SshAgent.connect({ stream });
    expect(await a.identities()).toHaveLength(3);
    await a.close();
    expect(stream.destroyed).toBe(true);
  });

  it('rejects with CONNECTION_LOST after close() and closes the socket', async () => {
    const a = await SshAgent.connect({ path: agent.socket });
    await a.close();
    expect(await code(a.identities())).toBe(SSH_ERR.CONNECTION_LOST);
  });

  it('rejects with CONNECTION_LOST for a socket that does not exist, USAGE with no socket at all', async () => {
    expect(await code(SshAgent.connect({ path: join(dir, 'nothing.sock') }))).toBe(
      SSH_ERR.CONNECTION_LOST,
    );
    const saved = process.env.SSH_AUTH_SOCK;
    delete process.env.SSH_AUTH_SOCK;
    try {
      expect(await code(SshAgent.connect())).toBe(SSH_ERR.USAGE);
    } finally {
      if (saved !== undefined) process.env.SSH_AUTH_SOCK = saved;
    }
  });
});

describe('the sans-IO client (src/agent) over a socket we drive ourselves', () => {
  it('lists, and signs through agentSigner with rsa-sha2-256 when asked only for that', async () => {
    const socket = netConnect(agent.socket);
    await new Promise((r) => socket.once('connect', r));
    const client = agentCreate(
      socket,
      (s, bytes) => {
        s.write(bytes);
        return 0;
      },
      (s) => s.end(),
    );
    const input = new InputBuffer((bytes) => agentReceive(client, bytes));
    socket.on('data', (chunk: Buffer) => input.push(new Uint8Array(chunk)));
    socket.on('close', () => agentClose(client));
    const ids = await new Promise<AgentIdentity[]>((resolve, reject) =>
      agentRequestIdentities(client, (r) => (r.ok ? resolve(r.value) : reject(r.error))),
    );
    const rsaId = ids.find((i) => i.keyType === 'ssh-rsa')!;
    const signer = agentSigner(client, rsaId, { rsaAlgorithms: ['rsa-sha2-256'] })!;
    expect(signer.signatureAlgorithms).toEqual(['rsa-sha2-256']);
    const data = new Uint8Array([4, 5, 6]);
    const sig = await new Promise<Uint8Array>((resolve, reject) =>
      signer.sign({
        algorithm: 'rsa-sha2-256',
        data,
        complete: resolve,
        fail: (why) => reject(new Error(why)),
      }),
    );
    expect(verifyWithNodeCrypto(keys.rsa.blob, data, sig)).toBe('rsa-sha2-256');
    agentDisconnect(client);
    await new Promise((r) => socket.once('close', r));
  });
});

describe('failure paths with a real agent', () => {
  it('fails a signature with AGENT_REFUSED once the key was removed, and stays usable', async () => {
    const d = makeTempDir('agent-rm');
    const own = await startAgent(d);
    try {
      const key = await makeKey(d, 'ed25519');
      await own.add(key);
      const a = await SshAgent.connect({ path: own.socket });
      const [signer] = await a.signers();
      await own.remove(key);
      const failed = await new Promise<string>((resolve, reject) =>
        signer!.sign({
          algorithm: 'ssh-ed25519',
          data: new Uint8Array([1]),
          complete: () => reject(new Error('signed with a removed key')),
          fail: (why) => resolve(why ?? ''),
        }),
      );
      expect(failed).toMatch(/refused/);
      expect(await code(a.sign(key.blob, new Uint8Array([1]), 'ssh-ed25519'))).toBe(
        SSH_ERR.AGENT_REFUSED,
      );
      expect(await a.identities()).toEqual([]);
      await a.close();
    } finally {
      await own.stop();
      removeDir(d);
    }
  });

  it('times out and aborts requests to a stopped agent; a late reply is dropped', async () => {
    const d = makeTempDir('agent-stop');
    const own = await startAgent(d);
    try {
      const key = await makeKey(d, 'ed25519');
      await own.add(key);
      const a = await SshAgent.connect({ path: own.socket });
      own.child.kill('SIGSTOP');
      expect(await code(a.identities({ timeoutMs: 200 }))).toBe(SSH_ERR.TIMEOUT);
      const ac = new AbortController();
      const pending = code(
        a.sign(key.blob, new Uint8Array([2]), 'ssh-ed25519', { signal: ac.signal, timeoutMs: 0 }),
      );
      ac.abort();
      expect(await pending).toBe(SSH_ERR.ABORTED);
      own.child.kill('SIGCONT');
      // The timed-out request's late reply arrives first and is dropped (the aborted one was
      // still queued, so it was never sent).
      const ids = await a.identities();
      expect(ids.map((i) => b64(i.keyBlob))).toEqual([b64(key.blob)]);
      expect(a.lastError).toBeUndefined();
      await a.close();
    } finally {
      own.child.kill('SIGCONT');
      await own.stop();
      removeDir(d);
    }
  });

  it('fails a request in flight with CONNECTION_LOST when the agent is killed', async () => {
    const d = makeTempDir('agent-kill');
    const own = await startAgent(d);
    try {
      const key = await makeKey(d, 'rsa');
      await own.add(key);
      const a = await SshAgent.connect({ path: own.socket });
      own.child.kill('SIGSTOP');
      const pending = a.sign(key.blob, new Uint8Array([3]), 'rsa-sha2-512', { timeoutMs: 0 });
      const queued = a.identities({ timeoutMs: 0 });
      own.child.kill('SIGKILL');
      const err = await pending.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: SSH_ERR.CONNECTION_LOST, origin: 'link' });
      expect(await code(queued)).toBe(SSH_ERR.CONNECTION_LOST);
    } finally {
      await own.stop();
      removeDir(d);
    }
  });
});
