/**
 * @module
 * The Node-idiomatic SSH server: `createServer(options, handler)` gives a server that listens
 * on TCP or serves any link, with user authentication (RFC 4252, RFC 4256) decided by an async
 * callback or an event, and channels (RFC 4254) as events whose `accept()` returns streams.
 */

import { EventEmitter } from 'node:events';
import net from 'node:net';
import {
  type AlgorithmPreferences,
  type ChannelOpenRequest,
  DISCONNECT_REASON,
  type GlobalRequest,
  type PrivateKey,
  parsePrivateKey,
  type ServerAuthMethodName,
  type ServerConfig,
  type Session,
  SSH_ERR,
  SshError,
  sessionDisconnect,
  sessionLastError,
  sessionOpenForwardedTcpip,
} from '../src/index.js';
import { addTimeouts, type TimeoutKind } from '../transports/timeouts.js';
import { ChannelStream } from './channel-stream.js';
import type { SessionTuning } from './connect.js';
import { timeoutError } from './errors.js';
import { attachLink, closeLink, type Link } from './link.js';
import { type AuthContext, authenticate } from './server-auth.js';
import { type RejectFn, ServerSession } from './server-session.js';

/** Default time for a client to complete the handshake: 30 s. */
export const DEFAULT_SERVER_HANDSHAKE_MS = 30_000;
/** Default time for a client to log in (OpenSSH's `LoginGraceTime`): 120 s. */
export const DEFAULT_LOGIN_GRACE_MS = 120_000;
/** Default most connections that have not logged in yet (after OpenSSH's `MaxStartups`): 64. */
export const DEFAULT_MAX_STARTUPS = 64;

/** Options of {@link createServer}. */
export interface ServerOptions {
  /** Host keys: the core's `PrivateKey`s or key texts/bytes (SPEC section 12). At least one. */
  readonly hostKeys: readonly (PrivateKey | string | Uint8Array)[];
  /**
   * Decides each attempt; resolve `true` to let the user in. Without it each attempt is
   * emitted as `'authentication'` on the connection, and refused when nobody listens.
   */
  readonly authenticate?: (
    context: AuthContext,
    connection: ServerConnection,
  ) => boolean | Promise<boolean>;
  /** Methods offered (default `['publickey', 'password']`). */
  readonly authMethods?: readonly ServerAuthMethodName[];
  /** Failed attempts per connection (default 6). */
  readonly maxAuthAttempts?: number;
  /** Text shown to clients before login. */
  readonly banner?: string;
  readonly algorithms?: AlgorithmPreferences;
  /** Default {@link DEFAULT_SERVER_HANDSHAKE_MS}; 0 = none. */
  readonly handshakeTimeout?: number;
  /** Default {@link DEFAULT_LOGIN_GRACE_MS}; 0 = none. */
  readonly loginGraceTime?: number;
  /**
   * Most connections that have not logged in yet (default {@link DEFAULT_MAX_STARTUPS}; 0 =
   * no limit), like OpenSSH's `MaxStartups`: a connection beyond it is closed at once, before
   * the SSH version line, and its {@link ServerConnection} only emits `'close'` with
   * `SSH_ERR_LIMIT_EXCEEDED` (no `'connection'` event).
   */
  readonly maxStartups?: number;
  /** Drop a client silent for this many ms (default 0 = never). */
  readonly idleTimeout?: number;
  /** Send `keepalive@openssh.com` every this many ms once logged in (default 0 = off). */
  readonly keepaliveInterval?: number;
  /** Core session settings. */
  readonly session?: SessionTuning;
}

/** Where a `direct-tcpip` channel asks the server to connect (RFC 4254 §7.2). */
export interface DirectTcpipInfo {
  readonly host: string;
  readonly port: number;
  readonly originatorHost: string;
  readonly originatorPort: number;
}

/** The address a `tcpip-forward` asks the server to listen on (RFC 4254 §7.1). */
export interface TcpipForwardInfo {
  readonly bindAddress: string;
  readonly bindPort: number;
}

