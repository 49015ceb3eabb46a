/**
 * examples/client-exec.ts against OpenSSH's sshd: output and exit status come back, stdin goes
 * to the command, options come from the environment too, and a wrong host key pin stops it.
 */

import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExampleSshd, runExample, startExampleSshd } from './helpers.js';

let server: ExampleSshd;

beforeAll(async () => {
  server = await startExampleSshd();
});

afterAll(async () => {
  await server?.sshd.stop();
});

const argv = (...command: string[]) => [
  '--host',
  '127.0.0.1',
  '--port',
  String(server.sshd.port),
  '--user',
  'root',
  '--key',
  server.userKey.path,
  '--fingerprint',
  server.hostKey.fingerprint,
  '--',
  ...command,
];

describe('examples/client-exec.ts', () => {
  it('prints the remote stdout and stderr and exits with the remote status', async () => {
    const run = await runExample('client-exec', argv('echo "out $(whoami)"; echo err >&2; exit 7'));
    expect(run.stdout).toBe('out root\n');
    expect(run.stderr).toContain('err\n');
    expect(run.code).toBe(7);
  });

  it('sends its stdin to the command (1 MiB through sha256sum)', async () => {
    const input = randomBytes(1024 * 1024);
    const run = await runExample('client-exec', argv('sha256sum'), { stdin: input });
    expect(run.stdout.split(' ')[0]).toBe(createHash('sha256').update(input).digest('hex'));
    expect(run.code).toBe(0);
  });

  it('takes its options from the environment', async () => {
    const run = await runExample('client-exec', ['-n', '--', 'echo from-env'], {
      env: {
        SSH_HOST: '127.0.0.1',
        SSH_PORT: String(server.sshd.port),
        SSH_USER: 'root',
        SSH_KEY: server.userKey.path,
        SSH_HOST_FINGERPRINT: server.hostKey.fingerprint,
      },
    });
    expect(run.stdout).toBe('from-env\n');
    expect(run.code).toBe(0);
  });

  it('refuses a host key that is not the pinned one, with status 255', async () => {
    const args = argv('echo never');
    args[args.indexOf('--fingerprint') + 1] = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const run = await runExample('client-exec', args);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`host key ${server.hostKey.fingerprint} is not the one pinned`);
    expect(run.stderr).toContain('SSH_ERR_HOST_KEY_REJECTED');
    expect(run.code).toBe(255);
  });
});
