/**
 * @module
 * Checks the application's algorithm preferences against what this library implements.
 */

import {
  SUPPORTED_CIPHERS,
  SUPPORTED_HOST_KEY,
  SUPPORTED_KEX,
  SUPPORTED_MACS,
} from '../crypto/algorithms.js';
import { usageError } from '../errors.js';
import type { AlgorithmPreferences } from '../types.js';

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
