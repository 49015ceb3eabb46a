/**
 * @module
 * What the authentication and connection layers (RFC 4252, RFC 4254) may ask of the
 * transport beneath them. The transport engine implements it; the layers see nothing else.
 */

import type { SessionEvent } from './types.js';

/** The transport as the layers above it see it. */
export interface LayerHost {
  readonly role: 'client' | 'server';
  /** The session identifier H (RFC 4253 §7.2), known once the first key exchange ended. */
  readonly sessionId: Uint8Array | undefined;
  /** Extensions the peer sent in SSH_MSG_EXT_INFO (RFC 8308), e.g. `server-sig-algs`. */
  readonly peerExtensions: ReadonlyMap<string, Uint8Array>;
  /** The opaque session object the application holds; pass it back in callbacks. */
  readonly publicHandle: unknown;
  /** True when application data may be sent now (not paused by a key exchange). */
  readonly canSendUpper: boolean;
  /**
   * Sends a message carrying application data now, or returns false (nothing queued). The
   * message is `payload ‖ body`: `body` (channel data) goes from the caller's buffer straight
   * to the cipher, read during the call and not retained.
   */
  sendUpper(payload: Uint8Array, body?: Uint8Array): boolean;
  /**
   * A hint before sending `packets` messages of `payloadBytes` in all with
   * {@link LayerHost.sendUpper}: room is set aside so they are written into one buffer.
   */
  reserveUpper?(payloadBytes: number, packets: number): void;
  /** Sends a control message now, or queues it (bounded) until a key exchange ends. */
  sendControl(payload: Uint8Array): void;
  /** Reports a session-level event to the application. */
  emit(event: SessionEvent): void;
  /** Calls application code; if it throws, the session ends with SSH_ERR_CALLBACK_FAILED. */
  callOut(fn: () => void): void;
  /**
   * Runs the application's answer to a request (accept/reject…), now or later: inside a
   * running call it joins it; otherwise it becomes its own call (output flushed, SshErrors
   * thrown by `fn` end the session, usage errors are rethrown to the application).
   */
  answer(fn: () => void): void;
  /** Ends the session gracefully with SSH_MSG_DISCONNECT. */
  disconnect(reason: number, description: string): void;
}

/** What the authentication and connection layers plug into (messages 50–255). */
export interface UpperLayer {
  /**
   * Handles one message numbered 50 or above. Returns false for a number it does not know,
   * and the transport answers SSH_MSG_UNIMPLEMENTED. Throws SshError for violations.
   */
  handleMessage(type: number, payload: Uint8Array): boolean;
  /** The ssh-userauth service started (server: accepted; client: the server accepted). */
  onServiceStarted?(): void;
  /** Client: SERVICE_REQUEST for ssh-userauth has just been sent (the reply is on its way). */
  onServiceRequested?(): void;
  /** Upper-layer messages may be sent again after a key exchange paused them. */
  onWritable?(): void;
  /** The session ended (any cause): close what is open, before the application hears `closed`. */
  onSessionEnded?(): void;
}
