/**
 * The benchmark suite: pluggable-ssh against ssh2 side by side, in one process and one run.
 *
 *   npx tsx bench/run.ts [--quick] [--only bulk,handshake,channels,memory,idle100k,floor,profile,openssh]
 *                        [--mib N] [--repeats N] [--sessions 1000,10000] [--no-write]
 *
 * Prints the tables and writes them to bench/RESULTS.md (raw numbers: bench/results.json).
 * Timings on shared machines are noisy: every figure is a median over repeats, and every ratio
 * is the median of per-repeat ratios of runs taken moments apart in this process. Never assert
 * on these numbers in tests.
 */

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BulkResult, caseKey, runBulk } from './bulk.js';
import { type ChannelsResult, channelsKey, runChannels } from './channels.js';
import { type FloorResult, measureFloors } from './floor.js';
import {
  type HandshakeResult,
  handshakeKey,
  runHandshakes,
  runSlowLinkHandshakes,
} from './handshake.js';
import {
  CIPHERS,
  fmt,
  type Impl,
  KiB,
  type LinkKind,
  MiB,
  median,
  percentile,
  SSH2_NATIVE,
  ssh2Modes,
  startTcpServers,
  stopTcpServers,
} from './lib.js';
import { type OpenSshResult, runOpenSsh } from './openssh.js';
import { type ProfileSummary, profileBulk, profileHandshakes, profileMarkdown } from './profile.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const argv = process.argv.slice(2);
const has = (f: string) => argv.includes(`--${f}`);
const opt = (f: string): string | undefined => {
  const i = argv.indexOf(`--${f}`);
  return i >= 0 ? argv[i + 1] : undefined;
};

const quick = has('quick');
const SECTIONS = [
  'floor',
  'handshake',
  'bulk',
  'channels',
  'memory',
  'idle100k',
  'profile',
  'openssh',
];
const only = new Set((opt('only') ?? SECTIONS.join(',')).split(','));
const mib = Number(opt('mib') ?? (quick ? 32 : 256));
const repeats = Number(opt('repeats') ?? 3);
const sessionCounts = (opt('sessions') ?? (quick ? '1000' : '1000,10000')).split(',').map(Number);
const log = (line: string) => console.error(line);

const require = createRequire(import.meta.url);
const ssh2Version = (require('ssh2/package.json') as { version: string }).version;
const ssh2Native = SSH2_NATIVE;
const modes = ssh2Modes();
/** The ssh2 the issue's targets refer to: ssh2 1.17 without its binding (pure JS). */
const JS: Impl = ssh2Native ? 'ssh2js' : 'ssh2';
let sodiumVersion = 'absent';
try {
  sodiumVersion = (require('sodium-native/package.json') as { version: string }).version;
} catch {}

const started = new Date();
const out: string[] = [];
const raw: Record<string, unknown> = {};
const emit = (s = '') => out.push(s);

const PAIR_NAME: Record<string, string> = {
  'ours>ours': 'ours ↔ ours',
  'ssh2>ssh2': ssh2Native ? 'ssh2 ↔ ssh2 (native binding)' : 'ssh2 ↔ ssh2 (pure JS)',
  'ssh2js>ssh2js': 'ssh2 ↔ ssh2 (pure JS)',
  'ours>ssh2': ssh2Native ? 'our client → ssh2 server (native)' : 'our client → ssh2 server',
  'ssh2>ours': ssh2Native ? 'ssh2 client (native) → our server' : 'ssh2 client → our server',
};
const pairName = (c: Impl, s: Impl) => PAIR_NAME[`${c}>${s}`]!;
const LINK_NAME: Record<LinkKind, string> = {
  duplex: 'in-memory Duplex (copy + setImmediate)',
  tcp: 'loopback TCP',
  memlink: 'our memory link (deferred: copy + setImmediate)',
};
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : '—');
const ratio = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '—');

