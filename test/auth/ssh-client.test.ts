/**
 * OpenSSH's `ssh` 9.2 against our ServerAuth (test/auth/stdio-auth-server.ts as ProxyCommand):
 * publickey with each key type, password and keyboard-interactive through SSH_ASKPASS, the
 * banner, refusal, and partial success (publickey, then password).
 */

import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  generateOpenSshKeys,
  type KeyFile,
  makeTempDir,
  REPO_ROOT,
  removeDir,
  requireBinary,
  runProcess,
} from '../interop/peers.js';

const SCRIPT = join(REPO_ROOT, 'test/auth/stdio-auth-server.ts');
const SECRET = 'correct horse';

let dir: string;
let keys: KeyFile[];
let askpass: string;
let counter = 0;

beforeAll(async () => {
  requireBinary(BIN.ssh);
  dir = makeTempDir('auth-ssh');
  keys = await generateOpenSshKeys(dir);
  askpass = join(dir, 'askpass.sh');
  writeFileSync(askpass, `#!/bin/sh\necho '${SECRET}'\n`);
  chmodSync(askpass, 0o755);
});

afterAll(() => {
  if (dir) removeDir(dir);
});

function key(kind: KeyFile['kind']): KeyFile {
  return keys.find((k) => k.kind === kind)!;
}

function blobOf(k: KeyFile): string {
  return k.publicKeyLine.split(/\s+/)[1]!;
}

interface Result {
  code: number | null;
  stderr: string;
  records: { type: string; [k: string]: unknown }[];
}

async function ssh(server: Record<string, unknown>, sshArgs: string[]): Promise<Result> {
  const n = ++counter;
  const log = join(dir, `log-${n}.jsonl`);
  const config = join(dir, `config-${n}.json`);
  writeFileSync(config, JSON.stringify({ hostKey: key('ed25519').path, log, ...server }));
  writeFileSync(log, '');
  const proxy = `${process.execPath} --import tsx ${SCRIPT} ${config}`;
  const result = await runProcess(
    BIN.ssh,
    [
      '-F',
      '/dev/null',
      '-v',
      '-o',
      `ProxyCommand=${proxy}`,
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'IdentityAgent=none',
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'NumberOfPasswordPrompts=1',
      ...sshArgs,
      'alice@anyhost',
      'true',
    ],
    {
      env: { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
      timeoutMs: 40_000,
    },
  );
  const records = readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
  return { code: result.code, stderr: result.stderr, records };
}

const requests = (r: Result) => r.records.filter((x) => x.type === 'request');

describe.concurrent('OpenSSH ssh against our ServerAuth', () => {
  const cases = [
    ['ed25519', 'ssh-ed25519'],
    ['ecdsa256', 'ecdsa-sha2-nistp256'],
    ['ecdsa521', 'ecdsa-sha2-nistp521'],
    ['rsa', 'rsa-sha2-512'],
  ] as const;
  for (const [kind, algorithm] of cases) {
    it(`accepts publickey with a ${kind} key signed with ${algorithm}`, async () => {
      const r = await ssh({ methods: ['publickey'], authorizedKeys: [blobOf(key(kind))] }, [
        '-i',
        key(kind).path,
        '-o',
        'BatchMode=yes',
        '-o',
        'PreferredAuthentications=publickey',
      ]);
      expect(r.stderr).toContain('Authenticated to anyhost (via proxy) using "publickey"');
      const signed = requests(r).filter((q) => q.hasSignature);
      expect(
        signed.map((q) => [q.username, q.algorithm]),
        r.stderr,
      ).toEqual([['alice', algorithm]]);
      expect(r.records.filter((x) => x.type === 'authenticated')).toEqual([
        { type: 'authenticated', username: 'alice', method: 'publickey' },
      ]);
    });
  }

  it('refuses a key it does not know', async () => {
    const r = await ssh({ methods: ['publickey'], authorizedKeys: [] }, [
      '-i',
      key('ed25519').path,
      '-o',
      'BatchMode=yes',
    ]);
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('Permission denied (publickey)');
  });

  it('accepts a password typed through SSH_ASKPASS, after showing the banner', async () => {
    const r = await ssh(
      { methods: ['password'], password: SECRET, banner: 'Authorized use only\n' },
      ['-o', 'PreferredAuthentications=password'],
    );
    expect(r.stderr).toContain('Authorized use only');
    expect(r.stderr).toContain('Authenticated to anyhost (via proxy) using "password"');
  });

  it('refuses a wrong password', async () => {
    const r = await ssh({ methods: ['password'], password: 'other' }, [
      '-o',
      'PreferredAuthentications=password',
    ]);
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('Permission denied');
  });

  it('accepts keyboard-interactive', async () => {
    const r = await ssh({ methods: ['keyboard-interactive'], kbdCode: SECRET }, [
      '-o',
      'PreferredAuthentications=keyboard-interactive',
    ]);
    expect(r.stderr).toContain('Authenticated to anyhost (via proxy) using "keyboard-interactive"');
  });

  it('takes publickey then password with partial success', async () => {
    const r = await ssh(
      {
        methods: ['publickey'],
        authorizedKeys: [blobOf(key('ed25519'))],
        password: SECRET,
        partial: ['password'],
      },
      ['-i', key('ed25519').path],
    );
    expect(r.stderr).toContain('Authenticated using "publickey" with partial success');
    expect(r.stderr).toContain('Authenticated to anyhost (via proxy) using "password"');
    expect(requests(r).at(-1)).toMatchObject({ method: 'password', completed: ['publickey'] });
  });
});
