/**
 * examples/serial-session.ts: a session over a socat pseudo-terminal pair, made by the example
 * itself or given to it.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { type PtyPair, ptyPair } from '../transports-e2e/helpers.js';
import { runExample } from './helpers.js';

const pairs: PtyPair[] = [];
afterEach(async () => {
  for (const p of pairs.splice(0)) await p.stop();
});

describe('examples/serial-session.ts', () => {
  it('makes its own pty pair, runs the command and exits with its status', async () => {
    const run = await runExample('serial-session', [
      '--',
      'echo "over the line"; echo e >&2; exit 6',
    ]);
    expect(run.stdout).toBe('over the line\n');
    expect(run.stderr).toContain('e\n');
    expect(run.code).toBe(6);
  });

  it('uses the two ends it is given', async () => {
    const pty = await ptyPair();
    pairs.push(pty);
    const run = await runExample('serial-session', ['--server', pty.a, '--client', pty.b]);
    expect(run.stdout).toMatch(/^Linux /);
    expect(run.code).toBe(0);
  });
});