emit(`# pluggable-ssh benchmarks`);
emit();
emit(`- Date: ${started.toISOString()}`);
emit(
  `- Machine: ${os.cpus()[0]?.model ?? '?'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`,
);
emit(
  `- Node ${process.version} (OpenSSL ${process.versions.openssl}), ssh2 ${ssh2Version}, sodium-native ${sodiumVersion}`,
);
emit(
  `- ssh2, two ways in this one process (see bench/lib.ts, "ssh2, two ways"). ssh2's optional binding (sshcrypto.node: AES-GCM, ChaCha20-Poly1305 and CTR + HMAC in C++ over OpenSSL) is built only by its install script, which a plain \`npm install\` with npm 11 does not run: users and CI normally get ssh2's **pure-JS** path, and **the issue's targets (ssh2 1.17, pure JS) refer to it**.`,
);
emit(
  `  - **ssh2 (pure JS)**: a second copy of the package loaded with \`require\` of sshcrypto.node made to fail, so it takes its own JS fallback: crypto.js \`bindingAvailable\` = ${modes.js.bindingAvailable}; createCipher picks ${modes.js.cipherClasses}.`,
);
emit(
  `  - **ssh2 (native)**, the package as installed here: crypto.js \`bindingAvailable\` = ${modes.installed.bindingAvailable}; createCipher picks ${modes.installed.cipherClasses}.${ssh2Native ? ' Mixed pairs (ours with ssh2) and the many-channels section use this one.' : ' The binding is not built here, so both are the same and only the pure-JS rows are shown.'}`,
);
emit(
  '- The story behind these numbers (what each change bought, where the targets stand): [bench/NOTES.md](NOTES.md), hand-written; this file is regenerated by every run.',
);
emit(`- Command: \`npx tsx bench/run.ts${argv.length ? ` ${argv.join(' ')}` : ''}\``);
emit(
  `- Settings: ${mib} MiB per bulk run, ${repeats} repeats; medians over repeats; ratios are medians of per-repeat ratios (runs moments apart in one process).`,
);
emit(
  '- The machine is shared and noisy (2 cores): read the ratios, not single figures. MiB/CPU-s is the payload per CPU-second of the whole process (user + system, all threads: GC helper threads count).',
);
emit();

// ---- floor ----------------------------------------------------------------------------------

let floors: FloorResult[] = [];
if (only.has('floor')) {
  log('floor …');
  floors = measureFloors([32 * KiB, 256 * KiB], quick ? 64 : 256, repeats);
  raw.floor = floors;
  emit('## The node:crypto floor (seal + open, one thread, no protocol)');
  emit();
  emit('| operation | 32 KiB packets | 256 KiB packets |');
  emit('|---|---:|---:|');
  for (const id of [...new Set(floors.map((f) => f.id))]) {
    const at = (p: number) =>
      floors.find((f) => f.id === id && f.packet === p)?.mibps ?? Number.NaN;
    emit(`| ${id} | ${fmt(at(32 * KiB))} MiB/s | ${fmt(at(256 * KiB))} MiB/s |`);
  }
  emit();
  emit(
    'aes-128-gcm: a new cipher object per packet; chacha20-poly1305: the OpenSSH construction with sodium-native (our default provider); aes-128-ctr + hmac-sha256: one streaming CTR per direction and `createHmac` per packet (ssh2 does CTR + HMAC in its C++ binding with a reused HMAC context, so it can exceed this "floor"). The bulk tables below use floors re-measured inside each repeat, next to the runs they divide. The reference row adds to the GCM floor the one copy node:crypto\'s API forces on any SSH sender (its `update()` returns a fresh buffer, and length, ciphertext and tag must be contiguous in the buffer handed to the transport): the GCM floor\'s row over this row is the most a node:crypto implementation can reach of the floor.',
  );
  emit();
}

// ---- handshakes ----------------------------------------------------------------------------

const needTcp = only.has('handshake') || only.has('bulk');
if (needTcp) await startTcpServers();

