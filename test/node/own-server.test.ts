/**
 * The node layer end to end against our own server built with `createServer` over TCP:
 * exec (output, stderr, exit status, signal), env, shell with a pty, a subsystem, 64 MiB both
 * ways with backpressure, a sender held by an exhausted window, and the typed errors.
 */

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, type ConnectOptions, connect, type SshServer } from '../../node/index.js';
import { channelRemoteWindow, fingerprintSha256, SSH_ERR, type SshError } from '../../src/index.js';
import { MiB, roundTrip, startSilentServer, until } from './helpers.js';
import { PASSWORD, type ServerLog, startTestServer, USER } from './server-app.js';

let server: SshServer;
let port: number;
let fingerprint: string;
let log: ServerLog;
let client: Client;

const base = (): ConnectOptions => ({
  host: '127.0.0.1',
  port,
  username: USER,
  password: PASSWORD,
  verifyHostKey: (info) => info.fingerprint === fingerprint,
});

beforeAll(async () => {
  const started = await startTestServer();
  server = started.server;
  port = started.port;
  log = started.log;
  fingerprint = fingerprintSha256(started.hostKey.publicKeyBlob);
  client = await connect(base());
});

afterAll(async () => {
  await client?.end();
  await server?.close();
});

describe('exec against our own server', () => {
  it('collects stdout, stderr and the exit status', async () => {
    const r = await client.execResult('echo out; echo err >&2; exit 3');
    expect(r).toEqual({ stdout: 'out\n', stderr: 'err\n', code: 3, signal: null });
  });

  it('carries megabytes on stdout and stderr at once through the shared window', async () => {
    const r = await client.execResult(
      "head -c 3000000 /dev/zero | tr '\\0' e >&2 & head -c 5000000 /dev/zero | tr '\\0' o; wait",
      { maxBuffer: 16 * MiB },
    );
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(5_000_000);
    expect(r.stderr.length).toBe(3_000_000);
    expect(r.stdout.replaceAll('o', '')).toBe('');
    expect(r.stderr.replaceAll('e', '')).toBe('');
  });

  it('keeps the window open when the application destroyed stderr', async () => {
    // 3 MB of stderr is more than the 2 MiB window both sides share: dropped stderr bytes must
    // still be given back, or stdout stalls too.
    const stream = await client.exec(
      "head -c 3000000 /dev/zero | tr '\\0' e >&2 & head -c 3000000 /dev/zero | tr '\\0' o; wait",
    );
    stream.stderr.destroy();
    let bytes = 0;
    stream.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    stream.end();
    await new Promise((r) => stream.on('close', r));
    expect(bytes).toBe(3_000_000);
    expect(stream.exit?.code).toBe(0);
  }, 15_000);

  it('reports the signal that killed the command', async () => {
    const r = await client.execResult('kill -TERM $$');
    expect(r.code).toBeNull();
    expect(r.signal).toBe('TERM');
  });

  it('feeds stdin and passes env requests', async () => {
    const r = await client.execResult('cat; printf "%s" "$PSSH_X"', {
      stdin: 'from stdin\n',
      env: { PSSH_X: 'env-value' },
    });
    expect(r.stdout).toBe('from stdin\nenv-value');
    expect(log.env.PSSH_X).toBe('env-value');
  });

  it('gives the exec stream with an exit event', async () => {
    const stream = await client.exec('echo streamed; exit 7');
    const exit = new Promise<unknown[]>((r) => stream.on('exit', (...a) => r(a)));
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.stderr.resume();
    stream.end();
    await new Promise((r) => stream.on('close', r));
    expect(Buffer.concat(chunks).toString()).toBe('streamed\n');
    expect(await exit).toEqual([7, null, false, '']);
  });

  it('runs a shell with a pty', async () => {
    const stream = await client.shell({ pty: { term: 'vt220', cols: 100, rows: 30 } });
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.stderr.resume();
    stream.end('echo "term=$TERM"; exit 0\n');
    await new Promise((r) => stream.on('close', r));
    expect(Buffer.concat(chunks).toString()).toContain('term=vt220');
    expect(log.ptys.at(-1)).toEqual({ term: 'vt220', cols: 100, rows: 30 });
  });

  it('opens a subsystem', async () => {
    const stream = await client.subsystem('echo');
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.end('ping');
    await new Promise((r) => stream.on('end', r));
    expect(Buffer.concat(chunks).toString()).toBe('ping');
  });
});

