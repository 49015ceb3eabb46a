/**
 * @module
 * Every bound on a peer-controlled size or count, in one place, each with its source: the
 * transport (`LIMITS`, RFC 4253), user authentication (`AUTH_LIMITS`, RFC 4252/4256), the
 * connection layer (`CONNECTION_LIMITS`, RFC 4254) and the agent client (`AGENT_LIMITS`).
 * SPEC.md §11 lists each with the test that proves it.
 */

/** Bounds on peer-controlled sizes and counts; SPEC.md lists each with its source. */
export const LIMITS = {
  /** Longest identification line incl. CR LF: 255 bytes (RFC 4253 §4.2). */
  IDENTIFICATION_LINE_MAX: 255,
  /** Lines a server may send before its identification; OpenSSH allows 1024 (sshd.c precedent). */
  PRE_IDENTIFICATION_LINES_MAX: 1024,
  /**
   * Largest packet_length accepted: 256 KiB, the largest OpenSSH accepts (PACKET_MAX_SIZE);
   * RFC 4253 §6.1 requires at least 35000.
   */
  PACKET_LENGTH_MAX: 256 * 1024,
  /** Smallest packet_length: padding_length byte + 4 bytes of padding, aligned (RFC 4253 §6). */
  PACKET_LENGTH_MIN: 5,
  /** Largest name-list we decode, in bytes (OpenSSH's kex proposal limit is similar). */
  NAME_LIST_BYTES_MAX: 64 * 1024,
  /** Names in one name-list (our reasoning: all registered algorithms fit many times over). */
  NAME_LIST_ENTRIES_MAX: 256,
  /** Characters in one algorithm or method name (RFC 4251 §6: at most 64). */
  NAME_MAX: 64,
  /** Characters in a service name (SERVICE_REQUEST/ACCEPT; RFC 4250 §4.6.1 names are ≤ 64). */
  SERVICE_NAME_MAX: 256,
  /** Extensions in one SSH_MSG_EXT_INFO (RFC 8308 sets none; OpenSSH caps at 1024). */
  EXT_INFO_ENTRIES_MAX: 64,
  /** Characters in an extension name (RFC 8308 §2.3 names follow RFC 4251 §6 conventions). */
  EXT_INFO_NAME_MAX: 256,
  /** Bytes of one extension value (the largest, server-sig-algs, is a name-list). */
  EXT_INFO_VALUE_BYTES_MAX: 64 * 1024,
  /**
   * Bytes of extension names and values kept across all EXT_INFO messages of a session: what
   * one packet can carry (RFC 8308 §2.4 allows a server two EXT_INFO, a client one; a peer
   * that sends more with new names must not make the session grow).
   */
  EXT_INFO_RETAINED_BYTES_MAX: 256 * 1024,
  /**
   * Control messages (window adjustments, requests, opens, closes) the core holds while a key
   * exchange pauses upper-layer traffic; bounded by channels × a few messages in practice.
   */
  PENDING_CONTROL_MESSAGES_MAX: 4096,
  /**
   * Packets the peer may send while one key exchange runs (from its start to its end), at
   * least: the larger of this and `rekeyAfterPackets` applies. Our reasoning: a peer answers
   * KEXINIT promptly (RFC 4253 §7.1); what it sends meanwhile is traffic already in flight,
   * bounded by the windows we granted. A peer that never finishes cannot stretch one key's
   * use past the rekey volume indefinitely.
   */
  KEX_GRACE_PACKETS_MIN: 64 * 1024,
  /** Bytes the peer may send while one key exchange runs, at least (see KEX_GRACE_PACKETS_MIN). */
  KEX_GRACE_BYTES_MIN: 64 * 1024 * 1024,
  /** Longest DISCONNECT/DEBUG description we deliver, in UTF-16 code units (longer text is cut). */
  TEXT_MESSAGE_MAX: 8 * 1024,
  /** Longest DISCONNECT description we send, in characters (ours, not the peer's). */
  DISCONNECT_DESCRIPTION_SENT_MAX: 512,
  /** Largest modulus accepted in a DH public value, in bytes (8192-bit groups). */
  DH_VALUE_BYTES_MAX: 1024 + 1,
  /** Largest ECDH / X25519 public value (a P-521 point is 133 bytes; RFC 5656 §4). */
  ECDH_VALUE_BYTES_MAX: 1024,
  /** Largest host-key blob in KEX_ECDH_REPLY (an RSA-16384 key is ~2 KiB; RFC 4253 §8). */
  KEX_HOST_KEY_BYTES_MAX: 16 * 1024,
  /** Largest exchange-hash signature in KEX_ECDH_REPLY (an RSA-16384 signature is 2 KiB). */
  KEX_SIGNATURE_BYTES_MAX: 16 * 1024,
} as const;

/** Rekey after 2^31 packets in either direction (RFC 4344 §3.1). */
export const REKEY_PACKETS = 2 ** 31;
/** The default rekey volume per direction: 1 GiB (far below RFC 4344 §3.2's 2^(L/4) blocks). */
export const REKEY_BYTES = 2 ** 30;

