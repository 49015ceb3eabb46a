/**
 * @module
 * Helpers for the connection-layer interop tests: a throwaway sshd with password login and
 * forwarding enabled, the local user it logs in, our client over TCP or `sshd -i`, a TCP echo
 * server, a minimal SFTP v3 codec, and OpenSSH's `ssh` against our server. Channel plumbing
 * is in ./channel-tools.ts, our server's application in ./server-app.ts.
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import {
  type ChannelOpenRequest,
  type ClientAuthMethod,
  type ClientConfig,
  type GlobalRequest,
  type Session,
  type SessionEvent,
  sessionDisconnect,
  sessionLastError,
} from '../../src/index.js';
import { spawnSession } from '../../transports/ipc.js';
import { attachSocket } from '../../transports/tcp.js';
import {
  BIN,
  freePort,
  generateOpenSshKeys,
  type KeyFile,
  makeTempDir,
  removeDir,
  requireBinary,
} from '../interop/peers.js';

export { BIN, freePort, makeTempDir, removeDir, requireBinary };

// ---- the local user for password login ------------------------------------------------

/** The throwaway local user sshd logs in with a password. */
export const TEST_USER = 'psshtest';
export const TEST_PASSWORD = 'Interop-Pass-7';

/** The test user as created by {@link ensureTestUser}. */
export interface TestUser {
  /** Its home directory (from the password database). */
  readonly home: string;
  /** Deletes the user if {@link ensureTestUser} created it, else locks its password again. */
  cleanup(): void;
}

/**
 * Creates {@link TEST_USER} (home directory, /bin/sh) if it does not exist and sets its
 * password. Needs root (CI runs as root on a throwaway machine); throws a clear error
 * otherwise: password login must be tested. Call `cleanup()` afterwards: a local user with a
 * published password must not outlive the tests on a developer's machine.
 */
export function ensureTestUser(): TestUser {
  const entry = () => {
    try {
      return execFileSync('getent', ['passwd', TEST_USER], { encoding: 'utf8' }).trim();
    } catch {
      return undefined;
    }
  };
  let created = false;
  try {
    if (entry() === undefined) {
      try {
        execFileSync('/usr/sbin/useradd', ['-m', '-s', '/bin/sh', TEST_USER], { stdio: 'pipe' });
        created = true;
      } catch (e) {
        // Another run may have created it meanwhile (useradd exit 9: already exists).
        if (entry() === undefined) throw e;
      }
    }
    execFileSync('/usr/sbin/chpasswd', [], {
      input: `${TEST_USER}:${TEST_PASSWORD}\n`,
      stdio: 'pipe',
    });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(
      `password login needs a local user ${TEST_USER} with a known password; creating it with ` +
        `useradd/chpasswd failed (the tests must run as root): ${why}`,
    );
  }
  const home = entry()?.split(':')[5];
  if (!home) throw new Error(`getent passwd ${TEST_USER} names no home directory`);
  return {
    home,
    cleanup: () => {
      try {
        if (created) execFileSync('/usr/sbin/userdel', ['-r', TEST_USER], { stdio: 'pipe' });
        else execFileSync('/usr/sbin/usermod', ['-L', TEST_USER], { stdio: 'pipe' });
      } catch {
        // userdel -r complains about a missing mail spool; the user is gone anyway.
      }
    },
  };
}

// ---- sshd -------------------------------------------------------------------------------

