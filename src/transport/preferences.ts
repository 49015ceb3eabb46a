/**
 * @module
 * A session's settings: the application's algorithm preferences checked against what this
 * library implements, and every default filled in.
 */

import {
  DEFAULT_CIPHERS,
  DEFAULT_COMPRESSION,
  DEFAULT_HOST_KEY,
  DEFAULT_KEX,
  DEFAULT_MACS,
  SUPPORTED_CIPHERS,
  SUPPORTED_HOST_KEY,
  SUPPORTED_KEX,
  SUPPORTED_MACS,
} from '../crypto/algorithms.js';
import type { PrivateKey } from '../crypto/keys.js';
import { systemRandom } from '../crypto/random.js';
import type { RandomFn } from '../crypto/types.js';
import { usageError } from '../errors.js';
import { REKEY_BYTES, REKEY_PACKETS } from '../limits.js';
import type { AlgorithmPreferences, SessionConfig } from '../types.js';
import { buildIdentification } from './identification.js';
import type { KexInitLists } from './kexinit.js';

function check(
  kind: string,
  list: readonly string[] | undefined,
  supported: readonly string[],
): readonly string[] | undefined {
  if (list === undefined) return undefined;
  if (list.length === 0) throw usageError(`algorithms.${kind} is empty`);
  for (const name of list) {
    if (!supported.includes(name)) throw usageError(`algorithms.${kind}: ${name} is not supported`);
  }
  return [...list];
}

/** Returns the preferences with each list validated; throws SSH_ERR_USAGE for unknown names. */
export function validateAlgorithms(prefs: AlgorithmPreferences | undefined): AlgorithmPreferences {
  const out: { -readonly [K in keyof AlgorithmPreferences]: AlgorithmPreferences[K] } = {};
  const kex = check('kex', prefs?.kex, SUPPORTED_KEX);
  const hostKey = check('hostKey', prefs?.hostKey, SUPPORTED_HOST_KEY);
  const cipher = check('cipher', prefs?.cipher, SUPPORTED_CIPHERS);
  const mac = check('mac', prefs?.mac, SUPPORTED_MACS);
  if (kex) out.kex = kex;
  if (hostKey) out.hostKey = hostKey;
  if (cipher) out.cipher = cipher;
  if (mac) out.mac = mac;
  return out;
}

const DEFAULT_SOFTWARE = 'pluggable_ssh_0.1';

/** A session's configuration, checked and with defaults filled in. */
export interface TransportSettings {
  readonly random: RandomFn;
  /** Our KEXINIT lists, without pseudo-algorithms. */
  readonly lists: KexInitLists;
  readonly hostKeys: readonly PrivateKey[];
  readonly rekeyBytes: number;
  readonly rekeyPackets: number;
  /** Our identification line, without CR LF. */
  readonly ourId: string;
  /** Client: guess the first kex packet of the initial exchange (ClientConfig.kexGuess). */
  readonly kexGuess: boolean;
}

/** Checks `config` and fills in defaults; throws SSH_ERR_USAGE for what cannot work. */
export function resolveSettings(config: SessionConfig<unknown>): TransportSettings {
  const prefs = validateAlgorithms(config.algorithms);
  const hostKeys = config.role === 'server' ? config.hostKeys : [];
  const hostKeyAlgs = prefs.hostKey ?? DEFAULT_HOST_KEY;
  const ciphers = prefs.cipher ?? DEFAULT_CIPHERS;
  const macs = prefs.mac ?? DEFAULT_MACS;
  const lists: KexInitLists = {
    kex: prefs.kex ?? DEFAULT_KEX,
    // A server offers only the algorithms one of its keys can sign with.
    hostKey:
      config.role === 'server'
        ? hostKeyAlgs.filter((a) => hostKeys.some((k) => k.signatureAlgorithms.includes(a)))
        : hostKeyAlgs,
    cipherClientToServer: ciphers,
    cipherServerToClient: ciphers,
    macClientToServer: macs,
    macServerToClient: macs,
    compressionClientToServer: DEFAULT_COMPRESSION,
    compressionServerToClient: DEFAULT_COMPRESSION,
  };
  if (config.role === 'server' && lists.hostKey.length === 0) {
    throw usageError('no host key can sign with any of the allowed host-key algorithms');
  }
  return {
    random: config.random ?? systemRandom,
    lists,
    hostKeys,
    rekeyBytes: config.rekeyAfterBytes ?? REKEY_BYTES,
    rekeyPackets: config.rekeyAfterPackets ?? REKEY_PACKETS,
    ourId: buildIdentification(config.softwareVersion ?? DEFAULT_SOFTWARE),
    kexGuess: config.role === 'client' && config.kexGuess === true,
  };
}
