/**
 * examples/custom-transport.ts: a transport written from scratch stays small (under 60 lines)
 * and carries a real session.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../interop/peers.js';
import { runExample } from './helpers.js';

describe('examples/custom-transport.ts', () => {
  it('is under 60 lines', () => {
    const text = readFileSync(join(REPO_ROOT, 'examples/custom-transport.ts'), 'utf8');
    const lines = text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
    expect(lines).toBeLessThan(60);
  });

  it('completes a handshake, a password login and a command over two PassThrough streams', async () => {
    const run = await runExample('custom-transport', []);
    expect(run.stdout).toBe('ran "hello"\n');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });
});
