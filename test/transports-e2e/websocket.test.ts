/**
 * The WebSocket transport end to end: our client and our server over `ws` on loopback move
 * 8 MiB through `cat` and back with matching SHA-256; then the server drops the connection
 * mid-transfer.
 */

import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import type { WebSocketServer } from 'ws';
import { generatePrivateKey, sessionDisconnect, sessionLastError } from '../../src/index.js';
import { connectWebSocket, listenWebSocket } from '../../transports/websocket.js';
import { Recorder } from '../transports/helpers.js';
import {
  catRoundTrip,
  expectCleanBreak,
  expectIntact,
  ourClientConfig,
  ourServerConfig,
  sourceBytes,
} from './helpers.js';

const hostKey = generatePrivateKey('ed25519');
const userKey = generatePrivateKey('ed25519');

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    for (const c of s.clients) c.terminate();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

/** Our server on a free port and our client connected to it, logged in. */
async function connected() {
  const serverRec = new Recorder();
  const clientRec = new Recorder();
  const sockets: WebSocket[] = [];
  const server = listenWebSocket(
    { port: 0, path: '/ssh' },
    () => ourServerConfig(hostKey, userKey, serverRec),
    (_session, ws) => sockets.push(ws),
  );
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ssh`;
  const client = connectWebSocket(url, ourClientConfig(hostKey, userKey, clientRec));
  await clientRec.waitFor('authenticated');
  return { client, clientRec, serverRec, sockets };
}

describe('a WebSocket between our client and our server', () => {
  it('moves 8 MiB through cat and back, intact', async () => {
    const { client, clientRec, serverRec } = await connected();
    const data = sourceBytes();
    expectIntact('websocket (our server)', data, await catRoundTrip(client, data));
    sessionDisconnect(client);
    await Promise.all([clientRec.waitFor('closed'), serverRec.waitFor('closed')]);
    expect(sessionLastError(client)).toBeUndefined();
  });

  it('reports the server dropping the connection mid-transfer as a lost link, bytes so far intact', async () => {
    const { client, clientRec, sockets } = await connected();
    await expectCleanBreak('websocket (server terminated the socket)', client, clientRec, () =>
      sockets[0]!.terminate(),
    );
  });
});
