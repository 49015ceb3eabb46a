/**
 * @module
 * Hostile peers for the hardening tests: two sessions joined by synchronous in-memory pipes,
 * each side recording what a transport sees (sessionReceive's return values, exceptions,
 * `close` calls, events). One side plays the attacker: its engine seals any payload we hand
 * it with the current keys (`inject`), so hostile messages reach the victim encrypted and
 * authenticated exactly as a malicious peer would send them.
 */

import v8 from 'node:v8';
import vm from 'node:vm';
import { expect } from 'vitest';
import { Connection } from '../../src/connection/connection.js';
import type { ConnectionConfig } from '../../src/connection/types.js';
import {
  type ClientConfig,
  type ServerConfig,
  type Session,
  type SessionEvent,
  SSH_MSG,
  sessionClose,
  sessionCreate,
  sessionLastError,
  sessionReceive,
  sessionState,
} from '../../src/index.js';
import { engineOf } from '../../src/session.js';
import type { Transport } from '../../src/transport/transport.js';
import { SshWriter } from '../../src/wire/writer.js';
import { InputBuffer } from '../../transports/input-buffer.js';
import { hostKey, parsePlainPackets, rawSession, seededRandom } from '../helpers.js';

/** One end of the link, as its transport sees it. */
export interface Side {
  readonly session: Session;
  readonly engine: Transport;
  readonly events: SessionEvent[];
  /** How often `close` was called. */
  closes: number;
  /** The last value sessionReceive returned, and how often it returned -1. */
  lastReturn: number;
  minusOnes: number;
  /** Anything sessionReceive threw (must stay empty: peer input never throws). */
  readonly thrown: unknown[];
  /** Bytes this side sent, in total. */
  sentBytes: number;
  /** While true, what this side sends is held back instead of delivered (a stalled link). */
  hold: boolean;
  /** Bytes held back while `hold` was on; `release()` delivers them. */
  readonly held: Uint8Array[];
  release(): void;
  /** Delivers bytes to the other side as if this side had sent them (bypasses `hold`). */
  deliver(bytes: Uint8Array): void;
  /** Bytes the other side's transport holds, not yet consumed (a partial unit at most). */
  readonly undelivered: number;
  /** Hands a raw payload to this side's engine to seal and send with the current keys. */
  inject(payload: Uint8Array): void;
  /** Injects many payloads inside one call, so they leave in one `send`. */
  injectAll(payloads: Iterable<Uint8Array>): void;
}

export interface LinkedPair {
  client: Side;
  server: Side;
}

export interface LinkedPairOptions {
  client?: Partial<ClientConfig<Session>>;
  server?: Partial<ServerConfig<Session>>;
  /** Events are not recorded (for floods of many messages). */
  quiet?: boolean;
  /** A man in the middle: sees each `send` and returns what to deliver instead. */
  tap?: (from: 'client' | 'server', bytes: Uint8Array) => Uint8Array;
  seed?: number;
}

/** A client and a server over synchronous pipes, each recording what its transport sees. */
export function linkedPair(options: LinkedPairOptions = {}): LinkedPair {
  const seed = options.seed ?? 1;
  const toClient = new InputBuffer();
  const toServer = new InputBuffer();
  const server = makeSide(
    {
      role: 'server',
      hostKeys: [hostKey('ed25519')],
      random: seededRandom(seed + 1000),
      ...options.server,
    } as ServerConfig<Session>,
    toClient,
    options.quiet ?? false,
    options.tap && ((b) => options.tap!('server', b)),
  );
  toServer.attach((b) => server.receive(b));
  const client = makeSide(
    {
      role: 'client',
      random: seededRandom(seed),
      onHostKey: (r) => r.accept(),
      ...options.client,
    } as ClientConfig<Session>,
    toServer,
    options.quiet ?? false,
    options.tap && ((b) => options.tap!('client', b)),
  );
  toClient.attach((b) => client.receive(b));
  return { client: client.side, server: server.side };
}

function makeSide(
  config: ClientConfig<Session> | ServerConfig<Session>,
  out: InputBuffer,
  quiet: boolean,
  tap: ((bytes: Uint8Array) => Uint8Array) | undefined,
): { side: Side; receive(b: Uint8Array): number } {
  const events: SessionEvent[] = [];
  const onEvent = config.onEvent;
  const state = {
    closes: 0,
    lastReturn: 0,
    minusOnes: 0,
    thrown: [] as unknown[],
    sentBytes: 0,
    hold: false,
    held: [] as Uint8Array[],
  };
  const session = sessionCreate(
    state,
    (s, bytes) => {
      s.sentBytes += bytes.length;
      const delivered = tap ? tap(bytes) : bytes;
      if (s.hold) s.held.push(delivered);
      else out.push(delivered);
      return 0;
    },
    (s) => {
      s.closes++;
    },
    {
      ...config,
      onEvent: (e, s) => {
        if (!quiet || e.type === 'error' || e.type === 'closed' || e.type === 'disconnected')
          events.push(e);
        onEvent?.(e, s);
      },
    },
  );
  const engine = engineOf(session);
  const side = Object.assign(state, {
    session,
    engine,
    events,
    release() {
      state.hold = false;
      const chunks = state.held.splice(0);
      for (const c of chunks) out.push(c);
    },
    deliver(bytes: Uint8Array) {
      out.push(bytes);
    },
    inject(payload: Uint8Array) {
      engine.sendControl(payload);
    },
    injectAll(payloads: Iterable<Uint8Array>) {
      engine.guard(() => {
        for (const p of payloads) engine.sendControl(p);
      });
    },
  }) as Side;
  // A live getter (Object.assign would copy its value once).
  Object.defineProperty(side, 'undelivered', { get: () => out.length });
  return {
    side,
    receive(b) {
      try {
        const n = sessionReceive(session, b);
        side.lastReturn = n;
        if (n < 0) side.minusOnes++;
        return n;
      } catch (e) {
        side.thrown.push(e);
        sessionClose(session);
        return -1;
      }
    },
  };
}

