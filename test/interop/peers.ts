/**
 * Helpers for the interop tests: throwaway OpenSSH and dropbear servers, our client over any
 * byte stream, our server in-process over TCP, and the event log format the stdio server
 * program writes. Every helper throws when the peer binary is missing: the interop tests
 * fail, they never skip.
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Duplex, Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  type AlgorithmPreferences,
  type NegotiatedAlgorithms,
  type PrivateKey,
  parsePrivateKey,
  type Session,
  type SessionEvent,
  sessionClose,
  sessionCreate,
  sessionDisconnect,
  sessionHostKeyFingerprint,
  sessionLastError,
  sessionReceive,
  sessionStrictKex,
} from '../../src/index.js';
import { InputBuffer } from '../../transports/input-buffer.js';

const execFileAsync = promisify(execFile);

/** The repository root (ProxyCommand programs run from here so `--import tsx` resolves). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The stdio server program, for ProxyCommand / dbclient -J. */
export const STDIO_SERVER = join(REPO_ROOT, 'test/interop/stdio-server.ts');

export const BIN = {
  sshd: '/usr/sbin/sshd',
  ssh: '/usr/bin/ssh',
  sshKeygen: '/usr/bin/ssh-keygen',
  dropbear: '/usr/sbin/dropbear',
  dbclient: '/usr/bin/dbclient',
  dropbearkey: '/usr/bin/dropbearkey',
} as const;

/** Throws unless the binary exists: a missing peer fails the test, it does not skip it. */
export function requireBinary(path: string): string {
  if (!existsSync(path)) {
    throw new Error(`${path} is not installed: the interop tests need it (apt-get install it)`);
  }
  return path;
}

/** Makes a private temp directory; remove it with {@link removeDir}. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `pluggable-ssh-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

// ---- host keys --------------------------------------------------------------------------

/** The host key types every peer gets. */
export type KeyKind = 'ed25519' | 'ecdsa256' | 'ecdsa384' | 'ecdsa521' | 'rsa';
export const KEY_KINDS: readonly KeyKind[] = ['ed25519', 'ecdsa256', 'ecdsa384', 'ecdsa521', 'rsa'];

/** The host-key (signature) algorithms a key of each kind offers. */
export const KEY_ALGORITHMS: Readonly<Record<KeyKind, readonly string[]>> = {
  ed25519: ['ssh-ed25519'],
  ecdsa256: ['ecdsa-sha2-nistp256'],
  ecdsa384: ['ecdsa-sha2-nistp384'],
  ecdsa521: ['ecdsa-sha2-nistp521'],
  rsa: ['rsa-sha2-512', 'rsa-sha2-256'],
};

/** The key kind that signs with a host-key algorithm. */
export function kindOfAlgorithm(algorithm: string): KeyKind {
  for (const kind of KEY_KINDS) if (KEY_ALGORITHMS[kind].includes(algorithm)) return kind;
  throw new Error(`no key kind for ${algorithm}`);
}

/** A host key on disk. */
export interface KeyFile {
  readonly kind: KeyKind;
  /** The private key file. */
  readonly path: string;
  /** `type base64 comment`, as in a `.pub` file. */
  readonly publicKeyLine: string;
  /** `SHA256:…` as `ssh-keygen -lf` prints it. */
  readonly fingerprint: string;
}

/** Reads the `SHA256:…` fingerprint of a public key file with `ssh-keygen -lf`. */
export async function keygenFingerprint(pubPath: string): Promise<string> {
  const { stdout } = await execFileAsync(requireBinary(BIN.sshKeygen), [
    '-l',
    '-E',
    'sha256',
    '-f',
    pubPath,
  ]);
  const m = /\b(SHA256:[A-Za-z0-9+/]+)/.exec(stdout);
  if (!m) throw new Error(`ssh-keygen -lf ${pubPath} printed no fingerprint: ${stdout}`);
  return m[1]!;
}

/** Generates OpenSSH host keys with ssh-keygen (in parallel). */
export async function generateOpenSshKeys(
  dir: string,
  kinds: readonly KeyKind[] = KEY_KINDS,
): Promise<KeyFile[]> {
  requireBinary(BIN.sshKeygen);
  return Promise.all(
    kinds.map(async (kind) => {
      const path = join(dir, `ssh_host_${kind}_key`);
      const typeArgs =
        kind === 'ed25519'
          ? ['-t', 'ed25519']
          : kind === 'rsa'
            ? ['-t', 'rsa', '-b', '3072']
            : ['-t', 'ecdsa', '-b', kind.slice(5)];
      await execFileAsync(BIN.sshKeygen, [
        ...typeArgs,
        '-q',
        '-N',
        '',
        '-C',
        `interop-${kind}`,
        '-f',
        path,
      ]);
      const publicKeyLine = readFileSync(`${path}.pub`, 'utf8').trim();
      return { kind, path, publicKeyLine, fingerprint: await keygenFingerprint(`${path}.pub`) };
    }),
  );
}

