/**
 * @module
 * Algorithm names (RFC 4253 §6–7, RFC 5656, RFC 8709, RFC 8731, RFC 8332, RFC 8268, OpenSSH
 * PROTOCOL) and the default, supported and insecure lists. Defaults follow current hardening
 * guidance: curve25519 first, AEAD ciphers, EtM MACs before encrypt-and-MAC.
 */

/** Key exchange methods in default order. */
export const DEFAULT_KEX = [
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'ecdh-sha2-nistp256',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
  'diffie-hellman-group16-sha512',
  'diffie-hellman-group14-sha256',
] as const;

/** Every key exchange method this library implements. */
export const SUPPORTED_KEX = [...DEFAULT_KEX] as const;

/** Host-key / signature algorithms in default order. */
export const DEFAULT_HOST_KEY = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
] as const;

/** ssh-rsa signs with SHA-1: only when explicitly enabled. */
export const INSECURE_HOST_KEY = ['ssh-rsa'] as const;

/** Every host-key algorithm implemented. */
export const SUPPORTED_HOST_KEY = [...DEFAULT_HOST_KEY, ...INSECURE_HOST_KEY] as const;

/** Ciphers in default order. */
export const DEFAULT_CIPHERS = [
  'chacha20-poly1305@openssh.com',
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
  'aes128-ctr',
  'aes192-ctr',
  'aes256-ctr',
] as const;

/** Every cipher implemented. */
export const SUPPORTED_CIPHERS = [...DEFAULT_CIPHERS] as const;

/** MACs in default order (EtM first). */
export const DEFAULT_MACS = [
  'hmac-sha2-256-etm@openssh.com',
  'hmac-sha2-512-etm@openssh.com',
  'hmac-sha2-256',
  'hmac-sha2-512',
] as const;

/** HMAC-SHA1 (RFC 4253 §6.4): implemented for old peers, used only when listed explicitly. */
export const INSECURE_MACS = ['hmac-sha1-etm@openssh.com', 'hmac-sha1'] as const;

/** Every MAC implemented. */
export const SUPPORTED_MACS = [...DEFAULT_MACS, ...INSECURE_MACS] as const;

/** Compression: only none (compression before encryption invites length side channels). */
export const DEFAULT_COMPRESSION = ['none'] as const;

/** Pseudo-algorithms appended to kex lists (RFC 8308 §2.1, OpenSSH PROTOCOL §1.10). */
export const KEX_MARKERS = {
  EXT_INFO_CLIENT: 'ext-info-c',
  EXT_INFO_SERVER: 'ext-info-s',
  STRICT_CLIENT: 'kex-strict-c-v00@openssh.com',
  STRICT_SERVER: 'kex-strict-s-v00@openssh.com',
} as const;

/** Signature algorithms we verify for user authentication, advertised in server-sig-algs. */
export const SERVER_SIG_ALGS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
] as const;