if (only.has('handshake')) {
  log('handshakes …');
  const hs = await runHandshakes({
    links: ['duplex', 'tcp', 'memlink'],
    sequential: quick ? 20 : 60,
    rateCount: quick ? 40 : 150,
    concurrency: 8,
    repeats,
    log,
  });
  raw.handshake = hs;
  const ref = (link: LinkKind, impl: Impl = 'ssh2') =>
    hs.find((r) => r.c.link === link && r.c.client === impl && r.c.server === impl);
  emit('## Handshake: curve25519-sha256 + ssh-ed25519 + aes128-gcm, password login');
  emit();
  emit(
    "Latency: one at a time (pairs interleaved), from creating the client to its key exchange completing (ours `handshake-complete`, ssh2 `handshake`) and to authenticated (ours `authenticated`, ssh2 `ready`). Rate: 8 handshakes in flight; both ends in this process, so each handshake costs both sides' CPU. ssh2's client is given `authHandler: ['password']` (its default tries `none` first, one more round trip); ssh2's server connections get `setNoDelay(true)` as our TCP transport does.",
  );
  emit();
  emit(
    `| link | pair | to kex: median | p90 | to authenticated: median | p90 | auth time ×ssh2 pure JS | ${ssh2Native ? '×ssh2 native | ' : ''}handshakes/s | handshakes/CPU-s | CPU-s ×ssh2 pure JS | ${ssh2Native ? 'CPU-s ×ssh2 native |' : ''}`,
  );
  emit(
    `|---|---|---:|---:|---:|---:|---:|${ssh2Native ? '---:|' : ''}---:|---:|---:|${ssh2Native ? '---:|' : ''}`,
  );
  // Per-CPU-second ratios invert to "CPU per handshake ×ssh2": the cost, lower is better.
  const per = (xs: number[], ys: number[] | undefined) =>
    ys ? median(xs.map((x, i) => x / ys[i]!)) : Number.NaN;
  for (const r of hs) {
    const link = r.c.link === 'memlink' ? 'duplex' : r.c.link;
    const note = r.c.link === 'memlink' ? ' (vs Duplex)' : '';
    const bases = ssh2Native ? [ref(link, JS), ref(link, 'ssh2')] : [ref(link, JS)];
    const auth = bases.map(
      (b) => `${ratio(b ? median(r.authMs) / median(b.authMs) : Number.NaN)}${note}`,
    );
    const cpu = bases.map((b) => `${ratio(1 / per(r.perCpuSecond, b?.perCpuSecond))}${note}`);
    emit(
      `| ${r.c.link} | ${pairName(r.c.client, r.c.server)} | ${fmt(median(r.kexMs), 1)} ms | ${fmt(percentile(r.kexMs, 90), 1)} ms | ${fmt(median(r.authMs), 1)} ms | ${fmt(percentile(r.authMs, 90), 1)} ms | ${auth.join(' | ')} | ${fmt(median(r.perSecond))} | ${fmt(median(r.perCpuSecond))} | ${cpu.join(' | ')} |`,
    );
  }
  emit();
  emit(
    '"auth time ×ssh2": median time to authenticated over the reference pair\'s median on the same link (target ≤ 0.5×). "CPU-s ×ssh2": CPU time per handshake (whole process, both ends) relative to the reference pair, from the per-block ratios of handshakes per CPU-second (lower is better). ssh2\'s binding only does the packet ciphers, so native and pure-JS ssh2 differ little here.',
  );
  emit();
  emit(
    'Rates: medians over short interleaved blocks; the ratios are medians of per-block ratios. Handshakes per CPU-second (whole process, both ends) is the steadier figure on a shared machine.',
  );
  emit();
  const delayMs = 25;
  const slow = await runSlowLinkHandshakes(delayMs, quick ? 5 : 11);
  raw.handshakeSlowLink = slow;
  const slowRef = median(slow.find((r) => r.c.client === 'ssh2' && r.c.server === 'ssh2')!.authMs);
  emit(`### Over a link with ${delayMs} ms one-way latency (${2 * delayMs} ms round trip)`);
  emit();
  emit('| pair | to authenticated: median | round trips | ×ssh2 |');
  emit('|---|---:|---:|---:|');
  for (const r of slow) {
    const m = median(r.authMs);
    emit(
      `| ${pairName(r.c.client, r.c.server)}${r.kexGuess ? ' (client `kexGuess: true`)' : ''} | ${m.toFixed(0)} ms | ${(m / (2 * delayMs)).toFixed(1)} | ${(m / slowRef).toFixed(2)}× |`,
    );
  }
  emit();
  emit(
    `The Duplex link above with each chunk delivered ${delayMs} ms later (order kept). Here round trips decide, not CPU: our client sends its first authentication request right behind SERVICE_REQUEST (SPEC 8.5), ssh2's waits for SERVICE_ACCEPT; with the opt-in \`kexGuess\` our client also sends its ECDH_INIT with its KEXINIT (SPEC 8.3), which our server answers at once. ssh2's binding does not change round trips, so only the installed ssh2 is shown.`,
  );
  emit();
  void handshakeKey;
  void (0 as unknown as HandshakeResult);
}

// ---- bulk -------------------------------------------------------------------------------------