/** Generates dropbear host keys with dropbearkey (in parallel). */
export async function generateDropbearKeys(
  dir: string,
  kinds: readonly KeyKind[] = KEY_KINDS,
): Promise<KeyFile[]> {
  requireBinary(BIN.dropbearkey);
  return Promise.all(
    kinds.map(async (kind) => {
      const path = join(dir, `dropbear_${kind}_host_key`);
      const typeArgs =
        kind === 'ed25519'
          ? ['-t', 'ed25519']
          : kind === 'rsa'
            ? ['-t', 'rsa', '-s', '2048']
            : ['-t', 'ecdsa', '-s', kind.slice(5)];
      await execFileAsync(BIN.dropbearkey, [...typeArgs, '-f', path]);
      const { stdout } = await execFileAsync(BIN.dropbearkey, ['-y', '-f', path]);
      const line = stdout.split('\n').find((l) => /^(ssh-|ecdsa-)/.test(l));
      if (!line) throw new Error(`dropbearkey -y printed no public key: ${stdout}`);
      const publicKeyLine = line.trim();
      writeFileSync(`${path}.pub`, `${publicKeyLine}\n`);
      return { kind, path, publicKeyLine, fingerprint: await keygenFingerprint(`${path}.pub`) };
    }),
  );
}

/** Loads key files as our PrivateKey objects. */
export function loadPrivateKeys(keys: readonly KeyFile[]): PrivateKey[] {
  return keys.map((k) => parsePrivateKey(readFileSync(k.path, 'utf8')));
}

/** Fingerprint of the key that signs with `algorithm`. */
export function fingerprintFor(keys: readonly KeyFile[], algorithm: string): string {
  const kind = kindOfAlgorithm(algorithm);
  const key = keys.find((k) => k.kind === kind);
  if (!key) throw new Error(`no ${kind} key`);
  return key.fingerprint;
}

// ---- processes --------------------------------------------------------------------------

