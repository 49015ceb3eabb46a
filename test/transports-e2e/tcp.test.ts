/**
 * The TCP transport end to end against OpenSSH's sshd: 8 MiB through `cat` and back with
 * matching SHA-256, and sshd's connection process killed mid-transfer.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionDisconnect, sessionLastError } from '../../src/index.js';
import { connectTcp } from '../../transports/tcp.js';
import { Recorder } from '../transports/helpers.js';
import {
  catRoundTrip,
  expectCleanBreak,
  expectIntact,
  killSshdConnections,
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

describe('TCP to OpenSSH sshd', () => {
  it('moves 8 MiB through cat and back, intact', async () => {
    const rec = new Recorder();
    const session = connectTcp({ port: server.sshd.port }, rootLogin(server, rec));
    await rec.waitFor('authenticated');
    const data = sourceBytes();
    expectIntact('tcp (sshd)', data, await catRoundTrip(session, data));
    sessionDisconnect(session);
    await rec.waitFor('closed');
    expect(sessionLastError(session)).toBeUndefined();
  });

  it('reports sshd dying mid-transfer as a lost link, bytes so far intact', async () => {
    const rec = new Recorder();
    const session = connectTcp({ port: server.sshd.port }, rootLogin(server, rec));
    await rec.waitFor('authenticated');
    await expectCleanBreak('tcp (sshd killed)', session, rec, () =>
      expect(killSshdConnections(server.sshd)).toBeGreaterThan(0),
    );
  });
});
