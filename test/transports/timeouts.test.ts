/**
 * The clocks of transports/timeouts.ts, with real timers: handshake, authentication and idle
 * timeouts end a session with a DISCONNECT, the right events cancel them, and they never keep
 * the process alive.
 */

import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type Session,
  sessionDisconnect,
  sessionLastError,
  sessionState,
} from '../../src/index.js';
import { createMemoryLink } from '../../transports/memory.js';
import { listenTcp } from '../../transports/tcp.js';
import {
  addTimeouts,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  type SessionTimeouts,
  type TimeoutKind,
} from '../../transports/timeouts.js';
import { hostKey } from '../helpers.js';
import { REPO_ROOT, runProcess } from '../interop/peers.js';
import { clientConfig, delay, Recorder, serverConfig } from './helpers.js';

/** A client and a server over a deferred memory link, the server's config wrapped with clocks. */
function pairWithServerClocks(options: Parameters<typeof addTimeouts>[1]) {
  const [a, b] = createMemoryLink({ delivery: 'deferred' });
  const serverRec = new Recorder();
  const clientRec = new Recorder();
  const expired: TimeoutKind[] = [];
  const timeouts = addTimeouts(serverConfig(serverRec), options, (kind) => expired.push(kind));
  const server = b.create(timeouts.config);
  timeouts.attach(server);
  const client = a.create(clientConfig(clientRec));
  return { server, client, serverRec, clientRec, timeouts, expired };
}

/** A logged-in pair over a deferred memory link whose client sends keepalives. */
function keepalivePair(options: Parameters<typeof addTimeouts>[1]) {
  const [a, b] = createMemoryLink({ delivery: 'deferred' });
  const expired: TimeoutKind[] = [];
  b.create({
    role: 'server',
    hostKeys: [hostKey('ed25519')],
    authMethods: ['password'],
    onAuth: (r) => r.accept(),
  });
  let authenticated!: () => void;
  const done = new Promise<void>((r) => (authenticated = r));
  const timeouts = addTimeouts(
    {
      role: 'client',
      onHostKey: (r) => r.accept(),
      auth: { username: 'u', methods: [{ type: 'password', password: 'p' }] },
      onEvent: (e) => (e.type === 'authenticated' ? authenticated() : undefined),
    },
    options,
    (kind) => expired.push(kind),
  );
  const client = a.create(timeouts.config);
  timeouts.attach(client);
  return { client, serverEnd: b, expired, authenticated: done };
}

