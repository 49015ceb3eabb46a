/**
 * @module
 * The Node-idiomatic SSH client: an authenticated {@link Client} (made by `connect`) whose
 * channels (RFC 4254) are `Duplex` streams, with the OpenSSH-style forwarding helpers. Built on
 * the core's public API; no protocol logic of its own.
 */

import { EventEmitter } from 'node:events';
import { finished } from 'node:stream/promises';
import {
  type Channel,
  type ChannelOpenRequest,
  type ChannelOptions,
  channelOpenDirectTcpip,
  channelOpenSession,
  channelRequestEnv,
  channelRequestExec,
  channelRequestPty,
  channelRequestShell,
  channelRequestSubsystem,
  type PtyOptions,
  type Session,
  SSH_ERR,
  SshError,
  sessionCancelForwardTcpip,
  sessionDisconnect,
  sessionForwardTcpip,
  sessionLastError,
} from '../src/index.js';
import { ChannelStream, requestWithReply } from './channel-stream.js';
import { abortedError, requestFailed, watchAbort } from './errors.js';
import {
  dynamicForward,
  type ForwardHandle,
  type LocalForwardOptions,
  localForward,
  type RemoteForwardOptions,
  remoteForward,
  type SocksForwardOptions,
} from './forward.js';

/** Default most output {@link Client.execResult} collects (stdout + stderr): 1 MiB. */
export const DEFAULT_MAX_BUFFER = 1024 * 1024;

/** The pty a {@link Client.shell} asks for unless told otherwise. */
export const DEFAULT_PTY: PtyOptions = { term: 'xterm-256color', cols: 80, rows: 24 };

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

const listeners = new WeakMap<Client, Map<number, ConnectionHandler>>();
const closedWaiters = new WeakMap<Client, (error: SshError | undefined) => void>();

/** Reports the end of `client`'s connection (internal to the node layer). */
export function clientClosed(client: Client, error: SshError | undefined): void {
  closedWaiters.get(client)?.(error);
}

/** Hands a `forwarded-tcpip` open to the listener of its port (internal to the node layer). */
export function forwardedOpen(client: Client, request: ChannelOpenRequest): void {
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
      // Replies never come once the session ended (SPEC 15.10).
      this.closed.then((error) =>
        reject(error ?? new SshError(SSH_ERR.CONNECTION_LOST, 'link', 'the connection ended')),
      );
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

  /**
   * `ssh -D`: a local SOCKS5 server (RFC 1928, CONNECT). It does no authentication: bound
   * beyond loopback it is an open proxy.
   */
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
