/**
 * docs/ssh2-compat.md: its two programs (examples/compat/ssh2-exec.ts with the `ssh2` package,
 * examples/compat/ours-exec.ts with pluggable-ssh/node) run against our own server and behave
 * the same, and the guide's code blocks are byte-for-byte those files.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshServer } from '../../node/index.js';
import { fingerprintSha256 } from '../../src/index.js';
import { runExample } from '../examples/helpers.js';
import { REPO_ROOT } from '../interop/peers.js';
import { PASSWORD, startTestServer, USER } from './server-app.js';

let server: SshServer;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const started = await startTestServer();
  server = started.server;
  env = {
    SSH_HOST: '127.0.0.1',
    SSH_PORT: String(started.port),
    SSH_USER: USER,
    SSH_PASSWORD: PASSWORD,
    SSH_HOST_FINGERPRINT: fingerprintSha256(started.hostKey.publicKeyBlob),
  };
});

afterAll(async () => {
  await server?.close();
});

describe('the ssh2 compatibility guide', () => {
  it.each(['ssh2-exec', 'ours-exec'])(
    '%s prints the output and exits with the status',
    async (name) => {
      const run = await runExample(`compat/${name}`, ['echo out; echo err >&2; exit 5'], { env });
      expect(run.stdout).toBe('out\n');
      expect(run.stderr).toBe('err\n');
      expect(run.code).toBe(5);
    },
  );

  it.each(['ssh2-exec', 'ours-exec'])('%s refuses a host key that is not pinned', async (name) => {
    const run = await runExample(`compat/${name}`, ['echo never'], {
      env: { ...env, SSH_HOST_FINGERPRINT: 'SHA256:not-this-one' },
    });
    expect(run.stdout).toBe('');
    expect(run.code).toBe(255);
  });

  it('shows the two files verbatim', () => {
    const guide = readFileSync(join(REPO_ROOT, 'docs/ssh2-compat.md'), 'utf8');
    const blocks = [
      ...guide.matchAll(/### `(examples\/compat\/[\w-]+\.ts)`\n\n```ts\n([\s\S]*?)```\n/g),
    ];
    expect(blocks.map((b) => b[1])).toEqual([
      'examples/compat/ssh2-exec.ts',
      'examples/compat/ours-exec.ts',
    ]);
    for (const [, path, code] of blocks) {
      expect(code, path).toBe(readFileSync(join(REPO_ROOT, path!), 'utf8'));
    }
  });
});
