import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { channelOpenSession } from '../../src/connection/api.js';
import {
  decodeChannelOpen,
  encodeChannelOnly,
  encodeChannelOpen,
  encodeChannelRequest,
  encodeData,
  encodeOpenConfirmation,
  encodeWindowAdjust,
} from '../../src/connection/messages.js';
import type { ChannelOptions } from '../../src/connection/types.js';
import { SSH_ERR, SSH_MSG } from '../../src/index.js';
import { engineOf } from '../../src/session.js';
import { makePair } from '../helpers.js';
import { attachConnection, attachRawPeer, expectPeerFault } from './harness.js';

const M = SSH_MSG;

/** A real client with one confirmed channel (our id 0, peer id 7) and a raw server. */
function clientWithChannel(options: Partial<ChannelOptions> = {}, peerWindow = 1000) {
  const pair = makePair();
  const raw = attachRawPeer(pair.server);
  attachConnection(pair.client);
  const events: string[] = [];
  channelOpenSession(pair.client, { onEvent: (e) => events.push(e.type), ...options });
  const open = decodeChannelOpen(raw.received[0]!);
  expect(open.sender).toBe(0);
  raw.send(encodeOpenConfirmation(0, 7, peerWindow, 32768));
  expect(events).toEqual(['open']);
  return { pair, raw, events };
}

function data(recipient: number, n: number): Uint8Array {
  return encodeData(recipient, new Uint8Array(n), 0, n);
}

