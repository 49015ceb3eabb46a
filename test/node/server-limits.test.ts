/**
 * The server's `maxStartups` (OpenSSH's MaxStartups, without the random early drop):
 * connections that have not logged in yet are counted, and one beyond the limit is closed at
 * once, before a byte of SSH is sent; logged-in connections do not count.
 */

import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { connect, createServer, DEFAULT_MAX_STARTUPS, type SshServer } from '../../node/index.js';
import { generatePrivateKey, SSH_ERR } from '../../src/index.js';
import { createMemoryLink } from '../../transports/memory.js';
import { until } from './helpers.js';

function start(maxStartups?: number): SshServer {
  return createServer({
    hostKeys: [generatePrivateKey('ed25519')],
    authenticate: (c) => c.password === 'pw',
    ...(maxStartups !== undefined ? { maxStartups } : {}),
  });
}

/** A TCP client that never logs in: records what it reads and when the server closed. */
function loiter(port: number) {
  const socket = net.connect({ port, host: '127.0.0.1' });
  const seen = { bytes: 0, ended: false };
  socket.on('data', (c: Buffer) => {
    seen.bytes += c.length;
  });
  socket.on('end', () => {
    seen.ended = true;
  });
  socket.on('error', () => {});
  return { socket, seen };
}

const login = (port: number) =>
  connect({ host: '127.0.0.1', port, username: 'u', password: 'pw', verifyHostKey: () => true });

describe('maxStartups', () => {
  it('defaults to 64', () => {
    expect(DEFAULT_MAX_STARTUPS).toBe(64);
  });

  it('closes a connection beyond the limit of those not logged in, at once', async () => {
    const server = start(2);
    const { port } = await server.listen(0);
    try {
      const waiting = [loiter(port), loiter(port)];
      // Both are served: each got the server's version line.
      await until(() => waiting.every((w) => w.seen.bytes > 0));
      const refused = loiter(port);
      await until(() => refused.seen.ended);
      expect(refused.seen.bytes).toBe(0);
      await expect(login(port)).rejects.toMatchObject({ code: SSH_ERR.CONNECTION_LOST });
      // One leaves: its place is free again.
      waiting[0]!.socket.destroy();
      await new Promise((r) => setTimeout(r, 50));
      const client = await login(port);
      await client.end();
      waiting[1]!.socket.destroy();
    } finally {
      await server.close();
    }
  });

  it('does not count connections that logged in', async () => {
    const server = start(1);
    const { port } = await server.listen(0);
    try {
      const first = await login(port);
      const second = await login(port);
      expect((await Promise.all([first.end(), second.end()])).length).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('refuses serve() beyond the limit without starting the link', async () => {
    const server = start(1);
    const [, b] = createMemoryLink({ delivery: 'deferred' });
    server.serve((config) => b.create(config));
    let called = false;
    const refused = server.serve((config) => {
      called = true;
      return b.create(config);
    });
    const error = await new Promise((r) => refused.once('close', r));
    expect(called).toBe(false);
    expect(error).toMatchObject({ code: SSH_ERR.LIMIT_EXCEEDED });
    await server.close();
  });

  it('refuses a value that is not an integer >= 0 (0: no limit)', () => {
    expect(() => start(-1)).toThrow(expect.objectContaining({ code: SSH_ERR.USAGE }));
    expect(() => start(1.5)).toThrow(expect.objectContaining({ code: SSH_ERR.USAGE }));
    expect(() => start(0)).not.toThrow();
  });
});
