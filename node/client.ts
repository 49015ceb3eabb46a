/**
 * @module
 * The Node-idiomatic SSH client: `connect()` resolves with an authenticated {@link Client}
 * whose channels are `Duplex` streams. Built on the core's public API (RFC 4254 channels,
 * RFC 4252 authentication) and the shipped transports; no protocol logic of its own.
 */

import { EventEmitter } from 'node:events';
import net from 'node:net';
import { finished } from 'node:stream/promises';
import {
  type AlgorithmPreferences,
  type Channel,
  type ChannelOpenRequest,
  type ChannelOptions,
  type ClientAuthMethod,
  type ClientConfig,
  channelOpenDirectTcpip,
  channelOpenSession,
  channelRequestEnv,
  channelRequestExec,
  channelRequestPty,
  channelRequestShell,
  channelRequestSubsystem,
  type KeyboardInteractiveRequest,
  type PtyOptions,
  parsePrivateKey,
  type RandomFn,
  type Session,
  type Signer,
  SSH_ERR,
  SshError,
  sessionCancelForwardTcpip,
  sessionDisconnect,
  sessionForwardTcpip,
  sessionLastError,
} from '../src/index.js';
import { addTimeouts, type TimeoutKind } from '../transports/timeouts.js';
import { ChannelStream, requestWithReply } from './channel-stream.js';
import { abortedError, requestFailed, timeoutError, watchAbort } from './errors.js';
import {
  dynamicForward,
  type ForwardHandle,
  type LocalForwardOptions,
  localForward,
  type RemoteForwardOptions,
  remoteForward,
  type SocksForwardOptions,
} from './forward.js';
import { attachLink, type Link } from './link.js';

/** Default time for the handshake and login together: 20 s (as ssh2's `readyTimeout`). */
export const DEFAULT_READY_TIMEOUT_MS = 20_000;

/** Default most output {@link Client.execResult} collects (stdout + stderr): 1 MiB. */
export const DEFAULT_MAX_BUFFER = 1024 * 1024;

/** The pty a {@link Client.shell} asks for unless told otherwise. */
export const DEFAULT_PTY: PtyOptions = { term: 'xterm-256color', cols: 80, rows: 24 };

/** The server's host key, as {@link ConnectOptions.verifyHostKey} sees it. */
export interface HostKeyInfo {
  /** The negotiated host-key algorithm, e.g. `ssh-ed25519`, `rsa-sha2-512`. */
  readonly algorithm: string;
  /** The key type inside the blob, e.g. `ssh-rsa`. */
  readonly keyType: string;
  /** The public key blob (RFC 4253 §6.6); its signature over the exchange was verified. */
  readonly key: Uint8Array;
  /** `SHA256:…`, as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
  /** The host and port given to {@link connect} (for a custom link: as given, or defaults). */
  readonly host: string;
  readonly port: number;
}

/** Session settings passed through to the core (SPEC section 4). */
export interface SessionTuning {
  readonly channelWindow?: number;
  readonly channelMaxPacket?: number;
  readonly maxChannels?: number;
  readonly rekeyAfterBytes?: number;
  readonly rekeyAfterPackets?: number;
  readonly softwareVersion?: string;
  readonly random?: RandomFn;
}

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** TCP host (default `localhost`); also reported to `verifyHostKey`. */
  readonly host?: string;
  /** TCP port (default 22). */
  readonly port?: number;
  /** Run over this link instead of a new TCP connection. */
  readonly link?: Link;
  /** The user to log in as. */
  readonly username: string;
  /** Required: decides whether the server's host key is trusted. Nothing is trusted blindly. */
  readonly verifyHostKey: (info: HostKeyInfo) => boolean | Promise<boolean>;
  /** Keys whose private half is elsewhere (an agent, a token), tried first, in order. */
  readonly signers?: readonly Signer[];
  /** A private key (OpenSSH, PEM or PKCS#8; SPEC section 12), tried after `signers`. */
  readonly privateKey?: string | Uint8Array;
  /** The passphrase of an encrypted `privateKey`. */
  readonly passphrase?: string;
  /** A password, tried after the keys. */
  readonly password?: string;
  /** Answers keyboard-interactive prompts, tried last. */
  readonly onKeyboardInteractive?: (
    request: KeyboardInteractiveRequest,
  ) => readonly string[] | Promise<readonly string[]>;
  /** The server's banner text (filter control characters before display). */
  readonly onBanner?: (message: string) => void;
  /** Algorithm preferences; default: the core's `DEFAULT_*` lists. */
  readonly algorithms?: AlgorithmPreferences;
  /** Handshake plus login must finish within this many ms (default {@link DEFAULT_READY_TIMEOUT_MS}; 0 = none). */
  readonly readyTimeout?: number;
  /** Send `keepalive@openssh.com` every this many ms once logged in (default 0 = off). */
  readonly keepaliveInterval?: number;
  /** Unanswered keepalives before the connection is dropped (default 3). */
  readonly keepaliveCountMax?: number;
  /** End the connection after this many ms without a byte from the server (default 0 = off). */
  readonly idleTimeout?: number;
  /** Aborts the connection attempt (and, once connected, ends the connection). */
  readonly signal?: AbortSignal;
  /** Core session settings. */
  readonly session?: SessionTuning;
}

