import { describe, expect, it } from 'vitest';
import {
  type ChannelEvent,
  channelOpenSession,
  channelState,
  sessionClose,
  sessionDisconnect,
  sessionState,
} from '../../src/index.js';
import { makePair } from '../helpers.js';

/** A pair that logs in with a password and whose server accepts session channels. */
function loggedInPair(serverChannelLog: string[]) {
  return makePair({
    server: {
      authMethods: ['password'],
      onAuth: (r) => (r.password === 'pw' ? r.accept() : r.reject()),
      onChannelOpen: (r) => {
        r.accept({ onEvent: (e: ChannelEvent) => serverChannelLog.push(e.type) });
      },
    },
    client: { auth: { username: 'u', methods: [{ type: 'password', password: 'pw' }] } },
  });
}

describe('authentication and channels above the transport', () => {
  it('logs in during the handshake when the client config carries auth', () => {
    const pair = loggedInPair([]);
    expect(pair.clientLog).toContain('authenticated');
    expect(pair.serverLog).toContain('authenticated');
  });

  it('closes every open channel on both sides when the session ends, before `closed`', () => {
    const serverLog: string[] = [];
    const pair = loggedInPair(serverLog);
    const clientEvents: string[] = [];
    const ch = channelOpenSession(pair.client, { onEvent: (e) => clientEvents.push(e.type) });
    expect(channelState(ch)).toBe('open');
    sessionDisconnect(pair.client);
    expect(sessionState(pair.server)).toBe('closed');
    expect(clientEvents).toEqual(['open', 'close']);
    expect(serverLog).toEqual(['close']);
    expect(channelState(ch)).toBe('closed');
    expect(pair.clientLog.at(-1)).toBe('closed');
  });

  it('closes channels when the link drops under the session', () => {
    const pair = loggedInPair([]);
    const events: string[] = [];
    channelOpenSession(pair.client, { onEvent: (e) => events.push(e.type) });
    sessionClose(pair.client);
    expect(events).toEqual(['open', 'close']);
  });

  it('returns an inert closed channel when opening after the session ended', () => {
    const pair = loggedInPair([]);
    sessionDisconnect(pair.client);
    const ch = channelOpenSession(pair.client, { onEvent: () => {} });
    expect(channelState(ch)).toBe('closed');
  });

  it('refuses a connection-layer message before authentication finished', () => {
    const pair = makePair();
    expect(() => channelOpenSession(pair.client, { onEvent: () => {} })).toThrow(/authenticat/);
  });
});
