/**
 * @module
 * A WebSocket (the `ws` package, an optional peer dependency) as the link of a session: one
 * session per connection, SSH bytes in binary messages whose boundaries mean nothing. A text
 * message from the peer is a violation of this link's protocol: the link is closed (code 1003)
 * and the session hears `sessionClose`.
 */

import type { IncomingMessage } from 'node:http';
import WebSocket, { type ClientOptions, type RawData, WebSocketServer } from 'ws';
import {
  type Session,
  type SessionConfig,
  sessionClose,
  sessionCreate,
  sessionReceive,
} from '../src/index.js';
import { InputBuffer } from './input-buffer.js';

/**
 * The largest message accepted from the peer, by default: 16 MiB. Our side never sends one
 * larger than {@link WEBSOCKET_SEND_SLICE_BYTES}.
 */
export const DEFAULT_WEBSOCKET_MAX_PAYLOAD = 16 * 1024 * 1024;

/** What one `send` of the session is cut into, at most, per binary message: 1 MiB. */
export const WEBSOCKET_SEND_SLICE_BYTES = 1024 * 1024;

/** How long a closing handshake may take before the connection is cut: 2 s. */
export const WEBSOCKET_CLOSE_TIMEOUT_MS = 2000;

/** The close code sent when the peer sends a text message (RFC 6455 §7.4.1, unsupported data). */
export const WEBSOCKET_CLOSE_UNSUPPORTED_DATA = 1003;

/** How a WebSocket link behaves. */
export interface WebSocketLinkOptions {
  /** Called for every message received (e.g. `SessionTimeouts.noteActivity`). */
  readonly onActivity?: () => void;
  /**
   * Told about link errors: the socket's errors, and a text message from the peer. The session
   * hears only that the link closed.
   */
  readonly onLinkError?: (error: Error) => void;
}

/** Options of {@link connectWebSocket}. */
export interface ConnectWebSocketOptions extends WebSocketLinkOptions {
  /** Subprotocols to offer in `Sec-WebSocket-Protocol`. */
  readonly protocols?: string | readonly string[];
  /**
   * Options for the `ws` client. `perMessageDeflate` is off unless set here (SSH traffic is
   * encrypted, so it does not compress); `maxPayload` defaults to
   * {@link DEFAULT_WEBSOCKET_MAX_PAYLOAD}.
   */
  readonly ws?: ClientOptions;
}

/**
 * Where {@link listenWebSocket} listens. `onLinkError` hears every connection's errors; for a
 * per-session idle clock, listen to each socket's `message` event in `onSession`.
 */
export interface ListenWebSocketOptions extends Omit<WebSocketLinkOptions, 'onActivity'> {
  /** The TCP port; 0 picks a free one (read it from `server.address()`). */
  readonly port: number;
  /** The address to listen on. Default `127.0.0.1`. */
  readonly host?: string;
  /** Accept upgrades only on this path (e.g. `/ssh`). Default: any path. */
  readonly path?: string;
  /** The largest message accepted. Default {@link DEFAULT_WEBSOCKET_MAX_PAYLOAD}. */
  readonly maxPayload?: number;
}

/**
 * Connects to `url` (`ws://` or `wss://`) and runs a client session on the connection. What
 * the session sends before the connection opens waits in the transport. A connection that
 * fails ends the session with `SSH_ERR_CONNECTION_LOST`; `onLinkError` gets the reason.
 *
 * @example
 * ```ts
 * const session = connectWebSocket('wss://gateway.example/ssh', {
 *   role: 'client',
 *   onHostKey: (request) => request.accept(),
 * });
 * ```
 */
export function connectWebSocket(
  url: string | URL,
  config: SessionConfig<Session>,
  options: ConnectWebSocketOptions = {},
): Session {
  const { protocols, ws: wsOptions, ...link } = options;
  const offered =
    protocols === undefined ? [] : typeof protocols === 'string' ? protocols : [...protocols];
  const ws = new WebSocket(url, offered, {
    perMessageDeflate: false,
    maxPayload: DEFAULT_WEBSOCKET_MAX_PAYLOAD,
    ...wsOptions,
  });
  try {
    return attachWebSocket(ws, config, link);
  } catch (e) {
    ws.on('error', () => {});
    ws.terminate();
    throw e;
  }
}

/**
 * Runs a session on a WebSocket that is open or still connecting (e.g. one a
 * `WebSocketServer` handed to its `connection` listener). When the session ends, the socket
 * is closed with code 1000 (cut after {@link WEBSOCKET_CLOSE_TIMEOUT_MS} if the peer does not
 * answer); when the socket closes, the session hears `sessionClose` once every message
 * received was fed to it.
 *
 * @example
 * ```ts
 * import { WebSocketServer } from 'ws';
 *
 * const wss = new WebSocketServer({ port: 0, perMessageDeflate: false }); // 0: any free port
 * wss.on('connection', (ws) => attachWebSocket(ws, { role: 'server', hostKeys: [key] }));
 * ```
 */
export function attachWebSocket(
  ws: WebSocket,
  config: SessionConfig<Session>,
  options: WebSocketLinkOptions = {},
): Session {
  const link = new WebSocketLink(ws, options);
  try {
    const session = sessionCreate(link, wsSend, wsClose, config);
    link.start(
      (bytes) => sessionReceive(session, bytes),
      () => sessionClose(session),
    );
    return session;
  } catch (e) {
    link.release();
    throw e;
  }
}