/** Options of the session-channel calls. */
export interface ChannelCallOptions {
  /** Environment variables to ask for (`env` requests; a server may refuse them silently). */
  readonly env?: Readonly<Record<string, string>>;
  /** Aborts the open; afterwards destroys the stream with `SSH_ERR_ABORTED`. */
  readonly signal?: AbortSignal;
}

/** Options of {@link Client.exec}. */
export interface ExecOptions extends ChannelCallOptions {
  /** A pseudo-terminal for the command (default none). */
  readonly pty?: PtyOptions;
}

/** Options of {@link Client.shell}. */
export interface ShellOptions extends ChannelCallOptions {
  /** The pseudo-terminal (default {@link DEFAULT_PTY}); `false` for none. */
  readonly pty?: PtyOptions | false;
}

/** Options of {@link Client.execResult}. */
export interface ExecResultOptions extends ExecOptions {
  /** Written to the command's stdin, which is then closed (default: closed at once). */
  readonly stdin?: string | Uint8Array;
  /** Most bytes of stdout plus stderr to collect (default {@link DEFAULT_MAX_BUFFER}). */
  readonly maxBuffer?: number;
}

/** What {@link Client.execResult} collects. */
export interface ExecResult {
  /** Standard output, decoded as UTF-8. */
  readonly stdout: string;
  /** Standard error, decoded as UTF-8. */
  readonly stderr: string;
  /** The exit status, or `null` (a signal ended the command, or the server sent none). */
  readonly code: number | null;
  /** The signal that ended the command, without `SIG`, or `null`. */
  readonly signal: string | null;
}

/** Where a forwarded connection came from (RFC 4254 §7.2 `forwarded-tcpip`). */
export interface ForwardedConnectionInfo {
  readonly address: string;
  readonly port: number;
  readonly originatorHost: string;
  readonly originatorPort: number;
}

/** A remote listening port granted by the server (`tcpip-forward`). */
export interface RemoteListener {
  /** The port the server listens on (the one it picked when 0 was asked). */
  readonly port: number;
  /** Cancels the forwarding (`cancel-tcpip-forward`). */
  close(): Promise<void>;
}

/** Receives each connection of a {@link Client.forwardIn} forwarding. */
export type ConnectionHandler = (stream: ChannelStream, info: ForwardedConnectionInfo) => void;

/**
 * Connects and logs in; resolves with the {@link Client} once authenticated. TCP to
 * `host:port` by default, or any {@link Link}. Rejects with an `SshError`: the session's own
 * (`SSH_ERR_HOST_KEY_REJECTED`, `SSH_ERR_AUTH_FAILED`, `SSH_ERR_CONNECTION_LOST`, …),
 * `SSH_ERR_TIMEOUT` after `readyTimeout`, `SSH_ERR_ABORTED` when `signal` aborts.
 *
 * @example
 * ```ts
 * import { connect } from 'pluggable-ssh/node';
 *
 * const client = await connect({
 *   host: 'example.org',
 *   username: 'me',
 *   privateKey: readFileSync('/home/me/.ssh/id_ed25519'),
 *   verifyHostKey: ({ fingerprint }) => fingerprint === 'SHA256:…pinned…',
 * });
 * const { stdout, code } = await client.execResult('uname -a');
 * await client.end();
 * ```
 */
