/**
 * Memory per idle established session pair, and what idle sessions cost the event loop.
 * Run in a fresh process with `--expose-gc` (bench/run.ts bundles it first with esbuild, so
 * that no `tsx` transform is measured: tsx compiles with keepNames, which gives every closure
 * a dictionary of properties, ~3 KiB per session):
 *
 *   node --expose-gc --import tsx bench/memory.ts --client ours --server ours --link duplex --count 1000
 *
 * `--link none` measures the Duplex pairs alone (the link's own share). Establishes `count`
 * pairs (client and server in this process, password login, aes128-gcm), keeps them all,
 * then reports `process.memoryUsage()` deltas after `gc()` per pair, the active handles and
 * timers (`process.getActiveResourcesInfo()`) before and after, and the event-loop
 * utilisation over an idle window (`--idle-ms`, default 1000). Prints one JSON line last.
 */

import { performance } from 'node:perf_hooks';
import {
  CIPHERS,
  createPair,
  duplexPair,
  type Impl,
  type LinkKind,
  type Pair,
  pool,
} from './lib.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

const client = arg('client', 'ours') as Impl;
const server = arg('server', 'ours') as Impl;
const link = arg('link', 'duplex') as LinkKind | 'none';
const count = Number(arg('count', '1000'));
const idleMs = Number(arg('idle-ms', '1000'));

function collect(): NodeJS.MemoryUsage {
  for (let i = 0; i < 4; i++) gc!();
  return process.memoryUsage();
}

function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function establish(): Promise<Pair> {
  const pair = createPair({ client, server, link: link as LinkKind, cipher: CIPHERS[0]! });
  await pair.ready;
  return pair;
}

// Warm-up: load and JIT both libraries, then drop those pairs.
if (link !== 'none') {
  const warm = await pool(20, 10, establish);
  for (const p of warm) p.close();
}
await wait(200);
const before = collect();
const resBefore = resources();

const t0 = performance.now();
const kept: unknown[] = [];
if (link === 'none') {
  for (let i = 0; i < count; i++) kept.push(duplexPair());
} else {
  kept.push(...(await pool(count, 50, establish)));
}
const establishMs = performance.now() - t0;
await wait(300); // let the last server-side messages and deliveries settle
const after = collect();
const resAfter = resources();

const elu0 = performance.eventLoopUtilization();
await wait(idleMs);
const elu = performance.eventLoopUtilization(elu0);

const per = (k: keyof NodeJS.MemoryUsage) => (after[k] - before[k]) / count;
console.log(
  JSON.stringify({
    client,
    server,
    link,
    count,
    establishMs,
    heapPerPair: per('heapUsed'),
    externalPerPair: per('external'),
    arrayBuffersPerPair: per('arrayBuffers'),
    rssPerPair: per('rss'),
    rssBefore: before.rss,
    rssAfter: after.rss,
    heapUsedAfter: after.heapUsed,
    resourcesBefore: resBefore,
    resourcesAfter: resAfter,
    idleElu: elu.utilization,
    idleMs,
    kept: kept.length,
  }),
);
process.exit(0);
