/**
 * @module
 * TCP (and any node:net socket, including Unix domain sockets) as the link of a session:
 * the input buffer feeds `sessionReceive`, `send` writes to the socket, `close` ends it.
 */

import net from 'node:net';
import {
  type Session,
  type SessionConfig,
  sessionClose,
  sessionCreate,
  sessionReceive,
} from '../src/index.js';
import { InputBuffer } from './input-buffer.js';

function send(socket: net.Socket, bytes: Uint8Array): 0 | -1 {
  if (socket.destroyed || !socket.writable) return -1;
  socket.write(bytes);
  return 0;
}

function close(socket: net.Socket): void {
  socket.end();
  // A peer that never closes its side must not keep the socket alive forever.
  setTimeout(() => socket.destroy(), 2000).unref();
}

/**
 * Runs a session over a connected (or connecting) socket.
 *
 * @example
 * ```ts
 * import net from 'node:net';
 *
 * const session = attachSocket(net.connect(port, host), { role: 'client', onHostKey });
 * ```
 */
export function attachSocket(socket: net.Socket, config: SessionConfig<Session>): Session {
  const input = new InputBuffer();
  socket.setNoDelay(true);
  const session = sessionCreate(socket, send, close, config);
  input.attach((bytes) => sessionReceive(session, bytes));
  socket.on('data', (chunk: Uint8Array) => {
    // On -1 the session has ended and already asked `close` to end the socket gracefully,
    // after the DISCONNECT it wrote; destroying here could drop that message.
    if (input.push(chunk) < 0) socket.pause();
  });
  socket.on('close', () => sessionClose(session));
  socket.on('error', () => {
    // 'close' follows every 'error'; the session hears it there.
  });
  return session;
}

/**
 * Connects to `host:port` and runs a client session on the socket.
 *
 * @example
 * ```ts
 * const session = connectTcp({ host, port }, {
 *   role: 'client',
 *   onHostKey: (request) => (request.fingerprint === pinned ? request.accept() : request.reject()),
 *   auth: { username, methods: [{ type: 'publickey', key }] },
 *   onEvent: (event) => {
 *     if (event.type === 'authenticated') sessionDisconnect(session);
 *   },
 * });
 * ```
 */
export function connectTcp(
  target: { readonly host?: string; readonly port: number },
  config: SessionConfig<Session>,
): Session {
  return attachSocket(net.connect(target.port, target.host ?? '127.0.0.1'), config);
}

/**
 * Listens on `host:port` and runs a server session for each connection.
 *
 * @example
 * ```ts
 * const server = listenTcp({ port: 0 }, () => ({ role: 'server', hostKeys: [key] })); // 0: any free port
 * server.on('listening', () => console.log(server.address()));
 * ```
 */
export function listenTcp(
  where: { readonly host?: string; readonly port: number },
  configFor: (socket: net.Socket) => SessionConfig<Session>,
  onSession?: (session: Session, socket: net.Socket) => void,
): net.Server {
  const server = net.createServer((socket) => {
    const session = attachSocket(socket, configFor(socket));
    onSession?.(session, socket);
  });
  server.listen(where.port, where.host ?? '127.0.0.1');
  return server;
}
