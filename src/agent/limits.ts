/**
 * @module
 * Bounds on every size and count an SSH agent controls in its replies (draft-ietf-sshm-ssh-agent),
 * each with its source. To be folded into src/limits.ts.
 */

/** Bounds on agent replies; going over one is `SSH_ERR_LIMIT_EXCEEDED` and ends the connection. */
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
