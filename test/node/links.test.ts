/**
 * The node layer over links other than TCP: our server's `serve()` and the client's `link`
 * option over a pair of streams and over the synchronous in-memory transport (the reentrant
 * case), keepalives ending a connection whose link went silent, and the server's two
 * authentication styles (an async callback, with keyboard-interactive; an event), and client
 * keys: a signer answering later, an encrypted key file.
 */

import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Transform } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConnectOptions,
  connect,
  createServer,
  type ServerSession,
  SshAgent,
  type SshServer,
} from '../../node/index.js';
import {
  fingerprintSha256,
  generatePrivateKey,
  parsePrivateKey,
  type Signer,
  SSH_ERR,
  SshError,
} from '../../src/index.js';
import { createMemoryLink } from '../../transports/memory.js';
import { MiB } from './helpers.js';
import { PASSWORD, startTestServer, USER } from './server-app.js';

let server: SshServer;
let fingerprint: string;

beforeAll(async () => {
  const started = await startTestServer();
  server = started.server;
  fingerprint = fingerprintSha256(started.hostKey.publicKeyBlob);
});

afterAll(async () => {
  await server?.close();
});

const login = (): Omit<ConnectOptions, 'link'> => ({
  username: USER,
  password: PASSWORD,
  verifyHostKey: (info) => info.fingerprint === fingerprint,
});

async function hashThrough(options: ConnectOptions): Promise<void> {
  const client = await connect(options);
  const data = randomBytes(4 * MiB);
  const r = await client.execResult('hash', { stdin: data });
  expect(r.stdout.trim()).toBe(createHash('sha256').update(data).digest('hex'));
  expect((await client.execResult('echo "$((6 * 7))"')).stdout).toBe('42\n');
  await client.end();
}

describe('links', () => {
  it('serves and connects over a pair of streams', async () => {
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    const connection = server.serve({ readable: toServer, writable: toClient });
    const serverClosed = new Promise((r) => connection.once('close', r));
    await hashThrough({ ...login(), link: { readable: toClient, writable: toServer } });
    expect((await serverClosed) as Error).toMatchObject({ code: SSH_ERR.PEER_DISCONNECTED });
  });

  it('listens on a Unix socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pssh-node-'));
    const unix = await startTestServer();
    try {
      const path = await unix.server.listen({ path: join(dir, 'ssh.sock') });
      const client = await connect({
        username: USER,
        password: PASSWORD,
        verifyHostKey: (info) => info.fingerprint === fingerprintSha256(unix.hostKey.publicKeyBlob),
        link: net.connect(path),
      });
      expect((await client.execResult('echo over-unix')).stdout).toBe('over-unix\n');
      await client.end();
    } finally {
      await unix.server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('works over the synchronous memory transport (reentrant delivery)', async () => {
    const [a, b] = createMemoryLink({ delivery: 'sync' });
    server.serve((config) => b.create(config));
    await hashThrough({ ...login(), link: (config) => a.create(config) });
  });

  it('keepalives end a connection whose link went silent (SSH_ERR_TIMEOUT)', async () => {
    let frozen = false;
    const gate = () =>
      new Transform({
        transform(chunk, _enc, done) {
          done(null, frozen ? undefined : chunk);
        },
      });
    const toServer = gate();
    const toClient = gate();
    server.serve({ readable: toServer, writable: toClient });
    const client = await connect({
      ...login(),
      link: { readable: toClient, writable: toServer },
      keepaliveInterval: 20,
      keepaliveCountMax: 2,
    });
    expect((await client.execResult('echo before')).stdout).toBe('before\n');
    frozen = true;
    const error = await client.closed;
    expect(error?.code).toBe(SSH_ERR.TIMEOUT);
    expect(error?.message).toBe('keepalive timeout');
  });
});

describe('authentication styles', () => {
  it('keyboard-interactive through an async authenticate callback', async () => {
    const kbd = createServer({
      hostKeys: [generatePrivateKey('ed25519')],
      authMethods: ['keyboard-interactive'],
      authenticate: async (c) => {
        if (c.method !== 'keyboard-interactive' || !c.prompt) return false;
        const [answer] = await c.prompt([{ prompt: 'Code: ', echo: false }], { name: 'otp' });
        return answer === '123456';
      },
    });
    const seen: string[] = [];
    const [a, b] = createMemoryLink({ delivery: 'deferred' });
    kbd.serve((config) => b.create(config));
    const client = await connect({
      username: 'u',
      verifyHostKey: () => true,
      onKeyboardInteractive: async (request) => {
        seen.push(`${request.name}/${request.prompts[0]?.prompt}`);
        return ['123456'];
      },
      link: (config) => a.create(config),
    });
    expect(seen).toEqual(['otp/Code: ']);
    await client.end();
  });

  it('an authentication event when there is no callback, refused when nobody listens', async () => {
    const evented = createServer({ hostKeys: [generatePrivateKey('ed25519')] }, (connection) => {
      connection.on('authentication', (c) =>
        c.method === 'password' && c.password === 'yes' ? c.accept() : c.reject(),
      );
    });
    const deaf = createServer({ hostKeys: [generatePrivateKey('ed25519')] });
    const attempt = (srv: SshServer, password: string) => {
      const [a, b] = createMemoryLink({ delivery: 'deferred' });
      srv.serve((config) => b.create(config));
      return connect({
        username: 'u',
        password,
        verifyHostKey: () => true,
        link: (config) => a.create(config),
      });
    };
    await (await attempt(evented, 'yes')).end();
    await expect(attempt(evented, 'no')).rejects.toMatchObject({ code: SSH_ERR.AUTH_FAILED });
    await expect(attempt(deaf, 'yes')).rejects.toMatchObject({ code: SSH_ERR.AUTH_FAILED });
    expect(() => createServer({ hostKeys: [] })).toThrow(
      expect.objectContaining({ code: SSH_ERR.USAGE }),
    );
  });
});

