/**
 * @module
 * Test harness for the connection layer: a client/server pair over the memory link with a
 * Connection installed directly on each engine (authentication is not involved), raw peers
 * that inject hand-made connection messages, and event transcripts.
 */

import { expect } from 'vitest';
import { Connection } from '../../src/connection/connection.js';
import type { ChannelEvent, ConnectionConfig } from '../../src/connection/types.js';
import type { Session } from '../../src/index.js';
import { engineOf } from '../../src/session.js';
import type { MemoryLinkOptions } from '../../transports/memory.js';
import { makePair, type Pair } from '../helpers.js';

/** Installs a Connection as the upper layer of a session, as UpperLayers does after auth. */
export function attachConnection(session: Session, config: ConnectionConfig = {}): Connection {
  const engine = engineOf(session);
  const connection = new Connection(engine, config);
  const upper = {
    connection,
    handleMessage: (type: number, payload: Uint8Array) => connection.handleMessage(type, payload),
    onWritable: () => connection.onWritable(),
  };
  engine.upper = upper;
  return connection;
}

/** A peer that is the test itself: it records connection messages and sends raw ones. */
export interface RawPeer {
  readonly received: Uint8Array[];
  send(payload: Uint8Array): void;
}

/** Installs a recording upper layer that answers nothing: the test speaks for it. */
export function attachRawPeer(session: Session): RawPeer {
  const engine = engineOf(session);
  const received: Uint8Array[] = [];
  engine.upper = {
    handleMessage: (_type: number, payload: Uint8Array) => {
      received.push(payload.slice());
      return true;
    },
  };
  return { received, send: (payload) => engine.sendControl(payload) };
}

export interface ConnPair extends Pair {
  clientConn: Connection;
  serverConn: Connection;
}

export interface ConnPairOptions {
  link?: MemoryLinkOptions;
  seed?: number;
  client?: ConnectionConfig;
  server?: ConnectionConfig;
  rekeyAfterBytes?: number;
}

/** A handshaken pair with a connection layer on both sides. */
export async function connectPair(options: ConnPairOptions = {}): Promise<ConnPair> {
  const extra =
    options.rekeyAfterBytes === undefined ? {} : { rekeyAfterBytes: options.rekeyAfterBytes };
  const pair = makePair({
    ...(options.link ? { link: options.link } : {}),
    seed: options.seed ?? 1,
    client: extra,
    server: extra,
  });
  await pair.settle();
  expect(pair.serverLog).toContain('service-accepted');
  expect(pair.clientLog).toContain('service-accepted');
  const clientConn = attachConnection(pair.client, options.client);
  const serverConn = attachConnection(pair.server, options.server);
  return { ...pair, clientConn, serverConn };
}

/** One transcript line per event; data as text. */
export function describeEvent(event: ChannelEvent): string {
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  switch (event.type) {
    case 'data':
      return `data ${text(event.data)}`;
    case 'extended-data':
      return `extended-data ${event.dataType} ${text(event.data)}`;
    case 'open-failed':
      return `open-failed ${event.reason} ${event.description}`;
    case 'request': {
      const p = event.request.parsed;
      const fields = p ? JSON.stringify({ ...p, type: undefined }) : '-';
      return `request ${event.request.name} ${event.request.wantReply} ${fields}`;
    }
    case 'request-result':
      return `request-result ${event.request} ${event.success}`;
    default:
      return event.type;
  }
}

/** The error code that ended a session, and the DISCONNECT its peer saw. */
export function expectPeerFault(
  pair: Pair,
  victim: 'client' | 'server',
  code: string,
  reason = 2,
): void {
  const log = victim === 'client' ? pair.clientLog : pair.serverLog;
  const other = victim === 'client' ? pair.serverLog : pair.clientLog;
  const session = victim === 'client' ? pair.client : pair.server;
  expect(engineOf(session).state).toBe('closed');
  expect(engineOf(session).lastError?.code).toBe(code);
  expect(engineOf(session).lastError?.origin).toBe('peer');
  expect(log.filter((l) => l.startsWith('error'))).toEqual([`error ${code}`]);
  expect(log.at(-1)).toBe('closed');
  expect(other.filter((l) => l.startsWith('disconnected'))).toEqual([`disconnected ${reason}`]);
}

export const text = (s: string) => new TextEncoder().encode(s);
export const str = (b: Uint8Array) => new TextDecoder().decode(b);
