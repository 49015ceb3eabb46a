/**
 * The benchmark suite: pluggable-ssh against ssh2 side by side, in one process and one run.
 *
 *   npx tsx bench/run.ts [--quick] [--only bulk,handshake,channels,memory,floor,profile,openssh]
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
import { type HandshakeResult, handshakeKey, runHandshakes } from './handshake.js';
import {
  CIPHERS,
  fmt,
  type Impl,
  KiB,
  type LinkKind,
  MiB,
  median,
  percentile,
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
const SECTIONS = ['floor', 'handshake', 'bulk', 'channels', 'memory', 'profile', 'openssh'];
const only = new Set((opt('only') ?? SECTIONS.join(',')).split(','));
const mib = Number(opt('mib') ?? (quick ? 32 : 256));
const repeats = Number(opt('repeats') ?? 3);
const sessionCounts = (opt('sessions') ?? (quick ? '1000' : '1000,10000')).split(',').map(Number);
const log = (line: string) => console.error(line);

const require = createRequire(import.meta.url);
const ssh2Version = (require('ssh2/package.json') as { version: string }).version;
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
  'ssh2>ssh2': 'ssh2 ↔ ssh2',
  'ours>ssh2': 'our client → ssh2 server',
  'ssh2>ours': 'ssh2 client → our server',
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
    'aes-128-gcm: a new cipher object per packet; chacha20-poly1305: the OpenSSH construction with sodium-native (our default provider); aes-128-ctr + hmac-sha256: one streaming CTR per direction and `createHmac` per packet (ssh2 does CTR + HMAC in its C++ binding with a reused HMAC context, so it can exceed this "floor"). The bulk tables below use floors re-measured inside each repeat, next to the runs they divide.',
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
  const ref = (link: LinkKind) =>
    hs.find((r) => r.c.link === link && r.c.client === 'ssh2' && r.c.server === 'ssh2');
  emit('## Handshake: curve25519-sha256 + ssh-ed25519 + aes128-gcm, password login');
  emit();
  emit(
    "Latency: one at a time (pairs interleaved), from creating the client to its key exchange completing (ours `handshake-complete`, ssh2 `handshake`) and to authenticated (ours `authenticated`, ssh2 `ready`). Rate: 8 handshakes in flight; both ends in this process, so each handshake costs both sides' CPU. ssh2's client is given `authHandler: ['password']` (its default tries `none` first, one more round trip); ssh2's server connections get `setNoDelay(true)` as our TCP transport does.",
  );
  emit();
  emit(
    '| link | pair | to kex: median | p90 | to authenticated: median | p90 | handshakes/s | ×ssh2↔ssh2 | handshakes/CPU-s | ×ssh2↔ssh2 (CPU) |',
  );
  emit('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of hs) {
    const base = ref(r.c.link === 'memlink' ? 'duplex' : r.c.link);
    const per = (xs: number[], ys: number[] | undefined) =>
      ys ? median(xs.map((x, i) => x / ys[i]!)) : Number.NaN;
    const note = r.c.link === 'memlink' ? ' (vs Duplex)' : '';
    emit(
      `| ${r.c.link} | ${pairName(r.c.client, r.c.server)} | ${fmt(median(r.kexMs), 1)} ms | ${fmt(percentile(r.kexMs, 90), 1)} ms | ${fmt(median(r.authMs), 1)} ms | ${fmt(percentile(r.authMs, 90), 1)} ms | ${fmt(median(r.perSecond))} | ${ratio(per(r.perSecond, base?.perSecond))}${note} | ${fmt(median(r.perCpuSecond))} | ${ratio(per(r.perCpuSecond, base?.perCpuSecond))}${note} |`,
    );
  }
  emit();
  emit(
    'Rates: medians over short interleaved blocks; the ratios are medians of per-block ratios. Handshakes per CPU-second (whole process, both ends) is the steadier figure on a shared machine.',
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
    '| cipher | ssh2↔ssh2 | ours↔ours 32 KiB | ours↔ours 256 KiB | ours/ssh2 at 32 KiB | ours 256 KiB / ssh2 | same, per CPU-s: 32 KiB | 256 KiB | ssh2 of floor (32 KiB) | ours of floor 32 KiB | ours of floor 256 KiB |',
  );
  emit('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const cipher of CIPHERS) {
    const s = find('duplex', cipher.id, 'ssh2', 'ssh2', '32k');
    const o32 = find('duplex', cipher.id, 'ours', 'ours', '32k');
    const oMax = find('duplex', cipher.id, 'ours', 'ours', 'max');
    emit(
      `| ${cipher.id} | ${fmt(med(s, (x) => x.mibps))} | ${fmt(med(o32, (x) => x.mibps))} | ${fmt(med(oMax, (x) => x.mibps))} | ${ratio(vs(o32, s))} | ${ratio(vs(oMax, s))} | ${ratio(vs(o32, s, true))} | ${ratio(vs(oMax, s, true))} | ${pct(ofFloor(s))} | ${pct(ofFloor(o32))} | ${pct(ofFloor(oMax))} |`,
    );
  }
  emit();
  emit(
    'MiB/s, medians. "per CPU-s": the same ratios on MiB per CPU-second (steadier when a neighbour takes the CPU). "of floor": the run\'s MiB/s over the node:crypto floor for the same cipher and packet size, measured in the same repeat. ssh2 can exceed the node:crypto floor: its C++ binding keeps one OpenSSL context per direction (GCM: only the IV changes; CTR + HMAC: a reused HMAC context), which node:crypto\'s API cannot do.',
  );
  emit();
  for (const link of ['duplex', 'tcp', 'memlink'] as LinkKind[]) {
    const rows = bulk.filter((r) => r.c.link === link);
    if (rows.length === 0) continue;
    emit(`### ${LINK_NAME[link]}`);
    emit();
    emit(
      '| cipher | pair | max packet | MiB/s | MiB/CPU-s | ×ssh2↔ssh2 (same link) | ×ssh2↔ssh2 per CPU-s | of floor |',
    );
    emit('|---|---|---|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      const base =
        find(link === 'memlink' ? 'duplex' : link, r.c.cipher.id, 'ssh2', 'ssh2', '32k') ??
        undefined;
      emit(
        `| ${r.c.cipher.id}${r.c.portable ? ' (portable provider)' : ''} | ${pairName(r.c.client, r.c.server)} | ${r.c.packet === '32k' ? '32 KiB' : '256 KiB'} | ${fmt(med(r, (x) => x.mibps))} | ${fmt(med(r, (x) => x.cpuMibps))} | ${ratio(vs(r, base))}${link === 'memlink' ? ' (vs Duplex)' : ''} | ${ratio(vs(r, base, true))} | ${pct(ofFloor(r))} |`,
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
  resourcesBefore: Record<string, number>;
  resourcesAfter: Record<string, number>;
  idleElu: number;
  idleMs: number;
}

function memoryRun(client: Impl, server: Impl, link: string, count: number, idleMs: number) {
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--max-old-space-size=8192',
      '--import',
      'tsx',
      join(HERE, 'memory.ts'),
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
    'Each run is a fresh `node --expose-gc` process (bench/memory.ts): 20 warm-up pairs, `gc()`, then N pairs established (client and server both in the process, password login, aes128-gcm, 50 handshakes in flight) and kept; `process.memoryUsage()` deltas after `gc()`, divided by N. A pair is two sessions plus their link; "Duplex alone" is the link\'s own share. Timers and handles: `process.getActiveResourcesInfo()` after establishing; idle ELU: event-loop utilisation over an idle window.',
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
    "ssh2's server arms one keepalive interval per connection (`Server.KEEPALIVE_CLIENT_INTERVAL` = 15 s, refreshed on every packet): an idle ssh2 server wakes once per connection every 15 s and sends a keepalive that the client answers. Our core holds no timer and no handle: idle sessions cost the event loop nothing (timers belong to the transport layer that wants them, transports/timeouts.ts).",
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
    'allocation volume per packet: every copy below is also a fresh buffer to collect (a 32 KiB packet currently allocates ~7 payload-sized buffers end to end)',
  update:
    'node:crypto cipher work (AES-GCM/CTR seal and open): the floor itself; only fewer packets (larger max packet) reduce its per-call overhead',
  final: 'node:crypto GCM finalisation and tag check: part of the floor',
  createCipherBase:
    'a cipher object per packet (GCM): inherent to node:crypto GCM, part of the floor',
  createCipherWithIV: 'a cipher object per packet (GCM): part of the floor',
  concatPackets:
    'the coalescing copy in src/transport/binary-packet.ts: every sealed packet is copied once more into the buffer handed to `send`',
  sealPacket:
    'the framing copy: payload copied into a zero-filled new frame (length, padding length, payload, padding) before sealing',
  encodeData:
    'the channel-data payload copy: application bytes copied into a zero-filled CHANNEL_DATA payload, which sealPacket copies again',
  gcmSealInto:
    'the GCM sealer copies `cipher.update()` output into its own output buffer (one more copy per packet)',
  randomFillSync: 'per-packet random padding: one randomBytes call (and syscall) per packet',
  randomBytes: 'per-packet random padding: one randomBytes call per packet',
  deliver:
    "the memory link's own copy (`bytes.slice()`) per send: the harness's simulated network, as the Duplex link's copy is for ssh2",
  '#append':
    'the input buffer copies every arriving chunk even when it holds nothing: a zero-copy fast path (feed the chunk directly, keep only the unconsumed tail) would save a copy per chunk',
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
  const gain = (removed: number) => `~${fmt(100 * (1 / (1 - removed) - 1))}%`;
  const p0 = profiles[0]?.s;
  if (p0) {
    const sendCopies = share(p0, ['sealPacket', 'encodeData', 'gcmSealInto']);
    const concat = share(p0, ['concatPackets']);
    const append = share(p0, ['#append']);
    const rnd = share(p0, ['randomFillSync', 'randomBytes']);
    const gc = share(p0, ['(garbage collector)']);
    emit('### Optimisations the profiles suggest (measured here, not done: src/ is not touched)');
    emit();
    emit(
      `In the aes128-gcm 32 KiB profile the protocol's own copies on the way out (encodeData, sealPacket, gcmSealInto) take ${pct(sendCopies)} of main-thread self time, the coalescing copy (concatPackets) ${pct(concat)}, the input buffer's copy ${pct(append)}, per-packet padding randomness ${pct(rnd)} and GC ${pct(gc)}. Estimates: removing a share X of the time gives 1/(1−X) the throughput (an upper bound: the removed work is not all replaced by nothing). Re-run this suite to confirm.`,
    );
    emit();
    const items = [
      `**One copy per packet on the way out.** A CHANNEL_DATA packet is copied four times besides the encryption: encodeData (application bytes → payload), sealPacket (payload → frame), gcmSealInto (\`update()\` output → \`out\`), concatPackets (→ the \`send\` buffer), and each copy is a fresh, mostly zero-filled allocation (~7 payload-sized buffers per packet end to end, counting the link's copy, the input buffer and the opened plaintext). Build the frame header (length, padding length, CHANNEL_DATA header) as a few bytes, feed the cipher the pieces (\`update(header)\`, \`update(data.subarray(…))\`, \`update(padding)\`: GCM and CTR stream), and let the flush place the ciphertext pieces once into the buffer handed to \`send\`; with sodium-native chacha20, XOR straight into that buffer (\`crypto_stream_chacha20_xor_ic\` writes where it is told). Expected: the ${pct(sendCopies)} of copies and about 3/7 of the GC share: ${gain(sendCopies + (gc * 3) / 7)} throughput at 32 KiB.`,
      `**Do not zero-fill buffers that are overwritten at once**: \`new Uint8Array(n)\` in encodeData, sealPacket and concatPackets memsets first; \`allocBytes\` (src/crypto/bytes.ts) already avoids it for the ciphers. A few % on its own, included in the item above.`,
      `**Pool the padding randomness**: one \`randomFillSync\` of e.g. 4 KiB serves ~100 packets (4–255 padding bytes each) instead of a call (and \`getrandom\` syscall) per packet: ${gain(rnd * 0.9)}.`,
      `**Zero-copy input fast path** (transports/input-buffer.ts): when nothing is held, call \`sessionReceive\` on the arriving chunk itself and copy only the unconsumed tail (the contract allows it: the core keeps no reference after it returns). One copy per received chunk less, in every transport: ${gain(append)}. The same helper keeps a 4 KiB buffer per idle session (the "external" column of the memory table: ~8 KiB per pair): release it when it drains empty.`,
      `**Larger packets between our own peers** are the lever for GCM's per-packet cipher objects (node:crypto cannot re-key an existing GCM context with a new IV): compare the 32 KiB and 256 KiB rows and profiles; once the copies are gone, 256 KiB packets should approach the 256 KiB floor.`,
      `**chacha20-poly1305** (sodium-native): the primitives themselves (\`crypto_stream_chacha20_xor_ic\`, \`crypto_onetimeauth\`) already dominate; what is left is the same copies and allocations (\`seal\` allocates its output, \`open\` the plaintext). The portable provider (node chacha20 + @noble Poly1305) runs at ~1/8 of sodium-native: keep sodium-native the default wherever it loads.`,
      `**aes-ctr + HMAC**: \`createHmac\` per packet (\`Hmac\` construction + \`digest\`) re-derives the key pads every packet; two pre-keyed \`Hash\` objects (inner/outer pad) \`copy()\`ed per packet skip that set-up (measured at parity or slightly better for 32 KiB; the gain grows as packets shrink). ssh2 beats the node:crypto floor here only through its C++ binding.`,
    ];
    if (hsProfile) {
      const keys = share(hsProfile, ['createPrivateKey', 'createPublicKey', 'export']);
      items.push(
        `**Handshake: build X25519 keys without the OpenSSL 3 decoder.** \`createPrivateKey\` of a PKCS#8 DER (src/crypto/kex-curve25519.ts) costs ~640 µs on this machine, \`createPublicKey\` of an SPKI DER ~100 µs, against ~55 µs for \`generateKeyPairSync('x25519')\` (what ssh2 does) plus ~2 µs to \`export({ format: 'jwk' })\` the public value and ~20 µs to import the peer's public key as JWK. \`createPrivateKey\` + \`createPublicKey\` + \`export\` are ${pct(keys)} of the handshake profile; most of it goes: up to ${gain(keys * 0.85)} handshakes per CPU-second. (Keep the DER path only when a seeded \`random\` is injected for deterministic tests.)`,
      );
    }
    for (const [i, t] of items.entries()) emit(`${i + 1}. ${t}`);
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