export function connect(options: ConnectOptions): Promise<Client> {
  return new Promise((resolve, reject) => {
    if (typeof options.verifyHostKey !== 'function') {
      throw new SshError(SSH_ERR.USAGE, 'local', 'verifyHostKey must be a function');
    }
    const { signal } = options;
    if (signal?.aborted) throw abortedError(signal, 'connect');
    const methods = authMethods(options);
    const host = options.host ?? 'localhost';
    const port = options.port ?? 22;
    let client: Client | undefined;
    let expired: TimeoutKind | undefined;
    let aborted = false;
    let linkError: Error | undefined;
    let unwatch = () => {};
    const failure = (session: Session): SshError => {
      if (expired) return timeoutError(expired);
      if (aborted && signal) return abortedError(signal, 'connect');
      const error = sessionLastError(session);
      if (error && linkError && error.code === SSH_ERR.CONNECTION_LOST) {
        return new SshError(
          error.code,
          error.origin,
          `${error.message}: ${linkError.message}`,
          undefined,
          {
            cause: linkError,
          },
        );
      }
      return (
        error ?? new SshError(SSH_ERR.CONNECTION_LOST, 'link', 'the session ended before login')
      );
    };
    const config: ClientConfig<Session> = {
      role: 'client',
      ...options.session,
      ...(options.algorithms ? { algorithms: options.algorithms } : {}),
      onHostKey: (request) => {
        const info: HostKeyInfo = {
          algorithm: request.algorithm,
          keyType: request.keyType,
          key: request.publicKey,
          fingerprint: request.fingerprint,
          host,
          port,
        };
        Promise.resolve()
          .then(() => options.verifyHostKey(info))
          .then(
            (ok) => (ok === true ? request.accept() : request.reject('verifyHostKey refused it')),
            (e: unknown) => request.reject(`verifyHostKey failed: ${String(e)}`),
          );
      },
      auth: { username: options.username, methods },
      onEvent: (event, session) => {
        if (event.type === 'auth-banner') options.onBanner?.(event.message);
        else if (event.type === 'authenticated') {
          client = new Client(session);
          unwatch();
          if (signal) unwatch = watchAbort(signal, () => sessionDisconnect(session, 11, 'aborted'));
          resolve(client);
        } else if (event.type === 'closed') {
          unwatch();
          const error = failure(session);
          if (client)
            clientClosed(client, sessionLastError(session) ?? (expired ? error : undefined));
          else reject(error);
        }
      },
      onChannelOpen: (request) => {
        if (client) forwardedOpen(client, request);
        else request.reject();
      },
    };
    const readyMs = options.readyTimeout ?? DEFAULT_READY_TIMEOUT_MS;
    const timeouts = addTimeouts(
      config,
      {
        handshakeMs: readyMs,
        authenticationMs: readyMs,
        idleMs: options.idleTimeout ?? 0,
        keepaliveMs: options.keepaliveInterval ?? 0,
        ...(options.keepaliveCountMax !== undefined
          ? { keepaliveCountMax: options.keepaliveCountMax }
          : {}),
      },
      (kind) => {
        expired = kind;
      },
    );
    let link = options.link;
    if (link === undefined) {
      const socket = net.connect(port, host);
      socket.once('error', (e) => {
        linkError = e;
      });
      link = socket;
    }
    const session = attachLink(link, timeouts.config, {
      onActivity: timeouts.noteActivity,
      onLinkError: (e) => {
        linkError ??= e;
      },
    });
    timeouts.attach(session);
    unwatch = watchAbort(signal, () => {
      aborted = true;
      sessionDisconnect(session, 11, 'aborted');
    });
  });
}

function authMethods(options: ConnectOptions): ClientAuthMethod[] {
  const methods: ClientAuthMethod[] = [];
  for (const signer of options.signers ?? []) methods.push({ type: 'publickey', signer });
  if (options.privateKey !== undefined) {
    try {
      const key = parsePrivateKey(options.privateKey, options.passphrase);
      methods.push({ type: 'publickey', key });
    } catch (e) {
      throw new SshError(SSH_ERR.USAGE, 'local', `privateKey: ${(e as Error).message}`, undefined, {
        cause: e,
      });
    }
  }
  if (options.password !== undefined) {
    methods.push({ type: 'password', password: options.password });
  }
  const answer = options.onKeyboardInteractive;
  if (answer) {
    methods.push({
      type: 'keyboard-interactive',
      onPrompt: (request) => {
        Promise.resolve()
          .then(() => answer(request))
          .then(
            (responses) => request.answer(responses),
            () => request.cancel(),
          );
      },
    });
  }
  if (methods.length === 0) methods.push({ type: 'none' });
  return methods;
}

const listeners = new WeakMap<Client, Map<number, ConnectionHandler>>();
const closedWaiters = new WeakMap<Client, (error: SshError | undefined) => void>();

