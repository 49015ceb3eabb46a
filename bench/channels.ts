/**
 * Many concurrent channels on one session: `channels` session channels each write `perChannel`
 * bytes at once (aes128-gcm, in-memory Duplex link); timed from the first open to the
 * server having counted every byte. Aggregate MiB/s; medians over repeats.
 */

import {
  CIPHERS,
  createPair,
  type Impl,
  KiB,
  MiB,
  setOurMaxPacket,
  settle,
  sinkExpect,
} from './lib.js';

export interface ChannelsCase {
  readonly client: Impl;
  readonly server: Impl;
  readonly packet: '32k' | 'max';
}

export interface ChannelsResult {
  readonly c: ChannelsCase;
  readonly mibps: number[];
  readonly cpuMibps: number[];
}

export function channelsKey(c: ChannelsCase): string {
  return `${c.client}>${c.server}|${c.packet}`;
}

export async function runChannels(o: {
  channels: number;
  perChannel: number;
  repeats: number;
  log?: (line: string) => void;
}): Promise<ChannelsResult[]> {
  const cases: ChannelsCase[] = [
    { client: 'ours', server: 'ours', packet: '32k' },
    { client: 'ours', server: 'ours', packet: 'max' },
    { client: 'ssh2', server: 'ssh2', packet: '32k' },
    { client: 'ours', server: 'ssh2', packet: '32k' },
    { client: 'ssh2', server: 'ours', packet: '32k' },
  ];
  const results = cases.map((c) => ({ c, mibps: [] as number[], cpuMibps: [] as number[] }));
  const total = o.channels * o.perChannel;
  for (let repeat = 0; repeat < o.repeats; repeat++) {
    for (const r of repeat % 2 ? [...results].reverse() : results) {
      setOurMaxPacket(r.c.packet === '32k' ? 32 * KiB : undefined);
      const pair = createPair({
        client: r.c.client,
        server: r.c.server,
        link: 'duplex',
        cipher: CIPHERS[0]!,
      });
      try {
        await pair.ready;
        const done = sinkExpect(total);
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const writers: Promise<number>[] = [];
        for (let i = 0; i < o.channels; i++) writers.push(pair.write(o.perChannel, 256 * KiB));
        await Promise.all(writers);
        const end = await done;
        const cpu = process.cpuUsage(cpu0);
        const mib = total / MiB;
        r.mibps.push(mib / ((end - t0) / 1000));
        r.cpuMibps.push(mib / ((cpu.user + cpu.system) / 1e6));
        o.log?.(
          `  [${repeat + 1}/${o.repeats}] ${o.channels} channels ${channelsKey(r.c).padEnd(16)} ${r.mibps.at(-1)!.toFixed(0)} MiB/s`,
        );
      } finally {
        pair.close();
        await settle(20);
      }
    }
  }
  return results;
}
