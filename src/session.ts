/**
 * @module
 * The transport-facing API: three calls on an opaque session handle (DESIGN.md), plus
 * queries and commands. This core does no I/O: bytes come in through {@link sessionReceive}
 * and go out through the `send` function given to {@link sessionCreate}.
 */

import type { ClientAuthConfig } from './auth/types.js';
import { validateConnectionConfig } from './connection/connection.js';
import { DISCONNECT_REASON } from './constants.js';
import { fingerprintSha256 } from './crypto/host-key.js';
import { type SshError, usageError } from './errors.js';
import { Transport } from './transport/transport.js';
import type {
  CloseFn,
  NegotiatedAlgorithms,
  SendFn,
  SessionConfig,
  SessionState,
} from './types.js';
import { attachUpperLayers, UpperLayers } from './upper.js';

declare const sessionBrand: unique symbol;

/** An opaque SSH session. Only the functions of this module operate on it. */
export interface Session {
  readonly [sessionBrand]: true;
}

/** Returns the engine behind a handle; throws a usage error for anything else. */
export function engineOf(session: Session): Transport {
  if (!(session instanceof Transport)) throw usageError('not a session created by sessionCreate');
  return session;
}

/**
 * Creates a session and immediately sends our identification line and first KEXINIT
 * through `send`.
 *
 * `send(handle, bytes)` puts bytes on the wire; the bytes belong to the transport from then
 * on. Return 0, or -1 if the link is dead (the session then ends with `SSH_ERR_SEND_FAILED`).
 * `close(handle)` asks the transport to close the link; it is called at most once, when the
 * session ends by error or by either side's disconnect (not after {@link sessionClose}).
 *
 * A transport that delivers synchronously may receive the peer's answer before this call
 * returns: it must keep those bytes and pass them to {@link sessionReceive} afterwards.
 *
 * @example
 * ```ts
 * import net from 'node:net';
 * import { InputBuffer } from 'pluggable-ssh/transports/input-buffer';
 *
 * const socket = net.connect(port, host);
 * const session = sessionCreate(socket, (s, bytes) => (s.write(bytes), 0), (s) => s.end(), {
 *   role: 'client',
 *   onHostKey: (req) => (req.fingerprint === pinned ? req.accept() : req.reject()),
 *   onEvent: (event) => {
 *     if (event.type === 'handshake-complete') sessionDisconnect(session);
 *   },
 * });
 * const input = new InputBuffer((bytes) => sessionReceive(session, bytes));
 * socket.on('data', (chunk) => input.push(chunk));
 * socket.on('close', () => input.afterDrain(() => sessionClose(session)));
 * ```
 */
export function sessionCreate<H>(
  handle: H,
  send: SendFn<H>,
  close: CloseFn<H>,
  config: SessionConfig<Session>,
): Session {
  if (typeof send !== 'function' || typeof close !== 'function')
    throw usageError('send and close must be functions');
  if (config.role === 'client') {
    if (typeof config.onHostKey !== 'function') {
      throw usageError(
        'a client needs onHostKey: the session proceeds only after the application verified the host key',
      );
    }
    if (config.kexGuess !== undefined && typeof config.kexGuess !== 'boolean')
      throw usageError('kexGuess must be a boolean');
  } else if (config.role === 'server') {
    if (!Array.isArray(config.hostKeys) || config.hostKeys.length === 0)
      throw usageError('a server needs at least one host key');
  } else {
    throw usageError("config.role must be 'client' or 'server'");
  }
  validateConnectionConfig(config as SessionConfig<unknown>);
  const engine = new Transport(handle, send, close, config as SessionConfig<unknown>);
  attachUpperLayers(engine as unknown as Transport, config as SessionConfig<unknown>);
  engine.start();
  return engine as unknown as Session;
}

/**
 * Feeds bytes from the link. Consumes only whole units (identification lines, then whole
 * packets) and returns how many bytes that was; keeps no reference to `bytes`. The caller
 * keeps the unconsumed tail and presents it again, with more bytes appended, next time.
 * Returns 0 when no whole unit is present, and -1 once the session has ended (then drop the link).
 *
 * Never throws for anything the peer sends. Throws `SSH_ERR_USAGE` when called for a session
 * that is already inside `sessionReceive` (a transport must append and loop instead).
 *
 * @example
 * ```ts
 * import net from 'node:net';
 *
 * const socket = net.connect(port, host);
 * const session = sessionCreate(socket, (s, bytes) => (s.write(bytes), 0), (s) => s.end(), {
 *   role: 'client',
 *   onHostKey,
 *   onEvent: (event) => {
 *     if (event.type === 'handshake-complete') sessionDisconnect(session);
 *   },
 * });
 * let pending = Buffer.alloc(0); // what the session has not consumed yet
 * socket.on('data', (chunk: Buffer) => {
 *   pending = Buffer.concat([pending, chunk]);
 *   const n = sessionReceive(session, pending); // whole lines or packets only
 *   if (n < 0) return; // the session ended (it asked `close` to end the socket)
 *   pending = pending.subarray(n); // keep the tail for next time
 * });
 * socket.on('close', () => sessionClose(session));
 * ```
 */
