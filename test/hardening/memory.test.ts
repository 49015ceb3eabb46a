/**
 * Memory under attack: hostile peers that drip maximum-size packets a byte at a time, hold
 * 1,000 sessions half-open, rekey 1,000 times, or send 100,000 IGNORE messages. Meanwhile
 * another session in the same process keeps serving a channel echo, and the heap measured after
 * a full collection grows by less than a generous bound. The figures are printed for
 * test/FUZZING.md-style records; nothing here asserts timing.
 */

import { afterAll, describe, expect, it } from 'vitest';
import { channelWrite } from '../../src/connection/api.js';
import type { Channel, ChannelEvent } from '../../src/connection/types.js';
import { sessionCreate, sessionReceive, sessionRekey } from '../../src/index.js';
import { LIMITS } from '../../src/limits.js';
import { clientKexInitPayload, concatBytes, enc, hostKey, plainPacket } from '../helpers.js';
import {
  attachConnection,
  expectEstablished,
  heapUsed,
  ignore,
  linkedPair,
  MiB,
  muteUpper,
} from './harness.js';

/** Growth allowed per scenario: generous, far above what a leak of each unit would stay under. */
const HEAP_GROWTH_MAX = 64 * MiB;
const figures: string[] = [];

afterAll(() => {
  console.info(`memory under attack:\n  ${figures.join('\n  ')}`);
});

/** A second, well-behaved session pair in the same process: a channel that echoes. */
function echoService() {
  const pair = linkedPair({ seed: 77 });
  expectEstablished(pair);
  const clientConn = attachConnection(pair.client);
  attachConnection(pair.server, {
    onChannelOpen: (r) => {
      const ch: Channel = r.accept({
        onEvent: (e: ChannelEvent) => {
          if (e.type === 'data') channelWrite(ch, e.data);
        },
      });
    },
  });
  const echoed: Uint8Array[] = [];
  const ch = clientConn.open(
    { type: 'session' },
    { onEvent: (e: ChannelEvent) => e.type === 'data' && echoed.push(e.data.slice()) },
  );
  let round = 0;
  return {
    /** Sends a message through the echo and checks it came back whole. */
    roundTrip(): void {
      const msg = enc(`ping ${round++}`);
      echoed.length = 0;
      expect(channelWrite(ch, msg)).toBe(msg.length);
      expect(concatBytes(...echoed)).toEqual(msg);
    },
    get rounds() {
      return round;
    },
  };
}

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

describe('memory under attack', () => {
  it('a peer dripping maximum-size packets one byte at a time: the core keeps nothing between calls', () => {
    const echo = echoService();
    const pair = linkedPair();
    expectEstablished(pair);
    const victim = pair.server;
    const attacker = pair.client;
    muteUpper(attacker);
    attacker.hold = true;
    const big = ignore(LIMITS.PACKET_LENGTH_MAX - 64);
    attacker.inject(big);
    attacker.inject(big);
    const wire = concatBytes(...attacker.held.splice(0));
    attacker.hold = false;
    expect(wire.length).toBeGreaterThan(2 * (LIMITS.PACKET_LENGTH_MAX - 100));
    const before = heapUsed();
    let maxUndelivered = 0;
    for (let i = 0; i < wire.length; i++) {
      attacker.deliver(wire.subarray(i, i + 1));
      if (attacker.undelivered > maxUndelivered) maxUndelivered = attacker.undelivered;
      if (i % 65536 === 0) echo.roundTrip();
    }
    echo.roundTrip();
    const growth = heapUsed() - before;
    figures.push(
      `drip: ${wire.length} bytes one at a time, most held by the transport ${maxUndelivered} B, heap +${mib(growth)}, ${echo.rounds} echoes`,
    );
    expect(victim.engine.state).toBe('established');
    expect(attacker.undelivered).toBe(0); // both packets consumed whole
    // The transport (not the core) held at most one packet: the length limit plus the tag.
    expect(maxUndelivered).toBeLessThanOrEqual(LIMITS.PACKET_LENGTH_MAX + 4 + 64);
    expect(victim.lastReturn).toBeGreaterThan(0);
    expect(growth).toBeLessThan(HEAP_GROWTH_MAX);
  });

  it('1,000 sessions stuck mid-handshake stay small, and another session keeps serving', () => {
    const echo = echoService();
    const clientId = enc('SSH-2.0-Stuck_1.0\r\n');
    const kexinit = plainPacket(clientKexInitPayload());
    const input = concatBytes(clientId, kexinit);
    const before = heapUsed();
    const sessions = [];
    for (let i = 0; i < 1000; i++) {
      const s = sessionCreate(
        null,
        () => 0,
        () => {},
        { role: 'server', hostKeys: [hostKey('ed25519')] },
      );
      expect(sessionReceive(s, input)).toBe(input.length);
      sessions.push(s);
      if (i % 100 === 0) echo.roundTrip();
    }
    echo.roundTrip();
    const growth = heapUsed() - before;
    figures.push(
      `half-open: 1000 servers waiting for KEX_ECDH_INIT, heap +${mib(growth)} (${Math.round(growth / 1000)} B each)`,
    );
    expect(sessions).toHaveLength(1000);
    expect(growth).toBeLessThan(HEAP_GROWTH_MAX);
  });

  it('1,000 peer-initiated rekeys leave the heap flat, and another session keeps serving', () => {
    const echo = echoService();
    const pair = linkedPair({ quiet: true });
    expectEstablished(pair);
    muteUpper(pair.client);
    const victim = pair.server;
    const warm = () => {
      for (let i = 0; i < 20; i++) expect(sessionRekey(pair.client.session)).toBe(true);
    };
    warm();
    const before = heapUsed();
    for (let i = 0; i < 1000; i++) {
      expect(sessionRekey(pair.client.session)).toBe(true);
      if (i % 100 === 0) echo.roundTrip();
    }
    echo.roundTrip();
    const growth = heapUsed() - before;
    figures.push(`rekeys: 1000 peer-initiated, heap +${mib(growth)}`);
    expect(victim.engine.state).toBe('established');
    expect(victim.engine.kexInProgress).toBe(false);
    expect(growth).toBeLessThan(HEAP_GROWTH_MAX);
  });

  it('100,000 IGNORE messages leave the heap flat, and another session keeps serving', () => {
    const echo = echoService();
    const pair = linkedPair({ quiet: true });
    expectEstablished(pair);
    muteUpper(pair.client);
    const victim = pair.server;
    const msg = ignore(32);
    const batch = Array.from({ length: 10_000 }, () => msg);
    const before = heapUsed();
    for (let i = 0; i < 10; i++) {
      pair.client.injectAll(batch);
      echo.roundTrip();
    }
    const growth = heapUsed() - before;
    figures.push(`ignore: 100000 IGNORE messages in 10 sends, heap +${mib(growth)}`);
    expect(victim.engine.state).toBe('established');
    expect(victim.lastReturn).toBeGreaterThan(0);
    expect(growth).toBeLessThan(HEAP_GROWTH_MAX);
  });
});
