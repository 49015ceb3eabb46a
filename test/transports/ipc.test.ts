/**
 * The inter-process transports: Unix domain sockets, a child's stdio (`sshd -i` and our own
 * stdio server), and our process's stdio as OpenSSH's ProxyCommand. Missing binaries fail.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Session,
  SSH_ERR,
  sessionDisconnect,
  sessionLastError,
  sessionPeerIdentification,
  sessionRekey,
  sessionState,
} from '../../src/index.js';
import { attachStdio, connectUnix, listenUnix, spawnSession } from '../../transports/ipc.js';
import {
  BIN,
  generateOpenSshKeys,
  type KeyFile,
  knownHostsLine,
  makeTempDir,
  REPO_ROOT,
  removeDir,
  requireBinary,
  runProcess,
} from '../interop/peers.js';
import {
  clientConfig,
  delay,
  expectLinkDropped,
  handshakeAndRekey,
  Recorder,
  serverConfig,
} from './helpers.js';

const STDIO_PROGRAM = join(REPO_ROOT, 'test/transports/stdio-program.ts');

let dir: string;
let key: KeyFile;

beforeAll(async () => {
  dir = makeTempDir('ipc');
  [key] = (await generateOpenSshKeys(dir, ['ed25519'])) as [KeyFile];
});

afterAll(() => {
  if (dir) removeDir(dir);
});

function listening(server: net.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (server.listening) resolve();
    server.once('listening', resolve);
    server.once('error', reject);
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** One JSON object per line, as the stdio program writes them. */
function readLog(path: string): { type: string; code?: unknown; reason?: number }[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {}
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { type: string });
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:,@=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

describe('Unix domain sockets', () => {
  it('runs our client and our server through a handshake and a rekey', async () => {
    const path = join(dir, 'ssh.sock');
    const serverRec = new Recorder();
    const sessions: Session[] = [];
    const server = listenUnix(
      path,
      () => serverConfig(serverRec),
      (s) => sessions.push(s),
    );
    await listening(server);
    const clientRec = new Recorder();
    const client = connectUnix(path, clientConfig(clientRec));
    await handshakeAndRekey(client, clientRec, serverRec);

    sessionDisconnect(client);
    await serverRec.waitFor('closed');
    expect(sessionLastError(sessions[0]!)?.code).toBe(SSH_ERR.PEER_DISCONNECTED);
    expect(sessionLastError(client)).toBeUndefined();
    await closeServer(server);
  });

  it('reports a server that hangs up mid-handshake as a lost connection to our client', async () => {
    const path = join(dir, 'hangup.sock');
    const server = net.createServer((socket) => {
      socket.write('SSH-2.0-HangsUp_1.0\r\n');
      socket.once('data', () => socket.destroy());
    });
    server.listen(path);
    await listening(server);
    const rec = new Recorder();
    const client = connectUnix(path, clientConfig(rec));
    await expectLinkDropped(rec, client);
    expect(sessionPeerIdentification(client)).toBe('SSH-2.0-HangsUp_1.0');
    await closeServer(server);
  });

  it('reports a client that hangs up mid-handshake as a lost connection to our server', async () => {
    const path = join(dir, 'client-hangup.sock');
    const rec = new Recorder();
    let session: Session | undefined;
    const server = listenUnix(
      path,
      () => serverConfig(rec),
      (s) => {
        session = s;
      },
    );
    await listening(server);
    const socket = net.connect(path);
    socket.on('data', () => socket.end('SSH-2.0-HangsUp_1.0\r\n'));
    await expectLinkDropped(rec);
    expect(session).toBe(rec.session);
    expect(rec.types).toContain('identification');
    await closeServer(server);
  });
});

