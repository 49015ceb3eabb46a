/**
 * The OpenSSH-style forwarding helpers used by real TCP clients, against sshd and against our
 * own server: -L (localForward), -R (remoteForward) and -D (dynamicForward, our SOCKS5 server,
 * driven by a SOCKS5 client written here and by `curl --socks5-hostname`).
 */

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOCKS_REPLY } from '../../node/index.js';
import { requireBinary, tcpRoundTrip } from '../interop-connection/helpers.js';
import { exchange, MiB, socksConnect } from './helpers.js';
import { ownPeer, type Peer, sshdPeer, startDualEcho, startHttp } from './peers.js';

const execFileAsync = promisify(execFile);
const CURL = '/usr/bin/curl';

let echo: Awaited<ReturnType<typeof startDualEcho>>;
let web: Awaited<ReturnType<typeof startHttp>>;
const peers: Record<string, Peer> = {};

beforeAll(async () => {
  [echo, web, peers.sshd, peers.own] = await Promise.all([
    startDualEcho(),
    startHttp(),
    sshdPeer(),
    ownPeer(),
  ]);
});

afterAll(async () => {
  await Promise.all(Object.values(peers).map((p) => p.stop()));
  await echo?.close();
  await web?.close();
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe.each(['sshd', 'own'])('forwarding through %s', (which) => {
  const client = () => peers[which]!.client;

  it('-L: a local port reaches the remote target', async () => {
    const forward = await client().localForward({ remoteHost: '127.0.0.1', remotePort: echo.port });
    try {
      const data = randomBytes(3 * MiB);
      const [a, b] = await Promise.all([
        tcpRoundTrip(forward.port, data),
        tcpRoundTrip(forward.port, Buffer.from('second connection')),
      ]);
      expect(a.equals(data)).toBe(true);
      expect(b.toString()).toBe('second connection');
    } finally {
      await forward.close();
    }
  });

  it('-R: a port on the server reaches a local target', async () => {
    const forward = await client().remoteForward({ localPort: echo.port });
    try {
      expect(forward.port).toBeGreaterThan(0);
      const data = randomBytes(MiB);
      expect((await tcpRoundTrip(forward.port, data)).equals(data)).toBe(true);
    } finally {
      await forward.close();
    }
  });

  it('-D: SOCKS5 CONNECT by IPv4, IPv6 and domain name', async () => {
    const socks = await client().dynamicForward();
    try {
      for (const address of [{ ipv4: '127.0.0.1' }, { ipv6: '::1' }, { domain: 'localhost' }]) {
        const { reply, socket } = await socksConnect(socks.port, address, echo.port);
        expect(reply, JSON.stringify(address)).toBe(SOCKS_REPLY.SUCCEEDED);
        const data = randomBytes(256 * 1024);
        expect((await exchange(socket, data)).equals(data)).toBe(true);
      }
      const refused = await socksConnect(socks.port, { ipv4: '127.0.0.1' }, await closedPort());
      expect(refused.reply).toBe(SOCKS_REPLY.CONNECTION_REFUSED);
      refused.socket.destroy();
    } finally {
      await socks.close();
    }
  });

  it('-D: curl --socks5-hostname fetches a page through it', async () => {
    requireBinary(CURL);
    const socks = await client().dynamicForward();
    try {
      const { stdout } = await execFileAsync(CURL, [
        '-sS',
        '--max-time',
        '20',
        '--socks5-hostname',
        `127.0.0.1:${socks.port}`,
        `http://localhost:${web.port}/via-socks`,
      ]);
      expect(stdout).toBe('hello /via-socks');
    } finally {
      await socks.close();
    }
  });
});
