/**
 * dropbear's `dbclient` 2022.83 against our server's connection layer: our server in this
 * process over TCP (transports/tcp.ts listenTcp) and as a `-J` proxy program on stdio
 * (../interop-connection/stdio-server.ts), both running the test application of
 * ../interop-connection/server-app.ts (real commands through /bin/sh). dbclient cannot read
 * OpenSSH private keys: its identities are converted with dropbearconvert.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrivateKey } from '../../src/index.js';
import { listenTcp } from '../../transports/tcp.js';
import {
  BIN,
  generateOpenSshKeys,
  type KeyFile,
  makeTempDir,
  REPO_ROOT,
  removeDir,
  requireBinary,
} from '../interop/peers.js';
import { seededBytes, sha256 } from '../interop-connection/channel-tools.js';
import { type AppRecord, ServerApp } from '../interop-connection/server-app.js';
import { type DbclientResult, runDbclient, toDropbearKey } from './helpers.js';

const USER = 'psshdb';
const PASSWORD = 'unused-by-dbclient';
const STDIO_SERVER = join(REPO_ROOT, 'test/interop-connection/stdio-server.ts');
const MiB = 1024 * 1024;

let dir: string;
/** dbclient's $HOME (fresh: no known_hosts, no default identity). */
let home: string;
let hostKey: KeyFile;
let userKey: KeyFile;
let strangerKey: KeyFile;
/** The converted (dropbear-format) identities. */
let userIdentity: string;
let strangerIdentity: string;
let counter = 0;

function sub(name: string): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  return d;
}

beforeAll(async () => {
  requireBinary(BIN.dbclient);
  dir = makeTempDir('dbclient-conn');
  home = sub('home');
  [[hostKey], [userKey], [strangerKey]] = (await Promise.all([
    generateOpenSshKeys(sub('host'), ['ed25519']),
    generateOpenSshKeys(sub('user'), ['ed25519']),
    generateOpenSshKeys(sub('stranger'), ['ed25519']),
  ])) as [[KeyFile], [KeyFile], [KeyFile]];
  [userIdentity, strangerIdentity] = await Promise.all([
    toDropbearKey(userKey.path),
    toDropbearKey(strangerKey.path),
  ]);
});

afterAll(() => {
  if (dir) removeDir(dir);
});

const blobOf = (k: KeyFile) => k.publicKeyLine.split(/\s+/)[1]!;

/** Our server on a loopback port in this process. */
interface TcpTarget {
  readonly port: number;
  readonly app: ServerApp;
  stop(): void;
}