describe("a child process's stdio", () => {
  it('takes our client to service-accepted with /usr/sbin/sshd -i', async () => {
    requireBinary(BIN.sshd);
    mkdirSync('/run/sshd', { recursive: true });
    const config = join(dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `HostKey ${key.path}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        'UsePAM no',
        'StrictModes no',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    const logFile = join(dir, 'sshd.log');
    writeFileSync(logFile, '');
    const rec = new Recorder();
    let seen: string | undefined;
    const { session, child } = spawnSession(
      BIN.sshd,
      ['-i', '-f', config, '-E', logFile],
      clientConfig(rec, {
        onHostKey: (request) => {
          seen = request.fingerprint;
          request.accept();
        },
      }),
      { stderr: 'collect' },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await rec.waitFor('service-accepted');
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- sshd log ---\n${readFileSync(logFile)}`);
    }
    expect(sessionPeerIdentification(session)).toMatch(/^SSH-2\.0-OpenSSH_/);
    expect(seen).toBe(key.fingerprint);

    sessionDisconnect(session);
    expect(await exited).not.toBeNull();
    expect(sessionLastError(session)).toBeUndefined();
  });

  it('runs our client against our attachStdio server in a child, which then exits by itself', async () => {
    const log = join(dir, 'child-stdio.jsonl');
    const clientRec = new Recorder();
    const { session, child } = spawnSession(
      process.execPath,
      ['--import', 'tsx', STDIO_PROGRAM, log, key.path],
      clientConfig(clientRec),
      { cwd: REPO_ROOT, stderr: 'collect', killAfterCloseMs: 0 },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await clientRec.waitFor('service-accepted');
    expect(sessionRekey(session)).toBe(true);
    await clientRec.waitFor('rekey-complete');

    sessionDisconnect(session);
    const started = Date.now();
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    const types = readLog(log).map((r) => r.type);
    expect(types).toEqual(
      expect.arrayContaining(['handshake-complete', 'service-accepted', 'rekey-complete']),
    );
    expect(types).toContain('disconnected');
    expect(types.slice(-2)).toEqual(['closed', 'exit']);
  });

  it('reports a child that exits mid-handshake as a lost connection', async () => {
    const rec = new Recorder();
    const { session } = spawnSession(
      '/bin/sh',
      ['-c', 'printf "SSH-2.0-Quits_1.0\\r\\n"; head -c 1 >/dev/null'],
      clientConfig(rec),
    );
    await expectLinkDropped(rec, session);
    expect(sessionPeerIdentification(session)).toBe('SSH-2.0-Quits_1.0');
  });

  it('reports a command that cannot start as a lost connection and tells onLinkError why', async () => {
    const rec = new Recorder();
    const errors: Error[] = [];
    const { session } = spawnSession(join(dir, 'no-such-program'), [], clientConfig(rec), {
      onLinkError: (e) => errors.push(e),
    });
    await expectLinkDropped(rec, session);
    expect(errors.map((e) => (e as NodeJS.ErrnoException).code)).toContain('ENOENT');
  });
});

describe("our process's stdio", () => {
  it("serves OpenSSH's ssh as its ProxyCommand up to service-accepted", async () => {
    requireBinary(BIN.ssh);
    const log = join(dir, 'proxy.jsonl');
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `${knownHostsLine('ourserver', key.publicKeyLine)}\n`);
    const proxy = [process.execPath, '--import', 'tsx', STDIO_PROGRAM, log, key.path]
      .map(shellQuote)
      .join(' ');
    const result = await runProcess(BIN.ssh, [
      '-F',
      '/dev/null',
      '-o',
      `ProxyCommand=${proxy}`,
      '-o',
      'BatchMode=yes',
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'IdentityAgent=none',
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'HostKeyAlias=ourserver',
      '-l',
      'nobody',
      'anyhost',
      'true',
    ]);
    // Our server refuses every login: ssh ends with "Permission denied" after SERVICE_ACCEPT.
    expect(result.stderr).toMatch(/Permission denied/);
    const types = readLog(log).map((r) => r.type);
    expect(types.slice(0, 3)).toEqual(['identification', 'handshake-complete', 'service-accepted']);
    expect(types).not.toContain('error');
  });

  it('reports input that ends mid-handshake as a lost connection and ends the output', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    output.resume();
    const rec = new Recorder();
    const session = attachStdio(serverConfig(rec), { input, output });
    input.end('SSH-2.0-HangsUp_1.0\r\n');
    await expectLinkDropped(rec, session);
    expect(rec.types).toContain('identification');
    await delay(0);
    expect(output.writableEnded).toBe(true);
    expect(sessionState(session)).toBe('closed');
  });
});
