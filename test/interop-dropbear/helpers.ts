/**
 * @module
 * Helpers for the dropbear connection-layer interop tests: the throwaway local user dropbear
 * logs in (`psshdb`, with a password and `~/.ssh/authorized_keys`), a dropbear that allows
 * password logins (no `-s`), our client over TCP with forced algorithms, dropbearconvert, and
 * a dbclient runner with a private `$HOME` and no controlling terminal.
 */

import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type AlgorithmPreferences,
  type ClientAuthMethod,
  type ClientConfig,
  type NegotiatedAlgorithms,
  type Session,
  type SessionEvent,
  sessionDisconnect,
  sessionLastError,
  sessionStrictKex,
} from '../../src/index.js';
import { attachSocket } from '../../transports/tcp.js';
import {
  BIN,
  freePort,
  generateDropbearKeys,
  type KeyFile,
  makeTempDir,
  REPO_ROOT,
  removeDir,
  requireBinary,
} from '../interop/peers.js';

const execFileAsync = promisify(execFile);

export const DROPBEARCONVERT = '/usr/bin/dropbearconvert';

// ---- the local user dropbear logs in -----------------------------------------------------

/** The throwaway local user dropbear authenticates (key and password). */
export const DB_USER = 'psshdb';
/** Marks a home directory as made by these tests (so a stale user may be reused and removed). */
const MARKER = '.pluggable-ssh-interop-dropbear';

export interface DbUser {
  readonly name: string;
  readonly home: string;
  /** A fresh random password, set with chpasswd. */
  readonly password: string;
  /** Deletes the user and its home directory. */
  cleanup(): void;
}

function passwdEntry(name: string): string[] | undefined {
  try {
    return execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
  } catch {
    return undefined;
  }
}

/** Runs a shadow-utils command, retrying while another test holds /etc/passwd's lock. */
function shadowUtil(file: string, args: readonly string[], input?: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      execFileSync(file, args, { stdio: 'pipe', ...(input !== undefined ? { input } : {}) });
      return;
    } catch (e) {
      const stderr = String((e as { stderr?: Buffer }).stderr ?? '');
      if (attempt < 20 && /lock|try again/i.test(stderr)) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
        continue;
      }
      throw new Error(`${file} ${args.join(' ')} failed: ${stderr || String(e)}`);
    }
  }
}

/**
 * Creates {@link DB_USER} (home directory, /bin/sh, a random password) and installs
 * `authorizedKeys` as its `~/.ssh/authorized_keys` (owned by the user, mode 600: dropbear
 * checks). A user of that name left by an earlier run (its home holds our marker) is reused;
 * any other existing user of that name is an error. Needs root, as CI has.
 */
export function createDbUser(authorizedKeys: readonly string[]): DbUser {
  let entry = passwdEntry(DB_USER);
  if (entry && !existsSync(join(entry[5] ?? '/nonexistent', MARKER))) {
    throw new Error(
      `a local user ${DB_USER} exists that these tests did not create: remove it or rename the test user`,
    );
  }
  try {
    if (!entry) shadowUtil('/usr/sbin/useradd', ['-m', '-s', '/bin/sh', DB_USER]);
    entry = passwdEntry(DB_USER);
    const home = entry?.[5];
    const uid = Number(entry?.[2]);
    const gid = Number(entry?.[3]);
    if (!home || !Number.isInteger(uid)) throw new Error(`getent passwd ${DB_USER}: ${entry}`);
    writeFileSync(join(home, MARKER), '');
    const password = `Db-${randomBytes(9).toString('base64url')}`;
    shadowUtil('/usr/sbin/chpasswd', [], `${DB_USER}:${password}\n`);
    const ssh = join(home, '.ssh');
    mkdirSync(ssh, { recursive: true, mode: 0o700 });
    const keysFile = join(ssh, 'authorized_keys');
    writeFileSync(keysFile, `${authorizedKeys.join('\n')}\n`, { mode: 0o600 });
    chownSync(ssh, uid, gid);
    chownSync(keysFile, uid, gid);
    return {
      name: DB_USER,
      home,
      password,
      cleanup: () => {
        try {
          shadowUtil('/usr/sbin/userdel', ['-r', DB_USER]);
        } catch {
          // userdel -r complains about a missing mail spool; the user is gone anyway.
        }
      },
    };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(
      `dropbear logs in local users only: creating ${DB_USER} with useradd/chpasswd failed ` +
        `(the tests must run as root): ${why}`,
    );
  }
}

// ---- dropbear ----------------------------------------------------------------------------

export interface DropbearServer {
  readonly port: number;
  readonly hostKey: KeyFile;
  logs(): string;
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}

