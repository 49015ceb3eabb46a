/**
 * Bulk channel throughput: the client writes N MiB into a session channel (exec `sink`),
 * the server counts the bytes; timed from the exec reply to the last byte counted. Every
 * repeat runs the whole matrix, and each cipher's node:crypto floor is measured right
 * before that cipher's runs, so ratios (ours/ssh2, of the floor) come from runs taken
 * moments apart; the tables quote medians over repeats of those per-repeat ratios.
 */

import { forcePortableChaChaPoly } from '../src/crypto/poly1305.js';
import { type FloorId, floorFor, measureFloors } from './floor.js';
import {
  CIPHERS,
  type CipherSpec,
  createPair,
  type Impl,
  KiB,
  type LinkKind,
  MiB,
  SSH2_NATIVE,
  setOurMaxPacket,
  settle,
  sinkExpect,
} from './lib.js';

/** `32k`: channelMaxPacket 32768 on our sessions; `max`: our default (261632). */
export type PacketSetting = '32k' | 'max';

export interface BulkCase {
  readonly link: LinkKind;
  readonly client: Impl;
  readonly server: Impl;
  readonly cipher: CipherSpec;
  readonly packet: PacketSetting;
  /** Our chacha20-poly1305 through the portable provider (node chacha20 + @noble Poly1305). */
  readonly portable?: boolean;
}

export interface BulkSample {
  readonly repeat: number;
  readonly mib: number;
  readonly seconds: number;
  readonly mibps: number;
  /** MiB per CPU-second of this process (user + system): less sensitive to a noisy neighbour. */
  readonly cpuMibps: number;
  /** The floor for this cipher at this packet size, measured in the same repeat. */
  readonly floor: number;
}

export interface BulkResult {
  readonly key: string;
  readonly c: BulkCase;
  readonly samples: BulkSample[];
}

export function caseKey(c: BulkCase): string {
  return `${c.link}|${c.cipher.id}${c.portable ? ' (portable)' : ''}|${c.client}>${c.server}|${c.packet}`;
}

/**
 * The matrix. At `max` only the pairs whose receiver is our server differ from 32 KiB:
 * ssh2's server always offers a 32 KiB maximum packet (and accepts at most 35,000 bytes).
 */
export function bulkCases(links: readonly LinkKind[], portable: boolean): BulkCase[] {
  const cases: BulkCase[] = [];
  const combos: [Impl, Impl][] = [
    ['ours', 'ours'],
    ['ssh2', 'ssh2'],
    // ssh2 without its binding (the pure-JS path users get), when the installed one has it.
    ...(SSH2_NATIVE ? [['ssh2js', 'ssh2js'] as [Impl, Impl]] : []),
    ['ours', 'ssh2'],
    ['ssh2', 'ours'],
  ];
  for (const link of links) {
    for (const cipher of CIPHERS) {
      for (const [client, server] of combos) {
        if (link === 'memlink' && (client !== 'ours' || server !== 'ours')) continue;
        cases.push({ link, client, server, cipher, packet: '32k' });
        if (server === 'ours') cases.push({ link, client, server, cipher, packet: 'max' });
      }
      if (portable && link === 'duplex' && cipher.cipher.startsWith('chacha20')) {
        for (const packet of ['32k', 'max'] as const)
          cases.push({ link, client: 'ours', server: 'ours', cipher, packet, portable: true });
      }
    }
  }
  return cases;
}

/** One transfer; returns wall seconds and CPU seconds. */
export async function runOne(c: BulkCase, bytes: number, chunk: number) {
  setOurMaxPacket(c.packet === '32k' ? 32 * KiB : undefined);
  forcePortableChaChaPoly(c.portable === true);
  const pair = createPair(c);
  try {
    await pair.ready;
    const done = sinkExpect(bytes);
    const cpu0 = process.cpuUsage();
    const hr0 = process.hrtime.bigint();
    const started = await pair.write(bytes, chunk);
    const ended = await done;
    const cpu = process.cpuUsage(cpu0);
    const hr1 = process.hrtime.bigint();
    return {
      seconds: (ended - started) / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      /** The transfer's window on the monotonic clock, µs (the clock of V8 CPU profiles). */
      windowUs: [Number(hr0 / 1000n), Number(hr1 / 1000n)] as const,
    };
  } finally {
    forcePortableChaChaPoly(false);
    pair.close();
    await settle(20);
  }
}

export interface BulkOptions {
  readonly mib: number;
  readonly repeats: number;
  readonly chunk: number;
  readonly links: readonly LinkKind[];
  readonly portable: boolean;
  readonly log?: (line: string) => void;
}

export async function runBulk(o: BulkOptions): Promise<BulkResult[]> {
  const cases = bulkCases(o.links, o.portable);
  const results = new Map<string, BulkResult>();
  for (const c of cases) results.set(caseKey(c), { key: caseKey(c), c, samples: [] });
  const floorMib = Math.max(16, Math.min(64, o.mib / 2));
  for (let repeat = 0; repeat < o.repeats; repeat++) {
    for (const cipher of CIPHERS) {
      const floors = new Map<string, number>();
      for (const f of measureFloors([32 * KiB, 256 * KiB], floorMib, 1, false)) {
        floors.set(`${f.id}|${f.packet}`, f.mibps);
      }
      // Alternate the order between repeats so no pair always runs first.
      const mine = cases.filter((c) => c.cipher === cipher);
      if (repeat % 2 === 1) mine.reverse();
      for (const c of mine) {
        const mib = c.portable ? Math.min(o.mib, 32) : o.mib;
        const r = await runOne(c, mib * MiB, o.chunk);
        const floorId: FloorId = floorFor(c.cipher.cipher);
        const packetBytes = c.packet === 'max' ? 256 * KiB : 32 * KiB;
        const sample: BulkSample = {
          repeat,
          mib,
          seconds: r.seconds,
          mibps: mib / r.seconds,
          cpuMibps: mib / r.cpuSeconds,
          floor: floors.get(`${floorId}|${packetBytes}`) ?? Number.NaN,
        };
        results.get(caseKey(c))!.samples.push(sample);
        o.log?.(
          `  [${repeat + 1}/${o.repeats}] ${caseKey(c).padEnd(78)} ${sample.mibps.toFixed(0).padStart(5)} MiB/s  (${sample.cpuMibps.toFixed(0)} MiB/CPU-s, floor ${sample.floor.toFixed(0)})`,
        );
      }
    }
  }
  return [...results.values()];
}
