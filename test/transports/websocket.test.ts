/**
 * The WebSocket transport: our client and server over `ws` on loopback, a peer that sends a
 * text message, and peers that hang up mid-handshake.
 */

import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import {
  type Session,
  SSH_ERR,
  sessionDisconnect,
  sessionLastError,
  sessionPeerIdentification,
} from '../../src/index.js';
import {
  connectWebSocket,
  listenWebSocket,
  WEBSOCKET_CLOSE_UNSUPPORTED_DATA,
} from '../../transports/websocket.js';
import {
  clientConfig,
  expectLinkDropped,
  handshakeAndRekey,
  Recorder,
  serverConfig,
} from './helpers.js';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    for (const c of s.clients) c.terminate();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

async function started(server: WebSocketServer): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Our server on a free loopback port; `sessions` fills as clients connect. */
async function ourServer(rec: Recorder, path?: string) {
  const sessions: Session[] = [];
  const linkErrors: Error[] = [];
  const server = listenWebSocket(
    {
      port: 0,
      ...(path !== undefined ? { path } : {}),
      onLinkError: (e) => linkErrors.push(e),
    },
    () => serverConfig(rec),
    (s) => sessions.push(s),
  );
  const url = await started(server);
  return { url, sessions, linkErrors };
}

describe('a WebSocket link', () => {
  it('runs our client and our server through a handshake and a rekey', async () => {
    const serverRec = new Recorder();
    const { url, sessions } = await ourServer(serverRec, '/ssh');
    const clientRec = new Recorder();
    const client = connectWebSocket(`${url}/ssh`, clientConfig(clientRec));
    await handshakeAndRekey(client, clientRec, serverRec);

    sessionDisconnect(client);
    await serverRec.waitFor('closed');
    expect(sessionLastError(sessions[0]!)?.code).toBe(SSH_ERR.PEER_DISCONNECTED);
    await clientRec.waitFor('closed');
    expect(sessionLastError(client)).toBeUndefined();
  });

  it('closes the link with 1003 when the peer sends a text message; the session just ends', async () => {
    const rec = new Recorder();
    const { url, sessions, linkErrors } = await ourServer(rec);
    const raw = new WebSocket(url);
    const closed = new Promise<number>((resolve) => raw.on('close', (code) => resolve(code)));
    raw.on('open', () => raw.send('SSH-2.0-TextFrames_1.0\r\n'));
    expect(await closed).toBe(WEBSOCKET_CLOSE_UNSUPPORTED_DATA);
    await expectLinkDropped(rec, sessions[0]!);
    expect(sessionLastError(sessions[0]!)?.code).toBe(SSH_ERR.CONNECTION_LOST);
    expect(rec.types).not.toContain('identification');
    expect(linkErrors.map((e) => e.message)).toEqual([expect.stringMatching(/text message/)]);
  });

  it('reports a client that hangs up mid-handshake as a lost connection to our server', async () => {
    const rec = new Recorder();
    const { url, sessions } = await ourServer(rec);
    const raw = new WebSocket(url);
    raw.on('message', () => {
      raw.send(Buffer.from('SSH-2.0-HangsUp_1.0\r\n'));
      raw.terminate();
    });
    await expectLinkDropped(rec);
    expect(rec.session).toBe(sessions[0]);
    expect(rec.types).toContain('identification');
  });

  it('reports a server that hangs up mid-handshake as a lost connection to our client', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    server.on('connection', (ws) => {
      ws.send(Buffer.from('SSH-2.0-HangsUp_1.0\r\n'));
      ws.once('message', () => ws.close());
    });
    const url = await started(server);
    const rec = new Recorder();
    const client = connectWebSocket(url, clientConfig(rec));
    await expectLinkDropped(rec, client);
    expect(sessionPeerIdentification(client)).toBe('SSH-2.0-HangsUp_1.0');
  });

  it('reports a refused connection as a lost connection and tells onLinkError why', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    const url = await started(server);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    servers.length = 0;
    const rec = new Recorder();
    const errors: Error[] = [];
    const client = connectWebSocket(url, clientConfig(rec), { onLinkError: (e) => errors.push(e) });
    await expectLinkDropped(rec, client);
    expect(sessionLastError(client)?.code).toBe(SSH_ERR.CONNECTION_LOST);
    expect(errors.map((e) => (e as NodeJS.ErrnoException).code)).toContain('ECONNREFUSED');
  });
});