let bulk: BulkResult[] = [];
if (only.has('bulk')) {
  log('bulk …');
  bulk = await runBulk({
    mib,
    repeats,
    chunk: 256 * KiB,
    links: ['duplex', 'tcp', 'memlink'],
    portable: true,
    log,
  });
  raw.bulk = bulk;
  const find = (
    link: LinkKind,
    cipherId: string,
    c: Impl,
    s: Impl,
    packet: string,
    portable = false,
  ) =>
    bulk.find(
      (r) =>
        r.c.link === link &&
        r.c.cipher.id === cipherId &&
        r.c.client === c &&
        r.c.server === s &&
        r.c.packet === packet &&
        (r.c.portable ?? false) === portable,
    );
  const med = (r: BulkResult | undefined, f: (s: BulkResult['samples'][number]) => number) =>
    r ? median(r.samples.map(f)) : Number.NaN;
  const vs = (a: BulkResult | undefined, b: BulkResult | undefined, cpu = false) => {
    if (!a || !b) return Number.NaN;
    const xs: number[] = [];
    for (const s of a.samples) {
      const t = b.samples.find((x) => x.repeat === s.repeat);
      if (t) xs.push(cpu ? s.cpuMibps / t.cpuMibps : s.mibps / t.mibps);
    }
    return median(xs);
  };
  const ofFloor = (r: BulkResult | undefined) => med(r, (s) => s.mibps / s.floor);

  emit('## Bulk channel throughput');
  emit();
  emit(
    `The client writes ${mib} MiB into a session channel (exec, writes of 256 KiB honouring backpressure: ours \`channelWrite\` + \`writable\`, ssh2 \`stream.write\` + \`drain\`); the server counts bytes. "32 KiB": our sessions' \`channelMaxPacket\` = 32768 (ssh2 always offers 32 KiB, OpenSSH's size). "256 KiB": our default (261632 bytes of data per packet); it applies where our server receives (ssh2's server offers 32 KiB and accepts at most 35,000-byte packets, so pairs with an ssh2 server have no 256 KiB row; ssh2's client does send 256 KiB packets to our server). Windows: 2 MiB on both libraries.`,
  );
  emit();
  emit('### Summary (in-memory Duplex link, the ssh2 harness of PERF-NOTES.md)');
  emit();
  emit(
    `| cipher | ssh2 pure JS | ${ssh2Native ? 'ssh2 native | ' : ''}ours 32 KiB | ours 256 KiB | ssh2 pure JS of floor | ${ssh2Native ? 'ssh2 native of floor | ' : ''}ours of floor 32 KiB | ours of floor 256 KiB |`,
  );
  emit(
    `|---|---:|${ssh2Native ? '---:|' : ''}---:|---:|---:|${ssh2Native ? '---:|' : ''}---:|---:|`,
  );
  for (const cipher of CIPHERS) {
    const j = find('duplex', cipher.id, JS, JS, '32k');
    const n = find('duplex', cipher.id, 'ssh2', 'ssh2', '32k');
    const o32 = find('duplex', cipher.id, 'ours', 'ours', '32k');
    const oMax = find('duplex', cipher.id, 'ours', 'ours', 'max');
    const mibps = (r: BulkResult | undefined) => fmt(med(r, (x) => x.mibps));
    emit(
      `| ${cipher.id} | ${mibps(j)} | ${ssh2Native ? `${mibps(n)} | ` : ''}${mibps(o32)} | ${mibps(oMax)} | ${pct(ofFloor(j))} | ${ssh2Native ? `${pct(ofFloor(n))} | ` : ''}${pct(ofFloor(o32))} | ${pct(ofFloor(oMax))} |`,
    );
  }
  emit();
  emit(
    'MiB/s, medians. "of floor": the run\'s MiB/s over the node:crypto floor for the same cipher and packet size, measured in the same repeat (ssh2 always uses 32 KiB packets). Native ssh2 can exceed the node:crypto floor: its C++ binding keeps one OpenSSL context per direction (GCM: only the IV changes; CTR + HMAC: a reused HMAC context), which node:crypto\'s API cannot do.',
  );
  emit();
  emit('Ratios, ours ↔ ours over ssh2 ↔ ssh2 (Duplex link, medians of per-repeat ratios):');
  emit();
  const refs: [string, Impl][] = ssh2Native
    ? [
        ["pure JS (the issue's reference)", JS],
        ['native', 'ssh2'],
      ]
    : [["pure JS (the issue's reference)", JS]];
  emit(
    '| cipher | vs ssh2 | ours 32 KiB, MiB/s | ours 256 KiB, MiB/s | ours 32 KiB, per CPU-s | ours 256 KiB, per CPU-s |',
  );
  emit('|---|---|---:|---:|---:|---:|');
  for (const cipher of CIPHERS) {
    const o32 = find('duplex', cipher.id, 'ours', 'ours', '32k');
    const oMax = find('duplex', cipher.id, 'ours', 'ours', 'max');
    for (const [label, impl] of refs) {
      const b = find('duplex', cipher.id, impl, impl, '32k');
      emit(
        `| ${cipher.id} | ${label} | ${ratio(vs(o32, b))} | ${ratio(vs(oMax, b))} | ${ratio(vs(o32, b, true))} | ${ratio(vs(oMax, b, true))} |`,
      );
    }
  }
  emit();
  emit(
    '"per CPU-s": the same ratio on MiB per CPU-second of the whole process (steadier when a neighbour takes the CPU). Targets: ≥ 1.2× pure-JS ssh2 for every cipher; for aes128-gcm ≥ 90% of the floor at every packet size.',
  );
  emit();
  for (const link of ['duplex', 'tcp', 'memlink'] as LinkKind[]) {
    const rows = bulk.filter((r) => r.c.link === link);
    if (rows.length === 0) continue;
    emit(`### ${LINK_NAME[link]}`);
    emit();
    const vsLink = link === 'memlink' ? ' (vs Duplex)' : ' (same link)';
    emit(
      `| cipher | pair | max packet | MiB/s | MiB/CPU-s | ×ssh2 pure JS${vsLink} | per CPU-s | ${ssh2Native ? `×ssh2 native${vsLink} | per CPU-s | ` : ''}of floor |`,
    );
    emit(`|---|---|---|---:|---:|---:|---:|${ssh2Native ? '---:|---:|' : ''}---:|`);
    for (const r of rows) {
      const baseLink = link === 'memlink' ? 'duplex' : link;
      const bj = find(baseLink, r.c.cipher.id, JS, JS, '32k');
      const bn = find(baseLink, r.c.cipher.id, 'ssh2', 'ssh2', '32k');
      emit(
        `| ${r.c.cipher.id}${r.c.portable ? ' (portable provider)' : ''} | ${pairName(r.c.client, r.c.server)} | ${r.c.packet === '32k' ? '32 KiB' : '256 KiB'} | ${fmt(med(r, (x) => x.mibps))} | ${fmt(med(r, (x) => x.cpuMibps))} | ${ratio(vs(r, bj))} | ${ratio(vs(r, bj, true))} | ${ssh2Native ? `${ratio(vs(r, bn))} | ${ratio(vs(r, bn, true))} | ` : ''}${pct(ofFloor(r))} |`,
      );
    }
    emit();
  }
  void caseKey;
}

