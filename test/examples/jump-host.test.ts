/**
 * examples/jump-host.ts: our client through OpenSSH jump hosts (SSH inside direct-tcpip
 * channels, transports/channel.ts), one and two jumps deep, with every hop's key pinned.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExampleSshd, runExample, startExampleSshd } from './helpers.js';

let jump: ExampleSshd;
let target: ExampleSshd;

beforeAll(async () => {
  jump = await startExampleSshd();
  target = await startExampleSshd(jump.userKey);
});

afterAll(async () => {
  await Promise.all([jump?.sshd.stop(), target?.sshd.stop()]);
});

const hop = (s: ExampleSshd) => `root@127.0.0.1:${s.sshd.port}`;

describe('examples/jump-host.ts', () => {
  it('runs a command on the target through one jump host', async () => {
    const run = await runExample('jump-host', [
      '--key',
      jump.userKey.path,
      '--jump',
      hop(jump),
      '--jump-fingerprint',
      jump.hostKey.fingerprint,
      '--target',
      hop(target),
      '--target-fingerprint',
      target.hostKey.fingerprint,
      '--',
      'set -- $SSH_CONNECTION; echo "on port $4"; exit 4',
    ]);
    expect(run.stdout).toBe(`on port ${target.sshd.port}\n`);
    expect(run.code).toBe(4);
    // The jump host saw a login and opened the forwarded connection to the target.
    expect(jump.sshd.logs()).toMatch(/Accepted publickey for root/);
    expect(target.sshd.logs()).toMatch(/Accepted publickey for root from 127\.0\.0\.1/);
  });

  it('chains two jumps (jump → target → jump again)', async () => {
    const run = await runExample('jump-host', [
      '--key',
      jump.userKey.path,
      '--jump',
      hop(jump),
      '--jump-fingerprint',
      jump.hostKey.fingerprint,
      '--jump',
      hop(target),
      '--jump-fingerprint',
      target.hostKey.fingerprint,
      '--target',
      hop(jump),
      '--target-fingerprint',
      jump.hostKey.fingerprint,
      '--',
      'set -- $SSH_CONNECTION; echo "on port $4"',
    ]);
    expect(run.stdout).toBe(`on port ${jump.sshd.port}\n`);
    expect(run.code).toBe(0);
  });

  it('stops at a hop whose host key is not the pinned one', async () => {
    const run = await runExample('jump-host', [
      '--key',
      jump.userKey.path,
      '--jump',
      hop(jump),
      '--jump-fingerprint',
      jump.hostKey.fingerprint,
      '--target',
      hop(target),
      '--target-fingerprint',
      jump.hostKey.fingerprint,
      '--',
      'echo never',
    ]);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`presented ${target.hostKey.fingerprint}`);
    expect(run.stderr).toContain('SSH_ERR_HOST_KEY_REJECTED');
    expect(run.code).toBe(255);
  });
});