describe('backpressure', () => {
  it('pipes 64 MiB both ways through cat with matching SHA-256', async () => {
    const stream = await client.exec('cat');
    stream.stderr.resume();
    const r = await roundTrip(stream, 64 * MiB);
    console.log(
      `own server: 64 MiB echoed in ${r.ms} ms, sender paused ${r.pauses} times, ` +
        `max writableLength ${r.maxWritableLength}`,
    );
    expect(r.bytes).toBe(64 * MiB);
    expect(r.receivedHash).toBe(r.sentHash);
    expect(r.pauses).toBeGreaterThan(0);
    // Node's buffer holds at most its high-water mark plus the chunk that crossed it.
    expect(r.maxWritableLength).toBeLessThanOrEqual(16 * 1024 + MiB);
  });

  it('holds the sender while the receiver does not read (bounded by the window)', async () => {
    const stream = await client.exec('hold');
    stream.stderr.resume();
    const sent = createHash('sha256');
    const chunk = Buffer.alloc(256 * 1024, 7);
    let written = 0;
    // Write until Node says stop, then until the SSH window is exhausted.
    while (stream.write(chunk)) {
      sent.update(chunk);
      written += chunk.length;
    }
    sent.update(chunk);
    written += chunk.length;
    await until(() => log.held.length > 0);
    const held = log.held.shift()!;
    await until(() => channelRemoteWindow(stream.channel) === 0);
    // A round trip on the same connection: every data packet sent before it has been read.
    await client.execResult('true');
    // The server reads nothing: it holds exactly its initial window (2 MiB), the rest waits here.
    expect(held.readableLength).toBe(2 * MiB);
    expect(stream.writableLength).toBeGreaterThan(0);
    expect(stream.writableNeedDrain).toBe(true);
    for (let i = 0; i < 8; i++) {
      stream.write(chunk);
      sent.update(chunk);
      written += chunk.length;
    }
    held.resume();
    const out: Buffer[] = [];
    stream.on('data', (c: Buffer) => out.push(c));
    stream.end();
    await new Promise((r) => stream.on('end', r));
    expect(written).toBeGreaterThan(2 * MiB);
    expect(Buffer.concat(out).toString().trim()).toBe(sent.digest('hex'));
  });
});

describe('typed errors and abort', () => {
  const code = async (p: Promise<unknown>) => {
    const e = (await p.then(
      () => undefined,
      (x: unknown) => x,
    )) as SshError | undefined;
    return e?.code;
  };

  it('rejects a host key the callback refuses', async () => {
    expect(await code(connect({ ...base(), verifyHostKey: () => false }))).toBe(
      SSH_ERR.HOST_KEY_REJECTED,
    );
  });

  it('rejects a config the core refuses, and a missing verifyHostKey, as usage errors', async () => {
    expect(await code(connect({ ...base(), algorithms: { cipher: ['rot13'] } }))).toBe(
      SSH_ERR.USAGE,
    );
    const { verifyHostKey: _, ...rest } = base();
    expect(await code(connect(rest as ConnectOptions))).toBe(SSH_ERR.USAGE);
    expect(await code(connect({ ...base(), privateKey: 'not a key' }))).toBe(SSH_ERR.USAGE);
  });

  it('rejects a wrong password', async () => {
    expect(await code(connect({ ...base(), password: 'wrong' }))).toBe(SSH_ERR.AUTH_FAILED);
  });

  it('rejects when nothing listens', async () => {
    const silent = await startSilentServer();
    silent.close();
    expect(await code(connect({ ...base(), port: silent.port }))).toBe(SSH_ERR.CONNECTION_LOST);
  });

  it('times out a server that never speaks', async () => {
    const silent = await startSilentServer();
    try {
      expect(await code(connect({ ...base(), port: silent.port, readyTimeout: 200 }))).toBe(
        SSH_ERR.TIMEOUT,
      );
    } finally {
      silent.close();
    }
  });

  it('aborts a connect with its signal', async () => {
    const silent = await startSilentServer();
    try {
      const controller = new AbortController();
      const pending = connect({ ...base(), port: silent.port, signal: controller.signal });
      setImmediate(() => controller.abort());
      expect(await code(pending)).toBe(SSH_ERR.ABORTED);
      expect(await code(connect({ ...base(), signal: AbortSignal.abort() }))).toBe(SSH_ERR.ABORTED);
    } finally {
      silent.close();
    }
  });

  it('aborts an exec with its signal', async () => {
    const controller = new AbortController();
    const pending = client.execResult('sleep 30', { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect(await code(pending)).toBe(SSH_ERR.ABORTED);
    // The connection is still usable.
    expect((await client.execResult('echo alive')).stdout).toBe('alive\n');
  });

  it('reports a refused exec, a refused channel and a full buffer', async () => {
    expect(await code(client.exec('refuse-me'))).toBe(SSH_ERR.REQUEST_FAILED);
    expect(await code(client.forwardOut('127.0.0.1', 0, '127.0.0.1', 1))).toBe(
      SSH_ERR.CHANNEL_OPEN_FAILED,
    );
    expect(await code(client.execResult('head -c 100000 /dev/zero', { maxBuffer: 1000 }))).toBe(
      SSH_ERR.LIMIT_EXCEEDED,
    );
  });
});
