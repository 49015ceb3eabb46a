/**
 * @module
 * A throwaway OpenSSH `ssh-agent -D` on a temp socket, keys made by ssh-keygen, ssh-add
 * against it, and independent signature checks with node:crypto (keys rebuilt as JWK from
 * the SSH blob). Missing binaries fail the tests, never skip them.
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SshReader } from '../../src/wire/reader.js';
import { requireBinary } from '../interop/peers.js';

const run = promisify(execFile);

export const AGENT_BIN = {
  agent: '/usr/bin/ssh-agent',
  add: '/usr/bin/ssh-add',
  keygen: '/usr/bin/ssh-keygen',
} as const;

/** A key file made with ssh-keygen. */
export interface UserKey {
  readonly kind: 'ed25519' | 'ecdsa' | 'rsa';
  readonly path: string;
  readonly publicKeyLine: string;
  readonly blob: Uint8Array;
}

export async function makeKey(dir: string, kind: UserKey['kind']): Promise<UserKey> {
  const path = join(dir, `id_${kind}`);
  const type = kind === 'rsa' ? ['-t', 'rsa', '-b', '2048'] : ['-t', kind];
  await run(requireBinary(AGENT_BIN.keygen), [
    ...type,
    '-q',
    '-N',
    '',
    '-C',
    `agent-${kind}`,
    '-f',
    path,
  ]);
  const publicKeyLine = readFileSync(`${path}.pub`, 'utf8').trim();
  const blob = new Uint8Array(Buffer.from(publicKeyLine.split(' ')[1]!, 'base64'));
  return { kind, path, publicKeyLine, blob };
}

/** A running `ssh-agent -D -a sock`. */
export interface RunningAgent {
  readonly socket: string;
  readonly child: ChildProcess;
  add(key: UserKey): Promise<void>;
  remove(key: UserKey): Promise<void>;
  /** `ssh-add -L` output lines. */
  list(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startAgent(dir: string, name = 'agent.sock'): Promise<RunningAgent> {
  requireBinary(AGENT_BIN.agent);
  requireBinary(AGENT_BIN.add);
  const socket = join(dir, name);
  const child = spawn(AGENT_BIN.agent, ['-D', '-a', socket], { stdio: ['ignore', 'pipe', 'pipe'] });
  const deadline = Date.now() + 10_000;
  while (!existsSync(socket)) {
    if (child.exitCode !== null) throw new Error(`ssh-agent exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('ssh-agent did not create its socket');
    await new Promise((r) => setTimeout(r, 20));
  }
  const env = { ...process.env, SSH_AUTH_SOCK: socket };
  return {
    socket,
    child,
    add: async (key) => {
      await run(AGENT_BIN.add, ['-q', key.path], { env });
    },
    remove: async (key) => {
      await run(AGENT_BIN.add, ['-q', '-d', `${key.path}.pub`], { env });
    },
    list: async () => {
      const { stdout } = await run(AGENT_BIN.add, ['-L'], { env });
      return stdout.trim().split('\n');
    },
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGKILL');
      }),
  };
}

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

/** Strips the sign byte of an mpint and left-pads to `size` bytes. */
function unsigned(b: Uint8Array, size?: number): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const m = b.subarray(i);
  if (size === undefined || m.length >= size) return m;
  const out = new Uint8Array(size);
  out.set(m, size - m.length);
  return out;
}

/**
 * Verifies an SSH signature blob over `data` with node:crypto only: the key is rebuilt as a
 * JWK from the public key blob (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4, RFC 8332 §3).
 * Returns the algorithm the blob names; throws when the signature does not verify.
 */
export function verifyWithNodeCrypto(
  keyBlob: Uint8Array,
  data: Uint8Array,
  sigBlob: Uint8Array,
): string {
  const k = new SshReader(keyBlob);
  const type = k.ascii();
  const s = new SshReader(sigBlob);
  const algorithm = s.ascii();
  const sig = s.string();
  s.finish();
  let ok: boolean;
  if (type === 'ssh-ed25519') {
    const key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: b64url(k.string()) },
      format: 'jwk',
    });
    ok = algorithm === 'ssh-ed25519' && verify(null, data, key, sig);
  } else if (type.startsWith('ecdsa-sha2-nistp')) {
    const bits = type.slice('ecdsa-sha2-nistp'.length);
    k.ascii();
    const point = k.string();
    const size = (point.length - 1) / 2;
    const key = createPublicKey({
      key: {
        kty: 'EC',
        crv: `P-${bits}`,
        x: b64url(point.subarray(1, 1 + size)),
        y: b64url(point.subarray(1 + size)),
      },
      format: 'jwk',
    });
    const rs = new SshReader(sig);
    const raw = Buffer.concat([unsigned(rs.string(), size), unsigned(rs.string(), size)]);
    const hash = { '256': 'sha256', '384': 'sha384', '521': 'sha512' }[bits]!;
    ok = algorithm === type && verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, raw);
  } else if (type === 'ssh-rsa') {
    const e = k.string();
    const n = k.string();
    const key = createPublicKey({
      key: { kty: 'RSA', n: b64url(unsigned(n)), e: b64url(unsigned(e)) },
      format: 'jwk',
    });
    const hash = { 'rsa-sha2-512': 'sha512', 'rsa-sha2-256': 'sha256', 'ssh-rsa': 'sha1' }[
      algorithm
    ];
    ok = hash !== undefined && verify(hash, data, key, sig);
  } else {
    throw new Error(`no verifier for ${type}`);
  }
  if (!ok) throw new Error(`${algorithm} signature does not verify`);
  return algorithm;
}