/** The events of a {@link ServerConnection} and their arguments. */
export interface ServerConnectionEvents {
  /** An attempt to decide, when `authenticate` is not set. */
  authentication: [context: AuthContext];
  /** The client logged in. */
  ready: [info: { username: string; method: string }];
  /** The client opens a session channel; `accept()` returns its {@link ServerSession}. */
  session: [accept: () => ServerSession, reject: RejectFn];
  /** The client asks us to connect to a host (ssh -L); `accept()` returns the stream. */
  'direct-tcpip': [
    accept: () => ChannelStream,
    reject: (reason?: number, description?: string) => void,
    info: DirectTcpipInfo,
  ];
  /** The client asks us to listen (ssh -R); accept with the bound port. */
  'tcpip-forward': [accept: (boundPort?: number) => void, reject: RejectFn, info: TcpipForwardInfo];
  /** The client cancels a forwarding. */
  'cancel-tcpip-forward': [
    accept: (boundPort?: number) => void,
    reject: RejectFn,
    info: TcpipForwardInfo,
  ];
  /** The connection ended, with the error that ended it, if any. */
  close: [error: SshError | undefined];
}

/** The events of an {@link SshServer}. */
export interface SshServerEvents {
  /** A client connected. */
  connection: [connection: ServerConnection];
  /** The TCP listener failed. */
  error: [error: Error];
}

/** Called with each new connection (the `'connection'` event). */
export type ConnectionListener = (connection: ServerConnection) => void;

/**
 * One client connection. Events:
 * - `'authentication'` `(context: AuthContext)` when `authenticate` is not set;
 * - `'ready'` `({username, method})` once logged in;
 * - `'session'` `(accept, reject)`: `accept()` returns a {@link ServerSession} (a second call
 *   throws `SSH_ERR_USAGE`);
 * - `'direct-tcpip'` `(accept, reject, {host, port, originatorHost, originatorPort})`:
 *   `accept()` returns a {@link ChannelStream} (ssh -L; connect it yourself);
 * - `'tcpip-forward'` / `'cancel-tcpip-forward'` `(accept(boundPort?), reject,
 *   {bindAddress, bindPort})` (ssh -R; listen yourself, then {@link ServerConnection.forwardOut});
 * - `'close'` `(error?: SshError)`.
 *
 * Requests with no listener are refused.
 */
export class ServerConnection extends EventEmitter<ServerConnectionEvents> {
  #session: Session | undefined;
  /** The logged-in user, once `'ready'` fired. */
  username: string | undefined;

  /** The core session, for calls this class does not wrap. */
  get session(): Session {
    return this.#session!;
  }

  /** @internal Binds the core session (from its first callback or attachment). */
  bind(session: Session): void {
    this.#session ??= session;
  }

  /**
   * Opens a `forwarded-tcpip` channel to the client: a connection arrived on a port it
   * forwarded (`address:port`), from `originatorHost:originatorPort`.
   */
  forwardOut(
    address: string,
    port: number,
    originatorHost: string,
    originatorPort: number,
  ): Promise<ChannelStream> {
    return new Promise((resolve, reject) => {
      const stream = new ChannelStream(
        this.session,
        (o) =>
          sessionOpenForwardedTcpip(this.session, {
            ...o,
            address,
            port,
            originatorHost,
            originatorPort,
          }),
        {
          closeRule: 'after-both-eof',
          onOpen: (error) => {
            if (error) {
              stream.on('error', () => {});
              reject(error);
            } else resolve(stream);
          },
        },
      );
    });
  }

  /** Disconnects the client (by application). */
  end(): void {
    if (this.#session) sessionDisconnect(this.#session, DISCONNECT_REASON.BY_APPLICATION, '');
  }
}

/**
 * An SSH server. `listen()` serves TCP; `serve(link)` runs one connection over any link
 * (stdio for inetd or ProxyCommand use, a Unix socket, a memory link, any `Duplex`). Emits
 * `'connection'` with each {@link ServerConnection}.
 */
export class SshServer extends EventEmitter<SshServerEvents> {
  readonly #options: ServerOptions;
  readonly #hostKeys: readonly PrivateKey[];
  readonly #connections = new Set<ServerConnection>();
  readonly #maxStartups: number;
  /** Connections served that have not logged in yet. */
  #startups = 0;
  #tcp: net.Server | undefined;

