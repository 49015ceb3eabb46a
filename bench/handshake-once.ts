/**
 * Handshakes in a loop, for profiling: `count` ours↔ours (or ssh2↔ssh2) handshakes over the
 * in-memory Duplex link, `concurrency` in flight. Prints one JSON line with the window on the
 * monotonic clock (µs) that bench/profile.ts uses to keep only these samples.
 *
 *   node --cpu-prof --import tsx bench/handshake-once.ts --client ours --server ours --count 300
 */

import { CIPHERS, createPair, type Impl, pool } from './lib.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

const client = arg('client', 'ours') as Impl;
const server = arg('server', 'ours') as Impl;
const count = Number(arg('count', '300'));
const concurrency = Number(arg('concurrency', '8'));

const one = async () => {
  const pair = createPair({ client, server, link: 'duplex', cipher: CIPHERS[0]! });
  await pair.ready;
  pair.close();
};
await pool(20, 4, one); // warm-up
const hr0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await pool(count, concurrency, one);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const hr1 = process.hrtime.bigint();
console.log(
  JSON.stringify({
    client,
    server,
    count,
    concurrency,
    perSecond: count / seconds,
    perCpuSecond: count / ((cpu.user + cpu.system) / 1e6),
    windowUs: [Number(hr0 / 1000n), Number(hr1 / 1000n)],
  }),
);
