/**
 * @module
 * Bounds of the connection layer (RFC 4254) on peer-controlled counts and sizes, and the
 * defaults of its configuration, each with its source. To be merged into src/limits.ts.
 */

import { LIMITS } from '../limits.js';

/**
 * Headroom between the largest packet_length we accept and the largest channel data we
 * accept: the CHANNEL_EXTENDED_DATA header (1 + 4 + 4 + 4 bytes), the padding_length byte and
 * up to 255 bytes of padding (RFC 4253 §6) fit in 512 bytes.
 */
const CHANNEL_FRAMING_HEADROOM = 512;

/** Bounds and defaults of the connection layer. */
export const CONNECTION_LIMITS = {
  /** Channels per session by default, open or being opened by either side. */
  CHANNELS_DEFAULT: 1024,
  /** Largest `maxChannels` accepted: OpenSSH's hard limit CHANNELS_MAX_CHANNELS (16 × 1024). */
  CHANNELS_MAX: 16 * 1024,
  /**
   * Our initial receive window per channel by default: 2 MiB, OpenSSH's
   * CHAN_SES_WINDOW_DEFAULT (64 × 32 KiB).
   */
  WINDOW_DEFAULT: 2 * 1024 * 1024,
  /** A window is a uint32 (RFC 4254 §5.2): a peer may never make ours or its own exceed this. */
  WINDOW_MAX: 0xffff_ffff,
  /**
   * The largest data length per CHANNEL_DATA we accept by default, and the largest we ever
   * send: 256 KiB (LIMITS.PACKET_LENGTH_MAX, OpenSSH's PACKET_MAX_SIZE) minus 512 bytes of
   * framing, so two pluggable-ssh peers move data in packets that every OpenSSH-compatible
   * transport accepts. Peers that announce less (OpenSSH: 32 KiB) get what they announce.
   */
  MAX_PACKET_DEFAULT: LIMITS.PACKET_LENGTH_MAX - CHANNEL_FRAMING_HEADROOM,
  /** The same number as the largest `channelMaxPacket` a configuration may set. */
  MAX_PACKET_MAX: LIMITS.PACKET_LENGTH_MAX - CHANNEL_FRAMING_HEADROOM,
  /**
   * Channel requests awaiting a reply, per channel and direction: ours awaiting the peer's
   * SUCCESS/FAILURE, and the peer's awaiting the application's answer (RFC 4254 §5.4 orders
   * replies, so they queue). A peer that piles up more ends the session.
   */
  PENDING_CHANNEL_REQUESTS_MAX: 64,
  /** Global requests awaiting a reply, per direction (RFC 4254 §4 replies in order). */
  PENDING_GLOBAL_REQUESTS_MAX: 64,
  /** Channel types and request names: at most 64 characters (RFC 4250 §4.6.1). */
  NAME_MAX: 64,
  /** Host names and addresses in channel opens and forwards (DNS names are ≤ 255 bytes). */
  HOST_MAX: 1024,
  /** Unix socket paths (Linux PATH_MAX is 4096). */
  SOCKET_PATH_MAX: 4096,
  /** Host keys in one hostkeys-00@openssh.com / hostkeys-prove-00@openssh.com request. */
  HOST_KEYS_MAX: 256,
} as const;