/**
 * Listens for WebSocket connections and runs a server session on each one (no
 * compression; messages up to `maxPayload`). Wait for the server's `listening` event before
 * reading its address. If `configFor` throws, that connection is cut and the exception is
 * emitted as the server's `error` event.
 *
 * @example
 * ```ts
 * const wss = listenWebSocket({ port: 0, path: '/ssh' }, () => ({
 *   role: 'server',
 *   hostKeys: [key],
 * }));
 * wss.on('listening', () => console.log(wss.address()));
 * ```
 */
export function listenWebSocket(
  where: ListenWebSocketOptions,
  configFor: (ws: WebSocket, request: IncomingMessage) => SessionConfig<Session>,
  onSession?: (session: Session, ws: WebSocket, request: IncomingMessage) => void,
): WebSocketServer {
  const { port, host = '127.0.0.1', path, maxPayload, ...link } = where;
  const server = new WebSocketServer({
    port,
    host,
    ...(path !== undefined ? { path } : {}),
    perMessageDeflate: false,
    maxPayload: maxPayload ?? DEFAULT_WEBSOCKET_MAX_PAYLOAD,
  });
  server.on('connection', (ws, request) => {
    let session: Session;
    try {
      session = attachWebSocket(ws, configFor(ws, request), link);
    } catch (e) {
      ws.terminate();
      server.emit('error', e);
      return;
    }
    onSession?.(session, ws, request);
  });
  return server;
}

function wsSend(link: WebSocketLink, bytes: Uint8Array): 0 | -1 {
  return link.send(bytes);
}

function wsClose(link: WebSocketLink): void {
  link.close();
}

/** One WebSocket and its input buffer. */
class WebSocketLink {
  readonly #ws: WebSocket;
  readonly #options: WebSocketLinkOptions;
  readonly #input = new InputBuffer();
  /** What the session sent before the connection opened. */
  #early: Uint8Array[] | undefined = [];
  #closing = false;
  #refused = false;
  #reported = false;
  #onGone: (() => void) | undefined;

  constructor(ws: WebSocket, options: WebSocketLinkOptions) {
    this.#ws = ws;
    this.#options = options;
    ws.binaryType = 'nodebuffer';
    ws.on('error', this.#onError);
    if (ws.readyState === WebSocket.CONNECTING) ws.once('open', this.#onOpen);
    else this.#early = undefined;
  }

  start(receive: (bytes: Uint8Array) => number, gone: () => void): void {
    this.#onGone = gone;
    this.#input.attach(receive);
    this.#ws.on('message', this.#onMessage);
    this.#ws.on('close', this.#onClose);
    if (this.#ws.readyState === WebSocket.CLOSED) this.#onClose();
  }

  /** Detaches from the socket (the session could not be created). */
  release(): void {
    this.#ws.off('error', this.#onError);
    this.#ws.off('open', this.#onOpen);
    this.#ws.off('message', this.#onMessage);
    this.#ws.off('close', this.#onClose);
  }

  send(bytes: Uint8Array): 0 | -1 {
    if (this.#closing) return -1;
    if (this.#early) {
      this.#early.push(bytes);
      return 0;
    }
    if (this.#ws.readyState !== WebSocket.OPEN) return -1;
    this.#write(bytes);
    return 0;
  }

  /** The session ended: close the socket (its DISCONNECT was sent first). */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    const ws = this.#ws;
    if (this.#early) {
      // Still connecting: there is no one to say goodbye to.
      this.#early = undefined;
      ws.terminate();
      return;
    }
    this.#shut(1000, '');
  }

  #shut(code: number, reason: string): void {
    const ws = this.#ws;
    if (ws.readyState === WebSocket.CLOSED) return;
    ws.close(code, reason);
    setTimeout(() => ws.terminate(), WEBSOCKET_CLOSE_TIMEOUT_MS).unref();
  }

  #write(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i += WEBSOCKET_SEND_SLICE_BYTES) {
      this.#ws.send(bytes.subarray(i, i + WEBSOCKET_SEND_SLICE_BYTES), { binary: true });
    }
  }

  #onOpen = () => {
    const early = this.#early;
    this.#early = undefined;
    if (!early || this.#closing) return;
    for (const bytes of early) this.#write(bytes);
  };

  #onMessage = (data: RawData, isBinary: boolean) => {
    if (this.#refused) return;
    this.#options.onActivity?.();
    if (!isBinary) {
      this.#refused = true;
      this.#options.onLinkError?.(new Error('the peer sent a text message: SSH needs binary'));
      this.#shut(WEBSOCKET_CLOSE_UNSUPPORTED_DATA, 'binary messages only');
      return;
    }
    const chunks = Array.isArray(data)
      ? data
      : [data instanceof ArrayBuffer ? new Uint8Array(data) : data];
    for (const chunk of chunks) {
      if (this.#input.push(chunk) < 0) {
        this.#refused = true;
        this.close();
        return;
      }
    }
  };

  #onError = (error: Error) => {
    // 'close' follows every 'error'; the session hears it there.
    this.#options.onLinkError?.(error);
  };

  #onClose = () => {
    this.#early = undefined;
    this.#input.afterDrain(() => {
      if (this.#reported) return;
      this.#reported = true;
      this.#onGone?.();
    });
  };
}
