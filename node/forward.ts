/**
 * @module
 * OpenSSH-style port forwarding on top of a client's channel streams: `-L` (a local listener
 * whose connections become `direct-tcpip` channels), `-R` (a `tcpip-forward` whose
 * connections are dialled locally) and `-D` (a local SOCKS5 server, RFC 1928, whose CONNECT
 * requests become `direct-tcpip` channels). RFC 4254 §7.
 */

import net from 'node:net';
import { SSH_ERR, SshError } from '../src/index.js';
import type { ChannelStream } from './channel-stream.js';
import type { ConnectionHandler, RemoteListener } from './client.js';
import {
  parseSocksGreeting,
  parseSocksRequest,
  SOCKS_GREETING_MAX,
  SOCKS_REPLY,
  SOCKS_REQUEST_MAX,
  socksReply,
} from './socks5.js';

/** What the forwarding helpers need of a client. */
interface Forwarder {
  forwardOut(
    srcHost: string,
    srcPort: number,
    dstHost: string,
    dstPort: number,
  ): Promise<ChannelStream>;
  forwardIn(
    bindAddress: string,
    bindPort: number,
    onConnection: ConnectionHandler,
  ): Promise<RemoteListener>;
}

/** A running forwarding. */
export interface ForwardHandle {
  /** The listening port: local for -L and -D, on the server for -R. */
  readonly port: number;
  /** Stops listening and drops the connections still running. */
  close(): Promise<void>;
}

/** Options of `localForward` (ssh -L localHost:localPort:remoteHost:remotePort). */
export interface LocalForwardOptions {
  /** Default `127.0.0.1`. */
  readonly localHost?: string;
  /** Default 0: any free port (read it from {@link ForwardHandle.port}). */
  readonly localPort?: number;
  /** Where the server connects, as it resolves it. */
  readonly remoteHost: string;
  readonly remotePort: number;
}

/** Options of `remoteForward` (ssh -R remoteHost:remotePort:localHost:localPort). */
export interface RemoteForwardOptions {
  /** The server's bind address (default `127.0.0.1`). */
  readonly remoteHost?: string;
  /** Default 0: the server picks (read it from {@link ForwardHandle.port}). */
  readonly remotePort?: number;
  /** Where this side connects (default `127.0.0.1`). */
  readonly localHost?: string;
  readonly localPort: number;
}

/** Default time a SOCKS client has to send its greeting and CONNECT request: 10 s. */
export const DEFAULT_SOCKS_HANDSHAKE_MS = 10_000;

/** Default most SOCKS connections served at once by one `dynamicForward`: 256. */
export const DEFAULT_SOCKS_MAX_CONNECTIONS = 256;

/** How long a refused SOCKS client may take to close after our reply before it is dropped. */
const SOCKS_CLOSE_GRACE_MS = 1000;

/**
 * Options of `dynamicForward` (ssh -D localHost:localPort). The SOCKS server asks for no
 * authentication: anyone who can reach the port can use the SSH connection to reach anything
 * the server can, so bind it beyond loopback only on purpose (that is an open proxy).
 */
export interface SocksForwardOptions {
  /** Default `127.0.0.1`. */
  readonly localHost?: string;
  /** Default 0: any free port. */
  readonly localPort?: number;
  /**
   * Milliseconds a client has from connecting to a complete CONNECT request (default
   * {@link DEFAULT_SOCKS_HANDSHAKE_MS}; 0 = no limit); a slower one is dropped.
   */
  readonly handshakeTimeout?: number;
  /**
   * Most connections served at once, joined or still negotiating (default
   * {@link DEFAULT_SOCKS_MAX_CONNECTIONS}); more are closed as soon as they are accepted.
   */
  readonly maxConnections?: number;
}

/** Joins a socket and a channel stream both ways, half-close included. */
function splice(socket: net.Socket, stream: ChannelStream): void {
  const kill = () => {
    socket.destroy();
    stream.destroy();
  };
  socket.on('error', kill);
  stream.on('error', kill);
  socket.on('close', (hadError) => {
    if (hadError) stream.destroy();
  });
  socket.pipe(stream);
  stream.pipe(socket);
}

/**
 * A TCP listener that tracks its sockets; closing it drops them. With `maxConnections`, Node
 * closes connections beyond it as soon as they are accepted.
 */
function listen(
  host: string,
  port: number,
  onSocket: (socket: net.Socket) => void,
  maxConnections?: number,
): Promise<ForwardHandle> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  if (maxConnections !== undefined) server.maxConnections = maxConnections;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** ssh -L: connections to the local port become `direct-tcpip` channels. */
export function localForward(
  client: Forwarder,
  options: LocalForwardOptions,
): Promise<ForwardHandle> {
  return listen(options.localHost ?? '127.0.0.1', options.localPort ?? 0, (socket) => {
    socket.pause();
    socket.on('error', () => {});
    client
      .forwardOut(
        socket.remoteAddress ?? '127.0.0.1',
        socket.remotePort ?? 0,
        options.remoteHost,
        options.remotePort,
      )
      .then(
        (stream) => splice(socket, stream),
        () => socket.destroy(),
      );
  });
}

