/**
 * The child-stdio transport end to end: our client talks to `sshd -i` over its stdin/stdout
 * (spawnSession), moves 8 MiB through `cat` and back with matching SHA-256; then the sshd
 * child is killed mid-transfer.
 */

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionDisconnect, sessionLastError } from '../../src/index.js';
import { type SpawnedSession, spawnSession } from '../../transports/ipc.js';
import { BIN } from '../interop/peers.js';
import { Recorder } from '../transports/helpers.js';
import {
  catRoundTrip,
  descendants,
  expectCleanBreak,
  expectIntact,
  type RootSshd,
  rootLogin,
  sourceBytes,
  startRootSshd,
} from './helpers.js';

let server: RootSshd;

beforeAll(async () => {
  server = await startRootSshd();
});

afterAll(async () => {
  await server?.sshd.stop();
});

function spawnSshd(rec: Recorder, name: string): SpawnedSession {
  const { configPath, dir } = server.sshd;
  return spawnSession(
    BIN.sshd,
    ['-i', '-f', configPath, '-E', join(dir, `${name}.log`)],
    rootLogin(server, rec),
    { stderr: 'collect' },
  );
}

describe('child stdio to sshd -i', () => {
  it('moves 8 MiB through cat and back, intact', async () => {
    const rec = new Recorder();
    const { session, child } = spawnSshd(rec, 'intact');
    await rec.waitFor('authenticated');
    const data = sourceBytes();
    expectIntact('ipc (sshd -i over stdio)', data, await catRoundTrip(session, data));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    sessionDisconnect(session);
    await rec.waitFor('closed');
    expect(sessionLastError(session)).toBeUndefined();
    await exited;
  });

  it('reports sshd -i dying mid-transfer as a lost link, bytes so far intact', async () => {
    const rec = new Recorder();
    const { session, child } = spawnSshd(rec, 'break');
    await rec.waitFor('authenticated');
    await expectCleanBreak('ipc (sshd -i killed)', session, rec, () => {
      const pids = [child.pid!, ...descendants(child.pid!)];
      for (const pid of pids) process.kill(pid, 'SIGKILL');
    });
  });
});