describe('client keys', () => {
  it('logs in with a signer that signs later (as an agent does) and with an encrypted key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pssh-node-keys-'));
    try {
      execFileSync('/usr/bin/ssh-keygen', [
        '-t',
        'ed25519',
        '-q',
        '-N',
        'pass phrase',
        '-f',
        join(dir, 'k'),
      ]);
      const text = readFileSync(join(dir, 'k'), 'utf8');
      const key = parsePrivateKey(text, 'pass phrase');
      const keyed = await startTestServer({ userKey: key });
      const base = {
        username: USER,
        verifyHostKey: (info: { fingerprint: string }) =>
          info.fingerprint === fingerprintSha256(keyed.hostKey.publicKeyBlob),
      };
      const serve = () => {
        const [a, b] = createMemoryLink({ delivery: 'deferred' });
        keyed.server.serve((config) => b.create(config));
        return (config: Parameters<typeof a.create>[0]) => a.create(config);
      };
      let signed = 0;
      const signer: Signer = {
        publicKeyBlob: key.publicKeyBlob,
        signatureAlgorithms: key.signatureAlgorithms,
        sign: (request) => {
          signed++;
          setImmediate(() => request.complete(key.sign(request.algorithm, request.data)));
        },
      };
      const viaSigner = await connect({ ...base, signers: [signer], link: serve() });
      expect(signed).toBe(1);
      await viaSigner.end();
      const viaFile = await connect({
        ...base,
        privateKey: text,
        passphrase: 'pass phrase',
        link: serve(),
      });
      await viaFile.end();
      await expect(
        connect({ ...base, privateKey: text, passphrase: 'wrong', link: serve() }),
      ).rejects.toMatchObject({ code: SSH_ERR.USAGE });
      await keyed.server.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('usage errors are SshErrors (SSH_ERR_USAGE)', () => {
  const usage = (message: RegExp) =>
    expect.objectContaining({ code: SSH_ERR.USAGE, message: expect.stringMatching(message) });

  it('a host key text the parser cannot read, with the parser error as cause', () => {
    let error: unknown;
    try {
      createServer({ hostKeys: ['not a key'] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SshError);
    expect(error).toEqual(usage(/^hostKeys\[0\]: /));
    expect((error as SshError).cause).toBeInstanceOf(Error);
  });

  it('a child process link without piped stdin and stdout', async () => {
    const child = spawn('/bin/cat', [], { stdio: 'ignore' });
    try {
      await expect(connect({ ...login(), link: child })).rejects.toThrow(SshError);
      await expect(connect({ ...login(), link: child })).rejects.toEqual(usage(/piped stdin/));
      expect(() => server.serve(child)).toThrow(usage(/piped stdin/));
    } finally {
      child.kill();
    }
  });

  it("a 'session' accept() called twice", async () => {
    const errors: unknown[] = [];
    const twice = createServer(
      { hostKeys: [generatePrivateKey('ed25519')], authenticate: (c) => c.password === 'pw' },
      (connection) => {
        connection.on('session', (accept) => {
          const session: ServerSession = accept();
          try {
            accept();
          } catch (e) {
            errors.push(e);
          }
          session.on('exec', (ok) => {
            const stream = ok();
            stream.sendExit(0);
            stream.end();
          });
        });
      },
    );
    const [a, b] = createMemoryLink({ delivery: 'deferred' });
    twice.serve((config) => b.create(config));
    const client = await connect({
      username: 'u',
      password: 'pw',
      verifyHostKey: () => true,
      link: (config) => a.create(config),
    });
    expect((await client.execResult('x')).code).toBe(0);
    await client.end();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SshError);
    expect(errors[0]).toEqual(usage(/answered already/));
  });

  it('an agent timeoutMs that is not a finite number >= 0', async () => {
    await expect(SshAgent.connect({ path: '/nonexistent', timeoutMs: -1 })).rejects.toEqual(
      usage(/timeoutMs/),
    );
  });
});