function clientClosed(client: Client, error: SshError | undefined): void {
  closedWaiters.get(client)?.(error);
}

function forwardedOpen(client: Client, request: ChannelOpenRequest): void {
  if (request.type !== 'forwarded-tcpip') return request.reject();
  const handler = listeners.get(client)?.get(request.port);
  if (!handler) return request.reject();
  const stream = new ChannelStream(client.session, (o) => request.accept(o), {
    closeRule: 'after-both-eof',
  });
  handler(stream, {
    address: request.address,
    port: request.port,
    originatorHost: request.originatorHost,
    originatorPort: request.originatorPort,
  });
}

/** The events of a {@link Client}. */
export interface ClientEvents {
  /** The connection ended, with the error that ended it, if any. */
  close: [error: SshError | undefined];
}

/**
 * An authenticated SSH client connection, made by {@link connect}. Emits `'close'` with the
 * `SshError` that ended it (or `undefined` after {@link Client.end} or a clean DISCONNECT);
 * there is no `'error'` event. Every channel is a {@link ChannelStream}.
 */
export class Client extends EventEmitter<ClientEvents> {
  /** The core session, for calls this class does not wrap. */
  readonly session: Session;
  /** Resolves when the connection has ended, with the error that ended it, if any. */
  readonly closed: Promise<SshError | undefined>;

  /** @internal Made by {@link connect}. */
  constructor(session: Session) {
    super();
    this.session = session;
    listeners.set(this, new Map());
    this.closed = new Promise((resolve) => {
      closedWaiters.set(this, (error) => {
        resolve(error);
        this.emit('close', error);
      });
    });
  }