/** Resolves once 127.0.0.1:port answers with an SSH banner; throws if the child exited. */
async function waitForBanner(port: number, child: ChildProcess, logs: () => string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dropbear exited ${child.exitCode}: ${logs()}`);
    const ok = await new Promise<boolean>((done) => {
      const s = netConnect(port, '127.0.0.1');
      s.once('data', (c: Buffer) => {
        s.destroy();
        done(c.toString('latin1').startsWith('SSH-'));
      });
      s.once('error', () => done(false));
      s.setTimeout(1000, () => {
        s.destroy();
        done(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`dropbear did not answer on ${port}: ${logs()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts `dropbear -F -E` (password logins allowed: no `-s`) on a free loopback port with one
 * fresh ed25519 host key from dropbearkey. `extraArgs` go before the key.
 */
export async function startPasswordDropbear(
  extraArgs: readonly string[] = [],
): Promise<DropbearServer> {
  requireBinary(BIN.dropbear);
  const dir = makeTempDir('dropbear-pw');
  try {
    const [hostKey] = await generateDropbearKeys(dir, ['ed25519']);
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const child = spawn(
        BIN.dropbear,
        [
          '-F',
          '-E',
          '-P',
          join(dir, 'dropbear.pid'),
          '-p',
          `127.0.0.1:${port}`,
          ...extraArgs,
          '-r',
          hostKey!.path,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const out: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => out.push(c));
      const logs = () => Buffer.concat(out).toString('utf8');
      try {
        await waitForBanner(port, child, logs);
      } catch (e) {
        await stopChild(child);
        if (attempt >= 2) throw e;
        continue;
      }
      return {
        port,
        hostKey: hostKey!,
        logs,
        stop: async () => {
          await stopChild(child);
          removeDir(dir);
        },
      };
    }
  } catch (e) {
    removeDir(dir);
    throw e;
  }
}

// ---- our client --------------------------------------------------------------------------

export interface DbOurClient {
  readonly session: Session;
  readonly events: SessionEvent[];
  readonly algorithms: NegotiatedAlgorithms;
  readonly strictKex: boolean;
  /** Resolves once the socket closed. */
  readonly closed: Promise<void>;
  /** Sends DISCONNECT (reason 11) and waits (at most 3 s) for the socket to close. */
  disconnect(): Promise<void>;
}

export interface DbClientOptions {
  readonly port: number;
  readonly username: string;
  readonly methods: readonly ClientAuthMethod[];
  /** The only host key fingerprint accepted. */
  readonly fingerprint: string;
  readonly algorithms?: AlgorithmPreferences;
  /** ClientConfig.kexGuess. */
  readonly kexGuess?: boolean;
  /** Appended to failure messages. */
  readonly logs?: () => string;
  readonly timeoutMs?: number;
}

/**
 * Connects our client over TCP (transports/tcp.ts attachSocket) and resolves once it is
 * authenticated; rejects with the session's last error when it ends first.
 */
export function connectToDropbear(options: DbClientOptions): Promise<DbOurClient> {
  const events: SessionEvent[] = [];
  let settle: ((ok: boolean) => void) | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => {
    resolveClosed = r;
  });
  const config: ClientConfig<Session> = {
    role: 'client',
    ...(options.algorithms ? { algorithms: options.algorithms } : {}),
    ...(options.kexGuess !== undefined ? { kexGuess: options.kexGuess } : {}),
    onHostKey: (request) => {
      if (request.fingerprint === options.fingerprint) request.accept();
      else request.reject(`expected ${options.fingerprint}, got ${request.fingerprint}`);
    },
    auth: { username: options.username, methods: options.methods },
    onEvent: (event) => {
      events.push(event);
      if (event.type === 'authenticated') settle?.(true);
      if (event.type === 'closed') settle?.(false);
    },
  };
  const socket = netConnect(options.port, '127.0.0.1');
  socket.on('close', () => resolveClosed());
  const session = attachSocket(socket, config);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => settle?.(false), options.timeoutMs ?? 20_000);
    settle = (ok) => {
      clearTimeout(timer);
      settle = undefined;
      if (ok) {
        const hs = events.find((e) => e.type === 'handshake-complete');
        resolve({
          session,
          events,
          algorithms: (hs as Extract<SessionEvent, { type: 'handshake-complete' }>).algorithms,
          strictKex: sessionStrictKex(session),
          closed,
          disconnect: async () => {
            sessionDisconnect(session, 11, 'interop test done');
            await Promise.race([closed, new Promise((r) => setTimeout(r, 3000))]);
            socket.destroy();
          },
        });
        return;
      }
      socket.destroy();
      const err = sessionLastError(session);
      const seen = events.map((e) => e.type).join(', ');
      const error = new Error(
        `not authenticated: ${err ? `${err.code}: ${err.message}` : 'timed out'} (events: ${seen})` +
          (options.logs ? `\n--- dropbear ---\n${options.logs()}` : ''),
      );
      (error as Error & { code?: string | undefined }).code = err?.code;
      reject(error);
    };
  });
}

// ---- dbclient ------------------------------------------------------------------------------

/** Converts an OpenSSH private key to dropbear's format (dbclient reads no other). */
export async function toDropbearKey(openSshKeyPath: string): Promise<string> {
  const out = `${openSshKeyPath}.dropbear`;
  await execFileAsync(requireBinary(DROPBEARCONVERT), ['openssh', 'dropbear', openSshKeyPath, out]);
  return out;
}

export interface DbclientResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * Runs dbclient to completion with `$HOME` = `home` (its known_hosts and default identity
 * live there), in a new session (no controlling terminal: it cannot prompt), with stdin from
 * `stdinFile` or closed, cwd the repository root (so `-J` programs find `--import tsx`).
 */
export function runDbclient(
  args: readonly string[],
  options: { home: string; stdinFile?: string; timeoutMs?: number },
): Promise<DbclientResult> {
  requireBinary(BIN.dbclient);
  const started = performance.now();
  // The shell opens stdin from the file (dbclient then reads a regular file, not a pipe).
  const script = options.stdinFile
    ? 'exec "$0" "$@" < "$PSSH_STDIN"'
    : 'exec "$0" "$@" < /dev/null';
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script, BIN.dbclient, ...args], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: options.home,
        ...(options.stdinFile ? { PSSH_STDIN: options.stdinFile } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
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
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: performance.now() - started,
      });
    });
  });
}