describe('hostile connection messages end the session once, with a typed error', () => {
  it('rejects data for a channel id that is not in use', () => {
    const { pair, raw } = clientWithChannel();
    raw.send(data(5, 10));
    expectPeerFault(pair, 'client', SSH_ERR.UNEXPECTED_MESSAGE);
  });

  it('rejects data beyond the window we granted', () => {
    const { pair, raw, events } = clientWithChannel({ window: 100, manualWindow: true });
    raw.send(data(0, 60));
    raw.send(data(0, 41));
    expectPeerFault(pair, 'client', SSH_ERR.LIMIT_EXCEEDED);
    expect(events).toEqual(['open', 'data']);
  });

  it('rejects data longer than our maximum packet', () => {
    const { pair, raw } = clientWithChannel({ maxPacket: 50 });
    raw.send(data(0, 51));
    expectPeerFault(pair, 'client', SSH_ERR.LIMIT_EXCEEDED);
  });

  it('rejects a WINDOW_ADJUST that makes the window exceed 2^32-1', () => {
    const { pair, raw } = clientWithChannel({}, 1000);
    raw.send(encodeWindowAdjust(0, 0xffff_ffff - 1000));
    expect(engineOf(pair.client).state).toBe('established');
    raw.send(encodeWindowAdjust(0, 1));
    expectPeerFault(pair, 'client', SSH_ERR.LIMIT_EXCEEDED);
  });

  it('rejects a second CLOSE', () => {
    const { pair, raw, events } = clientWithChannel();
    raw.send(encodeChannelOnly(M.CHANNEL_CLOSE, 0));
    expect(raw.received.at(-1)).toEqual(encodeChannelOnly(M.CHANNEL_CLOSE, 7));
    raw.send(encodeChannelOnly(M.CHANNEL_CLOSE, 0));
    expectPeerFault(pair, 'client', SSH_ERR.UNEXPECTED_MESSAGE);
    expect(events).toEqual(['open', 'close']);
  });

  it('rejects data after EOF, and a second EOF', () => {
    const a = clientWithChannel();
    a.raw.send(encodeChannelOnly(M.CHANNEL_EOF, 0));
    a.raw.send(data(0, 1));
    expectPeerFault(a.pair, 'client', SSH_ERR.UNEXPECTED_MESSAGE);
    const b = clientWithChannel();
    b.raw.send(encodeChannelOnly(M.CHANNEL_EOF, 0));
    b.raw.send(encodeChannelOnly(M.CHANNEL_EOF, 0));
    expectPeerFault(b.pair, 'client', SSH_ERR.UNEXPECTED_MESSAGE);
  });

  it('rejects request replies with no request outstanding', () => {
    const a = clientWithChannel();
    a.raw.send(encodeChannelOnly(M.CHANNEL_SUCCESS, 0));
    expectPeerFault(a.pair, 'client', SSH_ERR.UNEXPECTED_MESSAGE);
    const b = clientWithChannel();
    b.raw.send(new Uint8Array([M.REQUEST_FAILURE]));
    expectPeerFault(b.pair, 'client', SSH_ERR.UNEXPECTED_MESSAGE);
  });

  it('rejects a confirmation for a channel that is already open', () => {
    const { pair, raw } = clientWithChannel();
    raw.send(encodeOpenConfirmation(0, 8, 10, 10));
    expectPeerFault(pair, 'client', SSH_ERR.UNEXPECTED_MESSAGE);
  });

  it('rejects data for a channel the peer has not confirmed yet', () => {
    const pair = makePair();
    const raw = attachRawPeer(pair.server);
    attachConnection(pair.client);
    channelOpenSession(pair.client, { onEvent: () => {} });
    raw.send(data(0, 1));
    expectPeerFault(pair, 'client', SSH_ERR.UNEXPECTED_MESSAGE);
  });

  it('rejects a peer reusing the id of a live channel', () => {
    const { pair, raw } = clientWithChannel();
    channelOpenSession(pair.client, { onEvent: () => {} });
    raw.send(encodeOpenConfirmation(1, 7, 10, 10));
    expectPeerFault(pair, 'client', SSH_ERR.UNEXPECTED_MESSAGE);
    const b = clientWithChannel();
    b.raw.send(encodeChannelOpen({ type: 'session' }, 7, 100, 100));
    expectPeerFault(b.pair, 'client', SSH_ERR.UNEXPECTED_MESSAGE);
  });

  it('rejects a peer that piles up unanswered channel requests', () => {
    const { pair, raw } = clientWithChannel();
    for (let i = 0; i < 64; i++)
      raw.send(encodeChannelRequest(0, 'x@example.com', true, new Uint8Array(0)));
    expect(engineOf(pair.client).state).toBe('established');
    raw.send(encodeChannelRequest(0, 'x@example.com', true, new Uint8Array(0)));
    expectPeerFault(pair, 'client', SSH_ERR.LIMIT_EXCEEDED);
  });

  it('rejects a known request with a malformed body and a truncated data message', () => {
    const a = clientWithChannel();
    a.raw.send(encodeChannelRequest(0, 'exit-status', false, new Uint8Array(2)));
    expectPeerFault(a.pair, 'client', SSH_ERR.MALFORMED_MESSAGE);
    const b = clientWithChannel();
    b.raw.send(data(0, 10).subarray(0, 15));
    expectPeerFault(b.pair, 'client', SSH_ERR.MALFORMED_MESSAGE);
  });

  it('rejects messages for a channel the server has not answered yet', () => {
    const pair = makePair();
    const raw = attachRawPeer(pair.client);
    attachConnection(pair.server, { onChannelOpen: () => {} });
    raw.send(encodeChannelOpen({ type: 'session' }, 3, 100, 100));
    raw.send(encodeWindowAdjust(0, 10));
    expectPeerFault(pair, 'server', SSH_ERR.UNEXPECTED_MESSAGE);
  });

  it('answers unknown connection message numbers with UNIMPLEMENTED', () => {
    const { pair, raw } = clientWithChannel();
    raw.send(new Uint8Array([110, 1, 2]));
    expect(engineOf(pair.client).state).toBe('established');
    expect(pair.serverLog).toContain('unimplemented');
  });

  it('ends only with a protocol error, never an internal one, whatever the peer sends', () => {
    const message = fc.oneof(
      fc
        .tuple(fc.integer({ min: 80, max: 100 }), fc.uint8Array({ maxLength: 24 }))
        .map(([type, body]) => new Uint8Array([type, ...body])),
      fc
        .tuple(fc.constantFrom(93, 94, 95, 96, 97, 98, 99, 100), fc.integer({ min: 0, max: 2 }))
        .map(([type, id]) =>
          type === 94
            ? data(id, 3)
            : type === 98
              ? encodeChannelRequest(id, 'env', true, new Uint8Array(0))
              : encodeChannelOnly(type, id),
        ),
    );
    fc.assert(
      fc.property(fc.array(message, { maxLength: 12 }), (messages) => {
        const { pair, raw } = clientWithChannel();
        for (const m of messages) raw.send(m);
        const err = engineOf(pair.client).lastError;
        if (err) {
          expect(err.origin).toBe('peer');
          expect(pair.clientLog.filter((l) => l.startsWith('error'))).toHaveLength(1);
        }
      }),
      { seed: 4254, numRuns: 150 },
    );
  });
});
