/**
 * @module
 * Helpers for the end-to-end transport tests: OpenSSH servers we can log in to as root, client
 * configs that pin their host keys, an 8 MiB round trip through `cat` with SHA-256 on both
 * ends, a way to cut a link mid-transfer, and socat pseudo-terminal pairs.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { acceptCommands } from '../../examples/lib/commands.js';
import {
  type ClientConfig,
  channelEof,
  channelOpenSession,
  channelRequestExec,
  channelWrite,
  fingerprintSha256,
  generatePrivateKey,
  type PrivateKey,
  publicKeyToOpenSSH,
  type ServerConfig,
  type Session,
  sessionLastError,
  sessionState,
} from '../../src/index.js';
import {
  makeTempDir,
  removeDir,
  requireBinary,
  type SshdHandle,
  startSshd,
} from '../interop/peers.js';
import { delay, LINK_DROPPED_CODES, type Recorder } from '../transports/helpers.js';

/** What every end-to-end test moves each way. */
export const E2E_BYTES = 8 * 1024 * 1024;

/** Random bytes to send (random, so a shifted or repeated block cannot hash the same). */
export function sourceBytes(n = E2E_BYTES): Uint8Array {
  return new Uint8Array(randomBytes(n));
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** An sshd that lets root in with a fresh ed25519 key. */
export interface RootSshd {
  readonly sshd: SshdHandle;
  readonly userKey: PrivateKey;
  /** The host key fingerprints it may present. */
  readonly fingerprints: ReadonlySet<string>;
}

export async function startRootSshd(): Promise<RootSshd> {
  const sshd = await startSshd();
  const userKey = generatePrivateKey('ed25519');
  writeFileSync(
    join(sshd.dir, 'authorized_keys'),
    `${publicKeyToOpenSSH(userKey.publicKeyBlob, 'e2e')}\n`,
  );
  return { sshd, userKey, fingerprints: new Set(sshd.hostKeyFingerprints.values()) };
}

/** A client that logs in as root with `server.userKey` and accepts only `server`'s host keys. */
export function rootLogin(
  server: RootSshd,
  rec: Recorder,
  extra: Partial<ClientConfig<Session>> = {},
): ClientConfig<Session> {
  return {
    role: 'client',
    onHostKey: (request) =>
      server.fingerprints.has(request.fingerprint) ? request.accept() : request.reject(),
    auth: { username: 'root', methods: [{ type: 'publickey', key: server.userKey }] },
    onEvent: rec.onEvent,
    ...extra,
  };
}

/** The result of {@link catRoundTrip}. */
export interface RoundTrip {
  readonly sent: number;
  readonly received: number;
  /** SHA-256 of what came back. */
  readonly receivedHash: string;
  /** SHA-256 of the same number of bytes from the start of the source. */
  readonly sourcePrefixHash: string;
  readonly exitStatus: number | undefined;
  readonly ms: number;
}

/**
 * Runs `command` (default `cat`) on `session`, writes `data` into it as fast as the windows
 * allow, then EOF, and hashes what comes back. Resolves when the channel closes (normally or
 * because the session ended). `onReceived` sees the running count of bytes received;
 * `afterWrite` runs after each write into the channel.
 */
export function catRoundTrip(
  session: Session,
  data: Uint8Array,
  options: {
    command?: string;
    onReceived?: (total: number) => void;
    afterWrite?: () => void;
  } = {},
): Promise<RoundTrip> {
  const started = performance.now();
  const hash = createHash('sha256');
  let sent = 0;
  let received = 0;
  let exitStatus: number | undefined;
  return new Promise((resolve, reject) => {
    const pump = (channel: Parameters<typeof channelWrite>[0]) => {
      if (sent === data.length) return;
      sent += channelWrite(channel, data.subarray(sent));
      options.afterWrite?.();
      if (sent === data.length) channelEof(channel);
    };
    channelOpenSession(session, {
      onEvent: (event, channel) => {
        switch (event.type) {
          case 'open':
            channelRequestExec(channel, options.command ?? 'cat');
            return;
          case 'open-failed':
            reject(new Error(`session channel refused: ${event.description}`));
            return;
          case 'request-result':
            if (!event.success) reject(new Error(`${event.request} refused`));
            else pump(channel);
            return;
          case 'writable':
            pump(channel);
            return;
          case 'data':
            hash.update(event.data);
            received += event.data.length;
            options.onReceived?.(received);
            return;
          case 'request':
            if (event.request.parsed?.type === 'exit-status')
              exitStatus = event.request.parsed.code;
            return;
          case 'close':
            resolve({
              sent,
              received,
              receivedHash: hash.digest('hex'),
              sourcePrefixHash: sha256(data.subarray(0, received)),
              exitStatus,
              ms: performance.now() - started,
            });
            return;
          default:
            return;
        }
      },
    });
  });
}

/** Checks a complete round trip and prints its throughput. */
export function expectIntact(label: string, data: Uint8Array, trip: RoundTrip): void {
  expect(trip.sent).toBe(data.length);
  expect(trip.received).toBe(data.length);
  expect(trip.receivedHash).toBe(sha256(data));
  expect(trip.exitStatus).toBe(0);
  const mib = data.length / (1024 * 1024);
  console.log(
    `[e2e] ${label}: ${mib} MiB out and back in ${trip.ms.toFixed(0)} ms: ${((mib * 1000) / trip.ms).toFixed(1)} MiB/s each way`,
  );
}

/**
 * Runs a round trip and calls `cut` once `cutAfter` bytes came back; then checks that the
 * session ended because the link went away, that the channel closed, and that every byte
 * received before the break is the source's prefix.
 */
export async function expectCleanBreak(
  label: string,
  session: Session,
  rec: Recorder,
  cut: () => void,
  options: { cutAfter?: number; bytes?: number; command?: string } = {},
): Promise<void> {
  const data = sourceBytes(options.bytes ?? E2E_BYTES);
  const cutAfter = options.cutAfter ?? 1024 * 1024;
  let cutDone = false;
  const trip = await catRoundTrip(session, data, {
    ...(options.command !== undefined ? { command: options.command } : {}),
    onReceived: (total) => {
      if (cutDone || total < cutAfter) return;
      cutDone = true;
      cut();
    },
  });
  await rec.waitFor('closed');
  expect(cutDone, 'the link was cut mid-transfer').toBe(true);
  expect(sessionState(session)).toBe('closed');
  const error = sessionLastError(session);
  expect(error, 'the session records why it ended').toBeDefined();
  expect(LINK_DROPPED_CODES).toContain(error!.code);
  expect(trip.received).toBeGreaterThanOrEqual(cutAfter);
  expect(trip.received).toBeLessThan(data.length);
  expect(trip.receivedHash, 'the bytes received before the break are intact').toBe(
    trip.sourcePrefixHash,
  );
  console.log(
    `[e2e] ${label}: link cut after ${trip.received} bytes came back: ${error!.code}, prefix intact`,
  );
}

/** Every descendant of `pid` (from /proc), deepest last. */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number) => {
    let children: number[] = [];
    try {
      children = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter((s) => s !== '')
        .map(Number);
    } catch {}
    for (const c of children) {
      out.push(c);
      visit(c);
    }
  };
  visit(pid);
  return out;
}

