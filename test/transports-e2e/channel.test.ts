/**
 * The channel transport end to end: our client hops through OpenSSH's sshd twice (client →
 * sshd#1 → direct-tcpip → sshd#2 → direct-tcpip → sshd#3), each inner session running over a
 * channel of the one before, and moves 8 MiB through `cat` on the innermost; then the middle
 * server dies mid-transfer and the break reaches both inner sessions as a lost link.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptForward } from '../../examples/lib/forward.js';
import {
  type Channel,
  channelOpenSession,
  channelRequestExec,
  generatePrivateKey,
  type Session,
  SSH_ERR,
  sessionDisconnect,
  sessionLastError,
  sessionState,
} from '../../src/index.js';
import {
  type AttachedChannelLink,
  attachChannelLink,
  attachToChannel,
  type ChannelLink,
} from '../../transports/channel.js';
import { createMemoryLink } from '../../transports/memory.js';
import { connectTcp } from '../../transports/tcp.js';
import { Recorder } from '../transports/helpers.js';
import {
  catRoundTrip,
  expectCleanBreak,
  expectIntact,
  killSshdConnections,
  type RootSshd,
  rootLogin,
  sha256,
  sourceBytes,
  startRootSshd,
} from './helpers.js';

let first: RootSshd;
let second: RootSshd;

beforeAll(async () => {
  [first, second] = await Promise.all([startRootSshd(), startRootSshd()]);
});

afterAll(async () => {
  await Promise.all([first?.sshd.stop(), second?.sshd.stop()]);
});

interface Chain {
  readonly sessions: Session[];
  readonly recs: Recorder[];
  readonly links: ChannelLink[];
}

/** Logs in to `hops[0]` over TCP, then to each next hop through a channel of the one before. */
async function connectChain(hops: readonly RootSshd[]): Promise<Chain> {
  const chain: Chain = { sessions: [], recs: [], links: [] };
  for (const [i, hop] of hops.entries()) {
    const rec = new Recorder();
    const config = rootLogin(hop, rec);
    let session: Session;
    if (i === 0) {
      session = connectTcp({ port: hop.sshd.port }, config);
    } else {
      const link = attachChannelLink(
        chain.sessions[i - 1]!,
        { host: '127.0.0.1', port: hop.sshd.port },
        config,
      );
      chain.links.push(link);
      session = link.session;
    }
    chain.sessions.push(session);
    chain.recs.push(rec);
    await rec.waitFor('authenticated');
  }
  return chain;
}

describe('SSH over SSH channels, two jumps deep through sshd', () => {
  it('moves 8 MiB through cat on the third server, intact', async () => {
    const chain = await connectChain([first, second, first]);
    const innermost = chain.sessions[2]!;
    const data = sourceBytes();
    const trip = await catRoundTrip(innermost, data);
    expectIntact('channel (2 jumps through sshd)', data, trip);
    for (const link of chain.links) expect(link.bufferedAmount).toBe(0);

    // Ending the innermost session ends its channel; the hop before stays usable.
    sessionDisconnect(innermost);
    await chain.recs[2]!.waitFor('closed');
    expect(sessionLastError(innermost)).toBeUndefined();
    const again = await catRoundTrip(chain.sessions[1]!, data.subarray(0, 64 * 1024));
    expect(again.receivedHash).toBe(again.sourcePrefixHash);
    expect(again.received).toBe(64 * 1024);

    sessionDisconnect(chain.sessions[0]!);
    await Promise.all(chain.recs.map((r) => r.waitFor('closed')));
    expect(sessionLastError(chain.sessions[1]!)?.code).toBe(SSH_ERR.CONNECTION_LOST);
  });

  it('reports a middle server dying mid-transfer as a lost link, bytes so far intact', async () => {
    const chain = await connectChain([first, second, first]);
    const [outer, middle, innermost] = chain.sessions as [Session, Session, Session];
    await expectCleanBreak('channel (2 jumps, middle sshd killed)', innermost, chain.recs[2]!, () =>
      killSshdConnections(second.sshd),
    );
    await chain.recs[1]!.waitFor('closed');
    expect(sessionLastError(middle)?.code).toBe(SSH_ERR.CONNECTION_LOST);
    // The first hop lost only a channel.
    expect(sessionState(outer)).toBe('established');
    sessionDisconnect(outer);
    await chain.recs[0]!.waitFor('closed');
    expect(sessionLastError(outer)).toBeUndefined();
  });
});

