/**
 * @module
 * Every bound on a peer-controlled size or count, in one place, each with its source.
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
  /** Names in one name-list. */
  NAME_LIST_ENTRIES_MAX: 256,
  /** Extensions in one SSH_MSG_EXT_INFO (RFC 8308 sets none; OpenSSH caps at 1024). */
  EXT_INFO_ENTRIES_MAX: 64,
  /**
   * Control messages (window adjustments, requests, opens, closes) the core holds while a key
   * exchange pauses upper-layer traffic; bounded by channels × a few messages in practice.
   */
  PENDING_CONTROL_MESSAGES_MAX: 4096,
  /** Longest DISCONNECT/DEBUG description we deliver, in UTF-16 code units (longer text is cut). */
  TEXT_MESSAGE_MAX: 8 * 1024,
  /** Largest modulus accepted in a DH public value, in bytes (8192-bit groups). */
  DH_VALUE_BYTES_MAX: 1024 + 1,
} as const;

/** Rekey after 2^31 packets in either direction (RFC 4344 §3.1). */
export const REKEY_PACKETS = 2 ** 31;