async function startTcpTarget(authMethods?: ('publickey' | 'password')[]): Promise<TcpTarget> {
  const cwd = sub(`cwd-${++counter}`);
  const app = new ServerApp({
    hostKeys: [parsePrivateKey(readFileSync(hostKey.path, 'utf8'))],
    username: USER,
    authorizedKeys: [blobOf(userKey)],
    password: PASSWORD,
    cwd,
    ...(authMethods ? { authMethods } : {}),
  });
  const server: Server = listenTcp({ host: '127.0.0.1', port: 0 }, () => app.config());
  await new Promise<void>((r, reject) => {
    server.once('listening', () => r());
    server.once('error', reject);
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    app,
    stop: () => {
      app.close();
      server.close();
    },
  };
}

const describeRun = (r: DbclientResult, records: readonly AppRecord[]) =>
  `exit ${r.code} (signal ${r.signal})\n--- dbclient stderr ---\n${r.stderr}\n--- server ---\n${JSON.stringify(records)}`;

/** What dbclient -y prints about the host key it accepted (ours). */
const acceptedLine = (host: string) =>
  `Host '${host}' key accepted unconditionally.\n(ssh-ed25519 fingerprint ${hostKey.fingerprint})`;

describe('dbclient → our server over TCP (listenTcp in this process)', () => {
  let t: TcpTarget;
  beforeAll(async () => {
    t = await startTcpTarget();
  });
  afterAll(() => t?.stop());

  it('dbclient -y -p PORT -i key user@127.0.0.1 "cmd": stdout, stderr and exit status 3', async () => {
    const r = await runDbclient(
      [
        '-y',
        '-p',
        String(t.port),
        '-i',
        userIdentity,
        `${USER}@127.0.0.1`,
        'echo out; echo err >&2; exit 3',
      ],
      { home },
    );
    const context = describeRun(r, t.app.records);
    expect(r.code, context).toBe(3);
    expect(r.stdout.toString()).toBe('out\n');
    expect(r.stderr, context).toContain(acceptedLine('127.0.0.1'));
    expect(r.stderr.endsWith('\nerr\n'), context).toBe(true);
    expect(t.app.records).toContainEqual({
      type: 'auth',
      method: 'publickey',
      username: USER,
      ok: true,
    });
    expect(t.app.records).toContainEqual({
      type: 'started',
      what: 'exec echo out; echo err >&2; exit 3',
    });
  });

  it('pipes 8 MiB through dbclient … cat < file with a matching SHA-256', async () => {
    const data = seededBytes(8 * MiB, 31);
    const input = join(dir, 'cat-in.bin');
    writeFileSync(input, data);
    const r = await runDbclient(
      ['-y', '-p', String(t.port), '-i', userIdentity, `${USER}@127.0.0.1`, 'cat'],
      { home, stdinFile: input, timeoutMs: 30_000 },
    );
    console.log(
      `[interop-dropbear] dbclient → our server 8 MiB through cat: ${r.ms.toFixed(0)} ms including login`,
    );
    const context = describeRun(r, t.app.records);
    expect(r.code, context).toBe(0);
    expect(r.stdout.length, context).toBe(data.length);
    expect(sha256(r.stdout)).toBe(sha256(data));
  });
});

describe('dbclient → our server as a -J proxy program (stdio)', () => {
  it('dbclient -y -J "node … stdio-server.ts" -i key user@host "cmd": output and exit status', async () => {
    const n = ++counter;
    const log = join(dir, `stdio-${n}.jsonl`);
    const config = join(dir, `stdio-${n}.json`);
    writeFileSync(log, '');
    writeFileSync(
      config,
      JSON.stringify({
        hostKey: hostKey.path,
        log,
        username: USER,
        authorizedKeys: [blobOf(userKey)],
        password: PASSWORD,
        cwd: sub(`cwd-${n}`),
      }),
    );
    const proxy = `${process.execPath} --import tsx ${STDIO_SERVER} ${config}`;
    const r = await runDbclient(
      [
        '-y',
        '-J',
        proxy,
        '-i',
        userIdentity,
        `${USER}@ourserver`,
        'printf "%s|" "$((6*7))" "$(pwd)"; echo to-stderr >&2; exit 5',
      ],
      { home, timeoutMs: 30_000 },
    );
    const records = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as AppRecord);
    const context = describeRun(r, records);
    expect(r.code, context).toBe(5);
    expect(r.stdout.toString()).toBe(`42|${join(dir, `cwd-${n}`)}|`);
    expect(r.stderr, context).toContain(acceptedLine('ourserver'));
    expect(r.stderr.endsWith('\nto-stderr\n'), context).toBe(true);
    expect(records).toContainEqual({ type: 'auth', method: 'publickey', username: USER, ok: true });
  });
});

describe('dbclient → our server: a refused key', () => {
  it('fails with "No auth methods could be used" when the key is not authorized', async () => {
    // Public key only: with password offered too, dbclient would prompt (and, without a
    // terminal, read empty passwords from stdin).
    const t = await startTcpTarget(['publickey']);
    try {
      const r = await runDbclient(
        ['-y', '-p', String(t.port), '-i', strangerIdentity, `${USER}@127.0.0.1`, 'echo never'],
        { home },
      );
      const context = describeRun(r, t.app.records);
      expect(r.code, context).toBe(1);
      expect(r.stdout.length).toBe(0);
      expect(r.stderr, context).toContain(
        `dbclient: Connection to ${USER}@127.0.0.1:${t.port} exited: No auth methods could be used.`,
      );
      const auths = t.app.records.filter((x) => x.type === 'auth');
      expect(auths.length, context).toBeGreaterThan(0);
      expect(auths.every((x) => x.type === 'auth' && !x.ok && x.method === 'publickey')).toBe(true);
      expect(t.app.records.some((x) => x.type === 'channel-open')).toBe(false);
    } finally {
      t.stop();
    }
  });
});
