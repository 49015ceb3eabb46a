import { describe, expect, it } from 'vitest';
import {
  channelConsume,
  channelOpenSession,
  channelRemoteWindow,
  channelWindow,
  channelWrite,
} from '../../src/connection/api.js';
import {
  decodeChannelOpen,
  encodeOpenConfirmation,
  encodeWindowAdjust,
} from '../../src/connection/messages.js';
import type { Channel } from '../../src/connection/types.js';
import { SSH_MSG, sessionRekey } from '../../src/index.js';
import { makePair } from '../helpers.js';
import { attachConnection, attachRawPeer, connectPair } from './harness.js';

describe('flow control', () => {
  it('accepts at most the peer window, in packets no larger than its maximum, then says writable', async () => {
    const sizes: number[] = [];
    const clientEvents: string[] = [];
    const p = await connectPair({
      link: { delivery: 'deferred' },
      server: {
        onChannelOpen: (req) =>
          req.accept({
            window: 1000,
            maxPacket: 300,
            onEvent: (e) => e.type === 'data' && sizes.push(e.data.length),
          }),
      },
    });
    const ch = channelOpenSession(p.client, { onEvent: (e) => clientEvents.push(e.type) });
    await p.settle();
    expect(channelWrite(ch, new Uint8Array(5000))).toBe(1000);
    expect(channelWrite(ch, new Uint8Array(5000))).toBe(0);
    expect(channelRemoteWindow(ch)).toBe(0);
    await p.settle();
    expect(sizes).toEqual([300, 300, 300, 100]);
    // 600 bytes consumed ≥ half the window: one WINDOW_ADJUST of 600.
    expect(channelRemoteWindow(ch)).toBe(600);
    expect(clientEvents).toEqual(['open', 'writable']);
  });

  it('re-opens a manual window only as the application consumes', async () => {
    let server: Channel | undefined;
    const clientEvents: string[] = [];
    const p = await connectPair({
      link: { delivery: 'deferred' },
      server: {
        onChannelOpen: (req) =>
          (server = req.accept({ window: 1000, manualWindow: true, onEvent: () => {} })),
      },
    });
    const ch = channelOpenSession(p.client, { onEvent: (e) => clientEvents.push(e.type) });
    await p.settle();
    expect(channelWrite(ch, new Uint8Array(1500))).toBe(1000);
    await p.settle();
    expect(channelWindow(server!)).toBe(0);
    expect(clientEvents).toEqual(['open']);
    channelConsume(server!, 400);
    await p.settle();
    expect(clientEvents).toEqual(['open']);
    expect(() => channelConsume(server!, 601)).toThrow(/cannot consume/);
    channelConsume(server!, 200);
    await p.settle();
    expect(channelWindow(server!)).toBe(600);
    expect(channelRemoteWindow(ch)).toBe(600);
    expect(clientEvents).toEqual(['open', 'writable']);
    expect(() => channelConsume(ch, 1)).toThrow(/manualWindow/);
  });

  it('handles the OpenSSH pattern: confirmation with window 0, then WINDOW_ADJUST', async () => {
    const pair = makePair();
    const raw = attachRawPeer(pair.server);
    attachConnection(pair.client);
    const events: string[] = [];
    const ch = channelOpenSession(pair.client, { onEvent: (e) => events.push(e.type) });
    const open = decodeChannelOpen(raw.received[0]!);
    raw.send(encodeOpenConfirmation(open.sender, 7, 0, 32768));
    expect(events).toEqual(['open']);
    expect(channelWrite(ch, new Uint8Array(10))).toBe(0);
    raw.send(encodeWindowAdjust(open.sender, 2 * 1024 * 1024));
    expect(events).toEqual(['open', 'writable']);
    expect(channelWrite(ch, new Uint8Array(100_000))).toBe(100_000);
    const data = raw.received.filter((m) => m[0] === SSH_MSG.CHANNEL_DATA);
    expect(data.map((m) => m.length - 9)).toEqual([32768, 32768, 32768, 1696]);
    expect(data.every((m) => m[4] === 7)).toBe(true);
  });

  it('never lets a producer put more than the window on a link that stopped draining', async () => {
    const window = 64 * 1024;
    let server: Channel | undefined;
    let received = 0;
    let writable = 0;
    const p = await connectPair({
      link: { delivery: 'deferred' },
      server: {
        onChannelOpen: (req) =>
          (server = req.accept({ onEvent: (e) => e.type === 'writable' && writable++ })),
      },
    });
    channelOpenSession(p.client, {
      window,
      onEvent: (e) => {
        if (e.type === 'data') received += e.data.length;
      },
    });
    await p.settle();
    const chunk = new Uint8Array(16 * 1024);
    let accepted = 0;
    for (let round = 0; round < 20; round++) {
      const before = p.b.bytesSent;
      // Write as fast as allowed: nothing is delivered until we yield.
      for (let i = 0; i < 1000; i++) accepted += channelWrite(server!, chunk);
      const held = p.b.bytesSent - before;
      expect(held).toBeLessThanOrEqual(window + 64 * 64);
      await p.settle();
    }
    expect(received).toBe(accepted);
    expect(accepted).toBeGreaterThanOrEqual(20 * (window / 2));
    expect(writable).toBeGreaterThan(0);
  });

  it('over a synchronous link, writes on as the peer re-opens its window, announcing nothing', async () => {
    let received = 0;
    const events: string[] = [];
    const p = await connectPair({
      server: {
        onChannelOpen: (req) =>
          req.accept({
            window: 4096,
            onEvent: (e) => {
              if (e.type === 'data') received += e.data.length;
            },
          }),
      },
    });
    const ch = channelOpenSession(p.client, { onEvent: (e) => events.push(e.type) });
    expect(channelWrite(ch, new Uint8Array(1024 * 1024))).toBe(1024 * 1024);
    expect(received).toBe(1024 * 1024);
    expect(events).toEqual(['open']);
  });

  it('never sends a byte twice when a writable-driven pump writes over a synchronous link', async () => {
    const source = new Uint8Array(300_000).map((_, i) => (i * 7919) % 251);
    const got: number[] = [];
    const p = await connectPair({
      server: {
        onChannelOpen: (req) =>
          req.accept({
            window: 1000,
            maxPacket: 100,
            onEvent: (e) => {
              if (e.type === 'data') for (const b of e.data) got.push(b);
            },
          }),
      },
    });
    let pending = source.subarray(0);
    let ch: Channel | undefined;
    const pump = () => {
      pending = pending.subarray(channelWrite(ch!, pending.subarray(0, 777)));
    };
    ch = channelOpenSession(p.client, { onEvent: (e) => e.type === 'writable' && pump() });
    while (pending.length > 0) pump(); // top level: every write flushes to the peer at once
    expect(got.length).toBe(source.length);
    expect(Buffer.from(got).equals(Buffer.from(source))).toBe(true);
  });

  it('returns 0 during a key exchange and tells every waiting channel when it ends', async () => {
    const writable: number[] = [];
    const p = await connectPair({
      link: { delivery: 'deferred' },
      server: { onChannelOpen: (req) => req.accept({ onEvent: () => {} }) },
    });
    const chans = [0, 1, 2].map((i) =>
      channelOpenSession(p.client, { onEvent: (e) => e.type === 'writable' && writable.push(i) }),
    );
    await p.settle();
    expect(sessionRekey(p.client)).toBe(true);
    for (const ch of chans) expect(channelWrite(ch, new Uint8Array(100))).toBe(0);
    await p.settle();
    expect(p.clientLog.some((l) => l.startsWith('rekey-complete'))).toBe(true);
    expect([...writable].sort()).toEqual([0, 1, 2]);
    for (const ch of chans) expect(channelWrite(ch, new Uint8Array(100))).toBe(100);
  });
});