// ---- many channels ----------------------------------------------------------------------------

if (only.has('channels')) {
  log('channels …');
  const channels = 100;
  const perChannel = 1 * MiB;
  const ch: ChannelsResult[] = await runChannels({ channels, perChannel, repeats, log });
  raw.channels = ch;
  const base = ch.find((r) => r.c.client === 'ssh2' && r.c.server === 'ssh2')!;
  emit(
    `## Many concurrent channels: ${channels} channels × ${perChannel / MiB} MiB on one session`,
  );
  emit();
  emit(
    'aes128-gcm, in-memory Duplex link; all channels opened at once, each writes 1 MiB (256 KiB writes); timed from the first open to the last byte counted by the server.',
  );
  emit();
  emit('| pair | max packet | aggregate MiB/s | MiB/CPU-s | ×ssh2↔ssh2 |');
  emit('|---|---|---:|---:|---:|');
  for (const r of ch) {
    const rr = median(r.mibps.map((x, i) => x / base.mibps[i]!));
    emit(
      `| ${pairName(r.c.client, r.c.server)} | ${r.c.packet === '32k' ? '32 KiB' : '256 KiB'} | ${fmt(median(r.mibps))} | ${fmt(median(r.cpuMibps))} | ${ratio(rr)} |`,
    );
  }
  emit();
  void channelsKey;
}

if (needTcp) await stopTcpServers();

// ---- memory -----------------------------------------------------------------------------------

interface MemoryRun {
  client: Impl;
  server: Impl;
  link: string;
  count: number;
  establishMs: number;
  heapPerPair: number;
  externalPerPair: number;
  arrayBuffersPerPair: number;
  rssPerPair: number;
  rssBefore: number;
  rssAfter: number;
  heapUsedAfter: number;
  resourcesBefore: Record<string, number>;
  resourcesAfter: Record<string, number>;
  idleElu: number;
  idleMs: number;
}

/**
 * bench/memory.ts bundled as node runs a built package (no tsx transform: tsx compiles with
 * esbuild's keepNames, whose `__name` calls put every closure's properties in a dictionary,
 * ~3 KiB per session that a user of the built package never pays). Built once per run.
 */