export function sessionReceive(session: Session, bytes: Uint8Array): number {
  if (!(bytes instanceof Uint8Array)) throw usageError('bytes must be a Uint8Array');
  return engineOf(session).receive(bytes);
}

/**
 * Tells the session its link closed. The session ends with `SSH_ERR_CONNECTION_LOST` unless
 * it had already ended; `close` is not called back.
 *
 * @example
 * ```ts
 * // The link went away: tell the session, after feeding it every byte received.
 * sessionClose(session);
 * console.log(sessionLastError(session)?.code); // prints: SSH_ERR_CONNECTION_LOST
 * ```
 */
export function sessionClose(session: Session): void {
  engineOf(session).linkClosed();
}

/**
 * Ends the session gracefully: sends SSH_MSG_DISCONNECT, then calls `close`.
 *
 * @example
 * ```ts
 * sessionDisconnect(session); // reason 11, SSH_DISCONNECT_BY_APPLICATION
 * ```
 */
export function sessionDisconnect(
  session: Session,
  reason: number = DISCONNECT_REASON.BY_APPLICATION,
  description = '',
): void {
  engineOf(session).disconnect(reason, description);
}

/**
 * Starts a key re-exchange now (RFC 4253 §9). Returns false when one is already running or
 * the session is not established.
 *
 * @example
 * ```ts
 * if (sessionRekey(session)) console.log('rekeying');
 * ```
 */
export function sessionRekey(session: Session): boolean {
  return engineOf(session).rekey();
}

/**
 * The session's state.
 *
 * @example
 * ```ts
 * if (sessionState(session) === 'established') sessionRekey(session);
 * ```
 */
export function sessionState(session: Session): SessionState {
  return engineOf(session).state;
}

/**
 * The algorithms of the current keys, once the first key exchange finished.
 *
 * @example
 * ```ts
 * console.log(sessionAlgorithms(session)?.cipherClientToServer);
 * ```
 */
export function sessionAlgorithms(session: Session): NegotiatedAlgorithms | undefined {
  return engineOf(session).algorithms;
}

/**
 * The peer's identification line without CR LF, e.g. `SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3`.
 *
 * @example
 * ```ts
 * console.log(sessionPeerIdentification(session));
 * ```
 */
export function sessionPeerIdentification(session: Session): string | undefined {
  return engineOf(session).peerId;
}

/**
 * The server's host-key fingerprint (`SHA256:…`) once the first key exchange finished: on a
 * client the key it accepted, on a server the key it used.
 *
 * @example
 * ```ts
 * console.log(sessionHostKeyFingerprint(session));
 * ```
 */
export function sessionHostKeyFingerprint(session: Session): string | undefined {
  const blob = engineOf(session).hostKeyBlob;
  return blob ? fingerprintSha256(blob) : undefined;
}

/**
 * The error that ended the session, if it ended by error.
 *
 * @example
 * ```ts
 * const garbage = new TextEncoder().encode('this is not an SSH packet');
 * if (sessionReceive(session, garbage) < 0) {
 *   console.log(sessionLastError(session)?.code); // prints: SSH_ERR_BAD_PACKET_LENGTH
 * }
 * ```
 */
export function sessionLastError(session: Session): SshError | undefined {
  return engineOf(session).lastError;
}

/**
 * The session identifier (the first exchange hash H, RFC 4253 §7.2), once known.
 *
 * @example
 * ```ts
 * const id = sessionId(session); // H of the first key exchange, e.g. 32 bytes for sha256
 * console.log(Buffer.from(id ?? []).toString('hex'));
 * ```
 */
export function sessionId(session: Session): Uint8Array | undefined {
  const id = engineOf(session).sessionId;
  return id ? id.slice() : undefined;
}

/**
 * Whether strict key exchange (OpenSSH's Terrapin countermeasure) is in force.
 *
 * @example
 * ```ts
 * console.log(sessionStrictKex(session));
 * ```
 */
export function sessionStrictKex(session: Session): boolean {
  return engineOf(session).strictKex;
}

/**
 * Client: starts user authentication (RFC 4252) with `auth` when the config gave none. It
 * begins as soon as the ssh-userauth service is accepted (at once if it already was); the
 * outcome arrives as an `authenticated` event, or the session ends with SSH_ERR_AUTH_FAILED.
 *
 * @example
 * ```ts
 * import { connectTcp } from 'pluggable-ssh/transports/tcp';
 *
 * const session = connectTcp({ host, port }, { role: 'client', onHostKey });
 * sessionAuthenticate(session, { username, methods: [{ type: 'publickey', key }] });
 * ```
 */
export function sessionAuthenticate(session: Session, auth: ClientAuthConfig): void {
  const upper = engineOf(session).upper;
  if (!(upper instanceof UpperLayers)) throw usageError('this session has no authentication layer');
  upper.authenticate(auth);
}