export interface ConnSshd {
  readonly port: number;
  readonly dir: string;
  readonly configPath: string;
  readonly hostKey: KeyFile;
  /** Everything the listening sshd wrote (with -e: its log). */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Starts `sshd -D -e` on a free loopback port with one ed25519 host key, password login,
 * TCP forwarding, `Subsystem sftp internal-sftp` and `AcceptEnv PSSH_*`. The authorized
 * keys file (shared by all users) is `authorizedKeys`.
 */
export async function startConnSshd(authorizedKeys: readonly string[]): Promise<ConnSshd> {
  requireBinary(BIN.sshd);
  mkdirSync('/run/sshd', { recursive: true });
  const dir = makeTempDir('conn-sshd');
  const [hostKey] = await generateOpenSshKeys(dir, ['ed25519']);
  writeFileSync(join(dir, 'authorized_keys'), `${authorizedKeys.join('\n')}\n`);
  const configPath = join(dir, 'sshd_config');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    writeFileSync(
      configPath,
      [
        'ListenAddress 127.0.0.1',
        `Port ${port}`,
        `HostKey ${hostKey!.path}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        'UsePAM no',
        'StrictModes no',
        'LogLevel VERBOSE',
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication yes',
        'KbdInteractiveAuthentication no',
        'AllowTcpForwarding yes',
        'PermitTTY yes',
        'PrintMotd no',
        'PrintLastLog no',
        'AcceptEnv PSSH_*',
        'MaxStartups 100:30:200',
        'Subsystem sftp internal-sftp',
        '',
      ].join('\n'),
    );
    const child = spawn(BIN.sshd, ['-D', '-e', '-f', configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => out.push(c));
    const logs = () => Buffer.concat(out).toString('utf8');
    try {
      await waitForPort(port, child, logs);
    } catch (e) {
      child.kill('SIGKILL');
      if (attempt >= 2) {
        removeDir(dir);
        throw e;
      }
      continue;
    }
    return {
      port,
      dir,
      configPath,
      hostKey: hostKey!,
      logs,
      stop: async () => {
        await stopChild(child);
        removeDir(dir);
      },
    };
  }
}

async function waitForPort(port: number, child: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited ${child.exitCode}: ${logs()}`);
    const ok = await new Promise<boolean>((done) => {
      const s = netConnect(port, '127.0.0.1');
      s.once('data', () => {
        s.destroy();
        done(true);
      });
      s.once('error', () => done(false));
      s.setTimeout(1000, () => {
        s.destroy();
        done(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd did not answer on ${port}: ${logs()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
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

// ---- our client -------------------------------------------------------------------------

/** How our client reaches sshd: a TCP connection, or a fresh `sshd -i` over pipes. */
export type LinkKind = 'tcp' | 'sshd -i';

export interface OurClient {
  readonly session: Session;
  readonly events: SessionEvent[];
  /** Global requests the server sent us (e.g. hostkeys-00@openssh.com). */
  readonly globalRequests: string[];
  /** Resolves once the link has closed. */
  readonly closed: Promise<void>;
  /** The peer's log (sshd -E file or the listener's stderr). */
  logs(): string;
  /** Sends DISCONNECT and waits for the link to close. */
  disconnect(): Promise<void>;
}

export interface OurClientOptions {
  readonly username: string;
  readonly methods: readonly ClientAuthMethod[];
  /** The server's host key fingerprint: any other key is rejected. */
  readonly fingerprint: string;
  readonly hostKeyAlgorithms?: readonly string[];
  /** ClientConfig.kexGuess. */
  readonly kexGuess?: boolean;
  readonly onChannelOpen?: (request: ChannelOpenRequest, session: Session) => void;
  readonly timeoutMs?: number;
  /** Our client rekeys after this many bytes in either direction. */
  readonly rekeyAfterBytes?: number;
  /** Extra `sshd -i` arguments (e.g. `-o RekeyLimit=1M`). */
  readonly sshdArgs?: readonly string[];
}

/** Connects our client and resolves once it is authenticated (rejects with the error otherwise). */
export function connectOurClient(
  target:
    | { readonly kind: 'tcp'; readonly port: number; readonly logs?: () => string }
    | {
        readonly kind: 'sshd -i';
        readonly configPath: string;
        readonly dir: string;
      },
  options: OurClientOptions,
): Promise<OurClient> {
  const events: SessionEvent[] = [];
  const globalRequests: string[] = [];
  let settle: (() => void) | undefined;
  let fail: ((e: Error) => void) | undefined;
  let linkClosed!: () => void;
  const closed = new Promise<void>((r) => {
    linkClosed = r;
  });
  const config: ClientConfig<Session> = {
    role: 'client',
    ...(options.hostKeyAlgorithms ? { algorithms: { hostKey: options.hostKeyAlgorithms } } : {}),
    ...(options.kexGuess !== undefined ? { kexGuess: options.kexGuess } : {}),
    ...(options.rekeyAfterBytes !== undefined ? { rekeyAfterBytes: options.rekeyAfterBytes } : {}),
    onHostKey: (request) => {
      if (request.fingerprint === options.fingerprint) request.accept();
      else request.reject(`expected ${options.fingerprint}`);
    },
    auth: { username: options.username, methods: options.methods },
    onEvent: (event) => {
      events.push(event);
      if (event.type === 'authenticated') settle?.();
      if (event.type === 'closed') {
        linkClosed();
        fail?.(new Error(`session closed before authentication`));
      }
    },
    onGlobalRequest: (request: GlobalRequest) => {
      globalRequests.push(request.name);
      if (request.wantReply) request.reject();
    },
    ...(options.onChannelOpen ? { onChannelOpen: options.onChannelOpen } : {}),
  };
  let session: Session;
  let logs: () => string;
  if (target.kind === 'tcp') {
    const socket = netConnect(target.port, '127.0.0.1');
    socket.on('close', () => linkClosed());
    session = attachSocket(socket, config);
    logs = target.logs ?? (() => '');
  } else {
    const logFile = join(makeTempDirIn(target.dir), 'sshd.log');
    writeFileSync(logFile, '');
    const spawned = spawnSession(
      BIN.sshd,
      ['-i', '-f', target.configPath, '-E', logFile, ...(options.sshdArgs ?? [])],
      config,
      {
        stderr: 'collect',
      },
    );
    spawned.child.on('exit', () => linkClosed());
    session = spawned.session;
    logs = () => {
      let text = spawned.stderrText();
      try {
        text += readFileSync(logFile, 'utf8');
      } catch {}
      return text;
    };
  }
  const client: OurClient = {
    session,
    events,
    globalRequests,
    closed,
    logs,
    disconnect: async () => {
      sessionDisconnect(session, 11, 'interop test done');
      await Promise.race([closed, new Promise((r) => setTimeout(r, 3000))]);
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail?.(new Error('timed out waiting for authentication')),
      options.timeoutMs ?? 20_000,
    );
    settle = () => {
      clearTimeout(timer);
      settle = undefined;
      fail = undefined;
      resolve(client);
    };
    fail = (e) => {
      clearTimeout(timer);
      settle = undefined;
      fail = undefined;
      const err = sessionLastError(session);
      const seen = events.map((x) => x.type).join(', ');
      reject(
        new Error(
          `${e.message}: ${err ? `${err.code}: ${err.message}` : 'no error'} (events: ${seen})\n--- peer log ---\n${logs()}`,
        ),
      );
    };
    if (events.some((e) => e.type === 'authenticated')) settle();
    else if (events.some((e) => e.type === 'closed')) fail(new Error('session closed'));
  });
}

let tempCounter = 0;
function makeTempDirIn(dir: string): string {
  const d = join(dir, `inetd-${process.pid}-${++tempCounter}`);
  mkdirSync(d, { recursive: true });
  return d;
}

// ---- TCP helpers ------------------------------------------------------------------------

export interface EchoServer {
  readonly port: number;
  /** Connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/** A TCP echo server on 127.0.0.1 (half-close aware: it ends after echoing everything). */
export function startEchoServer(): Promise<EchoServer> {
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  const server: Server = createServer({ allowHalfOpen: true }, (s) => {
    state.connections++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({
        port,
        get connections() {
          return state.connections;
        },
        set connections(v: number) {
          state.connections = v;
        },
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * Connects to 127.0.0.1:port, writes `data`, half-closes, and resolves with everything read
 * until the other side ends.
 */
export function tcpRoundTrip(port: number, data: Uint8Array, timeoutMs = 20_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = netConnect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const timer = setTimeout(() => {
      s.destroy();
      reject(
        new Error(
          `TCP round trip via ${port} timed out after ${Buffer.concat(chunks).length} bytes`,
        ),
      );
    }, timeoutMs);
    s.on('connect', () => {
      s.write(data);
      s.end();
    });
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(chunks));
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Polls until a TCP connection to 127.0.0.1:port succeeds. */
export async function waitForListening(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((done) => {
      const s = netConnect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        done(true);
      });
      s.once('error', () => done(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- a minimal SFTP v3 codec (draft-ietf-secsh-filexfer-02) -------------------------------

export const SFTP = { INIT: 1, VERSION: 2, REALPATH: 16, STATUS: 101, NAME: 104 } as const;

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function sshString(s: string): Buffer {
  const body = Buffer.from(s, 'utf8');
  return Buffer.concat([u32(body.length), body]);
}

/** uint32 length ‖ byte type ‖ payload. */
export function sftpPacket(type: number, payload: Buffer): Buffer {
  return Buffer.concat([u32(payload.length + 1), Buffer.from([type]), payload]);
}

export const sftpInit = (version = 3) => sftpPacket(SFTP.INIT, u32(version));
export const sftpRealpath = (id: number, path: string) =>
  sftpPacket(SFTP.REALPATH, Buffer.concat([u32(id), sshString(path)]));

/** Splits whole SFTP packets off the front of `buf`. */
export function sftpParse(buf: Buffer): { type: number; body: Buffer }[] {
  const out: { type: number; body: Buffer }[] = [];
  let o = 0;
  while (buf.length - o >= 5) {
    const len = buf.readUInt32BE(o);
    if (buf.length - o - 4 < len) break;
    out.push({ type: buf[o + 4]!, body: buf.subarray(o + 5, o + 4 + len) });
    o += 4 + len;
  }
  return out;
}

/** SSH_FXP_VERSION: uint32 version, then extension pairs. */
export function sftpVersion(body: Buffer): { version: number; extensions: string[] } {
  const version = body.readUInt32BE(0);
  const extensions: string[] = [];
  let o = 4;
  while (o < body.length) {
    const n = body.readUInt32BE(o);
    extensions.push(body.subarray(o + 4, o + 4 + n).toString('utf8'));
    o += 4 + n;
    const m = body.readUInt32BE(o);
    o += 4 + m;
  }
  return { version, extensions };
}

/** SSH_FXP_NAME: uint32 id, uint32 count, then (filename, longname, attrs)… — the first filename. */
export function sftpName(body: Buffer): { id: number; count: number; first: string } {
  const id = body.readUInt32BE(0);
  const count = body.readUInt32BE(4);
  const n = body.readUInt32BE(8);
  return { id, count, first: body.subarray(12, 12 + n).toString('utf8') };
}

// ---- OpenSSH's ssh against our server ------------------------------------------------------

/** Writes an SSH_ASKPASS program that prints `secret`. */
export function askpassScript(dir: string, name: string, secret: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\nprintf '%s\\n' '${secret.replace(/'/g, `'\\''`)}'\n`, {
    mode: 0o755,
  });
  return path;
}

/** Environment making ssh ask `askpass` for passwords without a terminal. */
export function askpassEnv(askpass: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SSH_ASKPASS: askpass,
    SSH_ASKPASS_REQUIRE: 'force',
    DISPLAY: ':0',
  };
}

/** A running program whose output a test reads while it runs. */
export interface Running {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name) once it exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

/** Spawns a program (stdin ignored) and collects its output. */
export function startProgram(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Running {
  requireBinary(file);
  const child = spawn(file, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.env ? { env: options.env } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  child.stderr!.on('data', (c: Buffer) => err.push(c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('close', (code, signal) => r({ code, signal })),
  );
  return {
    child,
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
    exited,
    stop: () => stopChild(child),
  };
}

/** Resolves once `check()` holds, polling; rejects with `describe()` on timeout. */
export async function until(
  check: () => boolean,
  describe: () => string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${describe()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
