/**
 * Profiles one bulk transfer of ours (bench/bulk-once.ts under `node --cpu-prof`) and
 * summarises the profile: self time per function and per file, and GC. Standalone:
 *
 *   npx tsx bench/profile.ts [--cipher aes128-gcm@openssh.com] [--packet 32k] [--mib 256]
 *
 *   npx tsx bench/profile.ts --handshake [--client ours --server ours --count 300]
 *
 * or summarise an existing profile: `npx tsx bench/profile.ts --summarise file.cpuprofile`.
 */

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');

interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface ProfileEntry {
  readonly name: string;
  readonly where: string;
  readonly ms: number;
  readonly share: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly functions: ProfileEntry[];
  readonly files: ProfileEntry[];
  readonly run: string;
  readonly file: string;
}

function whereOf(url: string): string {
  if (!url) return '(native)';
  if (url.startsWith('node:')) return url;
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const rel = relative(ROOT, path);
  return rel.startsWith('node_modules') ? rel.replace(/^node_modules\//, 'npm:') : rel;
}

/** Self time per function (name + file + line) and per file. */
export function summarise(
  path: string,
  top = 25,
  windowUs?: readonly [number, number],
): Omit<ProfileSummary, 'run' | 'file'> {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the next delta to sample i.
    t += p.timeDeltas[i] ?? 0;
    if (windowUs && (t < windowUs[0] || t > windowUs[1])) continue;
    const dt = p.timeDeltas[i + 1] ?? 0;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dt);
  }
  const fn = new Map<string, { name: string; where: string; us: number }>();
  const file = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName || '(anonymous)';
    const where = whereOf(n.callFrame.url);
    // Lines of tsx-compiled files say nothing (each module is one line); node's own are exact.
    const line = n.callFrame.url.startsWith('node:') ? `:${n.callFrame.lineNumber + 1}` : '';
    const key = `${name}@${where}${line}`;
    const e = fn.get(key) ?? { name, where: `${where}${line}`, us: 0 };
    e.us += us;
    fn.set(key, e);
    const fileKey = name.startsWith('(') && !n.callFrame.url ? name : where;
    file.set(fileKey, (file.get(fileKey) ?? 0) + us);
    total += us;
  }
  const entries = (xs: { name: string; where: string; us: number }[]) =>
    xs
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ name: e.name, where: e.where, ms: e.us / 1000, share: e.us / total }));
  return {
    totalMs: total / 1000,
    functions: entries([...fn.values()]),
    files: entries([...file].map(([where, us]) => ({ name: where, where, us }))),
  };
}

/** Runs bench/bulk-once.ts under --cpu-prof and summarises the profile. */
export function profileBulk(args: readonly string[]): ProfileSummary {
  return profileScript('bulk-once.ts', 'bulk', args);
}

/** Runs bench/handshake-once.ts under --cpu-prof and summarises the profile. */
export function profileHandshakes(args: readonly string[]): ProfileSummary {
  return profileScript('handshake-once.ts', 'handshake', args);
}

function profileScript(script: string, prefix: string, args: readonly string[]): ProfileSummary {
  const dir = join(HERE, 'profiles');
  mkdirSync(dir, { recursive: true });
  const tag = args.join('_').replace(/[^a-z0-9_.-]+/gi, '') || 'default';
  const name = `${prefix}_${tag}.cpuprofile`;
  rmSync(join(dir, name), { force: true });
  const r = spawnSync(
    process.execPath,
    [
      '--cpu-prof',
      '--cpu-prof-dir',
      dir,
      '--cpu-prof-name',
      name,
      '--import',
      'tsx',
      join(HERE, script),
      ...args,
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 600_000 },
  );
  if (r.status !== 0) throw new Error(`profiled run failed: ${r.stderr}`);
  const run = r.stdout.trim().split('\n').at(-1) ?? '';
  const { windowUs, ...shown } = JSON.parse(run) as { windowUs: [number, number] };
  return {
    ...summarise(join(dir, name), 25, windowUs),
    run: JSON.stringify(shown),
    file: relative(ROOT, join(dir, name)),
  };
}

export function profileMarkdown(s: ProfileSummary, top = 20): string {
  const lines = [
    `Profiled run: \`${s.run}\` (profile: \`${s.file}\`, ${s.totalMs.toFixed(0)} ms sampled inside the measured window only: start-up excluded)`,
    '',
    '| self time | share | function | where |',
    '|---:|---:|---|---|',
    ...s.functions
      .slice(0, top)
      .map(
        (e) =>
          `| ${e.ms.toFixed(0)} ms | ${(e.share * 100).toFixed(1)}% | \`${e.name}\` | ${e.where} |`,
      ),
    '',
    'Self time by file:',
    '',
    '| self time | share | file |',
    '|---:|---:|---|',
    ...s.files
      .slice(0, 12)
      .map((e) => `| ${e.ms.toFixed(0)} ms | ${(e.share * 100).toFixed(1)}% | ${e.name} |`),
  ];
  return lines.join('\n');
}

if (process.argv[1] && basename(process.argv[1]) === 'profile.ts') {
  const i = process.argv.indexOf('--summarise');
  if (i > 0) {
    const s = summarise(process.argv[i + 1]!);
    console.log(profileMarkdown({ ...s, run: '(given)', file: process.argv[i + 1]! }, 30));
  } else if (process.argv.includes('--handshake')) {
    const s = profileHandshakes(process.argv.slice(2).filter((a) => a !== '--handshake'));
    console.log(profileMarkdown(s, 30));
  } else {
    const s = profileBulk(process.argv.slice(2));
    console.log(profileMarkdown(s, 30));
  }
}
