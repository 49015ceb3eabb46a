/**
 * @module
 * Bounds on every peer-controlled size and count in ssh-userauth (RFC 4252, RFC 4256), each
 * with its source. To be merged into src/limits.ts.
 */

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
  /** Bytes of that name-list: 32 names of at most 64 characters (RFC 4251 §6) and commas. */
  METHOD_LIST_BYTES_MAX: 32 * 65,
  /** Longest language tag (RFC 4252 §5.4, RFC 4256 §3.1); RFC 5646 §4.4.1 tags are far shorter. */
  LANGUAGE_TAG_BYTES_MAX: 256,
  /** Longest keyboard-interactive submethods field (RFC 4256 §3.1). */
  SUBMETHODS_BYTES_MAX: 1024,
} as const;
