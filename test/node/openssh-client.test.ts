/**
 * OpenSSH's `ssh` client against our `createServer` over TCP: key login (ssh-keygen key, host
 * key pinned in a known_hosts file), exec with output, stderr and exit status, a pty request,
 * and `ssh -L` through the server's direct-tcpip handler.
 */

import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshServer } from '../../node/index.js';
import { parsePrivateKey, publicKeyToOpenSSH } from '../../src/index.js';
import { BIN, freePort, generateOpenSshKeys, makeTempDir, removeDir } from '../interop/peers.js';
import {
  requireBinary,
  tcpRoundTrip,
  until,
  waitForListening,
} from '../interop-connection/helpers.js';
import { startDualEcho } from './peers.js';
import { type ServerLog, startTestServer, USER } from './server-app.js';

const execFileAsync = promisify(execFile);

let server: SshServer;
let log: ServerLog;
let dir: string;
let args: string[];

beforeAll(async () => {
  requireBinary(BIN.ssh);
  dir = makeTempDir('node-openssh');
  const [userKey] = await generateOpenSshKeys(dir, ['ed25519']);
  const started = await startTestServer({
    userKey: parsePrivateKey(readFileSync(userKey!.path, 'utf8')),
  });
  server = started.server;
  log = started.log;
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `ours ${publicKeyToOpenSSH(started.hostKey.publicKeyBlob)}\n`);
  args = [
    '-F',
    '/dev/null',
    '-p',
    String(started.port),
    '-i',
    userKey!.path,
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'HostKeyAlias=ours',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityAgent=none',
    '-l',
    USER,
  ];
});

afterAll(async () => {
  await server?.close();
  if (dir) removeDir(dir);
});

async function ssh(
  extra: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(BIN.ssh, [...args, ...extra], {
      timeout: 20_000,
      env,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('OpenSSH ssh against createServer', () => {
  it('runs a command: output, stderr and exit status', async () => {
    const r = await ssh(['127.0.0.1', 'echo out; echo err >&2; exit 4']);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toContain('err\n');
    expect(r.code).toBe(4);
  });

  it('asks for a pty with -tt and the server sees its size and TERM', async () => {
    const before = log.ptys.length;
    const r = await ssh(['-tt', '127.0.0.1', 'echo "term=$TERM"'], {
      ...process.env,
      TERM: 'vt100',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('term=vt100');
    expect(log.ptys.length).toBe(before + 1);
    expect(log.ptys.at(-1)?.term).toBe('vt100');
  });

  it('forwards with -L through the direct-tcpip handler', async () => {
    const echo = await startDualEcho();
    const localPort = await freePort();
    const child = spawn(
      BIN.ssh,
      [...args, '-N', '-L', `${localPort}:127.0.0.1:${echo.port}`, '127.0.0.1'],
      { stdio: 'ignore' },
    );
    try {
      await waitForListening(localPort);
      const data = Buffer.from('through ssh -L and our server');
      expect((await tcpRoundTrip(localPort, data)).equals(data)).toBe(true);
    } finally {
      child.kill();
      await until(
        () => child.exitCode !== null || child.signalCode !== null,
        () => 'ssh did not exit',
      );
      await echo.close();
    }
  });
});
