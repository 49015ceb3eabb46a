/**
 * @module
 * The exchange hash H of a key exchange (RFC 4253 §8, RFC 5656 §4, RFC 8731 §3).
 */

import { hashOf } from '../crypto/hash.js';
import type { KexHash } from '../crypto/types.js';
import { SshWriter } from '../wire/writer.js';

/** Everything the exchange hash covers, from both sides of one key exchange. */
export interface ExchangeHashInput {
  /** V_C: the client's identification string, without CR LF. Hashed as UTF-8. */
  readonly clientId: string;
  /** V_S: the server's identification string, without CR LF. Hashed as UTF-8. */
  readonly serverId: string;
  /** I_C: the payload of the client's SSH_MSG_KEXINIT, starting with the message byte 20. */
  readonly clientKexinit: Uint8Array;
  /** I_S: the payload of the server's SSH_MSG_KEXINIT, starting with the message byte 20. */
  readonly serverKexinit: Uint8Array;
  /** K_S: the server's public host key blob. */
  readonly hostKeyBlob: Uint8Array;
  /** Q_C (ECDH octet string) or e (DH, unsigned magnitude). */
  readonly clientPublic: Uint8Array;
  /** Q_S (ECDH octet string) or f (DH, unsigned magnitude). */
  readonly serverPublic: Uint8Array;
  /** How the public values are hashed: `string` for ECDH and X25519, `mpint` for DH. */
  readonly encoding: 'string' | 'mpint';
  /** K as an unsigned big-endian magnitude; hashed as an mpint. */
  readonly sharedSecret: Uint8Array;
}

/**
 * Computes H = HASH(string V_C ‖ string V_S ‖ string I_C ‖ string I_S ‖ string K_S ‖
 * Q_C/e ‖ Q_S/f ‖ mpint K) (RFC 4253 §8; RFC 5656 §4 for the ECDH string form).
 *
 * @example
 * ```ts
 * import { randomBytes } from 'node:crypto';
 *
 * const kex = kexAlgorithm('curve25519-sha256')!;
 * const [mine, theirs] = [kex.start(randomBytes), kex.start(randomBytes)];
 * const h = exchangeHash('sha256', {
 *   clientId: 'SSH-2.0-pluggable_ssh',
 *   serverId: 'SSH-2.0-OpenSSH_9.2p1',
 *   clientKexinit: new Uint8Array([20]), // the two KEXINIT payloads
 *   serverKexinit: new Uint8Array([20]),
 *   hostKeyBlob: key.publicKeyBlob,
 *   clientPublic: mine.publicValue,
 *   serverPublic: theirs.publicValue,
 *   encoding: 'string',
 *   sharedSecret: mine.computeSecret(theirs.publicValue),
 * });
 * ```
 */
export function exchangeHash(hash: KexHash, p: ExchangeHashInput): Uint8Array {
  const w = new SshWriter(1024);
  w.string(p.clientId).string(p.serverId);
  w.string(p.clientKexinit).string(p.serverKexinit);
  w.string(p.hostKeyBlob);
  if (p.encoding === 'string') {
    w.string(p.clientPublic).string(p.serverPublic);
  } else {
    w.mpintUnsigned(p.clientPublic).mpintUnsigned(p.serverPublic);
  }
  w.mpintUnsigned(p.sharedSecret);
  return hashOf(hash, w.finish());
}
