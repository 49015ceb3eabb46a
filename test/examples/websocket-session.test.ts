/** examples/websocket-session.ts: our server and client over a WebSocket on loopback. */

import { describe, expect, it } from 'vitest';
import { runExample } from './helpers.js';

describe('examples/websocket-session.ts', () => {
  it('runs the command over a WebSocket and exits with its status', async () => {
    const run = await runExample('websocket-session', ['--', 'echo "over ws"; exit 9']);
    expect(run.stdout).toBe('over ws\n');
    expect(run.stderr).toMatch(/server on ws:\/\/127\.0\.0\.1:\d+\/ssh/);
    expect(run.code).toBe(9);
  });
});
