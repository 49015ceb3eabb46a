/**
 * The node-layer client against OpenSSH's sshd: key login from an ssh-keygen file, exec
 * (output, stderr, exit status, signal), a shell with a pty, 64 MiB both ways through `cat`
 * with backpressure, an aborted exec, and the same server reached over `sshd -i` as a child
 * process link (ProxyCommand-like) and over a transport adapter.
 */

import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../node/index.js';
import { SSH_ERR, type SshError } from '../../src/index.js';
import { spawnSession } from '../../transports/ipc.js';
import { BIN } from '../interop-connection/helpers.js';
import { MiB, roundTrip, until } from './helpers.js';
import { type Peer, sshdPeer } from './peers.js';

let peer: Peer & Awaited<ReturnType<typeof sshdPeer>>;

beforeAll(async () => {
  peer = await sshdPeer();
});

afterAll(async () => {
  await peer?.stop();
});

describe('the node client against sshd', () => {
  it('collects stdout, stderr and the exit status', async () => {
    const r = await peer.client.execResult('echo out; echo err >&2; exit 3');
    expect(r).toEqual({ stdout: 'out\n', stderr: 'err\n', code: 3, signal: null });
  });

  it('reports the signal that killed the command', async () => {
    const r = await peer.client.execResult('kill -TERM $$');
    expect({ code: r.code, signal: r.signal }).toEqual({ code: null, signal: 'TERM' });
  });

  it('runs a shell with a pty of the size asked', async () => {
    const stream = await peer.client.shell({ pty: { term: 'vt220', cols: 101, rows: 33 } });
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.stderr.resume();
    stream.write('stty size; echo "term=$TERM"; tty; exit 0\n');
    await new Promise((r) => stream.on('close', r));
    const text = Buffer.concat(chunks).toString();
    expect(text).toContain('33 101');
    expect(text).toContain('term=vt220');
    expect(text).toMatch(/\/dev\/pts\/\d+/);
    expect(stream.exit?.code).toBe(0);
  });

  it('pipes 64 MiB both ways through cat with matching SHA-256', async () => {
    const stream = await peer.client.exec('cat');
    stream.stderr.resume();
    const r = await roundTrip(stream, 64 * MiB);
    console.log(
      `sshd: 64 MiB echoed in ${r.ms} ms, sender paused ${r.pauses} times, ` +
        `max writableLength ${r.maxWritableLength}`,
    );
    expect(r.bytes).toBe(64 * MiB);
    expect(r.receivedHash).toBe(r.sentHash);
    expect(r.pauses).toBeGreaterThan(0);
    expect(r.maxWritableLength).toBeLessThanOrEqual(16 * 1024 + MiB);
  });

  it('a reader that stops stops sshd: exactly the 2 MiB window is buffered', async () => {
    const total = 20_000_000;
    const stream = await peer.client.exec(`head -c ${total} /dev/zero`);
    stream.pause();
    stream.stderr.resume();
    stream.end();
    await until(() => stream.readableLength >= 2 * MiB);
    // Round trips on other channels: sshd had every chance to send more, and did not.
    for (let i = 0; i < 3; i++) await peer.client.execResult('true');
    expect(stream.readableLength).toBe(2 * MiB);
    let received = 0;
    stream.on('data', (c: Buffer) => {
      received += c.length;
    });
    stream.resume();
    await new Promise((r) => stream.on('close', r));
    expect(received).toBe(total);
    expect(stream.exit?.code).toBe(0);
  });

  it('aborts an exec stream with its signal', async () => {
    const controller = new AbortController();
    const stream = await peer.client.exec('sleep 30', { signal: controller.signal });
    const failed = new Promise<SshError>((r) => stream.on('error', r));
    controller.abort();
    expect((await failed).code).toBe(SSH_ERR.ABORTED);
    expect((await peer.client.execResult('echo alive')).stdout).toBe('alive\n');
  });

  it('logs in over a child process link (sshd -i) and over a transport adapter', async () => {
    const common = {
      username: userInfo().username,
      privateKey: peer.userKey,
      verifyHostKey: (info: { fingerprint: string }) =>
        info.fingerprint === peer.sshd.hostKey.fingerprint,
    };
    const inetd = (n: number) => [
      '-i',
      '-f',
      peer.sshd.configPath,
      '-E',
      join(peer.sshd.dir, `i${n}.log`),
    ];
    const child = spawn(BIN.sshd, inetd(1), { stdio: ['pipe', 'pipe', 'ignore'] });
    const viaChild = await connect({ ...common, link: child });
    expect((await viaChild.execResult('echo via-child')).stdout).toBe('via-child\n');
    await viaChild.end();
    const viaAdapter = await connect({
      ...common,
      link: (config, hooks) =>
        spawnSession(BIN.sshd, inetd(2), config, { ...hooks, stderr: 'ignore' }).session,
    });
    expect((await viaAdapter.execResult('echo via-adapter')).stdout).toBe('via-adapter\n');
    await viaAdapter.end();
  });
});
