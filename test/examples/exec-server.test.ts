/**
 * examples/exec-server.ts with OpenSSH's `ssh` as the client: over TCP with a key from an
 * authorized_keys file, as a ProxyCommand on stdio with a password, and as the jump host of
 * `ssh -W` (direct-tcpip to an sshd behind it).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  generateOpenSshKeys,
  type KeyFile,
  makeTempDir,
  REPO_ROOT,
  removeDir,
} from '../interop/peers.js';
import { type ExampleSshd, runProgram, startExampleSshd } from './helpers.js';

const PASSWORD = 'correct horse';
let dir: string;
let hostKey: KeyFile;
let knownHosts: string;
let askpass: string;
let sshd: ExampleSshd;
let server: ChildProcess;
let port: number;

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const exampleCommand = (...args: string[]) =>
  [process.execPath, '--import', 'tsx', join(REPO_ROOT, 'examples/exec-server.ts'), ...args]
    .map(quote)
    .join(' ');

beforeAll(async () => {
  dir = makeTempDir('exec-server');
  [hostKey] = (await generateOpenSshKeys(dir, ['ed25519'])) as [KeyFile];
  knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `exec-server ${hostKey.publicKeyLine}\n`);
  askpass = join(dir, 'askpass');
  writeFileSync(askpass, `#!/bin/sh\necho ${quote(PASSWORD)}\n`);
  chmodSync(askpass, 0o755);
  sshd = await startExampleSshd();
  writeFileSync(join(dir, 'authorized_keys'), `${sshd.userKey.publicKeyLine}\n`);

  server = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'examples/exec-server.ts',
      '--port',
      '0',
      '--host-key',
      hostKey.path,
      '--authorized-keys',
      join(dir, 'authorized_keys'),
      '--forward',
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  server.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  port = await new Promise<number>((resolve, reject) => {
    let out = '';
    server.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    server.on('exit', (code) => reject(new Error(`exec-server exited (${code}): ${stderr}`)));
  });
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  await sshd?.sshd.stop();
  if (dir) removeDir(dir);
});

/** `ssh` options that pin the example's host key and use nothing from this machine. */
const sshOptions = () => [
  '-F',
  '/dev/null',
  '-o',
  `UserKnownHostsFile=${knownHosts}`,
  '-o',
  'StrictHostKeyChecking=yes',
  '-o',
  'HostKeyAlias=exec-server',
  '-o',
  'IdentityAgent=none',
  '-o',
  'IdentitiesOnly=yes',
];
const withKey = () => [...sshOptions(), '-o', 'BatchMode=yes', '-i', sshd.userKey.path];

describe('examples/exec-server.ts with OpenSSH ssh', () => {
  it('runs a command for ssh over TCP, logging in with an authorized key', async () => {
    const run = await runProgram(BIN.ssh, [
      ...withKey(),
      '-p',
      String(port),
      'someone@127.0.0.1',
      'echo "hello from $(basename $0)"; echo oops >&2; exit 5',
    ]);
    expect(run.stdout).toBe('hello from sh\n');
    expect(run.stderr).toContain('oops\n');
    expect(run.code).toBe(5);
  });

  it('serves ssh as a ProxyCommand on stdio, logging in with a password; 1 MiB of stdin', async () => {
    const input = randomBytes(1024 * 1024);
    const run = await runProgram(
      BIN.ssh,
      [
        ...sshOptions(),
        '-o',
        `ProxyCommand=${exampleCommand('--stdio', '--password', PASSWORD, '--host-key', hostKey.path)}`,
        '-o',
        'PreferredAuthentications=password',
        '-o',
        'NumberOfPasswordPrompts=1',
        'anyone@anyhost',
        'sha256sum',
      ],
      { stdin: input, env: { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' } },
    );
    expect(run.stdout.split(' ')[0]).toBe(createHash('sha256').update(input).digest('hex'));
    expect(run.code).toBe(0);
  });

  it('refuses a wrong password', async () => {
    const run = await runProgram(
      BIN.ssh,
      [
        ...sshOptions(),
        '-o',
        `ProxyCommand=${exampleCommand('--stdio', '--password', 'other', '--host-key', hostKey.path)}`,
        '-o',
        'PreferredAuthentications=password',
        '-o',
        'NumberOfPasswordPrompts=1',
        'anyone@anyhost',
        'true',
      ],
      { env: { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' } },
    );
    expect(run.stderr).toContain('Permission denied');
    expect(run.code).toBe(255);
  });

  it('is the jump host of ssh -W: forwards to an sshd on loopback (--forward)', async () => {
    const jump = [...withKey(), '-p', String(port), '-W', '%h:%p', 'someone@127.0.0.1']
      .map(quote)
      .join(' ');
    const run = await runProgram(BIN.ssh, [
      '-F',
      '/dev/null',
      '-o',
      'BatchMode=yes',
      '-o',
      'IdentityAgent=none',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-i',
      sshd.userKey.path,
      '-o',
      `ProxyCommand=${quote(BIN.ssh)} ${jump}`,
      '-p',
      String(sshd.sshd.port),
      'root@127.0.0.1',
      'set -- $SSH_CONNECTION; echo "behind the jump: $4"',
    ]);
    expect(run.stdout).toBe(`behind the jump: ${sshd.sshd.port}\n`);
    expect(run.code).toBe(0);
  });
});