let memoryScript: string | undefined;
function memoryBundle(): string {
  if (memoryScript) return memoryScript;
  const out = join(HERE, '.build', 'memory.mjs');
  const r = spawnSync(
    require.resolve('esbuild/bin/esbuild'),
    [
      join(HERE, 'memory.ts'),
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--packages=external',
      '--target=node20',
      `--outfile=${out}`,
      '--log-level=warning',
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`esbuild failed: ${r.stderr}`);
  memoryScript = out;
  return out;
}

function memoryRun(client: Impl, server: Impl, link: string, count: number, idleMs: number) {
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--max-old-space-size=8192',
      memoryBundle(),
      '--client',
      client,
      '--server',
      server,
      '--link',
      link,
      '--count',
      String(count),
      '--idle-ms',
      String(idleMs),
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 900_000 },
  );
  if (r.status !== 0) throw new Error(`memory run failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as MemoryRun;
}

if (only.has('memory')) {
  log('memory …');
  const runs: MemoryRun[] = [];
  const combos: [Impl, Impl, string][] = [
    ['ours', 'ours', 'duplex'],
    ['ssh2', 'ssh2', 'duplex'],
    ...(ssh2Native ? [['ssh2js', 'ssh2js', 'duplex'] as [Impl, Impl, string]] : []),
    ['ours', 'ssh2', 'duplex'],
    ['ssh2', 'ours', 'duplex'],
    ['ours', 'ours', 'memlink'],
    ['ours', 'ours', 'none'],
  ];
  for (const count of sessionCounts) {
    for (const [c, s, link] of combos) {
      if (count > 1000 && !(c === s && link !== 'memlink')) continue;
      const r = memoryRun(c, s, link, count, count > 1000 ? 16_000 : 1000);
      runs.push(r);
      log(
        `  ${count} ${c}>${s} ${link}: heap ${fmt(r.heapPerPair)} B, external ${fmt(r.externalPerPair)} B, RSS ${fmt(r.rssPerPair)} B per pair; ${fmt(r.establishMs)} ms to establish`,
      );
    }
  }
  raw.memory = runs;
  emit('## Memory per idle established session pair, and idle cost');
  emit();
  emit(
    'Each run is a fresh `node --expose-gc` process running bench/memory.ts bundled by esbuild, as a built package runs (under `tsx`, its keepNames transform adds ~3 KiB per session to our figures: every closure gets a property dictionary; ssh2 is plain JavaScript either way): 20 warm-up pairs, `gc()`, then N pairs established (client and server both in the process, password login, aes128-gcm, 50 handshakes in flight) and kept; `process.memoryUsage()` deltas after `gc()`, divided by N. A pair is two sessions plus their link; "Duplex alone" is the link\'s own share. Timers and handles: `process.getActiveResourcesInfo()` after establishing; idle ELU: event-loop utilisation over an idle window.',
  );
  emit();
  emit(
    '| pairs | pair | link | heap / pair | external / pair | RSS / pair | time to establish | timers after (before) | idle ELU (window) |',
  );
  emit('|---:|---|---|---:|---:|---:|---:|---:|---:|');
  for (const r of runs) {
    const timers = r.resourcesAfter.Timeout ?? 0;
    const timersBefore = r.resourcesBefore.Timeout ?? 0;
    emit(
      `| ${fmt(r.count)} | ${r.link === 'none' ? '—' : pairName(r.client, r.server)} | ${r.link === 'none' ? 'Duplex alone' : r.link} | ${fmt(r.heapPerPair / 1024, 1)} KiB | ${fmt(r.externalPerPair / 1024, 1)} KiB | ${fmt(r.rssPerPair / 1024, 1)} KiB | ${fmt(r.establishMs / 1000, 1)} s | ${timers} (${timersBefore}) | ${(r.idleElu * 100).toFixed(2)}% (${fmt(r.idleMs / 1000)} s) |`,
    );
  }
  emit();
  emit(
    'Ratios, ours ↔ ours over ssh2 ↔ ssh2 on the Duplex link, same count (target: heap + external ≤ 0.5×):',
  );
  emit();
  emit('| pairs | vs ssh2 | heap + external | RSS |');
  emit('|---:|---|---:|---:|');
  for (const count of sessionCounts) {
    const at = (c: Impl) =>
      runs.find(
        (r) => r.count === count && r.client === c && r.server === c && r.link === 'duplex',
      );
    const o = at('ours');
    for (const [label, impl] of (ssh2Native
      ? [
          ['pure JS', JS],
          ['native', 'ssh2'],
        ]
      : [['pure JS', JS]]) as [string, Impl][]) {
      const b = at(impl);
      if (!o || !b) continue;
      emit(
        `| ${fmt(count)} | ${label} | ${ratio((o.heapPerPair + o.externalPerPair) / (b.heapPerPair + b.externalPerPair))} | ${ratio(o.rssPerPair / b.rssPerPair)} |`,
      );
    }
  }
  emit();
  emit(
    "ssh2's server arms one keepalive interval per connection (`Server.KEEPALIVE_CLIENT_INTERVAL` = 15 s, refreshed on every packet): an idle ssh2 server wakes once per connection every 15 s and sends a keepalive that the client answers. Our core holds no timer and no handle: idle sessions cost the event loop nothing (timers belong to the transport layer that wants them, transports/timeouts.ts).",
  );
  emit();
}

// ---- 100k idle sessions in one process ------------------------------------------------------

if (only.has('idle100k')) {
  const pairs = Number(opt('idle-pairs') ?? (quick ? 10_000 : 50_000));
  log(`idle100k: ${pairs} pairs …`);
  const r = memoryRun('ours', 'ours', 'memlink', pairs, 2000);
  raw.idle100k = r;
  const GiB = 1024 * 1024 * 1024;
  emit(`## ${fmt(pairs * 2)} idle established sessions in one process`);
  emit();
  emit(
    `One \`node --expose-gc --max-old-space-size=8192\` process (bench/memory.ts, bundled) establishes ${fmt(pairs)} client↔server pairs of ours (${fmt(pairs * 2)} sessions: password login, aes128-gcm, our memory link with deferred delivery, 50 handshakes in flight) and keeps them; figures after \`gc()\`. Target: within 1.5 GiB RSS.`,
  );
  emit();
  emit(
    '| sessions | RSS before | RSS after | heap used after | heap / session | external / session | RSS / session | time to establish | idle ELU (2 s) |',
  );
  emit('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  emit(
    `| ${fmt(pairs * 2)} | ${fmt(r.rssBefore / 1024 / 1024)} MiB | ${fmt(r.rssAfter / GiB, 2)} GiB | ${fmt(r.heapUsedAfter / GiB, 2)} GiB | ${fmt(r.heapPerPair / 2 / 1024, 1)} KiB | ${fmt(r.externalPerPair / 2 / 1024, 2)} KiB | ${fmt(r.rssPerPair / 2 / 1024, 1)} KiB | ${fmt(r.establishMs / 1000, 1)} s | ${(r.idleElu * 100).toFixed(2)}% |`,
  );
  emit();
}

