/**
 * The -D helper's SOCKS5 server as a TCP peer sees it, with a stand-in for the SSH client (no
 * channel is ever opened here): a refusal is sent and the connection half-closed, not reset; a
 * client that never finishes the greeting or request is dropped after `handshakeTimeout`; and
 * at most `maxConnections` connections are served at once.
 */

import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { dynamicForward, type ForwardHandle } from '../../node/forward.js';
import { DEFAULT_SOCKS_HANDSHAKE_MS, DEFAULT_SOCKS_MAX_CONNECTIONS } from '../../node/index.js';
import { SSH_ERR, SshError } from '../../src/index.js';

/** Refuses every channel, as a server forbidding forwarding does (reason 1). */
const forwarder = {
  forwardOut: () =>
    Promise.reject(
      new SshError(SSH_ERR.CHANNEL_OPEN_FAILED, 'negotiation', 'refused', undefined, {
        cause: { reason: 1 },
      }),
    ),
  forwardIn: () => Promise.reject(new Error('not used')),
};

let handle: ForwardHandle | undefined;
afterEach(async () => {
  await handle?.close();
  handle = undefined;
});

/** A TCP client of the proxy that records what it reads, and how the connection ended. */
function dial(port: number) {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const seen = { data: Buffer.alloc(0), ended: false, closed: false, error: '' };
  socket.on('data', (c: Buffer) => {
    seen.data = Buffer.concat([seen.data, c]);
  });
  socket.on('end', () => {
    seen.ended = true;
  });
  socket.on('close', () => {
    seen.closed = true;
  });
  socket.on('error', (e: NodeJS.ErrnoException) => {
    seen.error = e.code ?? e.message;
  });
  const connected = new Promise<void>((r) => socket.once('connect', () => r()));
  return { socket, seen, connected };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition never held');
    await sleep(5);
  }
}

describe('dynamicForward (SOCKS5 server)', () => {
  it('defaults: 10 s to finish the greeting and request, 256 connections at once', () => {
    expect(DEFAULT_SOCKS_HANDSHAKE_MS).toBe(10_000);
    expect(DEFAULT_SOCKS_MAX_CONNECTIONS).toBe(256);
  });

  it('refuses a bad handshakeTimeout or maxConnections with USAGE', async () => {
    for (const bad of [{ handshakeTimeout: -1 }, { maxConnections: 0 }, { maxConnections: 1.5 }]) {
      await expect(dynamicForward(forwarder, bad)).rejects.toMatchObject({ code: SSH_ERR.USAGE });
    }
  });

  it('half-closes after a refusal (05 FF) instead of resetting the connection', async () => {
    handle = await dynamicForward(forwarder, {});
    const c = dial(handle.port);
    await c.connected;
    c.socket.write(Buffer.from([5, 1, 2])); // username/password only
    await until(() => c.seen.ended);
    expect([...c.seen.data]).toEqual([5, 0xff]);
    // The proxy only half-closed: bytes still in flight towards it do not reset the connection.
    c.socket.write(Buffer.alloc(64 * 1024));
    await sleep(100);
    c.socket.write(Buffer.from('more'));
    await sleep(100);
    expect(c.seen.error).toBe('');
    c.socket.end();
    await until(() => c.seen.closed);
    expect(c.seen.error).toBe('');
  });

  it('half-closes after a refused CONNECT, with the reply first', async () => {
    handle = await dynamicForward(forwarder, {});
    const c = dial(handle.port);
    await c.connected;
    c.socket.write(Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0, 80]));
    await until(() => c.seen.ended);
    expect([...c.seen.data]).toEqual([5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
    c.socket.write(Buffer.from('late'));
    await sleep(100);
    expect(c.seen.error).toBe('');
    c.socket.destroy();
  });

  it('drops a client that does not finish the greeting or the request in time', async () => {
    handle = await dynamicForward(forwarder, { handshakeTimeout: 100 });
    const silent = dial(handle.port);
    const greeted = dial(handle.port);
    await Promise.all([silent.connected, greeted.connected]);
    greeted.socket.write(Buffer.from([5, 1, 0, 5, 1])); // greeting, then half a request
    const started = Date.now();
    await until(() => silent.seen.ended && greeted.seen.ended, 2000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(80);
    expect([...greeted.seen.data]).toEqual([5, 0]);
    for (const c of [silent, greeted]) c.socket.destroy();
  });

  it('serves at most maxConnections connections at once', async () => {
    handle = await dynamicForward(forwarder, { maxConnections: 2 });
    const first = dial(handle.port);
    const second = dial(handle.port);
    await Promise.all([first.connected, second.connected]);
    // Both are being served: each gets its method reply.
    for (const c of [first, second]) c.socket.write(Buffer.from([5, 1, 0]));
    await until(() => first.seen.data.length === 2 && second.seen.data.length === 2);
    const third = dial(handle.port);
    await until(() => third.seen.ended);
    expect(third.seen.data.length).toBe(0);
    third.socket.destroy();
    first.socket.destroy();
    await sleep(50);
    const fourth = dial(handle.port);
    await fourth.connected;
    fourth.socket.write(Buffer.from([5, 1, 0]));
    await until(() => fourth.seen.data.length === 2);
    for (const c of [second, fourth]) c.socket.destroy();
  });
});