  /** @internal Made by {@link createServer}. */
  constructor(options: ServerOptions) {
    super();
    this.#options = options;
    if (!Array.isArray(options.hostKeys) || options.hostKeys.length === 0) {
      throw new SshError(SSH_ERR.USAGE, 'local', 'hostKeys needs at least one key');
    }
    const maxStartups = options.maxStartups ?? DEFAULT_MAX_STARTUPS;
    if (!Number.isInteger(maxStartups) || maxStartups < 0) {
      throw new SshError(SSH_ERR.USAGE, 'local', 'maxStartups must be an integer >= 0');
    }
    this.#maxStartups = maxStartups;
    this.#hostKeys = options.hostKeys.map((k, i) => {
      if (typeof k !== 'string' && !(k instanceof Uint8Array)) return k;
      try {
        return parsePrivateKey(k);
      } catch (e) {
        throw new SshError(
          SSH_ERR.USAGE,
          'local',
          `hostKeys[${i}]: ${(e as Error).message}`,
          undefined,
          {
            cause: e,
          },
        );
      }
    });
  }

  /** Listens on TCP (`host` default `127.0.0.1`); resolves with the bound address. */
  listen(
    where: number | { readonly port: number; readonly host?: string },
  ): Promise<net.AddressInfo>;
  /** Listens on a Unix socket at `path` (which must not exist yet); resolves with the path. */
  listen(where: { readonly path: string }): Promise<string>;
  listen(
    where: number | { readonly port: number; readonly host?: string } | { readonly path: string },
  ): Promise<net.AddressInfo | string> {
    const server = net.createServer((socket) => this.serve(socket));
    this.#tcp = server;
    return new Promise((resolve, reject) => {
      const ready = () => {
        server.off('error', reject);
        server.on('error', (e) => this.emit('error', e));
        resolve(server.address() as net.AddressInfo | string);
      };
      server.once('error', reject);
      if (typeof where === 'object' && 'path' in where) server.listen(where.path, ready);
      else {
        const { port, host = '127.0.0.1' } = typeof where === 'number' ? { port: where } : where;
        server.listen(port, host, ready);
      }
    });
  }

  /**
   * Runs one server connection over `link`. With `maxStartups` connections already waiting to
   * log in, the link is closed instead (an adapter is not called) and the returned connection
   * emits only `'close'` with `SSH_ERR_LIMIT_EXCEEDED`.
   */
  serve(link: Link): ServerConnection {
    const options = this.#options;
    const connection = new ServerConnection();
    if (this.#maxStartups > 0 && this.#startups >= this.#maxStartups) {
      closeLink(link);
      const error = new SshError(
        SSH_ERR.LIMIT_EXCEEDED,
        'local',
        `maxStartups: ${this.#maxStartups} connections have not logged in yet`,
      );
      process.nextTick(() => connection.emit('close', error));
      return connection;
    }
    this.#startups++;
    let starting = true;
    /** The connection logged in or closed: it no longer counts against `maxStartups`. */
    const started = () => {
      if (!starting) return;
      starting = false;
      this.#startups--;
    };
    let expired: TimeoutKind | undefined;
    const config: ServerConfig<Session> = {
      role: 'server',
      ...options.session,
      hostKeys: this.#hostKeys,
      ...(options.algorithms ? { algorithms: options.algorithms } : {}),
      ...(options.authMethods ? { authMethods: options.authMethods } : {}),
      ...(options.maxAuthAttempts !== undefined
        ? { maxAuthAttempts: options.maxAuthAttempts }
        : {}),
      ...(options.banner !== undefined ? { banner: options.banner } : {}),
      onAuth: (request, session) => {
        connection.bind(session as Session);
        authenticate(connection, request, this.#options.authenticate);
      },
      onEvent: (event, session) => {
        connection.bind(session);
        if (event.type === 'authenticated') {
          started();
          connection.username = event.username;
          connection.emit('ready', { username: event.username, method: event.method });
        } else if (event.type === 'closed') {
          started();
          this.#connections.delete(connection);
          const error = sessionLastError(session) ?? (expired ? timeoutError(expired) : undefined);
          connection.emit('close', error);
        }
      },
      onChannelOpen: (request, session) => {
        connection.bind(session);
        this.#channelOpen(connection, request);
      },
      onGlobalRequest: (request, session) => {
        connection.bind(session);
        globalRequest(connection, request);
      },
    };
    const timeouts = addTimeouts(
      config,
      {
        handshakeMs: options.handshakeTimeout ?? DEFAULT_SERVER_HANDSHAKE_MS,
        authenticationMs: options.loginGraceTime ?? DEFAULT_LOGIN_GRACE_MS,
        idleMs: options.idleTimeout ?? 0,
        keepaliveMs: options.keepaliveInterval ?? 0,
      },
      (kind) => {
        expired = kind;
      },
    );
    this.#connections.add(connection);
    this.emit('connection', connection);
    let session: Session;
    try {
      session = attachLink(link, timeouts.config, { onActivity: timeouts.noteActivity });
    } catch (e) {
      timeouts.cancel();
      started();
      this.#connections.delete(connection);
      throw e;
    }
    connection.bind(session);
    timeouts.attach(session);
    return connection;
  }

  /** Stops listening and disconnects every connection; resolves once the listener closed. */
  close(): Promise<void> {
    for (const c of this.#connections) c.end();
    const tcp = this.#tcp;
    if (!tcp) return Promise.resolve();
    return new Promise((resolve) => tcp.close(() => resolve()));
  }

  #channelOpen(connection: ServerConnection, request: ChannelOpenRequest): void {
    if (request.type === 'session') {
      if (connection.listenerCount('session') === 0) return request.reject();
      let answered = false;
      const accept = (): ServerSession => {
        if (answered) {
          throw new SshError(SSH_ERR.USAGE, 'local', "'session': this open was answered already");
        }
        answered = true;
        let served!: ServerSession;
        const stream = new ChannelStream(connection.session, (o) => request.accept(o), {
          closeRule: 'after-our-eof',
          onRequest: (r) => served.handle(r),
        });
        served = new ServerSession(stream);
        return served;
      };
      const reject: RejectFn = () => {
        if (answered) return;
        answered = true;
        request.reject();
      };
      connection.emit('session', accept, reject);
      return;
    }
    if (request.type === 'direct-tcpip' && connection.listenerCount('direct-tcpip') > 0) {
      let answered = false;
      const accept = (): ChannelStream => {
        answered = true;
        return new ChannelStream(connection.session, (o) => request.accept(o), {
          closeRule: 'after-both-eof',
        });
      };
      const reject = (reason = 2, description = 'refused') => {
        if (answered) return;
        answered = true;
        request.reject(reason, description);
      };
      const { host, port, originatorHost, originatorPort } = request;
      connection.emit('direct-tcpip', accept, reject, {
        host,
        port,
        originatorHost,
        originatorPort,
      });
      return;
    }
    request.reject();
  }
}