/** ssh -R: the server's connections are dialled to `localHost:localPort`. */
export async function remoteForward(
  client: Forwarder,
  options: RemoteForwardOptions,
): Promise<ForwardHandle> {
  const live = new Set<ChannelStream>();
  const listener = await client.forwardIn(
    options.remoteHost ?? '127.0.0.1',
    options.remotePort ?? 0,
    (stream) => {
      live.add(stream);
      stream.on('close', () => live.delete(stream));
      stream.pause();
      const socket = net.connect({
        host: options.localHost ?? '127.0.0.1',
        port: options.localPort,
        allowHalfOpen: true,
      });
      socket.once('connect', () => splice(socket, stream));
      socket.once('error', () => stream.destroy());
    },
  );
  return {
    port: listener.port,
    close: async () => {
      for (const s of live) s.destroy();
      await listener.close();
    },
  };
}

/** Maps a refused `direct-tcpip` open (RFC 4254 §5.1 reason codes) to a SOCKS5 reply. */
function socksFailure(error: SshError): number {
  const reason = (error.cause as { reason?: number } | undefined)?.reason;
  if (reason === 1) return SOCKS_REPLY.NOT_ALLOWED;
  if (reason === 2) return SOCKS_REPLY.CONNECTION_REFUSED;
  return SOCKS_REPLY.GENERAL_FAILURE;
}

function checkCount(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new SshError(SSH_ERR.USAGE, 'local', `${name} must be an integer >= ${min}`);
  }
  return value;
}

/**
 * ssh -D: a SOCKS5 server whose CONNECT requests become `direct-tcpip` channels. It asks for
 * no authentication: bound beyond loopback it is an open proxy into the server's network.
 */
export async function dynamicForward(
  client: Forwarder,
  options: SocksForwardOptions,
): Promise<ForwardHandle> {
  const handshakeMs = checkCount(
    'handshakeTimeout',
    options.handshakeTimeout ?? DEFAULT_SOCKS_HANDSHAKE_MS,
    0,
  );
  const maxConnections = checkCount(
    'maxConnections',
    options.maxConnections ?? DEFAULT_SOCKS_MAX_CONNECTIONS,
    1,
  );
  const onSocket = (socket: net.Socket) => {
    socket.on('error', () => {});
    let held = Buffer.alloc(0);
    let phase: 'greeting' | 'request' | 'connecting' = 'greeting';
    const clock =
      handshakeMs > 0 ? setTimeout(() => socket.destroy(), handshakeMs).unref() : undefined;
    socket.once('close', () => clearTimeout(clock));
    // A client that half-closes while negotiating will never send its request: free its slot.
    socket.once('end', () => {
      if (phase !== 'connecting') socket.destroy();
    });
    /** Stops reading; sends `reply` and half-closes (dropped if not closed soon), or drops. */
    const finish = (reply: Uint8Array | undefined) => {
      phase = 'connecting';
      clearTimeout(clock);
      socket.off('data', onData);
      if (reply === undefined) return void socket.destroy();
      // Destroying now could lose the reply (a write still queued is cancelled, and bytes
      // arriving at a closed socket reset the connection): end, and let the client close.
      socket.end(reply);
      socket.resume();
      const grace = setTimeout(() => socket.destroy(), SOCKS_CLOSE_GRACE_MS).unref();
      socket.once('close', () => clearTimeout(grace));
    };
    const onData = (chunk: Buffer) => {
      held = Buffer.concat([held, chunk]);
      if (phase === 'greeting') {
        const g = parseSocksGreeting(held);
        if (g.kind === 'incomplete') {
          if (held.length >= SOCKS_GREETING_MAX) finish(undefined);
          return;
        }
        if (g.kind === 'error') return finish(undefined);
        if (!g.value.noAuth) return finish(Uint8Array.of(5, 0xff));
        socket.write(Uint8Array.of(5, 0));
        held = held.subarray(g.length);
        phase = 'request';
      }
      if (phase !== 'request') return;
      const r = parseSocksRequest(held);
      if (r.kind === 'incomplete') {
        if (held.length >= SOCKS_REQUEST_MAX) finish(socksReply(SOCKS_REPLY.GENERAL_FAILURE));
        return;
      }
      if (r.kind === 'error') {
        return finish(r.reply === undefined ? undefined : socksReply(r.reply));
      }
      phase = 'connecting';
      clearTimeout(clock);
      socket.off('data', onData);
      socket.pause();
      const rest = held.subarray(r.length);
      client
        .forwardOut(
          socket.remoteAddress ?? '127.0.0.1',
          socket.remotePort ?? 0,
          r.value.host,
          r.value.port,
        )
        .then(
          (stream) => {
            socket.write(socksReply(SOCKS_REPLY.SUCCEEDED));
            if (rest.length > 0) socket.unshift(rest);
            splice(socket, stream);
          },
          (error: SshError) => finish(socksReply(socksFailure(error))),
        );
    };
    socket.on('data', onData);
  };
  return listen(options.localHost ?? '127.0.0.1', options.localPort ?? 0, onSocket, maxConnections);
}
