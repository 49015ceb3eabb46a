/**
 * @module
 * pluggable-ssh: a sans-IO SSH-2 client and server core. This core does no network I/O:
 * bytes in through `sessionReceive`, bytes out through your `send` function.
 */

export {
  type AgentClient,
  type AgentIdentity,
  type AgentRequest,
  type AgentResult,
  agentClose,
  agentCreate,
  agentDisconnect,
  agentLastError,
  agentReceive,
  agentRequestIdentities,
  agentSign,
} from './agent/client.js';
export { AGENT_LIMITS } from './agent/limits.js';
export {
  type AgentSignerOptions,
  agentSigner,
  type RsaSignatureAlgorithm,
} from './agent/signer.js';
export type {
  AuthEvent,
  AuthMethodName,
  AuthRequest,
  ClientAuthConfig,
  ClientAuthMethod,
  KeyboardInteractivePrompt,
  KeyboardInteractivePromptInfo,
  KeyboardInteractiveRequest,
  PasswordRequest,
  ServerAuthConfig,
  ServerAuthMethodName,
  Signer,
  SignRequest,
} from './auth/types.js';
export {
  channelClose,
  channelConsume,
  channelEof,
  channelOpenDirectStreamlocal,
  channelOpenDirectTcpip,
  channelOpenSession,
  channelRemoteWindow,
  channelRequest,
  channelRequestEnv,
  channelRequestExec,
  channelRequestPty,
  channelRequestShell,
  channelRequestSubsystem,
  channelSendEow,
  channelSendExitSignal,
  channelSendExitStatus,
  channelSignal,
  channelState,
  channelWindow,
  channelWindowChange,
  channelWrite,
  channelWriteExtended,
} from './connection/api.js';
export { CHANNEL_TYPE, SSH_EXTENDED_DATA, SSH_OPEN } from './connection/constants.js';
export type { GlobalResultFn } from './connection/global-requests.js';
export { CONNECTION_LIMITS } from './connection/limits.js';
export type { ExitSignalOptions, PtyOptions, WindowChangeOptions } from './connection/requests.js';
export {
  sessionCancelForwardStreamlocal,
  sessionCancelForwardTcpip,
  sessionForwardStreamlocal,
  sessionForwardTcpip,
  sessionGlobalRequest,
  sessionNoMoreSessions,
  sessionOpenForwardedStreamlocal,
  sessionOpenForwardedTcpip,
} from './connection/session-api.js';
export type {
  Channel,
  ChannelEvent,
  ChannelOpenRequest,
  ChannelOpenTarget,
  ChannelOptions,
  ChannelRequest,
  ChannelState,
  ConnectionConfig,
  GlobalRequest,
  GlobalRequestAcceptOptions,
  ParsedChannelRequest,
  ParsedGlobalRequest,
} from './connection/types.js';
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
  sessionAuthenticate,
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
