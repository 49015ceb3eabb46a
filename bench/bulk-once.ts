/**
 * One bulk transfer, for profiling and ad-hoc checks:
 *
 *   npx tsx bench/bulk-once.ts --client ours --server ours --link memlink \
 *     --cipher aes128-gcm@openssh.com --packet 32k --mib 256
 *
 * Prints one JSON line: MiB/s and MiB per CPU-second.
 */

import { runOne } from './bulk.js';
import { CIPHERS, type Impl, type LinkKind, MiB, startTcpServers, stopTcpServers } from './lib.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

const cipherId = arg('cipher', 'aes128-gcm@openssh.com');
const cipher = CIPHERS.find((c) => c.id === cipherId);
if (!cipher) throw new Error(`unknown --cipher; one of: ${CIPHERS.map((c) => c.id).join(', ')}`);
const link = arg('link', 'memlink') as LinkKind;
const mib = Number(arg('mib', '256'));
const packet = arg('packet', '32k') as '32k' | 'max';
const c = {
  link,
  client: arg('client', 'ours') as Impl,
  server: arg('server', 'ours') as Impl,
  cipher,
  packet,
  portable: process.argv.includes('--portable'),
};
if (link === 'tcp') await startTcpServers();
const r = await runOne(c, mib * MiB, Number(arg('chunk', String(256 * 1024))));
if (link === 'tcp') await stopTcpServers();
console.log(
  JSON.stringify({
    ...c,
    cipher: cipher.id,
    mib,
    mibps: mib / r.seconds,
    cpuMibps: mib / r.cpuSeconds,
    windowUs: r.windowUs,
  }),
);
