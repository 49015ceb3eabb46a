/**
 * @module
 * Which message numbers the peer may send in which phase: one table, consulted for every
 * packet before any handler runs (RFC 4253 §7.1 and §11, RFC 4250 §4.1.1, OpenSSH
 * PROTOCOL §1.10 for strict key exchange).
 */

import { SSH_MSG } from '../constants.js';

/**
 * The peer's side of the protocol as far as message legality goes:
 * - `initial-kex`: before the peer's first NEWKEYS;
 * - `initial-kex-strict`: the same once strict kex is known to be on;
 * - `rekey`: between the peer's KEXINIT and its NEWKEYS in a later exchange;
 * - `open`: otherwise.
 */
export type PeerPhase = 'initial-kex' | 'initial-kex-strict' | 'rekey' | 'open';

/** What to do with a message number in a phase. */
export type Verdict = 'kex' | 'transport' | 'service' | 'upper' | 'unimplemented' | 'forbidden';

const GENERIC: ReadonlySet<number> = new Set([
  SSH_MSG.DISCONNECT,
  SSH_MSG.IGNORE,
  SSH_MSG.UNIMPLEMENTED,
  SSH_MSG.DEBUG,
]);

function isKex(type: number): boolean {
  return type === SSH_MSG.KEXINIT || type === SSH_MSG.NEWKEYS || (type >= 30 && type <= 49);
}

/**
 * Classifies a message number. `kex` messages go to the key exchange (which checks its own
 * step), `transport` to the generic handlers, `service` to SERVICE_REQUEST/ACCEPT/EXT_INFO,
 * `upper` to authentication and connection, `unimplemented` gets SSH_MSG_UNIMPLEMENTED,
 * `forbidden` ends the session.
 */
export function classify(phase: PeerPhase, type: number): Verdict {
  switch (phase) {
    case 'initial-kex-strict':
      // Strict kex: only kex messages and DISCONNECT until NEWKEYS (PROTOCOL §1.10).
      if (isKex(type)) return 'kex';
      return type === SSH_MSG.DISCONNECT ? 'transport' : 'forbidden';
    case 'initial-kex':
    case 'rekey':
      // RFC 4253 §7.1: between KEXINIT and NEWKEYS only messages 1–49, never a service
      // request/accept, never a second KEXINIT (the kex checks that).
      if (isKex(type)) return 'kex';
      if (GENERIC.has(type)) return 'transport';
      if (type >= SSH_MSG.SERVICE_REQUEST && type <= SSH_MSG.EXT_INFO) return 'forbidden';
      if (type < 30) return 'unimplemented';
      return 'forbidden';
    case 'open':
      if (type === SSH_MSG.KEXINIT) return 'kex';
      if (type === SSH_MSG.NEWKEYS || (type >= 30 && type <= 49)) return 'forbidden';
      if (GENERIC.has(type)) return 'transport';
      if (
        type === SSH_MSG.SERVICE_REQUEST ||
        type === SSH_MSG.SERVICE_ACCEPT ||
        type === SSH_MSG.EXT_INFO
      ) {
        return 'service';
      }
      if (type < 50) return 'unimplemented';
      return 'upper';
  }
}