/** SIGKILLs every process sshd started for its connections (not the listener itself). */
export function killSshdConnections(sshd: SshdHandle): number {
  const pid = Number(readFileSync(join(sshd.dir, 'sshd.pid'), 'utf8').trim());
  const victims = descendants(pid);
  for (const p of victims) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {}
  }
  return victims.length;
}

/** A `socat` pseudo-terminal pair: two device paths joined back to back. */
export interface PtyPair {
  readonly a: string;
  readonly b: string;
  readonly socat: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B` and waits for both links. */
export async function ptyPair(): Promise<PtyPair> {
  const SOCAT = requireBinary('/usr/bin/socat');
  const dir = makeTempDir('e2e-serial');
  const a = join(dir, 'A');
  const b = join(dir, 'B');
  const socat = spawn(SOCAT, ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  socat.stderr?.on('data', (c: Buffer) => {
    log += c.toString();
  });
  let gone = false;
  const exited = new Promise<void>((resolve) =>
    socat.on('exit', () => {
      gone = true;
      resolve();
    }),
  );
  const deadline = Date.now() + 10_000;
  while (!(existsSync(a) && existsSync(b))) {
    if (gone) throw new Error(`socat exited before making the pty pair: ${log}`);
    if (Date.now() > deadline) throw new Error(`socat made no pty pair within 10 s: ${log}`);
    await delay(10);
  }
  return {
    a,
    b,
    socat,
    stop: async () => {
      if (!gone) {
        socat.kill();
        await exited;
      }
      removeDir(dir);
    },
  };
}

/** A server config for our own server: one host key, one user key, commands run with /bin/sh. */
export function ourServerConfig(
  hostKey: PrivateKey,
  userKey: PrivateKey,
  rec: Recorder,
): ServerConfig<Session> {
  const allowed = Buffer.from(userKey.publicKeyBlob);
  return {
    role: 'server',
    hostKeys: [hostKey],
    authMethods: ['publickey'],
    onAuth: (request) =>
      request.publicKey !== undefined && allowed.equals(request.publicKey.blob)
        ? request.accept()
        : request.reject(),
    onChannelOpen: (request) =>
      request.type === 'session' ? acceptCommands(request) : request.reject(),
    onEvent: rec.onEvent,
  };
}

/** A client config for our own server: pins `hostKey`, logs in with `userKey`. */
export function ourClientConfig(
  hostKey: PrivateKey,
  userKey: PrivateKey,
  rec: Recorder,
): ClientConfig<Session> {
  const pinned = fingerprintSha256(hostKey.publicKeyBlob);
  return {
    role: 'client',
    onHostKey: (request) => (request.fingerprint === pinned ? request.accept() : request.reject()),
    auth: { username: 'e2e', methods: [{ type: 'publickey', key: userKey }] },
    onEvent: rec.onEvent,
  };
}