/** A free TCP port on 127.0.0.1 (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves once the server on `port` sends an `SSH-` banner; rejects when `exited()` says so. */
async function waitForBanner(
  port: number,
  exited: () => string | undefined,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = exited();
    if (why !== undefined) throw new Error(why);
    const ok = await new Promise<boolean>((done) => {
      const sock = netConnect(port, '127.0.0.1');
      let got = '';
      const finish = (v: boolean) => {
        sock.destroy();
        done(v);
      };
      sock.setTimeout(1000, () => finish(false));
      sock.on('data', (c: Buffer) => {
        got += c.toString('latin1');
        if (got.includes('SSH-')) finish(true);
      });
      sock.on('error', () => finish(false));
      sock.on('close', () => finish(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`no SSH server answered on 127.0.0.1:${port}`);
    await delay(50);
  }
}

/** Collects a child's output; `text()` returns it all. */
function collect(stream: Readable | null): { text(): string } {
  const chunks: Buffer[] = [];
  stream?.on('data', (c: Buffer) => chunks.push(c));
  return { text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Stops a child: SIGTERM, then SIGKILL after a grace period. */
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

// ---- sshd -------------------------------------------------------------------------------

/** Algorithm limits for a server's configuration (OpenSSH option syntax, comma-joined). */
export interface ServerAlgorithmLimits {
  readonly kex?: readonly string[];
  readonly ciphers?: readonly string[];
  readonly macs?: readonly string[];
  readonly hostKeyAlgorithms?: readonly string[];
}

/** A running sshd. */
export interface SshdHandle {
  readonly port: number;
  readonly dir: string;
  readonly configPath: string;
  readonly keys: readonly KeyFile[];
  /** Host-key algorithm → `SHA256:…` fingerprint (from `ssh-keygen -lf`). */
  readonly hostKeyFingerprints: ReadonlyMap<string, string>;
  /** Everything sshd wrote to stderr so far. */
  logs(): string;
  /** A one-connection `sshd -i` on the same configuration and keys. */
  spawnInetd(): SshdInetdHandle;
  stop(): Promise<void>;
}

/** A `sshd -i` child: talk to it on its stdin/stdout. */
export interface SshdInetdHandle {
  readonly child: ChildProcess & { stdin: Writable; stdout: Readable };
  /** The `-E` log file's contents so far. */
  logs(): string;
  stop(): Promise<void>;
}

function fingerprintMap(keys: readonly KeyFile[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const k of keys) for (const alg of KEY_ALGORITHMS[k.kind]) map.set(alg, k.fingerprint);
  return map;
}

function sshdConfig(
  dir: string,
  keys: readonly KeyFile[],
  port: number,
  limits: ServerAlgorithmLimits,
): string {
  const lines = [
    'ListenAddress 127.0.0.1',
    `Port ${port}`,
    ...keys.map((k) => `HostKey ${k.path}`),
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'UsePAM no',
    'StrictModes no',
    'LogLevel VERBOSE',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'MaxStartups 100:30:200',
    'Subsystem sftp internal-sftp',
  ];
  if (limits.kex) lines.push(`KexAlgorithms ${limits.kex.join(',')}`);
  if (limits.ciphers) lines.push(`Ciphers ${limits.ciphers.join(',')}`);
  if (limits.macs) lines.push(`MACs ${limits.macs.join(',')}`);
  if (limits.hostKeyAlgorithms)
    lines.push(`HostKeyAlgorithms ${limits.hostKeyAlgorithms.join(',')}`);
  return `${lines.join('\n')}\n`;
}

function spawnInetdWith(dir: string, configPath: string, cleanup?: () => void): SshdInetdHandle {
  const logFile = join(mkdtempSync(join(dir, 'inetd-')), 'sshd.log');
  writeFileSync(logFile, '');
  const child = spawn(BIN.sshd, ['-i', '-f', configPath, '-E', logFile], {
    stdio: ['pipe', 'pipe', 'pipe'],
  }) as ChildProcess & { stdin: Writable; stdout: Readable };
  child.stdin.on('error', () => {});
  const stderr = collect(child.stderr);
  return {
    child,
    logs: () => {
      let text = stderr.text();
      try {
        text += readFileSync(logFile, 'utf8');
      } catch {}
      return text;
    },
    stop: async () => {
      await stopChild(child);
      cleanup?.();
    },
  };
}

/**
 * Starts `sshd -D -e` on a free loopback port with fresh ed25519, ECDSA P-256/384/521 and
 * RSA-3072 host keys. Throws if sshd is not installed or does not come up.
 */
export async function startSshd(limits: ServerAlgorithmLimits = {}): Promise<SshdHandle> {
  requireBinary(BIN.sshd);
  mkdirSync('/run/sshd', { recursive: true });
  const dir = makeTempDir('sshd');
  try {
    const keys = await generateOpenSshKeys(dir);
    const configPath = join(dir, 'sshd_config');
    writeFileSync(join(dir, 'authorized_keys'), '');
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      writeFileSync(configPath, sshdConfig(dir, keys, port, limits));
      const child = spawn(BIN.sshd, ['-D', '-e', '-f', configPath], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const stdout = collect(child.stdout);
      const stderr = collect(child.stderr);
      const logs = () => stdout.text() + stderr.text();
      let exitInfo: string | undefined;
      child.on('exit', (code, signal) => {
        exitInfo = `sshd exited (code ${code}, signal ${signal}): ${logs()}`;
      });
      child.on('error', (e) => {
        exitInfo = `sshd failed to start: ${e.message}`;
      });
      try {
        await waitForBanner(port, () => exitInfo);
      } catch (e) {
        lastError = e;
        await stopChild(child);
        continue;
      }
      return {
        port,
        dir,
        configPath,
        keys,
        hostKeyFingerprints: fingerprintMap(keys),
        logs,
        spawnInetd: () => spawnInetdWith(dir, configPath),
        stop: async () => {
          await stopChild(child);
          removeDir(dir);
        },
      };
    }
    throw lastError;
  } catch (e) {
    removeDir(dir);
    throw e;
  }
}

/** Spawns a one-connection `sshd -i` with its own fresh keys and configuration. */
export async function spawnSshdInetd(
  limits: ServerAlgorithmLimits = {},
): Promise<
  SshdInetdHandle & { keys: readonly KeyFile[]; hostKeyFingerprints: ReadonlyMap<string, string> }
> {
  requireBinary(BIN.sshd);
  mkdirSync('/run/sshd', { recursive: true });
  const dir = makeTempDir('sshd-inetd');
  try {
    const keys = await generateOpenSshKeys(dir);
    const configPath = join(dir, 'sshd_config');
    writeFileSync(join(dir, 'authorized_keys'), '');
    writeFileSync(configPath, sshdConfig(dir, keys, 22, limits));
    const handle = spawnInetdWith(dir, configPath, () => removeDir(dir));
    return { ...handle, keys, hostKeyFingerprints: fingerprintMap(keys) };
  } catch (e) {
    removeDir(dir);
    throw e;
  }
}

// ---- dropbear ---------------------------------------------------------------------------

/** A running dropbear. */
export interface DropbearHandle {
  readonly port: number;
  readonly dir: string;
  readonly keys: readonly KeyFile[];
  readonly hostKeyFingerprints: ReadonlyMap<string, string>;
  logs(): string;
  stop(): Promise<void>;
}

/** dropbear 2022.83 loads at most four `-r` host keys ("Too many hostkeys"). */
export const DROPBEAR_MAX_HOST_KEYS = 4;

/**
 * Starts `dropbear -F -E -s` on a free loopback port with dropbearkey host keys of the given
 * kinds (at most {@link DROPBEAR_MAX_HOST_KEYS}).
 */
export async function startDropbear(
  kinds: readonly KeyKind[] = ['ed25519', 'ecdsa256', 'ecdsa384', 'rsa'],
): Promise<DropbearHandle> {
  requireBinary(BIN.dropbear);
  const dir = makeTempDir('dropbear');
  try {
    const keys = await generateDropbearKeys(dir, kinds);
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const args = ['-F', '-E', '-s', '-P', join(dir, 'dropbear.pid'), '-p', `127.0.0.1:${port}`];
      for (const k of keys) args.push('-r', k.path);
      const child = spawn(BIN.dropbear, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const stdout = collect(child.stdout);
      const stderr = collect(child.stderr);
      const logs = () => stdout.text() + stderr.text();
      let exitInfo: string | undefined;
      child.on('exit', (code, signal) => {
        exitInfo = `dropbear exited (code ${code}, signal ${signal}): ${logs()}`;
      });
      child.on('error', (e) => {
        exitInfo = `dropbear failed to start: ${e.message}`;
      });
      try {
        await waitForBanner(port, () => exitInfo);
      } catch (e) {
        lastError = e;
        await stopChild(child);
        continue;
      }
      const fingerprints = new Map<string, string>();
      for (const k of keys) {
        for (const alg of KEY_ALGORITHMS[k.kind]) fingerprints.set(alg, k.fingerprint);
      }
      return {
        port,
        dir,
        keys,
        hostKeyFingerprints: fingerprints,
        logs,
        stop: async () => {
          await stopChild(child);
          removeDir(dir);
        },
      };
    }
    throw lastError;
  } catch (e) {
    removeDir(dir);
    throw e;
  }
}

// ---- peeking at the peer's KEXINIT ------------------------------------------------------

/** The name-lists of a KEXINIT as seen on the wire. */
export interface WireKexInit {
  readonly kex: readonly string[];
  readonly hostKey: readonly string[];
  readonly cipherClientToServer: readonly string[];
  readonly cipherServerToClient: readonly string[];
  readonly macClientToServer: readonly string[];
  readonly macServerToClient: readonly string[];
  /** The peer sent a guessed first key exchange packet right after its KEXINIT. */
  readonly firstKexPacketFollows: boolean;
}

/**
 * Watches the bytes a peer sends for its first (plaintext) KEXINIT, independently of the
 * library, so tests can check what the peer offered (e.g. the strict-kex marker).
 */
export class KexInitSniffer {
  #buf = Buffer.alloc(0);
  #pastBanner = false;
  #done = false;
  result: WireKexInit | undefined;

  push(chunk: Uint8Array): void {
    if (this.#done) return;
    this.#buf = Buffer.concat([this.#buf, chunk]);
    if (this.#buf.length > 1 << 20) this.#done = true;
    while (!this.#done) {
      if (!this.#pastBanner) {
        const nl = this.#buf.indexOf(10);
        if (nl < 0) return;
        const line = this.#buf.subarray(0, nl).toString('latin1');
        this.#buf = this.#buf.subarray(nl + 1);
        if (line.startsWith('SSH-')) this.#pastBanner = true;
        continue;
      }
      if (this.#buf.length < 4) return;
      const len = this.#buf.readUInt32BE(0);
      if (len > 256 * 1024) {
        this.#done = true;
        return;
      }
      if (this.#buf.length < 4 + len) return;
      const padding = this.#buf[4]!;
      const payload = this.#buf.subarray(5, 4 + len - padding);
      this.#buf = this.#buf.subarray(4 + len);
      if (payload[0] === 20) {
        this.result = parseKexInit(payload);
        this.#done = true;
      }
    }
  }
}

function parseKexInit(payload: Buffer): WireKexInit {
  let o = 17;
  const lists: string[][] = [];
  for (let i = 0; i < 10; i++) {
    const n = payload.readUInt32BE(o);
    const text = payload.subarray(o + 4, o + 4 + n).toString('latin1');
    lists.push(text === '' ? [] : text.split(','));
    o += 4 + n;
  }
  return {
    kex: lists[0]!,
    hostKey: lists[1]!,
    cipherClientToServer: lists[2]!,
    cipherServerToClient: lists[3]!,
    macClientToServer: lists[4]!,
    macServerToClient: lists[5]!,
    firstKexPacketFollows: payload[o] !== 0,
  };
}

// ---- our client over a byte stream ------------------------------------------------------

/** Anything our client can talk over: a socket (Duplex) or a child's stdin/stdout. */
export type LinkLike =
  | Duplex
  | { readonly stdin: Writable | null; readonly stdout: Readable | null };

interface Pipes {
  readonly readable: Readable;
  readonly writable: Writable;
  end(): void;
  destroy(): void;
}

function pipesOf(link: LinkLike): Pipes {
  if ('stdin' in link && 'stdout' in link && !('pipe' in link && 'write' in link)) {
    const { stdin, stdout } = link as { stdin: Writable | null; stdout: Readable | null };
    if (!stdin || !stdout) throw new Error('the child needs piped stdin and stdout');
    return {
      readable: stdout,
      writable: stdin,
      end: () => stdin.end(),
      destroy: () => {
        stdin.destroy();
        stdout.destroy();
      },
    };
  }
  const duplex = link as Duplex;
  return {
    readable: duplex,
    writable: duplex,
    end: () => duplex.end(),
    destroy: () => duplex.destroy(),
  };
}

/** What our client saw of the server's host key. */
export interface SeenHostKey {
  readonly algorithm: string;
  readonly keyType: string;
  readonly fingerprint: string;
}

/** Options of {@link connectOurClient}. */
export interface OurClientOptions {
  readonly algorithms?: AlgorithmPreferences;
  /** `bytes` feeds the session one byte at a time. */
  readonly split?: 'whole' | 'bytes';
  /** Rejects when service-accepted has not come by then (default 20 s). */
  readonly timeoutMs?: number;
  readonly rekeyAfterBytes?: number;
  readonly rekeyAfterPackets?: number;
  /** Text appended to failure messages (e.g. the peer's logs). */
  readonly peerLogs?: () => string;
}

/** Our client session, connected and past service-accepted. */
export interface OurClient {
  readonly session: Session;
  /** Every event so far (the array keeps growing). */
  readonly events: SessionEvent[];
  readonly algorithms: NegotiatedAlgorithms;
  readonly hostKey: SeenHostKey;
  readonly strictKex: boolean;
  /** The peer's first KEXINIT as seen on the wire. */
  readonly peerKexInit: WireKexInit | undefined;
  /** Resolves with the first event of `type` at index `from` or later; rejects if the session closes first or on timeout. */
  waitFor(type: SessionEvent['type'], from?: number, timeoutMs?: number): Promise<SessionEvent>;
  /** Sends DISCONNECT and waits for the link to close. */
  disconnect(description?: string): Promise<void>;
  /** Resolves when the link has closed. */
  readonly linkClosed: Promise<void>;
}

function describeFailure(
  events: readonly SessionEvent[],
  session: Session | undefined,
  extra?: () => string,
): string {
  const err = session ? sessionLastError(session) : undefined;
  const seen = events.map((e) => e.type).join(', ');
  const logs = extra ? `\n--- peer logs ---\n${extra()}` : '';
  return `${err ? `${err.code}: ${err.message}` : 'no error recorded'} (events: ${seen})${logs}`;
}

/**
 * Runs our client over `link` with an InputBuffer. Resolves once the server accepted
 * ssh-userauth; rejects with the session's last error if it ends first, or on timeout.
 */
export function connectOurClient(
  link: LinkLike,
  options: OurClientOptions = {},
): Promise<OurClient> {
  const pipes = pipesOf(link);
  const events: SessionEvent[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  const input = new InputBuffer();
  const sniffer = new KexInitSniffer();
  let hostKey: SeenHostKey | undefined;
  let closedLink = false;
  let resolveLinkClosed!: () => void;
  const linkClosed = new Promise<void>((r) => {
    resolveLinkClosed = r;
  });

  pipes.writable.on('error', () => {});
  pipes.readable.on('error', () => {});

  const config = {
    role: 'client' as const,
    ...(options.algorithms ? { algorithms: options.algorithms } : {}),
    ...(options.rekeyAfterBytes !== undefined ? { rekeyAfterBytes: options.rekeyAfterBytes } : {}),
    ...(options.rekeyAfterPackets !== undefined
      ? { rekeyAfterPackets: options.rekeyAfterPackets }
      : {}),
    onHostKey: (request: {
      algorithm: string;
      keyType: string;
      fingerprint: string;
      accept(): void;
    }) => {
      hostKey = {
        algorithm: request.algorithm,
        keyType: request.keyType,
        fingerprint: request.fingerprint,
      };
      request.accept();
    },
    onEvent: (event: SessionEvent) => {
      events.push(event);
      notify();
    },
  };
  const session = sessionCreate(
    pipes,
    (p, bytes) => {
      if (p.writable.destroyed || p.writable.writableEnded) return -1;
      p.writable.write(bytes);
      return 0;
    },
    (p) => p.end(),
    config,
  );
  input.attach((bytes) => sessionReceive(session, bytes));

  const feed = (chunk: Uint8Array) => {
    if (input.ended) return;
    sniffer.push(chunk);
    if (options.split === 'bytes') {
      for (let i = 0; i < chunk.length; i++) {
        if (input.push(chunk.subarray(i, i + 1)) < 0) break;
      }
    } else {
      input.push(chunk);
    }
    if (input.ended) pipes.end();
  };
  pipes.readable.on('data', feed);
  pipes.readable.on('close', () => {
    if (closedLink) return;
    closedLink = true;
    sessionClose(session);
    resolveLinkClosed();
    notify();
  });

  const isClosed = () => events.some((e) => e.type === 'closed');

  const waitFor = (
    type: SessionEvent['type'],
    from = 0,
    timeoutMs = 20_000,
  ): Promise<SessionEvent> =>
    new Promise((resolveEvent, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        const found = events.slice(from).find((e) => e.type === type);
        if (found) {
          cleanup();
          resolveEvent(found);
        } else if (isClosed() || closedLink) {
          cleanup();
          reject(
            new Error(
              `session ended before ${type}: ${describeFailure(events, session, options.peerLogs)}`,
            ),
          );
        }
      };
      const cleanup = () => {
        waiters.delete(check);
        if (timer) clearTimeout(timer);
      };
      timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `timed out waiting for ${type}: ${describeFailure(events, session, options.peerLogs)}`,
          ),
        );
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  const disconnect = async (description = 'interop test done') => {
    sessionDisconnect(session, 11, description);
    const timer = setTimeout(() => pipes.destroy(), 3000);
    await linkClosed;
    clearTimeout(timer);
  };

  return waitFor('service-accepted', 0, options.timeoutMs ?? 20_000).then(
    () => {
      const handshake = events.find((e) => e.type === 'handshake-complete');
      if (handshake?.type !== 'handshake-complete' || !hostKey) {
        throw new Error(
          `service-accepted without handshake-complete/host key: ${describeFailure(events, session)}`,
        );
      }
      if (sessionHostKeyFingerprint(session) !== hostKey.fingerprint) {
        throw new Error('sessionHostKeyFingerprint differs from the key onHostKey saw');
      }
      return {
        session,
        events,
        algorithms: handshake.algorithms,
        hostKey,
        strictKex: sessionStrictKex(session),
        peerKexInit: sniffer.result,
        waitFor,
        disconnect,
        linkClosed,
      };
    },
    (e: unknown) => {
      pipes.destroy();
      // The session's own error when it ended by one; else (timeout) the waiting error.
      const err = sessionLastError(session);
      if (err) {
        // The SshError carries no peer logs: print them for whoever debugs a failure.
        if (options.peerLogs)
          console.error(`connectOurClient failed: ${e instanceof Error ? e.message : String(e)}`);
        throw err;
      }
      throw e;
    },
  );
}

/** Connects a TCP socket to 127.0.0.1:port (resolves once connected). */
export function tcpConnect(port: number): Promise<Socket> {
  return new Promise((resolveSocket, reject) => {
    const sock = netConnect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.off('error', reject);
      sock.setNoDelay(true);
      resolveSocket(sock);
    });
    sock.once('error', reject);
  });
}

// ---- our server -------------------------------------------------------------------------

/** One line of a server event log (JSON lines). */
export interface LoggedEvent {
  readonly type: SessionEvent['type'] | 'peer-kexinit';
  readonly algorithms?: NegotiatedAlgorithms;
  readonly strictKex?: boolean;
  readonly fingerprint?: string;
  readonly service?: string;
  readonly peer?: string;
  readonly reason?: number;
  readonly description?: string;
  readonly error?: { readonly code: string; readonly origin: string; readonly message: string };
  /** For `peer-kexinit` records (written by the stdio server): the client's first KEXINIT. */
  readonly kexinit?: WireKexInit;
}

/** Turns an event into its log record (adds strict kex and fingerprint at handshake). */
export function logRecord(event: SessionEvent, session: Session): LoggedEvent {
  switch (event.type) {
    case 'handshake-complete':
    case 'rekey-complete': {
      const fingerprint = sessionHostKeyFingerprint(session);
      return {
        type: event.type,
        algorithms: event.algorithms,
        strictKex: sessionStrictKex(session),
        ...(fingerprint ? { fingerprint } : {}),
      };
    }
    case 'service-accepted':
      return { type: event.type, service: event.service };
    case 'identification':
      return { type: event.type, peer: event.peer };
    case 'disconnected':
      return { type: event.type, reason: event.reason, description: event.description };
    case 'error':
      return {
        type: event.type,
        error: { code: event.error.code, origin: event.error.origin, message: event.error.message },
      };
    default:
      return { type: event.type };
  }
}

/** Reads a JSON-lines event log (missing file: empty). */
export function readEventLog(path: string): LoggedEvent[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LoggedEvent);
}

/** Splits a stdio server log into session events and the client's KEXINIT as sent. */
export function splitEventLog(records: readonly LoggedEvent[]): {
  events: LoggedEvent[];
  peerKexInit: WireKexInit | undefined;
} {
  return {
    events: records.filter((r) => r.type !== 'peer-kexinit'),
    peerKexInit: records.find((r) => r.type === 'peer-kexinit')?.kexinit,
  };
}

/** Command-line arguments of the stdio server program. */
export interface StdioServerArgs {
  readonly log: string;
  readonly keyPaths: readonly string[];
  readonly algorithms?: AlgorithmPreferences;
}

/** Builds the argv of test/interop/stdio-server.ts. */
export function stdioServerArgv(args: StdioServerArgs): string[] {
  const argv = ['--log', args.log];
  for (const k of args.keyPaths) argv.push('--key', k);
  const a = args.algorithms;
  if (a?.kex) argv.push('--kex', a.kex.join(','));
  if (a?.hostKey) argv.push('--host-key-alg', a.hostKey.join(','));
  if (a?.cipher) argv.push('--cipher', a.cipher.join(','));
  if (a?.mac) argv.push('--mac', a.mac.join(','));
  return argv;
}

/** The shell command that runs the stdio server (for ProxyCommand / dbclient -J); run it with cwd REPO_ROOT. */
export function stdioServerCommand(args: StdioServerArgs): string {
  const quote = (s: string) =>
    /^[A-Za-z0-9_./:,@=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
  return [process.execPath, '--import', 'tsx', STDIO_SERVER, ...stdioServerArgv(args)]
    .map(quote)
    .join(' ');
}

/** One connection to our in-process TCP server. */
export interface ServerConnection {
  /** The client's port (its socket's localPort), to tell concurrent connections apart. */
  readonly remotePort: number | undefined;
  readonly session: Session;
  readonly events: SessionEvent[];
  readonly records: LoggedEvent[];
  /** Resolves when the link has closed. */
  readonly closed: Promise<void>;
}

/** Our server listening on a loopback port, in this process. */
export interface OurTcpServer {
  readonly port: number;
  readonly connections: ServerConnection[];
  /** Resolves with the connection from the client's local port once it exists. */
  connectionFrom(port: number): Promise<ServerConnection>;
  stop(): Promise<void>;
}

/** Starts our server on 127.0.0.1 (random port); each connection gets its own session. */
export function startOurTcpServer(config: {
  readonly hostKeys: readonly PrivateKey[];
  readonly algorithms?: AlgorithmPreferences;
}): Promise<OurTcpServer> {
  const connections: ServerConnection[] = [];
  const sockets = new Set<Socket>();
  const waiters: (() => void)[] = [];
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.setNoDelay(true);
    sock.on('error', () => {});
    const events: SessionEvent[] = [];
    const records: LoggedEvent[] = [];
    let resolveClosed!: () => void;
    const closed = new Promise<void>((r) => {
      resolveClosed = r;
    });
    const input = new InputBuffer();
    const session = sessionCreate(
      sock,
      (s, bytes) => {
        if (s.destroyed || s.writableEnded) return -1;
        s.write(bytes);
        return 0;
      },
      (s) => s.end(),
      {
        role: 'server',
        hostKeys: config.hostKeys,
        ...(config.algorithms ? { algorithms: config.algorithms } : {}),
        onEvent: (event, s) => {
          events.push(event);
          records.push(logRecord(event, s));
        },
      },
    );
    input.attach((bytes) => sessionReceive(session, bytes));
    sock.on('data', (chunk: Buffer) => {
      if (input.push(chunk) < 0) sock.end();
    });
    sock.on('close', () => {
      sockets.delete(sock);
      sessionClose(session);
      resolveClosed();
    });
    connections.push({ remotePort: sock.remotePort, session, events, records, closed });
    for (const w of waiters.splice(0)) w();
  });
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolveServer({
        port,
        connections,
        connectionFrom: (remotePort) =>
          new Promise((resolveConn) => {
            const check = () => {
              const c = connections.find((x) => x.remotePort === remotePort);
              if (c) resolveConn(c);
              else waiters.push(check);
            };
            check();
          }),
        stop: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

// ---- shared test plumbing ---------------------------------------------------------------

/** Ciphers whose integrity comes with the cipher (the negotiated MAC is ignored). */
export const AEAD_CIPHERS: ReadonlySet<string> = new Set([
  'chacha20-poly1305@openssh.com',
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
]);

/** One cipher to force, with the MAC to force alongside (undefined for AEAD ciphers). */
export interface CipherCase {
  readonly cipher: string;
  readonly mac: string | undefined;
  readonly label: string;
}

/** AEAD ciphers once; every other cipher with each MAC. */
export function cipherCases(ciphers: readonly string[], macs: readonly string[]): CipherCase[] {
  return ciphers.flatMap((cipher): CipherCase[] =>
    AEAD_CIPHERS.has(cipher)
      ? [{ cipher, mac: undefined, label: cipher }]
      : macs.map((mac) => ({ cipher, mac, label: `${cipher} + ${mac}` })),
  );
}

/** Algorithm preferences forcing one cipher (and its MAC) in both directions. */
export function forceCipher(c: CipherCase): AlgorithmPreferences {
  return c.mac === undefined ? { cipher: [c.cipher] } : { cipher: [c.cipher], mac: [c.mac] };
}

/** A `known_hosts` line without the key comment (dbclient cannot parse comments). */
export function knownHostsLine(host: string, publicKeyLine: string): string {
  const [type, blob] = publicKeyLine.trim().split(/\s+/);
  return `${host} ${type} ${blob}`;
}

/** The result of {@link runProcess}. */
export interface ProcessResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs a program to completion (stdin closed); kills it after `timeoutMs`. */
export function runProcess(
  file: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ProcessResult> {
  requireBinary(file);
  const started = Date.now();
  return new Promise((resolveRun, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end();
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({
        code,
        signal,
        stdout: stdout.text(),
        stderr: stderr.text(),
        ms: Date.now() - started,
      });
    });
  });
}

/** True when `binary` contains `marker` (e.g. whether a build knows strict kex). */
export function binaryMentions(binary: string, marker: string): boolean {
  return readFileSync(requireBinary(binary)).includes(marker);
}

export const STRICT_KEX_SERVER = 'kex-strict-s-v00@openssh.com';
export const STRICT_KEX_CLIENT = 'kex-strict-c-v00@openssh.com';

/** `ssh -Q <query>`: the algorithms the installed OpenSSH knows. */
export async function openSshQuery(
  query: 'kex' | 'cipher' | 'mac' | 'HostKeyAlgorithms',
): Promise<string[]> {
  const r = await runProcess(BIN.ssh, ['-Q', query]);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** Retries `check` until it stops throwing or the time is up (then rethrows its error). */
export async function eventually(check: () => void, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await delay(50);
    }
  }
}
