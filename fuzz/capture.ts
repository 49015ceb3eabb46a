/**
 * @module
 * One-off seed capture from real peers, for the plaintext targets: what OpenSSH's sshd and
 * dropbear send to our seeded fuzz client, and what OpenSSH's ssh and dropbear's dbclient send
 * to our seeded fuzz server. Because the fuzz sessions draw all their randomness from fixed
 * seeds, a captured transcript replays exactly (the peer's ephemeral key is in the input).
 * Run `npx tsx fuzz/capture.ts` (needs openssh-server, openssh-client, dropbear-bin); it
 * writes into fuzz/seeds/{version,kex-client,kex-server}/, which minimisation keeps.
 */

import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { sessionReceive } from '../src/index.js';
import { spawnSshdInetd } from '../test/interop/peers.js';
import { saveEntry, seedDir } from './corpus.js';
import { Monitored } from './monitor.js';
import { clientConfig, fuzzHostKey, serverConfig } from './peers.js';

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Runs `session` against a peer speaking on `input`/`output` for `ms` milliseconds and returns
 * every byte the peer sent.
 */
function converse(
  session: Monitored,
  input: Readable,
  output: Writable,
  ms: number,
): Promise<Uint8Array> {
  const recorded: Uint8Array[] = [];
  let pending: Uint8Array = new Uint8Array(0);
  const flush = () => {
    const out = session.takeOutput();
    if (out.length > 0) output.write(out);
  };
  flush();
  input.on('data', (chunk: Buffer) => {
    const bytes = new Uint8Array(chunk);
    recorded.push(bytes);
    pending = concat([pending, bytes]);
    const n = sessionReceive(session.session, pending);
    if (n > 0) pending = pending.subarray(n);
    flush();
  });
  return new Promise((resolve) => setTimeout(() => resolve(concat(recorded)), ms));
}

async function fromSshd(): Promise<Uint8Array> {
  const sshd = await spawnSshdInetd();
  const client = new Monitored((m) => clientConfig(m));
  const bytes = await converse(client, sshd.child.stdout, sshd.child.stdin, 1500);
  await sshd.stop();
  return bytes;
}

async function fromDropbearServer(): Promise<Uint8Array> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-dropbear-'));
  const key = join(dir, 'host_ed25519');
  await new Promise((r) => spawn('dropbearkey', ['-t', 'ed25519', '-f', key]).on('exit', r));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn('dropbear', ['-F', '-E', '-s', '-p', `127.0.0.1:${port}`, '-r', key], {
    stdio: 'ignore',
  });
  await new Promise((r) => setTimeout(r, 500));
  const socket = connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  const client = new Monitored((m) => clientConfig(m));
  const bytes = await converse(client, socket, socket, 1500);
  socket.destroy();
  child.kill();
  rmSync(dir, { recursive: true, force: true });
  return bytes;
}

/** Listens on a loopback port, runs `command` against our fuzz server, records the client. */
async function fromClient(command: (port: number) => [string, string[]]): Promise<Uint8Array> {
  const server = new Monitored((m) => serverConfig(m, { hostKeys: [fuzzHostKey()] }));
  let done: (b: Uint8Array) => void = () => {};
  const result = new Promise<Uint8Array>((r) => {
    done = r;
  });
  const listener = createServer((socket) => {
    converse(server, socket, socket, 1500).then((b) => {
      socket.destroy();
      done(b);
    });
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const port = (listener.address() as { port: number }).port;
  const [file, args] = command(port);
  const child = spawn(file, args, { stdio: ['pipe', 'ignore', 'ignore'] });
  const bytes = await result;
  child.kill();
  listener.close();
  return bytes;
}

const sshdBytes = await fromSshd();
const dropbearBytes = await fromDropbearServer();
const sshBytes = await fromClient((port) => [
  'ssh',
  [
    '-p',
    String(port),
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'PreferredAuthentications=none,password',
    'fuzz@127.0.0.1',
    'true',
  ],
]);
const dbclientBytes = await fromClient((port) => [
  'dbclient',
  ['-y', '-y', '-p', String(port), 'fuzz@127.0.0.1', 'true'],
]);

for (const [name, bytes] of [
  ['sshd', sshdBytes],
  ['dropbear', dropbearBytes],
  ['ssh', sshBytes],
  ['dbclient', dbclientBytes],
] as const) {
  const line = new TextDecoder().decode(bytes.subarray(0, Math.max(0, bytes.indexOf(0x0a))));
  console.log(`${name}: ${bytes.length} bytes, ${JSON.stringify(line)}`);
}
const save = (target: string, bytes: Uint8Array) => saveEntry(target, bytes, seedDir(target));
for (const b of [sshdBytes, dropbearBytes]) {
  save('kex-client', b);
  save('version', b.subarray(0, Math.min(b.length, 2048)));
}
for (const b of [sshBytes, dbclientBytes]) {
  save('kex-server', b);
  save('version', b.subarray(0, Math.min(b.length, 2048)));
}