/** Waits for nothing: the pipes are synchronous. Asserts both handshakes completed. */
export function expectEstablished(pair: LinkedPair): void {
  expect(pair.client.engine.state).toBe('established');
  expect(pair.server.engine.state).toBe('established');
}

/**
 * The victim ended on a peer fault, cleanly: sessionReceive returned -1 (once the fault was
 * seen) and threw nothing, the typed error has `code` and `reason`, `close` was called once,
 * the DISCONNECT reached the attacker (when it can still read it), and every later call is
 * inert.
 */
export function expectCleanFault(
  victim: Side,
  attacker: Side | undefined,
  code: string,
  reason: number,
): void {
  const err = victim.engine.lastError;
  expect(victim.engine.state).toBe('closed');
  expect(err?.code).toBe(code);
  expect(err?.name).toBe('SshError');
  expect(err?.disconnectReason).toBe(reason);
  expect(victim.thrown).toEqual([]);
  expect(victim.lastReturn).toBe(-1);
  expect(victim.minusOnes).toBe(1);
  expect(victim.closes).toBe(1);
  const types = victim.events.map((e) => e.type);
  expect(types.filter((t) => t === 'error')).toHaveLength(1);
  expect(types.at(-1)).toBe('closed');
  if (attacker) {
    const got = attacker.events.filter((e) => e.type === 'disconnected');
    expect(got.map((e) => (e as { reason: number }).reason)).toEqual([reason]);
  }
  // Inert afterwards: -1, nothing sent, no event, no second close.
  const sent = victim.sentBytes;
  const count = victim.events.length;
  expect(sessionReceive(victim.session, new Uint8Array(64))).toBe(-1);
  sessionClose(victim.session);
  expect(victim.sentBytes).toBe(sent);
  expect(victim.events.length).toBe(count);
  expect(victim.closes).toBe(1);
}

/** Installs a bare connection layer on a session (authentication is not involved). */
export function attachConnection(side: Side, config: ConnectionConfig = {}): Connection {
  const connection = new Connection(side.engine, config);
  side.engine.upper = {
    handleMessage: (type, payload) => connection.handleMessage(type, payload),
    onWritable: () => connection.onWritable(),
    onSessionEnded: () => connection.onSessionEnded(),
  };
  return connection;
}

/** Makes a side's upper layer record and drop every message 50–255: the test speaks for it. */
export function muteUpper(side: Side): Uint8Array[] {
  const received: Uint8Array[] = [];
  side.engine.upper = {
    handleMessage: (_type, payload) => {
      received.push(payload.slice());
      return true;
    },
  };
  return received;
}

/** An IGNORE message carrying `n` bytes. */
export function ignore(n = 0): Uint8Array {
  return new SshWriter(n + 8).byte(SSH_MSG.IGNORE).string(new Uint8Array(n)).finish();
}

/** Heap in use after a full collection (`--expose-gc` set at runtime). */
export function heapUsed(): number {
  collect();
  return process.memoryUsage().heapUsed;
}

let gcFn: (() => void) | undefined;
function collect(): void {
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}

export const MiB = 1024 * 1024;

/** KEXINIT with every list given as raw strings (so lists can break the rules). */
export function kexInit(
  kex: string,
  hostKeyAlg = 'ssh-ed25519',
  cipher = 'aes128-ctr',
): Uint8Array {
  const w = new SshWriter(512).byte(SSH_MSG.KEXINIT).raw(new Uint8Array(16));
  for (const list of [
    kex,
    hostKeyAlg,
    cipher,
    cipher,
    'hmac-sha2-256',
    'hmac-sha2-256',
    'none',
    'none',
    '',
    '',
  ])
    w.string(list);
  return w.bool(false).uint32(0).finish();
}

/** A raw session and what its transport saw, plus the return of each sessionReceive. */
export function raw(role: 'client' | 'server', extra: object = {}) {
  const r =
    role === 'server'
      ? rawSession({ role: 'server', hostKeys: [hostKey('ed25519')], ...extra })
      : rawSession({ role: 'client', onHostKey: (q) => q.accept(), ...extra });
  return {
    ...r,
    /** Feeds `bytes` whole; returns sessionReceive's value (never throws, or the test fails). */
    feed: (bytes: Uint8Array) => sessionReceive(r.session, bytes),
  };
}

/** The plaintext DISCONNECT reasons a raw session sent. */
export function sentReasons(sent: Uint8Array[]): number[] {
  return sent
    .flatMap((b) => parsePlainPackets(b))
    .filter((p) => p[0] === SSH_MSG.DISCONNECT)
    .map((p) => new DataView(p.buffer, p.byteOffset).getUint32(1));
}

/** A raw session ended by a peer fault: typed error, one DISCONNECT with `reason`, one close. */
export function expectRawFault(
  s: { session: Session; rec: { sent: Uint8Array[]; closes: number } },
  returned: number,
  code: string,
  reason: number,
): void {
  expect(returned).toBe(-1);
  expect(sessionState(s.session)).toBe('closed');
  const err = sessionLastError(s.session);
  expect(err?.code).toBe(code);
  expect(err?.origin).toBe('peer');
  expect(err?.disconnectReason).toBe(reason);
  expect(sentReasons(s.rec.sent)).toEqual([reason]);
  expect(s.rec.closes).toBe(1);
  expect(sessionReceive(s.session, new Uint8Array(8))).toBe(-1);
  expect(s.rec.closes).toBe(1);
}
