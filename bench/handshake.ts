/**
 * Handshake latency and rate, curve25519-sha256 + ssh-ed25519 + aes128-gcm, password login.
 * Latency: one handshake at a time, pairs interleaved round by round; from creating the
 * client (the server end exists) to the client's key exchange completing (ours:
 * `handshake-complete`; ssh2: its `handshake` event) and to its being authenticated (ours:
 * `authenticated`; ssh2: `ready`). Rate: `concurrency` handshakes in flight until `count`
 * are done; both ends run in this process, so a "handshake" is the CPU of both sides.
 */

import {
  CIPHERS,
  createPair,
  type Impl,
  type LinkKind,
  median,
  pool,
  SSH2_NATIVE,
  settle,
} from './lib.js';

export interface HandshakeCase {
  readonly link: LinkKind;
  readonly client: Impl;
  readonly server: Impl;
}

export interface HandshakeResult {
  readonly c: HandshakeCase;
  readonly kexMs: number[];
  readonly authMs: number[];
  /** Handshakes (to authenticated) per second at the given concurrency, one entry per round. */
  readonly perSecond: number[];
  /** Handshakes per CPU-second of this process, one entry per round. */
  readonly perCpuSecond: number[];
}

export function handshakeKey(c: HandshakeCase): string {
  return `${c.link}|${c.client}>${c.server}`;
}

const GCM = CIPHERS[0]!;

async function one(c: HandshakeCase): Promise<{ kex: number; auth: number }> {
  const t0 = performance.now();
  const pair = createPair({ ...c, cipher: GCM });
  try {
    const [kex, auth] = await Promise.all([pair.kex, pair.ready]);
    return { kex: kex - t0, auth: auth - t0 };
  } finally {
    pair.close();
  }
}

export interface HandshakeOptions {
  readonly links: readonly LinkKind[];
  readonly sequential: number;
  readonly rateCount: number;
  readonly concurrency: number;
  readonly repeats: number;
  readonly log?: (line: string) => void;
}

export async function runHandshakes(o: HandshakeOptions): Promise<HandshakeResult[]> {
  const cases: HandshakeCase[] = [];
  const combos: [Impl, Impl][] = [
    ['ours', 'ours'],
    ['ssh2', 'ssh2'],
    // ssh2 without its binding (the pure-JS path users get), when the installed one has it.
    ...(SSH2_NATIVE ? [['ssh2js', 'ssh2js'] as [Impl, Impl]] : []),
    ['ours', 'ssh2'],
    ['ssh2', 'ours'],
  ];
  for (const link of o.links)
    for (const [client, server] of combos) {
      if (link === 'memlink' && (client !== 'ours' || server !== 'ours')) continue;
      cases.push({ link, client, server });
    }
  const results = cases.map((c) => ({
    c,
    kexMs: [] as number[],
    authMs: [] as number[],
    perSecond: [] as number[],
    perCpuSecond: [] as number[],
  }));
  // Warm-up: JIT and lazy module state of both libraries.
  for (const r of results) for (let i = 0; i < 5; i++) await one(r.c);
  await settle(50);
  for (let i = 0; i < o.sequential; i++) {
    for (const r of i % 2 ? [...results].reverse() : results) {
      const t = await one(r.c);
      r.kexMs.push(t.kex);
      r.authMs.push(t.auth);
      await settle();
    }
  }
  // Rate: short blocks, pairs interleaved round by round (the machine's noise drifts).
  const rounds = o.repeats * 3;
  const block = Math.max(8, Math.ceil(o.rateCount / 3));
  for (let round = 0; round < rounds; round++) {
    for (const r of round % 2 ? [...results].reverse() : results) {
      await settle(20);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await pool(block, o.concurrency, () => one(r.c));
      const s = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      r.perSecond.push(block / s);
      r.perCpuSecond.push(block / ((cpu.user + cpu.system) / 1e6));
    }
  }
  for (const r of results)
    o.log?.(
      `  handshakes ${handshakeKey(r.c).padEnd(22)} ${median(r.perSecond).toFixed(0)}/s, ${median(r.perCpuSecond).toFixed(0)}/CPU-s (×${o.concurrency} in flight)`,
    );
  return results;
}

export interface SlowLinkResult {
  readonly c: HandshakeCase;
  /** Our client with ClientConfig.kexGuess. */
  readonly kexGuess: boolean;
  readonly delayMs: number;
  readonly authMs: number[];
}

/**
 * Time to authenticated over the Duplex link with `delayMs` of one-way latency (a WAN, a
 * serial line, a relay): here round trips, not CPU, decide. `count` handshakes per pair,
 * pairs interleaved.
 */
export async function runSlowLinkHandshakes(
  delayMs: number,
  count: number,
): Promise<SlowLinkResult[]> {
  const combos: [Impl, Impl, boolean][] = [
    ['ours', 'ours', false],
    ['ours', 'ours', true],
    ['ssh2', 'ssh2', false],
    ['ours', 'ssh2', false],
    ['ssh2', 'ours', false],
  ];
  const results = combos.map(([client, server, kexGuess]) => ({
    c: { link: 'duplex' as LinkKind, client, server },
    kexGuess,
    delayMs,
    authMs: [] as number[],
  }));
  for (let i = 0; i < count; i++) {
    for (const r of i % 2 ? [...results].reverse() : results) {
      const t0 = performance.now();
      const pair = createPair({ ...r.c, cipher: GCM, delayMs, kexGuess: r.kexGuess });
      try {
        r.authMs.push((await pair.ready) - t0);
      } finally {
        pair.close();
      }
      await settle();
    }
  }
  return results;
}
