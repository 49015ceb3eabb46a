/**
 * @module
 * pluggable-ssh/node: the Node-idiomatic layer — promises for connecting and running
 * commands, `Duplex` streams for channels (backpressure mapped onto SSH windows), OpenSSH-style
 * forwarding helpers and an event-driven server — built only on the core's public API and the
 * shipped transports.
 */

export {
  AGENT_TIMEOUT_MS_DEFAULT,
  type AgentCallOptions,
  type AgentConnectOptions,
  type AgentIdentity,
  SshAgent,
} from './agent.js';
export { ChannelStream, type ExitInfo } from './channel-stream.js';
export {
  type ChannelCallOptions,
  Client,
  type ClientEvents,
  type ConnectionHandler,
  DEFAULT_MAX_BUFFER,
  DEFAULT_PTY,
  type ExecOptions,
  type ExecResult,
  type ExecResultOptions,
  type ForwardedConnectionInfo,
  type RemoteListener,
  type ShellOptions,
} from './client.js';
export {
  type ConnectOptions,
  connect,
  DEFAULT_READY_TIMEOUT_MS,
  type SessionTuning,
} from './connect.js';
export {
  DEFAULT_SOCKS_HANDSHAKE_MS,
  DEFAULT_SOCKS_MAX_CONNECTIONS,
  type ForwardHandle,
  type LocalForwardOptions,
  type RemoteForwardOptions,
  type SocksForwardOptions,
} from './forward.js';
export {
  appendKnownHostsLine,
  type HostKeyInfo,
  type HostKeyVerifier,
  hostKeyRequestHandler,
  KNOWN_HOSTS_LIMITS,
  KnownHosts,
  type KnownHostsEntry,
  type KnownHostsMarker,
  type KnownHostsProblem,
  type KnownHostsVerdict,
  type KnownHostsVerifierOptions,
  knownHostsLine,
  knownHostsVerifier,
  loadKnownHosts,
  parseKnownHosts,
} from './known-hosts.js';
export type { Link, LinkAdapter, StreamPair } from './link.js';
export {
  type ConnectionListener,
  createServer,
  DEFAULT_LOGIN_GRACE_MS,
  DEFAULT_MAX_STARTUPS,
  DEFAULT_SERVER_HANDSHAKE_MS,
  type DirectTcpipInfo,
  ServerConnection,
  type ServerConnectionEvents,
  type ServerOptions,
  SshServer,
  type SshServerEvents,
  type TcpipForwardInfo,
} from './server.js';
export type { AuthContext } from './server-auth.js';
export {
  type AcceptFn,
  type AcceptStreamFn,
  type PtyInfo,
  type RejectFn,
  ServerSession,
  type ServerSessionEvents,
} from './server-session.js';
export {
  parseSocksGreeting,
  parseSocksRequest,
  SOCKS_GREETING_MAX,
  SOCKS_REPLY,
  SOCKS_REQUEST_MAX,
  type SocksParse,
  type SocksTarget,
  socksReply,
} from './socks5.js';
