/**
 * An SSH session over a WebSocket (the `ws` package): our server listens for WebSocket
 * upgrades on a loopback port, our client connects to it, logs in and runs a command; SSH
 * bytes travel in binary messages. The same two calls put SSH behind an HTTP gateway or a
 * browser-facing proxy.
 *
 *   npx tsx examples/websocket-session.ts -- 'echo hello over $0'
 *
 * `--port N` picks the port (default: a free one). It prints the command's output and exits
 * with its status.
 */

import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import {
  fingerprintSha256,
  generatePrivateKey,
  sessionDisconnect,
  sessionLastError,
} from '../src/index.js';
import { connectWebSocket, listenWebSocket } from '../transports/websocket.js';
import { acceptCommands, runCommand } from './lib/commands.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { port: { type: 'string', default: '0' } },
});
const command = positionals.length > 0 ? positionals.join(' ') : 'uname -a';

// The server: a fresh host key and user key, commands run with /bin/sh.
const hostKey = generatePrivateKey('ed25519');
const userKey = generatePrivateKey('ed25519');
const server = listenWebSocket({ port: Number(values.port), path: '/ssh' }, () => ({
  role: 'server',
  hostKeys: [hostKey],
  authMethods: ['publickey'],
  onAuth: (request) =>
    request.publicKey && Buffer.from(request.publicKey.blob).equals(userKey.publicKeyBlob)
      ? request.accept()
      : request.reject(),
  onChannelOpen: (request) =>
    request.type === 'session' ? acceptCommands(request) : request.reject(),
}));
await new Promise((resolve, reject) => {
  server.once('listening', resolve);
  server.once('error', reject);
});
const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ssh`;
process.stderr.write(`websocket-session: server on ${url}\n`);

// The client: trusts only that host key, logs in with the user key, runs the command.
const pinned = fingerprintSha256(hostKey.publicKeyBlob);
let status: number | undefined;
connectWebSocket(url, {
  role: 'client',
  onHostKey: (request) => (request.fingerprint === pinned ? request.accept() : request.reject()),
  auth: { username: 'web', methods: [{ type: 'publickey', key: userKey }] },
  onEvent: (event, session) => {
    if (event.type === 'authenticated') {
      runCommand(session, command, {
        stdout: (data) => process.stdout.write(data),
        stderr: (data) => process.stderr.write(data),
      }).then((result) => {
        status = result.status;
        sessionDisconnect(session);
      });
    } else if (event.type === 'closed') {
      const error = sessionLastError(session);
      if (error) process.stderr.write(`websocket-session: ${error.code}: ${error.message}\n`);
      process.exitCode = status ?? 255;
      server.close();
    }
  },
});