// ---- OpenSSH ----------------------------------------------------------------------------------

if (only.has('openssh')) {
  log('openssh …');
  let r: OpenSshResult | undefined;
  try {
    r = await runOpenSsh({ mib, repeats, log });
  } catch (e) {
    log(`  openssh skipped: ${e instanceof Error ? e.message : String(e)}`);
    emit('## Against OpenSSH');
    emit();
    emit(`Skipped: ${e instanceof Error ? e.message : String(e)}`);
    emit();
  }
  if (r) {
    raw.openssh = r;
    emit('## Against OpenSSH: client → sshd, `cat > /dev/null`, loopback TCP');
    emit();
    emit(r.description);
    emit();
    emit(
      '| cipher | OpenSSH `ssh` → sshd | our client → sshd | ours / ssh | our client CPU-s per GiB |',
    );
    emit('|---|---:|---:|---:|---:|');
    for (const row of r.rows) {
      emit(
        `| ${row.cipher} | ${fmt(median(row.ssh))} MiB/s | ${fmt(median(row.ours))} MiB/s | ${ratio(median(row.ours.map((x, i) => x / row.ssh[i]!)))} | ${fmt(median(row.oursCpuPerGiB), 2)} |`,
      );
    }
    emit();
  }
}

// ---- profile ----------------------------------------------------------------------------------

const HINTS: Record<string, string> = {
  '(garbage collector)':
    "allocation volume: per packet node:crypto returns each ciphertext and plaintext in a fresh buffer (its API has no output argument), plus the Duplex link's copy and the send buffer",
  update:
    'node:crypto cipher work (AES-GCM/CTR seal and open): the floor itself; only fewer packets (larger max packet) reduce its per-call overhead',
  final: 'node:crypto GCM finalisation and tag check: part of the floor',
  createCipherBase:
    'a cipher object per packet (GCM): inherent to node:crypto GCM, part of the floor',
  createCipherWithIV: 'a cipher object per packet (GCM): part of the floor',
  FastBuffer: 'node creating the Buffer objects that cipher.update returns (part of the floor)',
  concatPackets: 'joining output chunks: only when one call produced more than was reserved for it',
  sealInto:
    'the sealer writing each `cipher.update()` result once into the send buffer (the one copy node:crypto forces)',
  '#encrypt':
    'the CTR sealer writing each `cipher.update()` result once into the send buffer (the one copy node:crypto forces)',
  putParts: 'chacha20: the plaintext copied once into the send buffer, then encrypted in place',
  deliver: 'the memory link delivering a send (no copy since this round of changes)',
  '#drain': 'the input buffer feeding the session (chunks fed directly when nothing is held)',
  '#append':
    'the input buffer copying a chunk behind a held tail (the direct path is taken when nothing is held)',
  _write: "the Duplex link's copy (the simulated network)",
  digest: 'HMAC finalisation: a new Hmac per packet',
  createHmac: 'a new Hmac object per packet',
  Hmac: 'a new Hmac object per packet',
  compute: 'the MAC computation (createHmac per packet)',
  'exports.crypto_stream_chacha20_xor_ic': 'ChaCha20 in libsodium: the primitive itself (floor)',
  'exports.crypto_onetimeauth': 'Poly1305 in libsodium: the primitive itself (floor)',
  '#cut': "the memory link's piece-splitting helper (harness cost)",
};

