/**
 * Against OpenSSH: a throwaway sshd on a loopback port (its own config, host key and
 * authorized key, started and stopped here), then per cipher
 *  - OpenSSH `ssh` → sshd: `head -c N | ssh … 'date; cat > /dev/null; date'`;
 *  - our client (transports/tcp.ts, publickey login) → sshd: the same command;
 * both timed by the two timestamps the remote command prints (start-up, key exchange and
 * login excluded alike).
 * Needs /usr/sbin/sshd, ssh and ssh-keygen, and root (sshd logs in as root with a key).
 */

import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Channel,
  channelEof,
  channelOpenSession,
  channelRequestExec,
  channelWrite,
  parsePrivateKey,
  type Session,
  sessionDisconnect,
} from '../src/index.js';
import { connectTcp } from '../transports/tcp.js';
import { CIPHERS, MiB, settle } from './lib.js';

const SSHD = '/usr/sbin/sshd';
const SSH = '/usr/bin/ssh';
const KEYGEN = '/usr/bin/ssh-keygen';

export interface OpenSshRow {
  readonly cipher: string;
  readonly ssh: number[];
  readonly ours: number[];
  readonly oursCpuPerGiB: number[];
}

export interface OpenSshResult {
  readonly description: string;
  readonly rows: OpenSshRow[];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`sshd did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs a shell command; resolves with its stdout. */
function run(cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('/bin/sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err}`)),
    );
  });
}

const SOURCE = Buffer.alloc(4 * MiB, 0x5a);

/** The remote command: prints sshd-side timestamps (ns) around consuming stdin. */
const SINK_COMMAND = 'date +%s%N; cat > /dev/null; date +%s%N';

/** Seconds between the two timestamps SINK_COMMAND printed. */
function remoteSeconds(output: string): number {
  const [a, b] = output
    .trim()
    .split(/\s+/)
    .map((x) => BigInt(x));
  if (a === undefined || b === undefined)
    throw new Error(`no timestamps in ${JSON.stringify(output)}`);
  return Number(b - a) / 1e9;
}

function ourTransfer(
  port: number,
  keyText: string,
  cipher: string,
  mac: string,
  bytes: number,
  chunk: number,
): Promise<{ seconds: number; cpuSeconds: number }> {
  const key = parsePrivateKey(keyText);
  return new Promise((resolve, reject) => {
    let session: Session | undefined;
    let cpu0: NodeJS.CpuUsage | undefined;
    let left = bytes;
    let output = '';
    const pump = (ch: Channel) => {
      while (left > 0) {
        const want = Math.min(chunk, left);
        const n = channelWrite(ch, SOURCE.subarray(0, want));
        left -= n;
        if (n < want) return;
      }
      channelEof(ch);
    };
    session = connectTcp(
      { host: '127.0.0.1', port },
      {
        role: 'client',
        onHostKey: (r) => r.accept(),
        auth: { username: 'root', methods: [{ type: 'publickey', key }] },
        algorithms: { kex: ['curve25519-sha256'], cipher: [cipher], mac: [mac] },
        onEvent: (e, s) => {
          if (e.type === 'error') reject(new Error(`${e.error.code}: ${e.error.message}`));
          if (e.type !== 'authenticated') return;
          channelOpenSession(s, {
            onEvent: (ev, ch) => {
              if (ev.type === 'open') channelRequestExec(ch, SINK_COMMAND);
              else if (ev.type === 'request-result') {
                if (!ev.success) return reject(new Error('exec refused'));
                cpu0 = process.cpuUsage();
                pump(ch);
              } else if (ev.type === 'writable') pump(ch);
              else if (ev.type === 'data') output += Buffer.from(ev.data).toString();
              else if (ev.type === 'close') {
                const cpu = process.cpuUsage(cpu0);
                sessionDisconnect(session!);
                try {
                  const seconds = remoteSeconds(output);
                  resolve({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
                } catch (e) {
                  reject(e);
                }
              }
            },
          });
        },
      },
    );
  });
}

export async function runOpenSsh(o: {
  mib: number;
  repeats: number;
  chunk?: number;
  log?: (line: string) => void;
}): Promise<OpenSshResult> {
  for (const bin of [SSHD, SSH, KEYGEN])
    if (!existsSync(bin)) throw new Error(`${bin} is not installed`);
  if (process.getuid?.() !== 0) throw new Error('needs root (sshd logs in as root with a key)');
  const dir = mkdtempSync(join(tmpdir(), 'pluggable-ssh-bench-'));
  let sshd: ChildProcess | undefined;
  try {
    for (const k of ['host', 'user'])
      execFileSync(KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, k)]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'user.pub')));
    const port = await freePort();
    const ciphers = [...new Set(CIPHERS.map((c) => c.cipher))].join(',');
    const macs = [...new Set(CIPHERS.map((c) => c.mac).filter(Boolean))].join(',');
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        'ListenAddress 127.0.0.1',
        `Port ${port}`,
        `HostKey ${join(dir, 'host')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        'UsePAM no',
        'StrictModes no',
        'LogLevel ERROR',
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PrintMotd no',
        'KexAlgorithms curve25519-sha256',
        `Ciphers ${ciphers}`,
        `MACs ${macs}`,
        '',
      ].join('\n'),
    );
    mkdirSync('/run/sshd', { recursive: true });
    sshd = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: 'ignore' });
    await waitForPort(port, 5000);
    const userKey = readFileSync(join(dir, 'user'), 'utf8');
    const rows: OpenSshRow[] = [];
    const sshCmd = (c: (typeof CIPHERS)[number], bytes: number) =>
      `head -c ${bytes} /dev/zero | ${SSH} -q -T -i ${join(dir, 'user')} -p ${port} ` +
      '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes ' +
      `-o KexAlgorithms=curve25519-sha256 -c ${c.cipher} -m ${c.mac ?? 'hmac-sha2-256-etm@openssh.com'} ` +
      `root@127.0.0.1 '${SINK_COMMAND}'`;
    for (const c of CIPHERS) {
      const row: OpenSshRow = { cipher: c.id, ssh: [], ours: [], oursCpuPerGiB: [] };
      for (let r = 0; r < o.repeats; r++) {
        row.ssh.push(o.mib / remoteSeconds(await run(sshCmd(c, o.mib * MiB))));
        const ours = await ourTransfer(
          port,
          userKey,
          c.cipher,
          c.mac ?? 'hmac-sha2-256-etm@openssh.com',
          o.mib * MiB,
          o.chunk ?? 256 * 1024,
        );
        row.ours.push(o.mib / ours.seconds);
        row.oursCpuPerGiB.push((ours.cpuSeconds * 1024) / o.mib);
        await settle(50);
        o.log?.(
          `  openssh ${c.id}: ssh ${row.ssh.at(-1)!.toFixed(0)} MiB/s, ours ${row.ours.at(-1)!.toFixed(0)} MiB/s`,
        );
      }
      rows.push(row);
    }
    // `ssh -V` prints its version on stderr.
    const version = spawnSync(SSH, ['-V'], { encoding: 'utf8' }).stderr;
    return {
      description: `${(version || '').trim() || 'OpenSSH'}; sshd and \`ssh\` are separate processes (they use the second core), our client runs in this process. ${o.mib} MiB of zeros into \`${SINK_COMMAND}\`: both clients are timed by sshd's side, between the two timestamps (so process start-up, key exchange and login are excluded alike). sshd offers 32 KiB packets, so both clients send 32 KiB packets. CPU-s per GiB: our process's CPU (user + system) during the transfer.`,
      rows,
    };
  } finally {
    if (sshd?.pid) process.kill(sshd.pid, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