describe('session clocks', () => {
  it('disconnects a server session whose client never speaks after handshakeMs', async () => {
    const rec = new Recorder();
    const expired: TimeoutKind[] = [];
    let session: Session | undefined;
    // A listener makes the config before the session exists: carry the clocks by socket.
    const clocks = new WeakMap<net.Socket, SessionTimeouts>();
    const server = listenTcp(
      { port: 0 },
      (socket) => {
        const timeouts = addTimeouts(serverConfig(rec), { handshakeMs: 200 }, (kind) =>
          expired.push(kind),
        );
        clocks.set(socket, timeouts);
        return timeouts.config;
      },
      (s, socket) => {
        session = s;
        const timeouts = clocks.get(socket)!;
        timeouts.attach(s);
        socket.on('data', timeouts.noteActivity);
      },
    );
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    await new Promise<void>((resolve) => socket.on('end', resolve));
    const elapsed = Date.now() - started;
    socket.destroy();
    server.close();

    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2000);
    expect(expired).toEqual(['handshake']);
    expect(rec.types).toEqual(['closed']);
    expect(sessionState(session!)).toBe('closed');
    expect(sessionLastError(session!)).toBeUndefined();
    // The client was told why, in plain text (no keys yet): SSH_MSG_DISCONNECT, reason 11.
    expect(Buffer.concat(chunks).toString('latin1')).toContain('handshake timeout');
  });

  it('acts on a clock that ran out before the session was attached', async () => {
    const [, end] = createMemoryLink();
    const rec = new Recorder();
    const timeouts = addTimeouts(serverConfig(rec), { handshakeMs: 20 });
    await delay(60);
    expect(timeouts.expired).toBe('handshake');
    const session = end.create(timeouts.config);
    timeouts.attach(session);
    expect(sessionState(session)).toBe('closed');
  });

  it('stops the handshake clock once the handshake completes', async () => {
    const pair = pairWithServerClocks({ handshakeMs: 300 });
    await pair.serverRec.waitFor('handshake-complete');
    await delay(450);
    expect(sessionState(pair.server)).toBe('established');
    expect(pair.expired).toEqual([]);
    sessionDisconnect(pair.client);
  });

  it('ends a session that does not authenticate within authenticationMs', async () => {
    const pair = pairWithServerClocks({ authenticationMs: 250 });
    await pair.serverRec.waitFor('service-accepted');
    await pair.serverRec.waitFor('closed');
    expect(pair.expired).toEqual(['authentication']);
    const disconnected = await pair.clientRec.waitFor('disconnected');
    expect(disconnected).toMatchObject({ reason: 11, description: 'authentication timeout' });
  });

  it('ends a silent session after idleMs, and noteActivity postpones that', async () => {
    // Generous enough that a handshake on a loaded 2-core machine fits inside one idle period.
    const pair = pairWithServerClocks({ idleMs: 1000 });
    await pair.serverRec.waitFor('service-accepted');
    const started = Date.now();
    // Activity every 50 ms for 1.5 s keeps the session alive past an idle period.
    while (Date.now() - started < 1500) {
      pair.timeouts.noteActivity();
      await delay(50);
    }
    expect(sessionState(pair.server)).toBe('established');
    await pair.serverRec.waitFor('closed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500 + 900);
    expect(pair.expired).toEqual(['idle']);
    expect(await pair.clientRec.waitFor('disconnected')).toMatchObject({
      description: 'idle timeout',
    });
  });

  it('sends keepalives once authenticated and keeps a responsive session open', async () => {
    const k = keepalivePair({ keepaliveMs: 30, keepaliveCountMax: 2 });
    await k.authenticated;
    await delay(300);
    expect(sessionState(k.client)).toBe('established');
    expect(k.expired).toEqual([]);
    sessionDisconnect(k.client);
  });

  it('ends the session after keepaliveCountMax keepalives go unanswered', async () => {
    const k = keepalivePair({ keepaliveMs: 30, keepaliveCountMax: 2 });
    await k.authenticated;
    // The peer stops reading: nothing it receives is processed, so nothing is answered.
    k.serverEnd.closed = true;
    const started = Date.now();
    while (sessionState(k.client) !== 'closed' && Date.now() - started < 3000) await delay(10);
    expect(k.expired).toEqual(['keepalive']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * 30);
  });

  it('clears every clock when the session closes', async () => {
    const pair = pairWithServerClocks({ handshakeMs: 150, idleMs: 150, authenticationMs: 150 });
    await pair.serverRec.waitFor('handshake-complete');
    sessionDisconnect(pair.client);
    await pair.serverRec.waitFor('closed');
    await delay(300);
    expect(pair.expired).toEqual([]);
    expect(pair.timeouts.expired).toBeUndefined();
  });

  it('refuses a negative or non-finite duration', () => {
    const rec = new Recorder();
    expect(() => addTimeouts(serverConfig(rec), { idleMs: -1 })).toThrow(RangeError);
    expect(() => addTimeouts(serverConfig(rec), { handshakeMs: Number.NaN })).toThrow(RangeError);
    expect(DEFAULT_HANDSHAKE_TIMEOUT_MS).toBe(30_000);
  });

  it('does not keep the process alive: a program with minute-long clocks exits at once', async () => {
    const result = await runProcess(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'test/transports/unref-program.ts')],
      { timeoutMs: 30_000 },
    );
    expect(result.stdout).toBe('armed\n');
    expect(result.code).toBe(0);
    expect(result.ms).toBeLessThan(15_000);
  });
});
