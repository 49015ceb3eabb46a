/**
 * @module
 * Helpers for the example tests: run an example as its own process the way its header says
 * (`node --import tsx examples/<name>.ts …` from the repository root), and an OpenSSH sshd that
 * lets root in with a user key made by ssh-keygen (so both our examples and `ssh` can use it).
 */

import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  BIN,
  type KeyFile,
  REPO_ROOT,
  requireBinary,
  type SshdHandle,
  startSshd,
} from '../interop/peers.js';

const execFileAsync = promisify(execFile);

/** How an example process ended. */
export interface ExampleRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Options of {@link runExample} and {@link runProgram}. */
export interface RunOptions {
  /** Written to the process's stdin, which is then closed (default: closed at once). */
  readonly stdin?: Uint8Array | string;
  /** Added to this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
  /** SIGKILL after this long (default 30 s). */
  readonly timeoutMs?: number;
}

/** Runs `examples/<name>.ts` with `args` as its own process and collects its output. */
export function runExample(
  name: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<ExampleRun> {
  return runProgram(process.execPath, ['--import', 'tsx', `examples/${name}.ts`, ...args], options);
}

/** Runs a program from the repository root and collects its output. */
export function runProgram(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<ExampleRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: Date.now() - started,
      });
    });
  });
}

/** A user key pair made by ssh-keygen (OpenSSH format, no passphrase). */
export interface UserKeyFile {
  readonly path: string;
  readonly publicKeyLine: string;
}

export async function makeUserKey(dir: string, name = 'id_ed25519'): Promise<UserKeyFile> {
  const path = join(dir, name);
  await execFileAsync(requireBinary(BIN.sshKeygen), [
    '-t',
    'ed25519',
    '-q',
    '-N',
    '',
    '-C',
    'examples',
    '-f',
    path,
  ]);
  return { path, publicKeyLine: readFileSync(`${path}.pub`, 'utf8').trim() };
}

/** An sshd that admits root with `userKey`. */
export interface ExampleSshd {
  readonly sshd: SshdHandle;
  readonly userKey: UserKeyFile;
  /** The ed25519 host key, which our client negotiates first. */
  readonly hostKey: KeyFile;
}

/** Starts sshd and authorizes `userKey` (a fresh one unless given) for root. */
export async function startExampleSshd(userKey?: UserKeyFile): Promise<ExampleSshd> {
  const sshd = await startSshd();
  const key = userKey ?? (await makeUserKey(sshd.dir));
  writeFileSync(join(sshd.dir, 'authorized_keys'), `${key.publicKeyLine}\n`);
  const hostKey = sshd.keys.find((k) => k.kind === 'ed25519');
  if (!hostKey) throw new Error('sshd has no ed25519 host key');
  return { sshd, userKey: key, hostKey };
}