if (only.has('profile')) {
  log('profile …');
  const pmib = quick ? 64 : 256;
  const runs: [string, string[]][] = [
    [
      'aes128-gcm, 32 KiB packets, ours ↔ ours, our memory link',
      [
        '--link',
        'memlink',
        '--cipher',
        'aes128-gcm@openssh.com',
        '--packet',
        '32k',
        '--mib',
        String(pmib),
      ],
    ],
    [
      'aes128-gcm, 256 KiB packets, ours ↔ ours, our memory link',
      [
        '--link',
        'memlink',
        '--cipher',
        'aes128-gcm@openssh.com',
        '--packet',
        'max',
        '--mib',
        String(pmib),
      ],
    ],
    [
      'chacha20-poly1305 (sodium-native), 32 KiB packets, ours ↔ ours, our memory link',
      [
        '--link',
        'memlink',
        '--cipher',
        'chacha20-poly1305@openssh.com',
        '--packet',
        '32k',
        '--mib',
        String(pmib),
      ],
    ],
    [
      'aes128-ctr + hmac-sha2-256-etm, 32 KiB packets, ours ↔ ours, our memory link',
      [
        '--link',
        'memlink',
        '--cipher',
        'aes128-ctr + hmac-sha2-256-etm',
        '--packet',
        '32k',
        '--mib',
        String(pmib),
      ],
    ],
  ];
  const profiles: { title: string; s: ProfileSummary }[] = [];
  for (const [title, args] of runs) {
    try {
      profiles.push({ title, s: profileBulk(args) });
    } catch (e) {
      log(`  profile ${title} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  raw.profile = profiles;
  emit(
    '## CPU profiles of ours (`node --cpu-prof`; only the samples inside the measured window count)',
  );
  emit();
  profiles.forEach(({ title, s }, i) => {
    emit(`### ${title}`);
    emit();
    emit(profileMarkdown(s, i === 0 ? 20 : 12));
    emit();
    if (i === 0) {
      emit('What the top entries mean:');
      emit();
      const seen = new Set<string>();
      for (const e of s.functions.slice(0, 20)) {
        const hint = HINTS[e.name];
        if (!hint || seen.has(e.name)) continue;
        seen.add(e.name);
        emit(`- \`${e.name}\` (${(e.share * 100).toFixed(1)}%): ${hint}.`);
      }
      emit();
    }
  });
  let hsProfile: ProfileSummary | undefined;
  try {
    hsProfile = profileHandshakes(['--count', quick ? '150' : '400']);
  } catch (e) {
    log(`  handshake profile failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (hsProfile) {
    raw.handshakeProfile = hsProfile;
    emit('### Handshakes: ours ↔ ours, in-memory Duplex link, 8 in flight');
    emit();
    emit(profileMarkdown(hsProfile, 15));
    emit();
  }
  const share = (s: ProfileSummary | undefined, names: string[]) =>
    s ? s.functions.filter((e) => names.includes(e.name)).reduce((a, e) => a + e.share, 0) : 0;
  const p0 = profiles[0]?.s;
  if (p0) {
    const crypto = share(p0, [
      'update',
      'final',
      'createCipherBase',
      'getAuthTag',
      'setAAD',
      'setAuthTag',
      'Cipheriv',
      'Decipheriv',
      'FastBuffer',
    ]);
    const copies = share(p0, ['sealInto', 'concatPackets', '#append', 'putParts']);
    const gc = share(p0, ['(garbage collector)']);
    emit('### What is left, by the profiles');
    emit();
    emit(
      `In the aes128-gcm 32 KiB profile node:crypto's own work (cipher objects, update, final, the Buffers it returns) is ${pct(crypto)} of main-thread self time and GC ${pct(gc)}; our remaining copies (the one write of each ciphertext piece into the send buffer, joins, input tails) ${pct(copies)}. What remains is what node:crypto's API forces: a cipher object per GCM packet and a fresh output buffer per update call. ssh2's C++ binding keeps one OpenSSL context per direction and writes into its own buffers, which is why it can pass the node:crypto floor.`,
    );
    emit();
  }
}

// ---- output ---------------------------------------------------------------------------------

const elapsed = (Date.now() - started.getTime()) / 1000;
emit(`_Run took ${fmt(elapsed)} s._`);
const md = `${out.join('\n')}\n`;
if (has('no-write')) {
  console.log(md);
} else {
  const files = [join(HERE, 'RESULTS.md'), join(HERE, 'results.json')];
  writeFileSync(files[0]!, md);
  writeFileSync(
    files[1]!,
    `${JSON.stringify({ date: started.toISOString(), argv, raw }, null, 2)}\n`,
  );
  // The repository's formatter checks bench/**: format the outputs as it wants them (it also
  // aligns the markdown tables).
  const biome = join(ROOT, 'node_modules', '.bin', 'biome');
  const r = spawnSync(biome, ['format', '--write', ...files], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) log(`biome format failed (outputs left unformatted): ${r.stderr ?? r.error}`);
  console.log(readFileSync(files[0]!, 'utf8'));
  log(`wrote bench/RESULTS.md and bench/results.json in ${fmt(elapsed)} s`);
}
