/**
 * @module
 * pluggable-ssh: a sans-IO SSH-2 client and server core. This core does no network I/O:
 * bytes in through `sessionReceive`, bytes out through your `send` function.
 */

export { DISCONNECT_REASON, type DisconnectReason, SSH_MSG } from './constants.js';
export {
  DEFAULT_CIPHERS,
  DEFAULT_HOST_KEY,
  DEFAULT_KEX,
  DEFAULT_MACS,
  INSECURE_HOST_KEY,
  INSECURE_MACS,
  SUPPORTED_CIPHERS,
  SUPPORTED_HOST_KEY,
  SUPPORTED_KEX,
  SUPPORTED_MACS,
} from './crypto/algorithms.js';
export { fingerprintSha256, type PublicKeyType } from './crypto/host-key.js';
export {
  type GeneratedKeyType,
  generatePrivateKey,
  type PrivateKey,
  parsePrivateKey,
  parsePublicKey,
  privateKeyToPem,
  publicKeyToOpenSSH,
} from './crypto/keys.js';
export { type ErrorOrigin, SSH_ERR, SshError, type SshErrorCode } from './errors.js';
export { LIMITS } from './limits.js';
export {
  type Session,
  sessionAlgorithms,
  sessionClose,
  sessionCreate,
  sessionDisconnect,
  sessionHostKeyFingerprint,
  sessionId,
  sessionLastError,
  sessionPeerIdentification,
  sessionReceive,
  sessionRekey,
  sessionState,
  sessionStrictKex,
} from './session.js';
export type {
  AlgorithmPreferences,
  ClientConfig,
  CloseFn,
  HostKeyRequest,
  NegotiatedAlgorithms,
  RandomFn,
  SendFn,
  ServerConfig,
  SessionConfig,
  SessionEvent,
  SessionState,
} from './types.js';
