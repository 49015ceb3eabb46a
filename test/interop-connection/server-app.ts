/**
 * @module
 * The application our test server runs (no vitest here: the ProxyCommand program uses it
 * too): publickey/password authentication, session channels that run real commands
 * (`/bin/sh -c`) and subsystems (sftp-server), direct-tcpip to TCP targets, and remote
 * forwarding (tcpip-forward listens; each connection opens a forwarded-tcpip channel).
 */

import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import {
  type AuthRequest,
  type ChannelOpenRequest,
  type GlobalRequest,
  type PrivateKey,
  type ServerAuthMethodName,
  type ServerConfig,
  type Session,
  type SessionEvent,
  SSH_OPEN,
  sessionOpenForwardedTcpip,
} from '../../src/index.js';
import { ProcessChannel, SocketBridge } from './channel-tools.js';

export const SFTP_SERVER = '/usr/lib/openssh/sftp-server';

export interface ServerAppOptions {
  readonly hostKeys: readonly PrivateKey[];
  /** The only user name accepted. */
  readonly username: string;
  /** Public key blobs (base64) accepted for publickey. */
  readonly authorizedKeys: readonly string[];
  /** The password accepted for password. */
  readonly password: string;
  readonly authMethods?: readonly ServerAuthMethodName[];
  readonly maxAuthAttempts?: number;
  /** Working directory of commands and subsystems. */
  readonly cwd: string;
  /** Subsystem name → argv (default: sftp → sftp-server). */
  readonly subsystems?: Readonly<Record<string, readonly string[]>>;
  /** Receives one record per notable thing (auth attempts, channel opens, forwards, events). */
  readonly log?: (record: AppRecord) => void;
}

export type AppRecord =
  | {
      readonly type: 'auth';
      readonly method: string;
      readonly username: string;
      readonly ok: boolean;
    }
  | { readonly type: 'event'; readonly event: string; readonly detail?: string }
  | { readonly type: 'channel-open'; readonly channelType: string; readonly detail?: string }
  | { readonly type: 'started'; readonly what: string }
  | { readonly type: 'channel-request'; readonly name: string; readonly detail?: string }
  | {
      readonly type: 'forward';
      readonly bindAddress: string;
      readonly requestedPort: number;
      readonly boundPort: number;
    }
  | { readonly type: 'forward-cancelled'; readonly port: number }
  | { readonly type: 'forwarded-connection'; readonly port: number };

/** Loopback only in tests: OpenSSH sends "localhost" (or "") for an unspecified address. */
function bindHost(address: string): string {
  return address === '' || address === 'localhost' || address === '*' || address === '0.0.0.0'
    ? '127.0.0.1'
    : address;
}

/** Our server's application; `config()` gives the configuration of one session. */
export class ServerApp {
  readonly #o: ServerAppOptions;
  readonly records: AppRecord[] = [];
  readonly #cleanups = new Set<() => void>();

  constructor(options: ServerAppOptions) {
    this.#o = options;
  }