/** Bounds on authentication messages; a peer going over one ends the session unless noted. */
export const AUTH_LIMITS = {
  /**
   * Longest user name a server accepts, in UTF-8 bytes: Linux's LOGIN_NAME_MAX (256). Longer →
   * SSH_ERR_LIMIT_EXCEEDED with reason 15 ILLEGAL_USER_NAME.
   */
  USERNAME_BYTES_MAX: 256,
  /**
   * Longest password a server passes to the application: OpenSSH's MAX_PASSWORD_LEN
   * (auth-passwd.c). Like sshd, a longer one fails the attempt (counted) without asking.
   */
  PASSWORD_BYTES_MAX: 1024,
  /** Longest keyboard-interactive response; treated like a password (same precedent). */
  KBD_RESPONSE_BYTES_MAX: 1024,
  /**
   * Prompts in one INFO_REQUEST and responses in one INFO_RESPONSE: sshd accepts at most 100
   * responses (auth2-chall.c), so no interoperable server asks more.
   */
  KBD_PROMPTS_MAX: 100,
  /** Longest name, instruction or prompt in an INFO_REQUEST (8 KiB, like LIMITS.TEXT_MESSAGE_MAX). */
  KBD_TEXT_BYTES_MAX: 8 * 1024,
  /**
   * Longest USERAUTH_BANNER text delivered to the application (16 KiB, a page of legal notice
   * twice over); a longer banner is truncated, not fatal: it is informational only.
   */
  BANNER_BYTES_MAX: 16 * 1024,
  /**
   * Longest public key blob: a 16384-bit RSA key (RSA_MAX_BITS) is about 2 KiB; 16 KiB leaves
   * room for any key type we may add without letting a peer make us parse megabytes.
   */
  PUBLIC_KEY_BLOB_BYTES_MAX: 16 * 1024,
  /** Longest signature blob (an RSA-16384 signature is 2 KiB); 16 KiB as for key blobs. */
  SIGNATURE_BYTES_MAX: 16 * 1024,
  /**
   * Names in a USERAUTH_FAILURE "authentications that can continue" list: RFC 4252 §5.1 and
   * the registry (RFC 4250 §4.9.1) know five methods; 32 leaves room for private ones.
   */
  METHOD_NAMES_MAX: 32,
  /** Characters in one method name, service name or algorithm name in a request (RFC 4251 §6). */
  METHOD_NAME_MAX: 64,
  /** Bytes of that name-list: 32 names of at most 64 characters (RFC 4251 §6) and commas. */
  METHOD_LIST_BYTES_MAX: 32 * 65,
  /** Longest language tag (RFC 4252 §5.4, RFC 4256 §3.1); RFC 5646 §4.4.1 tags are far shorter. */
  LANGUAGE_TAG_BYTES_MAX: 256,
  /** Longest keyboard-interactive submethods field (RFC 4256 §3.1). */
  SUBMETHODS_BYTES_MAX: 1024,
  /** Failed attempts a server allows by default: OpenSSH's MaxAuthTries default (6). */
  ATTEMPTS_DEFAULT: 6,
} as const;

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
  /** The TERM value of a pty-req (RFC 4254 §6.2); terminfo names are far shorter. */
  TERM_MAX: 256,
  /**
   * Encoded terminal modes of a pty-req: every opcode of RFC 4254 §8 (1–159) once takes 796
   * bytes; 4 KiB leaves room for repeats. Our reasoning; OpenSSH sends a few hundred bytes.
   */
  PTY_MODES_BYTES_MAX: 4096,
  /** An env request's variable name (RFC 4254 §6.4); our reasoning, names are short. */
  ENV_NAME_MAX: 1024,
  /** An env request's value: Linux's MAX_ARG_STRLEN (32 pages, 128 KiB) per environment string. */
  ENV_VALUE_MAX: 128 * 1024,
} as const;

/** Bounds on what an SSH agent sends (draft-ietf-sshm-ssh-agent); going over one is `SSH_ERR_LIMIT_EXCEEDED` and ends the connection. */
export const AGENT_LIMITS = {
  /**
   * Longest agent message (the uint32 length prefix excluded): 256 KiB, OpenSSH's
   * MAX_AGENT_REPLY_LEN (authfd.c) and AGENT_MAX_LEN (ssh-agent.c). Checked on the length
   * prefix, before the body is buffered.
   */
  MESSAGE_BYTES_MAX: 256 * 1024,
  /** Identities in one SSH_AGENT_IDENTITIES_ANSWER: 2048, OpenSSH's MAX_AGENT_IDENTITIES (authfd.c). */
  IDENTITIES_MAX: 2048,
  /**
   * Longest key blob in an identity: 16 KiB, like AUTH_LIMITS.PUBLIC_KEY_BLOB_BYTES_MAX (an
   * RSA-16384 key is about 2 KiB; certificates with many principals stay far below).
   */
  KEY_BLOB_BYTES_MAX: 16 * 1024,
  /** Longest signature blob in an SSH_AGENT_SIGN_RESPONSE: 16 KiB, like AUTH_LIMITS.SIGNATURE_BYTES_MAX. */
  SIGNATURE_BYTES_MAX: 16 * 1024,
  /**
   * Longest identity comment delivered, in UTF-16 code units: a longer one is cut, not an
   * error (it is informational only, like LIMITS.TEXT_MESSAGE_MAX). The bytes themselves are
   * bounded by MESSAGE_BYTES_MAX.
   */
  COMMENT_MAX: 1024,
  /**
   * Requests one agent connection holds (sent or waiting to be sent): 64, like
   * CONNECTION_LIMITS.PENDING_CHANNEL_REQUESTS_MAX. One more throws `SSH_ERR_USAGE`.
   */
  PENDING_REQUESTS_MAX: 64,
  /** Largest data a sign request carries: the message bound less the key blob and framing. */
  SIGN_DATA_BYTES_MAX: 256 * 1024 - 16 * 1024 - 64,
} as const;
