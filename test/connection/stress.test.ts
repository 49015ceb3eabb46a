import { createHash, type Hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  channelClose,
  channelConsume,
  channelEof,
  channelOpenSession,
  channelWrite,
} from '../../src/connection/api.js';
import type { Channel, ChannelEvent } from '../../src/connection/types.js';
import { type Session, sessionRekey } from '../../src/index.js';
import { engineOf } from '../../src/session.js';
import { type MemoryLinkOptions, mulberry32 } from '../../transports/memory.js';
import { connectPair } from './harness.js';

interface Side {
  readonly out: Uint8Array;
  sent: number;
  eofSent: boolean;
  readonly hash: Hash;
  received: number;
  digest: string | undefined;
  closed: boolean;
  channel: Channel | undefined;
}

interface Plan {
  readonly window: number;
  readonly maxPacket: number;
  readonly manual: boolean;
  readonly client: Side;
  readonly server: Side;
}

function randomBytes(next: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() * 256) | 0;
  return out;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Many channels at once, both directions, random sizes; returns the plans and counters. */
async function stress(options: {
  seed: number;
  channels: number;
  link: MemoryLinkOptions;
  rekeyAfterBytes?: number;
  rekeyMidway?: boolean;
}) {
  const next = mulberry32(options.seed);
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const side = (max: number): Side => ({
    out: randomBytes(next, int(0, max)),
    sent: 0,
    eofSent: false,
    hash: createHash('sha256'),
    received: 0,
    digest: undefined,
    closed: false,
    channel: undefined,
  });
  const plans: Plan[] = Array.from({ length: options.channels }, () => {
    // One channel in ten has a tiny window or packets (and less data, to stay quick).
    const tiny = next() < 0.1;
    const max = tiny ? 1500 : 12_000;
    return {
      window: tiny && next() < 0.5 ? int(1, 4) : int(256, 64 * 1024),
      maxPacket: tiny ? int(1, 64) : int(512, 16 * 1024),
      manual: next() < 0.5,
      client: side(max),
      server: side(max),
    };
  });
  const counters = { zeroDuringKex: 0, writable: 0, rekeys: 0 };
  let totalReceived = 0;
  const totalBytes = plans.reduce((n, p) => n + p.client.out.length + p.server.out.length, 0);

  const pump = (session: Session, s: Side) => {
    const ch = s.channel!;
    while (s.sent < s.out.length) {
      const want = int(1, 20_000);
      const n = channelWrite(ch, s.out.subarray(s.sent, s.sent + want));
      if (n === 0 && engineOf(session).kexInProgress) counters.zeroDuringKex++;
      s.sent += n;
      if (n < Math.min(want, s.out.length - (s.sent - n))) return;
    }
    if (!s.eofSent) {
      s.eofSent = true;
      channelEof(ch);
      if (s.digest !== undefined) channelClose(ch);
    }
  };

  const handler =
    (getSession: () => Session, plan: Plan, me: Side, peer: Side) =>
    (e: ChannelEvent, ch: Channel) => {
      me.channel = ch;
      switch (e.type) {
        case 'open':
        case 'writable':
          if (e.type === 'writable') counters.writable++;
          pump(getSession(), me);
          break;
        case 'data':
          me.hash.update(e.data);
          me.received += e.data.length;
          totalReceived += e.data.length;
          if (plan.manual) channelConsume(ch, e.data.length);
          if (options.rekeyMidway && totalReceived > totalBytes / 2 && counters.rekeys === 0) {
            counters.rekeys++;
            sessionRekey(getSession());
          }
          break;
        case 'eof':
          me.digest = me.hash.digest('hex');
          expect(me.digest).toBe(sha(peer.out));
          if (me.eofSent) channelClose(ch);
          break;
        case 'close':
          me.closed = true;
          break;
        default:
          throw new Error(`unexpected ${e.type}`);
      }
    };

  const byOpen: Plan[] = [];
  let p: Awaited<ReturnType<typeof connectPair>> | undefined;
  p = await connectPair({
    link: options.link,
    seed: options.seed,
    ...(options.rekeyAfterBytes ? { rekeyAfterBytes: options.rekeyAfterBytes } : {}),
    server: {
      onChannelOpen: (req) => {
        const plan = byOpen.shift()!;
        const ch = req.accept({
          window: plan.window,
          maxPacket: plan.maxPacket,
          manualWindow: plan.manual,
          onEvent: handler(() => p!.server, plan, plan.server, plan.client),
        });
        plan.server.channel = ch;
        pump(p!.server, plan.server);
      },
    },
  });
  for (const plan of plans) {
    byOpen.push(plan);
    const ch = channelOpenSession(p.client, {
      window: plan.window,
      maxPacket: plan.maxPacket,
      manualWindow: plan.manual,
      onEvent: handler(() => p!.client, plan, plan.client, plan.server),
    });
    plan.client.channel = ch;
  }
  await p.settle();
  return { p, plans, counters };
}

function expectAllDelivered(result: Awaited<ReturnType<typeof stress>>) {
  const { p, plans } = result;
  expect(p.clientLog.filter((l) => l.startsWith('error'))).toEqual([]);
  expect(p.serverLog.filter((l) => l.startsWith('error'))).toEqual([]);
  for (const plan of plans) {
    for (const [me, peer] of [
      [plan.client, plan.server],
      [plan.server, plan.client],
    ] as const) {
      expect(me.received).toBe(peer.out.length);
      expect(me.digest).toBe(sha(peer.out));
      expect(me.closed).toBe(true);
    }
  }
  expect(p.clientConn.channelCount).toBe(0);
  expect(p.serverConn.channelCount).toBe(0);
}

describe('many channels at once', () => {
  it('delivers every byte once and in order on 300 channels over a synchronous fragmenting link', async () => {
    const result = await stress({
      seed: 11,
      channels: 300,
      link: { split: { seed: 5, maxPiece: 4096 } },
    });
    expectAllDelivered(result);
  }, 60_000);

  it('delivers every byte once and in order on 300 channels over a deferred fragmenting link', async () => {
    const result = await stress({
      seed: 12,
      channels: 300,
      link: { delivery: 'deferred', split: { seed: 6, maxPiece: 4096 } },
    });
    expectAllDelivered(result);
    expect(result.counters.writable).toBeGreaterThan(0);
  }, 60_000);

  it('survives key re-exchanges in the middle: writes return 0 during them and resume on writable', async () => {
    const result = await stress({
      seed: 13,
      channels: 120,
      link: { delivery: 'deferred', split: { seed: 7, maxPiece: 8192 } },
      rekeyAfterBytes: 256 * 1024,
      rekeyMidway: true,
    });
    expectAllDelivered(result);
    expect(result.counters.rekeys).toBe(1);
    expect(result.counters.zeroDuringKex).toBeGreaterThan(0);
    const rekeys = result.p.clientLog.filter((l) => l.startsWith('rekey-complete'));
    expect(rekeys.length).toBeGreaterThan(1);
  }, 60_000);
});