function globalRequest(connection: ServerConnection, request: GlobalRequest): void {
  const parsed = request.parsed;
  if (
    (parsed?.type === 'tcpip-forward' || parsed?.type === 'cancel-tcpip-forward') &&
    connection.listenerCount(parsed.type) > 0
  ) {
    let answered = false;
    const accept = (boundPort?: number) => {
      if (answered) return;
      answered = true;
      request.accept(boundPort !== undefined ? { boundPort } : {});
    };
    const reject: RejectFn = () => {
      if (answered) return;
      answered = true;
      request.reject();
    };
    const info = { bindAddress: parsed.bindAddress, bindPort: parsed.bindPort };
    if (parsed.type === 'tcpip-forward') connection.emit('tcpip-forward', accept, reject, info);
    else connection.emit('cancel-tcpip-forward', accept, reject, info);
    return;
  }
  if (request.wantReply) request.reject();
}

/**
 * Makes an SSH server; `handler` is added as a `'connection'` listener. Throws `SSH_ERR_USAGE`
 * without a host key, and for a key text it cannot read (the parser's error is the `cause`).
 *
 * @example
 * ```ts
 * import { generatePrivateKey } from 'pluggable-ssh';
 * import { connect, createServer } from 'pluggable-ssh/node';
 *
 * const hostKey = generatePrivateKey('ed25519'); // or the text of /etc/ssh/ssh_host_ed25519_key
 * const server = createServer(
 *   { hostKeys: [hostKey], authenticate: (c) => c.method === 'password' && c.password === 'pw' },
 *   (connection) => {
 *     connection.on('session', (accept) => {
 *       accept().on('exec', (accept, _reject, { command }) => {
 *         const stream = accept();
 *         stream.write(`you ran ${command}\n`);
 *         stream.sendExit(0);
 *         stream.end();
 *       });
 *     });
 *   },
 * );
 * const { port } = await server.listen(0); // 0: any free port on 127.0.0.1
 *
 * const client = await connect({
 *   host: '127.0.0.1',
 *   port,
 *   username: 'me',
 *   password: 'pw',
 *   verifyHostKey: ({ fingerprint }) => fingerprint === fingerprintSha256(hostKey.publicKeyBlob),
 * });
 * console.log((await client.execResult('uptime')).stdout); // prints: you ran uptime
 * await client.end();
 * await server.close();
 * ```
 */
export function createServer(options: ServerOptions, handler?: ConnectionListener): SshServer {
  const server = new SshServer(options);
  if (handler) server.on('connection', handler);
  return server;
}