  #log(record: AppRecord): void {
    this.records.push(record);
    this.#o.log?.(record);
  }

  /** Stops every listener and child of every session. */
  close(): void {
    for (const c of [...this.#cleanups]) c();
    this.#cleanups.clear();
  }

  config(extra: { onEvent?: (event: SessionEvent, session: Session) => void } = {}) {
    const o = this.#o;
    const cleanups = new Set<() => void>();
    const track = (fn: () => void) => {
      cleanups.add(fn);
      this.#cleanups.add(fn);
      return () => {
        cleanups.delete(fn);
        this.#cleanups.delete(fn);
      };
    };
    const listeners = new Map<string, Server>();
    const config: ServerConfig<Session> = {
      role: 'server',
      hostKeys: o.hostKeys,
      authMethods: o.authMethods ?? ['publickey', 'password'],
      ...(o.maxAuthAttempts !== undefined ? { maxAuthAttempts: o.maxAuthAttempts } : {}),
      onAuth: (req) => this.#decide(req as AuthRequest),
      onEvent: (event, session) => {
        if (event.type !== 'debug')
          this.#log({
            type: 'event',
            event: event.type,
            ...(event.type === 'error'
              ? { detail: `${event.error.code}: ${event.error.message}` }
              : {}),
          });
        extra.onEvent?.(event, session);
        if (event.type === 'closed') {
          for (const c of [...cleanups]) c();
        }
      },
      onChannelOpen: (request, session) => this.#onChannelOpen(request, session, track),
      onGlobalRequest: (request, session) =>
        this.#onGlobalRequest(request, session, listeners, track),
    };
    return config;
  }

  #decide(req: AuthRequest): void {
    const o = this.#o;
    let ok = false;
    if (req.username === o.username) {
      if (req.method === 'publickey' && req.publicKey) {
        ok = o.authorizedKeys.includes(Buffer.from(req.publicKey.blob).toString('base64'));
      } else if (req.method === 'password') {
        ok = req.password === o.password;
      }
    }
    this.#log({ type: 'auth', method: req.method, username: req.username, ok });
    if (ok) req.accept();
    else req.reject();
  }

  #onChannelOpen(
    request: ChannelOpenRequest,
    session: Session,
    track: (fn: () => void) => () => void,
  ): void {
    void session;
    switch (request.type) {
      case 'session': {
        this.#log({ type: 'channel-open', channelType: 'session' });
        const pc = new ProcessChannel(this.#o.subsystems ?? { sftp: [SFTP_SERVER] }, this.#o.cwd);
        const untrack = track(() => pc.child?.kill('SIGKILL'));
        const options = pc.options;
        request.accept({
          ...options,
          onEvent: (event, ch) => {
            if (event.type === 'request') {
              const p = event.request.parsed;
              const detail =
                p?.type === 'pty-req'
                  ? `${p.term} ${p.cols}x${p.rows}`
                  : p?.type === 'env'
                    ? `${p.name}=${p.value}`
                    : undefined;
              this.#log({
                type: 'channel-request',
                name: event.request.name,
                ...(detail !== undefined ? { detail } : {}),
              });
            }
            options.onEvent(event, ch);
            if (event.type === 'request' && pc.started.length > 0) {
              const what = pc.started[pc.started.length - 1]!;
              if (!this.records.some((r) => r.type === 'started' && r.what === what))
                this.#log({ type: 'started', what });
            }
            if (event.type === 'close') untrack();
          },
        });
        return;
      }
      case 'direct-tcpip': {
        this.#log({
          type: 'channel-open',
          channelType: 'direct-tcpip',
          detail: `${request.host}:${request.port}`,
        });
        const socket = netConnect({
          host: bindHost(request.host),
          port: request.port,
          allowHalfOpen: true,
        });
        const untrack = track(() => socket.destroy());
        socket.once('connect', () => {
          socket.off('error', refuse);
          socket.setNoDelay(true);
          const bridge = new SocketBridge(socket);
          const channel = request.accept(bridge.options);
          bridge.start(channel);
          void bridge.done.then(untrack);
        });
        const refuse = (e: Error) => {
          untrack();
          request.reject(SSH_OPEN.CONNECT_FAILED, e.message);
        };
        socket.once('error', refuse);
        return;
      }
      default:
        request.reject(SSH_OPEN.ADMINISTRATIVELY_PROHIBITED, `no ${request.type} here`);
    }
  }

  #onGlobalRequest(
    request: GlobalRequest,
    session: Session,
    listeners: Map<string, Server>,
    track: (fn: () => void) => () => void,
  ): void {
    const p = request.parsed;
    if (p?.type === 'tcpip-forward') {
      const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
        const addr = server.address();
        const boundPort = typeof addr === 'object' && addr ? addr.port : 0;
        this.#log({ type: 'forwarded-connection', port: boundPort });
        this.#openForwarded(session, socket, p.bindAddress, boundPort, track);
      });
      server.once('error', () => request.reject());
      server.listen(p.bindPort, bindHost(p.bindAddress), () => {
        const addr = server.address();
        const boundPort = typeof addr === 'object' && addr ? addr.port : 0;
        listeners.set(`${p.bindAddress}:${boundPort}`, server);
        track(() => server.close());
        this.#log({
          type: 'forward',
          bindAddress: p.bindAddress,
          requestedPort: p.bindPort,
          boundPort,
        });
        request.accept({ boundPort });
      });
      return;
    }
    if (p?.type === 'cancel-tcpip-forward') {
      const key = `${p.bindAddress}:${p.bindPort}`;
      const server = listeners.get(key);
      if (!server) return request.reject();
      listeners.delete(key);
      server.close();
      this.#log({ type: 'forward-cancelled', port: p.bindPort });
      return request.accept();
    }
    if (request.wantReply) request.reject();
  }

  #openForwarded(
    session: Session,
    socket: Socket,
    address: string,
    port: number,
    track: (fn: () => void) => () => void,
  ): void {
    socket.setNoDelay(true);
    const bridge = new SocketBridge(socket);
    const untrack = track(() => socket.destroy());
    void bridge.done.then(untrack);
    sessionOpenForwardedTcpip(session, {
      address,
      port,
      originatorHost: socket.remoteAddress ?? '127.0.0.1',
      originatorPort: socket.remotePort ?? 0,
      ...bridge.options,
    });
  }
}
