/**
 * @module
 * The algorithm matrix: every kex × host-key × cipher × MAC combination, a handshake and two
 * rekeys (one from each side) over a memory link in a given delivery mode, checked against
 * the one transcript every mode must produce.
 */

import { expect, it } from 'vitest';
import {
  DEFAULT_HOST_KEY,
  INSECURE_HOST_KEY,
  SUPPORTED_CIPHERS,
  SUPPORTED_KEX,
  SUPPORTED_MACS,
} from '../../src/crypto/algorithms.js';
import { cipherInfo } from '../../src/crypto/packet-protection.js';
import {
  sessionAlgorithms,
  sessionLastError,
  sessionRekey,
  sessionState,
} from '../../src/index.js';
import type { MemoryLinkOptions } from '../../transports/memory.js';
import { hostKey, makePair } from '../helpers.js';

export interface Combo {
  kex: string;
  hostKey: string;
  cipher: string;
  mac: string | undefined;
}

/** Every combination, AEAD ciphers once (they ignore the MAC). */
export function allCombos(): Combo[] {
  const combos: Combo[] = [];
  for (const kex of SUPPORTED_KEX) {
    for (const hk of [...DEFAULT_HOST_KEY, ...INSECURE_HOST_KEY]) {
      for (const cipher of SUPPORTED_CIPHERS) {
        const macs = cipherInfo(cipher)!.aead ? [undefined] : SUPPORTED_MACS;
        for (const mac of macs) combos.push({ kex, hostKey: hk, cipher, mac });
      }
    }
  }
  return combos;
}

function allHostKeys() {
  return [
    hostKey('ed25519'),
    hostKey('ecdsa-p256'),
    hostKey('ecdsa-p384'),
    hostKey('ecdsa-p521'),
    hostKey('rsa'),
  ];
}

/** Runs the matrix as vitest cases for one delivery mode. */
export function runMatrix(
  mode: string,
  link: MemoryLinkOptions,
  combos: Combo[] = allCombos(),
): void {
  it.each(combos.map((c) => [`${c.kex} ${c.hostKey} ${c.cipher} ${c.mac ?? ''}`, c] as const))(
    `${mode}: handshake and rekey both ways with %s`,
    async (_name, c) => {
      const algorithms = {
        kex: [c.kex],
        hostKey: [c.hostKey],
        cipher: [c.cipher],
        ...(c.mac ? { mac: [c.mac] } : {}),
      };
      const pair = makePair({
        link,
        seed: 42,
        client: { algorithms },
        server: { algorithms, hostKeys: allHostKeys() },
      });
      await pair.settle();
      expect(sessionLastError(pair.client)).toBeUndefined();
      expect(sessionState(pair.client)).toBe('established');
      expect(sessionRekey(pair.client)).toBe(true);
      await pair.settle();
      expect(sessionRekey(pair.server)).toBe(true);
      await pair.settle();
      const agreed = sessionAlgorithms(pair.client)!;
      expect(agreed.kex).toBe(c.kex);
      expect(agreed.hostKey).toBe(c.hostKey);
      expect(agreed.cipherClientToServer).toBe(c.cipher);
      expect(agreed.macServerToClient).toBe(c.mac);
      const algs = Object.values(agreed).join(' ');
      const fp = pair.clientLog[1]!.split(' ')[2];
      expect(pair.clientLog).toEqual([
        'identification SSH-2.0-pluggable_ssh_0.1',
        `host-key ${c.hostKey} ${fp}`,
        `handshake-complete ${algs}`,
        'ext-info',
        'service-accepted',
        'rekey-started local',
        'writable',
        `rekey-complete ${algs}`,
        'rekey-started peer',
        'writable',
        `rekey-complete ${algs}`,
      ]);
      expect(pair.serverLog).toEqual([
        'identification SSH-2.0-pluggable_ssh_0.1',
        `handshake-complete ${algs}`,
        'service-accepted',
        'rekey-started peer',
        'writable',
        `rekey-complete ${algs}`,
        'rekey-started local',
        'writable',
        `rekey-complete ${algs}`,
      ]);
      expect(sessionState(pair.server)).toBe('established');
    },
  );
}
