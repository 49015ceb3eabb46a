/**
 * @module
 * The two servers the node-layer tests drive: OpenSSH's sshd (TCP, key login as the current
 * user) and our own server from ./server-app.ts, each with a connected node-layer client.
 */

import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { userInfo } from 'node:os';
import { type Client, connect, type SshServer } from '../../node/index.js';
import { fingerprintSha256 } from '../../src/index.js';
import { generateOpenSshKeys, makeTempDir, removeDir } from '../interop/peers.js';
import { type ConnSshd, startConnSshd } from '../interop-connection/helpers.js';
import { PASSWORD, startTestServer, USER } from './server-app.js';

/** A server with a logged-in client. */
export interface Peer {
  readonly name: 'sshd' | 'own server';
  readonly client: Client;
  stop(): Promise<void>;
}

/** Starts sshd with a fresh user key (made by ssh-keygen) and logs in with `privateKey`. */
export async function sshdPeer(): Promise<Peer & { sshd: ConnSshd; userKey: string }> {
  const dir = makeTempDir('node-user-key');
  const [userKey] = await generateOpenSshKeys(dir, ['ed25519']);
  const sshd = await startConnSshd([userKey!.publicKeyLine]);
  const userKeyText = readFileSync(userKey!.path, 'utf8');
  const client = await connect({
    host: '127.0.0.1',
    port: sshd.port,
    username: userInfo().username,
    privateKey: userKeyText,
    verifyHostKey: (info) => info.fingerprint === sshd.hostKey.fingerprint,
  });
  return {
    name: 'sshd',
    sshd,
    userKey: userKeyText,
    client,
    stop: async () => {
      await client.end();
      await sshd.stop();
      removeDir(dir);
    },
  };
}

/** Starts our own server and logs in with a password. */
export async function ownPeer(): Promise<Peer & { server: SshServer }> {
  const { server, port, hostKey } = await startTestServer();
  const client = await connect({
    host: '127.0.0.1',
    port,
    username: USER,
    password: PASSWORD,
    verifyHostKey: (info) => info.fingerprint === fingerprintSha256(hostKey.publicKeyBlob),
  });
  return {
    name: 'own server',
    server,
    client,
    stop: async () => {
      await client.end();
      await server.close();
    },
  };
}

/** A TCP echo server on `::` (dual stack: 127.0.0.1 and ::1 both reach it), half-close aware. */
export function startDualEcho(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  return new Promise((resolve) => {
    server.listen({ port: 0, host: '::', ipv6Only: false }, () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      }),
    );
  });
}

/** An HTTP server on 127.0.0.1 answering `hello <path>`. */
export function startHttp(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => res.end(`hello ${req.url}`));
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    );
  });
}
