/**
 * @module
 * The public types of a session: its configuration, the events it reports and the request
 * handles the application answers (DESIGN.md contract §7).
 */

import type { AuthEvent, ClientAuthConfig, ServerAuthConfig } from './auth/types.js';
import type { ConnectionConfig } from './connection/types.js';
import type { PrivateKey } from './crypto/keys.js';
import type { RandomFn } from './crypto/types.js';
import type { SshError } from './errors.js';
import type { NegotiatedAlgorithms } from './transport/kexinit.js';

export type { RandomFn } from './crypto/types.js';
export type { NegotiatedAlgorithms } from './transport/kexinit.js';

/** Put bytes on the wire. Return 0 when accepted, -1 when the link is dead. */
export type SendFn<H> = (handle: H, bytes: Uint8Array) => 0 | -1;
/** Ask the transport to close the link. Called at most once per session. */
export type CloseFn<H> = (handle: H) => void;

/**
 * Where a session is:
 * - `version-exchange`: waiting for the peer's identification line;
 * - `key-exchange`: the first key exchange is running;
 * - `established`: keys are in place (rekeys happen inside this state);
 * - `closed`: ended, by error or by either side; every call is inert.
 */
export type SessionState = 'version-exchange' | 'key-exchange' | 'established' | 'closed';

/** Algorithm preferences; each list replaces the default list, in order of preference. */
export interface AlgorithmPreferences {
  readonly kex?: readonly string[];
  readonly hostKey?: readonly string[];
  readonly cipher?: readonly string[];
  readonly mac?: readonly string[];
}

/** Events a session reports, in the order they happen. */
export type SessionEvent =
  | { readonly type: 'identification'; readonly peer: string }
  | { readonly type: 'handshake-complete'; readonly algorithms: NegotiatedAlgorithms }
  | { readonly type: 'rekey-started'; readonly initiator: 'local' | 'peer' }
  | { readonly type: 'rekey-complete'; readonly algorithms: NegotiatedAlgorithms }
  | { readonly type: 'writable' }
  | { readonly type: 'ext-info'; readonly extensions: ReadonlyMap<string, Uint8Array> }
  | { readonly type: 'service-accepted'; readonly service: string }
  | { readonly type: 'debug'; readonly message: string; readonly alwaysDisplay: boolean }
  | { readonly type: 'unimplemented'; readonly sequence: number }
  | { readonly type: 'disconnected'; readonly reason: number; readonly description: string }
  | { readonly type: 'error'; readonly error: SshError }
  | { readonly type: 'closed' }
  | AuthEvent;

/**
 * The server's host key, awaiting the application's verdict (client only). Answer exactly
 * once with {@link HostKeyRequest.accept} or {@link HostKeyRequest.reject}, inside the
 * callback or later; the session does not send NEWKEYS until then.
 */
export interface HostKeyRequest {
  /** The negotiated host-key signature algorithm, e.g. `ssh-ed25519` or `rsa-sha2-512`. */
  readonly algorithm: string;
  /** The key type inside the blob, e.g. `ssh-ed25519`, `ssh-rsa`. */
  readonly keyType: string;
  /** The public key blob (RFC 4253 §6.6). The signature over the exchange hash already verified. */
  readonly publicKey: Uint8Array;
  /** `SHA256:` + unpadded base64, as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
  /** Trust the key: the handshake continues. */
  accept(): void;
  /** Distrust the key: the session disconnects with HOST_KEY_NOT_VERIFIABLE. */
  reject(reason?: string): void;
}

/** Configuration shared by both roles. */
interface CommonConfig<S> extends ConnectionConfig<S> {
  /** Informational events. Exceptions thrown here end the session (SSH_ERR_CALLBACK_FAILED). */
  readonly onEvent?: (event: SessionEvent, session: S) => void;
  /** Algorithm preferences; defaults are DEFAULT_KEX, DEFAULT_HOST_KEY, DEFAULT_CIPHERS, DEFAULT_MACS. */
  readonly algorithms?: AlgorithmPreferences;
  /** Random source (default: node:crypto randomBytes). Inject a seeded one for deterministic tests. */
  readonly random?: RandomFn;
  /** The softwareversion part of our identification (default `pluggable_ssh_0.1`). */
  readonly softwareVersion?: string;
  /** Rekey after this many bytes in either direction (default 1 GiB; RFC 4344 allows more). */
  readonly rekeyAfterBytes?: number;
  /** Rekey after this many packets in either direction (default 2^31, RFC 4344 §3.1). */
  readonly rekeyAfterPackets?: number;
}

/** Configuration of a client session. */
export interface ClientConfig<S = unknown> extends CommonConfig<S> {
  readonly role: 'client';
  /** Required: decide whether to trust the server's host key (DESIGN.md contract §8). */
  readonly onHostKey: (request: HostKeyRequest, session: S) => void;
  /**
   * Log in as soon as the ssh-userauth service starts, trying these methods in order. Without
   * it, call `sessionAuthenticate` when ready.
   */
  readonly auth?: ClientAuthConfig;
  /**
   * Send the first key-exchange packet (KEX_ECDH_INIT, or KEXDH_INIT for a DH group) right
   * behind our KEXINIT, guessing that the server prefers our first kex and host-key algorithms
   * (RFC 4253 §7.1, first_kex_packet_follows): one round trip less when it does (our own server
   * with default lists; dropbear 2022.83 with an ed25519 host key). A wrong guess is dropped by
   * the server and the real packet follows.
   *
   * Default `false`: it relies on the server judging guesses as RFC 4253 §7.1 does (OpenSSH,
   * dropbear and ours do). ssh2 servers up to 1.17 drop every guess; one identifying as
   * `ssh2js1.17` or older always gets the real packet. A server that judges otherwise (by the
   * negotiated result, as ssh2's source reads, or ignoring the flag) fails the handshake
   * whenever its verdict differs from ours.
   */
  readonly kexGuess?: boolean;
}

/** Configuration of a server session. */
export interface ServerConfig<S = unknown> extends CommonConfig<S>, ServerAuthConfig {
  readonly role: 'server';
  /** Host keys (at least one). Each key offers the signature algorithms its type allows. */
  readonly hostKeys: readonly PrivateKey[];
}

/** A session's configuration: a client or a server. */
export type SessionConfig<S = unknown> = ClientConfig<S> | ServerConfig<S>;
