/**
 * @module
 * Names and numbers of the connection protocol: channel-open failure reasons and extended data
 * types (RFC 4250 §4.3, §4.4), channel types (RFC 4254 §6.1, §7, OpenSSH PROTOCOL §2.4).
 */

/** Reason codes of SSH_MSG_CHANNEL_OPEN_FAILURE (RFC 4250 §4.3, RFC 4254 §5.1). */
export const SSH_OPEN = {
  ADMINISTRATIVELY_PROHIBITED: 1,
  CONNECT_FAILED: 2,
  UNKNOWN_CHANNEL_TYPE: 3,
  RESOURCE_SHORTAGE: 4,
} as const;

/** A channel-open failure reason. Peers may send other values; they are kept as numbers. */
export type ChannelOpenFailureReason = (typeof SSH_OPEN)[keyof typeof SSH_OPEN];

/** Data type codes of SSH_MSG_CHANNEL_EXTENDED_DATA (RFC 4250 §4.4, RFC 4254 §5.2). */
export const SSH_EXTENDED_DATA = {
  STDERR: 1,
} as const;

/** The channel types this library opens and accepts. */
export const CHANNEL_TYPE = {
  /** RFC 4254 §6.1: a shell, a command or a subsystem. */
  SESSION: 'session',
  /** RFC 4254 §7.2: the client asks the server to connect to a TCP port. */
  DIRECT_TCPIP: 'direct-tcpip',
  /** RFC 4254 §7.2: the server reports a connection to a port the client had forwarded. */
  FORWARDED_TCPIP: 'forwarded-tcpip',
  /** OpenSSH PROTOCOL §2.4: the client asks the server to connect to a Unix socket. */
  DIRECT_STREAMLOCAL: 'direct-streamlocal@openssh.com',
  /** OpenSSH PROTOCOL §2.4: a connection to a Unix socket the client had forwarded. */
  FORWARDED_STREAMLOCAL: 'forwarded-streamlocal@openssh.com',
} as const;

/** One of the channel types this library opens and accepts. */
export type ChannelType = (typeof CHANNEL_TYPE)[keyof typeof CHANNEL_TYPE];
