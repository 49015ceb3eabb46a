/**
 * @module
 * The error taxonomy: every failure a session can report has one stable `SSH_ERR_…` code, a
 * party at fault, and (for faults that end the session) the RFC 4253 §11.1 disconnect reason
 * that was sent to the peer.
 */

import { DISCONNECT_REASON } from './constants.js';

/**
 * Who is at fault for an error.
 * - `peer`: the remote side sent something invalid or hostile.
 * - `negotiation`: both sides are well-behaved but could not agree (no common algorithm,
 *   host key rejected by the application).
 * - `link`: the transport failed (send returned -1, the link closed under us).
 * - `local`: this side is at fault: API misuse (`SSH_ERR_USAGE`, thrown), a callback that
 *   threw, a bug, or a local bound exceeded (these end the session and are reported).
 * - `remote-disconnect`: the peer ended the session with SSH_MSG_DISCONNECT.
 */
export type ErrorOrigin = 'peer' | 'negotiation' | 'link' | 'local' | 'remote-disconnect';

/** Stable error codes, each documented in SPEC.md's error table. */
export const SSH_ERR = {
  /** The peer's identification line is malformed or not SSH-2.0. */
  PROTOCOL_VERSION: 'SSH_ERR_PROTOCOL_VERSION',
  /** The peer declared a packet length that is impossible or over the limit. */
  BAD_PACKET_LENGTH: 'SSH_ERR_BAD_PACKET_LENGTH',
  /** The padding length is impossible or the packet is not aligned to the cipher block. */
  BAD_PADDING: 'SSH_ERR_BAD_PADDING',
  /** A MAC or AEAD tag did not verify. */
  MAC_INVALID: 'SSH_ERR_MAC_INVALID',
  /** A message could not be decoded (truncated, trailing bytes, bad field). */
  MALFORMED_MESSAGE: 'SSH_ERR_MALFORMED_MESSAGE',
  /** A message arrived that is not allowed in the current phase. */
  UNEXPECTED_MESSAGE: 'SSH_ERR_UNEXPECTED_MESSAGE',
  /** Strict key exchange (kex-strict-*-v00@openssh.com) was violated: CVE-2023-48795. */
  STRICT_KEX_VIOLATION: 'SSH_ERR_STRICT_KEX_VIOLATION',
  /** No algorithm in common for one of the negotiated categories. */
  NO_COMMON_ALGORITHM: 'SSH_ERR_NO_COMMON_ALGORITHM',
  /** The key exchange failed: bad public value, bad shared secret. */
  KEX_FAILED: 'SSH_ERR_KEX_FAILED',
  /** The server's signature over the exchange hash did not verify. */
  HOST_KEY_SIGNATURE_INVALID: 'SSH_ERR_HOST_KEY_SIGNATURE_INVALID',
  /** The application rejected the server's host key. */
  HOST_KEY_REJECTED: 'SSH_ERR_HOST_KEY_REJECTED',
  /** The server presented a different host key in a later key exchange. */
  HOST_KEY_CHANGED: 'SSH_ERR_HOST_KEY_CHANGED',
  /** A peer-controlled size or count went over a limit in src/limits.ts. */
  LIMIT_EXCEEDED: 'SSH_ERR_LIMIT_EXCEEDED',
  /** The peer asked for a service this side does not offer. */
  SERVICE_NOT_AVAILABLE: 'SSH_ERR_SERVICE_NOT_AVAILABLE',
  /** Client: every configured authentication method failed or was cancelled. */
  AUTH_FAILED: 'SSH_ERR_AUTH_FAILED',
  /** Server: the client failed authentication `maxAuthAttempts` times. */
  AUTH_ATTEMPTS_EXCEEDED: 'SSH_ERR_AUTH_ATTEMPTS_EXCEEDED',
  /** The peer sent SSH_MSG_DISCONNECT. */
  PEER_DISCONNECTED: 'SSH_ERR_PEER_DISCONNECTED',
  /** The transport reported the link closed (sessionClose) before a graceful end. */
  CONNECTION_LOST: 'SSH_ERR_CONNECTION_LOST',
  /** The transport's send function returned -1. */
  SEND_FAILED: 'SSH_ERR_SEND_FAILED',
  /** An application callback threw; the session was ended to stay consistent. */
  CALLBACK_FAILED: 'SSH_ERR_CALLBACK_FAILED',
  /** A bug in this library: an unexpected exception while handling input. Please report it. */
  INTERNAL: 'SSH_ERR_INTERNAL',
  /** The application misused the API (thrown, never reported through callbacks). */
  USAGE: 'SSH_ERR_USAGE',
  /** An SSH agent answered SSH_AGENT_FAILURE (key gone, agent locked, confirmation denied). */
  AGENT_REFUSED: 'SSH_ERR_AGENT_REFUSED',
  /** Node layer: the peer refused a channel we opened (SSH_MSG_CHANNEL_OPEN_FAILURE). */
  CHANNEL_OPEN_FAILED: 'SSH_ERR_CHANNEL_OPEN_FAILED',
  /** Node layer: the peer answered a channel or global request with failure. */
  REQUEST_FAILED: 'SSH_ERR_REQUEST_FAILED',
  /** Node layer and agent client: an `AbortSignal` aborted the operation (`cause` is the signal's reason). */
  ABORTED: 'SSH_ERR_ABORTED',
  /** Node layer and agent client: a clock ran out (handshake, authentication, idle, keepalive, or an agent request with no answer in time). */
  TIMEOUT: 'SSH_ERR_TIMEOUT',
} as const;

/** One of the stable error codes. */
export type SshErrorCode = (typeof SSH_ERR)[keyof typeof SSH_ERR];

/**
 * The one error class of the library.
 *
 * @example
 * ```ts
 * const err = sessionLastError(session);
 * if (err?.code === SSH_ERR.HOST_KEY_REJECTED) console.log('host key not trusted');
 * ```
 */
export class SshError extends Error {
  /** The stable code. */
  readonly code: SshErrorCode;
  /** Who is at fault. */
  readonly origin: ErrorOrigin;
  /** The disconnect reason sent to (or, for `remote-disconnect`, received from) the peer. */
  readonly disconnectReason: number | undefined;

  constructor(
    code: SshErrorCode,
    origin: ErrorOrigin,
    message: string,
    disconnectReason?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SshError';
    this.code = code;
    this.origin = origin;
    this.disconnectReason = disconnectReason;
  }
}

/** A peer protocol violation: the session sends DISCONNECT with `reason` and ends. */
export function peerError(
  code: SshErrorCode,
  message: string,
  reason: number = DISCONNECT_REASON.PROTOCOL_ERROR,
): SshError {
  return new SshError(code, 'peer', message, reason);
}

/** A usage error, thrown at the application. */
export function usageError(message: string): SshError {
  return new SshError(SSH_ERR.USAGE, 'local', message);
}
