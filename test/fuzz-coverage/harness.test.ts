/**
 * @module
 * The fuzzer's own parts: the mutator is deterministic and keeps SSH framing, the boundary
 * model matches RFC 4253 framing, and the oracle notices a break of the contract.
 */

import { describe, expect, it } from 'vitest';
import {
  decodePayloads,
  encodePayloads,
  isBoundary,
  streamBoundaries,
} from '../../fuzz/framing.js';
import { Monitored, Violation } from '../../fuzz/monitor.js';
import { Mutator, plainPacket } from '../../fuzz/mutator.js';
import { clientConfig, serverConfig } from '../../fuzz/peers.js';
import { Rng } from '../../fuzz/random.js';
import { TARGETS } from '../../fuzz/targets/index.js';

const text = (s: string) => new TextEncoder().encode(s);

describe('the mutator', () => {
  it('makes the same inputs from the same seed and corpus', () => {
    const corpus = TARGETS['kex-server'].seeds();
    const run = (seed: number) => {
      const m = new Mutator(new Rng(seed), 'packets', 65536);
      const out: string[] = [];
      let input = corpus[0]!;
      for (let i = 0; i < 200; i++) {
        input = m.mutate(input, corpus);
        out.push(Buffer.from(input).toString('hex'));
      }
      return out;
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it('stays within the input length limit and never returns an empty input', () => {
    const m = new Mutator(new Rng(3), 'payloads', 1024);
    let input = encodePayloads([text('x')]);
    for (let i = 0; i < 2000; i++) {
      input = m.mutate(input, [input]);
      expect(input.length).toBeGreaterThan(0);
      expect(input.length).toBeLessThanOrEqual(1024);
    }
  });
});

describe('input framing', () => {
  it('round-trips a payload list', () => {
    const payloads = [text('a'), new Uint8Array(0), text('hello')];
    expect(decodePayloads(encodePayloads(payloads))).toEqual(payloads);
  });

  it('puts unit boundaries after each line and each plaintext packet', () => {
    const id = text('hello\r\nSSH-2.0-x\r\n');
    const packet = plainPacket(new Uint8Array([2, 0, 0, 0, 0]));
    const bytes = new Uint8Array([...id, ...packet, ...packet.subarray(0, 3)]);
    const b = streamBoundaries(bytes);
    expect([...b.offsets].sort((x, y) => x - y)).toEqual([
      0,
      7,
      id.length,
      id.length + packet.length,
    ]);
    expect(isBoundary(b, id.length + 1)).toBe(false);
  });
});

describe('the oracle', () => {
  it('accepts a session ended cleanly by garbage', () => {
    const server = new Monitored((m) => serverConfig(m));
    expect(server.feed(text('not ssh\r\n'))).toBe(-1);
    expect(() => server.check()).not.toThrow();
  });

  it('reports an application event after the end', () => {
    const client = new Monitored((m) => clientConfig(m));
    client.feed(text('SSH-1.0-old\r\n'));
    client.appEvent('a channel event');
    expect(() => client.check()).toThrow(Violation);
    expect(() => client.check()).toThrow(/event-after-end/);
  });
});