describe('SSH over other kinds of channels', () => {
  it("runs a session over an exec'd socat channel on the jump host (attachToChannel)", async () => {
    const jumpRec = new Recorder();
    const jump = connectTcp({ port: first.sshd.port }, rootLogin(first, jumpRec));
    await jumpRec.waitFor('authenticated');
    const rec = new Recorder();
    const early: Uint8Array[] = [];
    const linked = new Promise<AttachedChannelLink>((resolve, reject) => {
      let link: AttachedChannelLink | undefined;
      channelOpenSession(jump, {
        onEvent: (event, channel: Channel) => {
          if (link) return link.onEvent(event, channel);
          if (event.type === 'open') {
            channelRequestExec(channel, `socat STDIO TCP:127.0.0.1:${second.sshd.port}`);
          } else if (event.type === 'data') {
            early.push(event.data);
          } else if (event.type === 'request-result') {
            if (!event.success) return reject(new Error('exec refused'));
            link = attachToChannel(channel, rootLogin(second, rec), {
              received: Buffer.concat(early),
            });
            resolve(link);
          } else if (event.type === 'close' || event.type === 'open-failed') {
            reject(new Error(`the channel ended first (${event.type})`));
          }
        },
      });
    });
    const { session } = await linked;
    await rec.waitFor('authenticated');
    const data = sourceBytes(2 * 1024 * 1024);
    const trip = await catRoundTrip(session, data);
    expect(trip.received).toBe(data.length);
    expect(trip.receivedHash).toBe(sha256(data));
    sessionDisconnect(session);
    await rec.waitFor('closed');
    expect(sessionLastError(session)).toBeUndefined();
    sessionDisconnect(jump);
    await jumpRec.waitFor('closed');
  });

  it('buffers what a small window refuses, over a synchronous fragmenting link to our own jump host', async () => {
    const { jump, jumpRec } = await memoryJumpHost();
    const rec = new Recorder();
    const link = attachChannelLink(
      jump,
      { host: '127.0.0.1', port: second.sshd.port },
      rootLogin(second, rec),
    );
    await rec.waitFor('authenticated');
    let mostBuffered = 0;
    const data = sourceBytes(1024 * 1024);
    const trip = await catRoundTrip(link.session, data, {
      // The inner session sends what a write produced when its current call returns; look
      // right after that, before the jump host's window adjustments drain the buffer.
      afterWrite: () =>
        process.nextTick(() => {
          mostBuffered = Math.max(mostBuffered, link.bufferedAmount);
        }),
    });
    expect(trip.received).toBe(data.length);
    expect(trip.receivedHash).toBe(sha256(data));
    expect(mostBuffered, 'the 16 KiB window made the transport buffer').toBeGreaterThan(0);
    expect(link.bufferedAmount).toBe(0);
    sessionDisconnect(jump);
    await Promise.all([jumpRec.waitFor('closed'), rec.waitFor('closed')]);
    expect(sessionLastError(link.session)?.code).toBe(SSH_ERR.CONNECTION_LOST);
  });

  it('ends the inner session when its output passes maxBufferedBytes, and only its channel', async () => {
    const { jump, jumpRec } = await memoryJumpHost();
    const rec = new Recorder();
    const linkErrors: Error[] = [];
    const link = attachChannelLink(
      jump,
      { host: '127.0.0.1', port: second.sshd.port },
      rootLogin(second, rec),
      { maxBufferedBytes: 64 * 1024, onLinkError: (e) => linkErrors.push(e) },
    );
    await rec.waitFor('authenticated');
    const trip = await catRoundTrip(link.session, sourceBytes(1024 * 1024));
    await rec.waitFor('closed');
    expect(sessionLastError(link.session)?.code).toBe(SSH_ERR.SEND_FAILED);
    expect(linkErrors.map((e) => e.message)).toEqual([
      'the channel link buffered more than 65536 bytes',
    ]);
    expect(trip.receivedHash).toBe(trip.sourcePrefixHash);
    expect(sessionState(jump)).toBe('established');
    sessionDisconnect(jump);
    await jumpRec.waitFor('closed');
  });

  it('ends the inner session with CONNECTION_LOST when the jump host refuses the channel', async () => {
    const { jump, jumpRec } = await memoryJumpHost();
    const rec = new Recorder();
    const linkErrors: Error[] = [];
    const link = attachChannelLink(jump, { host: '192.0.2.1', port: 22 }, rootLogin(second, rec), {
      onLinkError: (e) => linkErrors.push(e),
    });
    await rec.waitFor('closed');
    expect(sessionLastError(link.session)?.code).toBe(SSH_ERR.CONNECTION_LOST);
    expect(linkErrors[0]?.message).toMatch(/refused \(1\)/);
    expect(sessionState(jump)).toBe('established');
    sessionDisconnect(jump);
    await jumpRec.waitFor('closed');
  });
});

/**
 * Our own server as the jump host over a synchronous in-memory link that cuts bytes into
 * random pieces; it forwards to loopback only, granting 16 KiB windows and 1 KiB packets.
 */
async function memoryJumpHost(): Promise<{ jump: Session; jumpRec: Recorder }> {
  const [near, far] = createMemoryLink({ delivery: 'sync', split: { seed: 11, maxPiece: 4096 } });
  far.create({
    role: 'server',
    hostKeys: [generatePrivateKey('ed25519')],
    authMethods: ['password'],
    onAuth: (request) => (request.password === 'jump' ? request.accept() : request.reject()),
    onChannelOpen: (request) =>
      request.type === 'direct-tcpip' && request.host === '127.0.0.1'
        ? acceptForward(request, { window: 16 * 1024, maxPacket: 1024 })
        : request.reject(),
  });
  const jumpRec = new Recorder();
  const jump = near.create({
    role: 'client',
    onHostKey: (request) => request.accept(),
    auth: { username: 'me', methods: [{ type: 'password', password: 'jump' }] },
    onEvent: jumpRec.onEvent,
  });
  await jumpRec.waitFor('authenticated');
  return { jump, jumpRec };
}
