/**
 * examples/sshd-stdio.ts: our client over the stdin/stdout of `sshd -i`, trusting the host
 * keys the sshd configuration names.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExampleSshd, runExample, startExampleSshd } from './helpers.js';

let server: ExampleSshd;

beforeAll(async () => {
  server = await startExampleSshd();
});

afterAll(async () => {
  await server?.sshd.stop();
});

describe('examples/sshd-stdio.ts', () => {
  it('logs in to sshd -i over its stdio and runs a command', async () => {
    const run = await runExample('sshd-stdio', [
      '--config',
      server.sshd.configPath,
      '--user',
      'root',
      '--key',
      server.userKey.path,
      '--',
      'set -- $SSH_CONNECTION; echo "$(whoami) via $1"; exit 3',
    ]);
    expect(run.stdout).toBe('root via UNKNOWN\n');
    expect(run.code).toBe(3);
  });

  it('fails with status 255 and the reason when the key is not authorized', async () => {
    const run = await runExample('sshd-stdio', [
      '--config',
      server.sshd.configPath,
      '--key',
      server.sshd.keys[0]!.path, // a host key: not in authorized_keys
      '--',
      'true',
    ]);
    expect(run.stderr).toContain('SSH_ERR_AUTH_FAILED');
    expect(run.code).toBe(255);
  });
});
