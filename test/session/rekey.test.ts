import { describe, expect, it } from 'vitest';
import {
  SSH_MSG,
  sessionAlgorithms,
  sessionId,
  sessionLastError,
  sessionRekey,
} from '../../src/index.js';
import { engineOf } from '../../src/session.js';
import { makePair } from '../helpers.js';

const IGNORE = new Uint8Array([SSH_MSG.IGNORE, 0, 0, 0, 0]);

describe('rekey by volume and on request', () => {
  it('rekeys automatically after the configured number of packets, keeping the session id', () => {
    const pair = makePair({ client: { rekeyAfterPackets: 10 } });
    const id = sessionId(pair.client);
    for (let i = 0; i < 100; i++) {
      // Sync link: each rekey completes inside the call that started it.
      expect(engineOf(pair.client).sendUpper(IGNORE)).toBe(true);
    }
    const rekeys = pair.clientLog.filter((l) => l === 'rekey-started local').length;
    expect(rekeys).toBeGreaterThanOrEqual(9);
    expect(pair.clientLog.filter((l) => l.startsWith('rekey-complete')).length).toBe(rekeys);
    expect(sessionId(pair.client)).toEqual(id);
    expect(sessionLastError(pair.client)).toBeUndefined();
    expect(sessionLastError(pair.server)).toBeUndefined();
  });

  it('rekeys automatically after the configured number of bytes, on the receiving side too', () => {
    const pair = makePair({ server: { rekeyAfterBytes: 4096 } });
    for (let i = 0; i < 200; i++) engineOf(pair.client).sendUpper(IGNORE);
    expect(pair.serverLog.filter((l) => l === 'rekey-started local').length).toBeGreaterThan(0);
    expect(pair.clientLog.filter((l) => l === 'rekey-started peer').length).toBeGreaterThan(0);
    expect(sessionLastError(pair.client)).toBeUndefined();
  });

  it('pauses upper-layer sends between our KEXINIT and our NEWKEYS, then reports writable', async () => {
    const pair = makePair({ link: { delivery: 'deferred' } });
    await pair.settle();
    expect(sessionRekey(pair.client)).toBe(true);
    expect(sessionRekey(pair.client)).toBe(false);
    expect(engineOf(pair.client).sendUpper(IGNORE)).toBe(false);
    await pair.settle();
    expect(pair.clientLog.slice(-3)).toEqual([
      'rekey-started local',
      'writable',
      expect.stringMatching(/^rekey-complete/),
    ]);
    expect(engineOf(pair.client).sendUpper(IGNORE)).toBe(true);
    expect(sessionAlgorithms(pair.client)).toBeDefined();
  });

  it('survives both sides starting a rekey at the same moment', async () => {
    const pair = makePair({ link: { delivery: 'deferred' } });
    await pair.settle();
    expect(sessionRekey(pair.client)).toBe(true);
    expect(sessionRekey(pair.server)).toBe(true);
    await pair.settle();
    expect(sessionLastError(pair.client)).toBeUndefined();
    expect(sessionLastError(pair.server)).toBeUndefined();
    expect(pair.clientLog.filter((l) => l.startsWith('rekey-complete')).length).toBe(1);
    expect(pair.serverLog.filter((l) => l.startsWith('rekey-complete')).length).toBe(1);
  });

  it('completes a handshake and a rekey over a link with 5 ms of latency per send', async () => {
    const pair = makePair({ link: { delivery: 'deferred', delayMs: 5 } });
    await pair.settle();
    expect(sessionRekey(pair.client)).toBe(true);
    await pair.settle();
    expect(pair.clientLog.filter((l) => l.startsWith('rekey-complete')).length).toBe(1);
    expect(sessionLastError(pair.client)).toBeUndefined();
  });
});