  /** Runs `command`; resolves with its stream once the server started it. */
  exec(command: string, options: ExecOptions = {}): Promise<ChannelStream> {
    return this.#sessionChannel('exec', options, options.pty, (ch) =>
      channelRequestExec(ch, command),
    );
  }

  /** Starts a login shell, with a pty unless `pty: false`. */
  shell(options: ShellOptions = {}): Promise<ChannelStream> {
    const pty = options.pty === false ? undefined : (options.pty ?? DEFAULT_PTY);
    return this.#sessionChannel('shell', options, pty, (ch) => channelRequestShell(ch));
  }

  /** Starts a subsystem (e.g. `sftp`; this library has no SFTP client on top of it). */
  subsystem(name: string, options: ChannelCallOptions = {}): Promise<ChannelStream> {
    return this.#sessionChannel('subsystem', options, undefined, (ch) =>
      channelRequestSubsystem(ch, name),
    );
  }

  /**
   * Runs `command` to completion and collects its output, like `child_process.execFile`.
   * Resolves with `{stdout, stderr, code, signal}` whatever the exit status; rejects with
   * `SSH_ERR_LIMIT_EXCEEDED` when the output passes `maxBuffer` (the channel is closed).
   */
  async execResult(command: string, options: ExecResultOptions = {}): Promise<ExecResult> {
    const max = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
    const stream = await this.exec(command, options);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let total = 0;
    let failure: Error | undefined;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      total += chunk.length;
      if (total > max) {
        failure ??= new SshError(SSH_ERR.LIMIT_EXCEEDED, 'local', `output over maxBuffer (${max})`);
        stream.destroy(failure);
      } else into.push(chunk);
    };
    stream.on('data', collect(out));
    stream.stderr.on('data', collect(err));
    stream.end(options.stdin);
    // 'close' comes after the channel closed: exit-status follows EOF on the wire.
    const closed = new Promise<void>((resolve, reject) =>
      stream.once('close', () => (stream.errored ? reject(stream.errored) : resolve())),
    );
    stream.on('error', () => {});
    try {
      await Promise.all([closed, finished(stream.stderr)]);
    } catch (e) {
      throw failure ?? stream.errored ?? e;
    }
    return {
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8'),
      code: stream.exit?.code ?? null,
      signal: stream.exit?.signal ?? null,
    };
  }

  /** Opens a `direct-tcpip` channel: the server connects to `dstHost:dstPort` (ssh -L, -W). */
  async forwardOut(
    srcHost: string,
    srcPort: number,
    dstHost: string,
    dstPort: number,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<ChannelStream> {
    const { stream, opened } = this.#open(
      (o) =>
        channelOpenDirectTcpip(this.session, {
          ...o,
          host: dstHost,
          port: dstPort,
          originatorHost: srcHost,
          originatorPort: srcPort,
        }),
      'after-both-eof',
    );
    await this.#guard(stream, 'forwardOut', options.signal, async () => {
      const error = await opened;
      if (error) throw error;
    });
    return stream;
  }

  /**
   * Asks the server to listen on `bindAddress:bindPort` (`tcpip-forward`, ssh -R); each
   * connection arrives as a stream through `onConnection`. Port 0 lets the server choose.
   */
  forwardIn(
    bindAddress: string,
    bindPort: number,
    onConnection: ConnectionHandler,
  ): Promise<RemoteListener> {
    return new Promise((resolve, reject) => {
      sessionForwardTcpip(this.session, bindAddress, bindPort, (success, boundPort) => {
        if (!success) return reject(this.#failure() ?? requestFailed('tcpip-forward'));
        const port = bindPort === 0 ? boundPort : bindPort;
        const map = listeners.get(this)!;
        map.set(port, onConnection);
        resolve({
          port,
          close: () =>
            new Promise<void>((done) => {
              map.delete(port);
              sessionCancelForwardTcpip(this.session, bindAddress, port, () => done());
              this.closed.then(() => done());
            }),
        });
      });
    });
  }

  /** `ssh -L`: a local TCP listener whose connections go to `remoteHost:remotePort`. */
  localForward(options: LocalForwardOptions): Promise<ForwardHandle> {
    return localForward(this, options);
  }

  /** `ssh -R`: a remote listener whose connections come to `localHost:localPort`. */
  remoteForward(options: RemoteForwardOptions): Promise<ForwardHandle> {
    return remoteForward(this, options);
  }

  /** `ssh -D`: a local SOCKS5 server (RFC 1928, CONNECT, no authentication). */
  dynamicForward(options: SocksForwardOptions = {}): Promise<ForwardHandle> {
    return dynamicForward(this, options);
  }

  /** Sends DISCONNECT (by application) and resolves once the connection ended. */
  async end(): Promise<void> {
    sessionDisconnect(this.session, 11, 'client ended the connection');
    await this.closed;
  }

  #failure(): SshError | undefined {
    return sessionLastError(this.session);
  }

  #open(
    opener: (options: ChannelOptions) => Channel,
    closeRule: 'after-both-eof' | 'peer-closes',
  ): {
    stream: ChannelStream;
    opened: Promise<SshError | undefined>;
  } {
    let settle!: (error: SshError | undefined) => void;
    const opened = new Promise<SshError | undefined>((r) => {
      settle = r;
    });
    const stream = new ChannelStream(this.session, opener, {
      onOpen: (error) => settle(error),
      closeRule,
    });
    return { stream, opened };
  }

  async #guard(
    stream: ChannelStream,
    what: string,
    signal: AbortSignal | undefined,
    setup: () => Promise<void>,
  ): Promise<void> {
    let abort!: (e: SshError) => void;
    const aborted = new Promise<never>((_, reject) => {
      abort = reject;
    });
    let returned = false;
    const unwatch = watchAbort(signal, () => {
      const error = abortedError(signal!, what);
      if (returned) stream.destroy(error);
      else abort(error);
    });
    // Until the caller has the stream, an error it emits is reported by the rejection.
    const swallow = () => {};
    stream.on('error', swallow);
    try {
      await Promise.race([setup(), aborted]);
    } catch (e) {
      unwatch();
      if (!stream.destroyed) stream.destroy();
      throw (e as SshError).code === SSH_ERR.ABORTED ? e : (this.#failure() ?? e);
    }
    stream.off('error', swallow);
    returned = true;
    stream.once('close', unwatch);
  }

  async #sessionChannel(
    kind: 'exec' | 'shell' | 'subsystem',
    options: ChannelCallOptions,
    pty: PtyOptions | undefined,
    start: (ch: ChannelStream['channel']) => void,
  ): Promise<ChannelStream> {
    const { stream, opened } = this.#open(
      (o) => channelOpenSession(this.session, o),
      'peer-closes',
    );
    await this.#guard(stream, kind, options.signal, async () => {
      const error = await opened;
      if (error) throw error;
      for (const [name, value] of Object.entries(options.env ?? {})) {
        void requestWithReply(stream, (ch) => channelRequestEnv(ch, name, value));
      }
      if (pty && !(await requestWithReply(stream, (ch) => channelRequestPty(ch, pty)))) {
        throw requestFailed('pty-req');
      }
      if (!(await requestWithReply(stream, start))) throw requestFailed(kind);
    });
    return stream;
  }
}
