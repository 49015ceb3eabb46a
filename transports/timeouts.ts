/**
 * @module
 * Clocks for sessions: the handshake, authentication and idle timeouts that the core cannot
 * keep because it has no timers (DESIGN.md contract §6). A transport or an application wraps
 * its config with {@link addTimeouts}, attaches the session, and reports received bytes.
 */

import {
  DISCONNECT_REASON,
  type Session,
  type SessionConfig,
  type SessionEvent,
  sessionDisconnect,
  sessionGlobalRequest,
  sessionState,
} from '../src/index.js';

/** Default time from the start until the first key exchange completes: 30 s. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;

/** The DISCONNECT reason sent when a timeout ends a session: SSH_DISCONNECT_BY_APPLICATION. */
export const TIMEOUT_DISCONNECT_REASON = DISCONNECT_REASON.BY_APPLICATION;

/** Default number of unanswered keepalives before the peer is considered gone: 3 (as OpenSSH). */
export const DEFAULT_KEEPALIVE_COUNT_MAX = 3;

/** Which clock ran out. */
export type TimeoutKind = 'handshake' | 'authentication' | 'idle' | 'keepalive';

/**
 * The clocks to run. A value of 0 (or leaving an optional one out) turns that clock off.
 *
 * Keepalives, once authenticated, are `keepalive@openssh.com` global requests that want a
 * reply (OpenSSH's ServerAliveInterval/ClientAliveInterval); any reply, success or failure,
 * proves the peer alive.
 */
export interface TimeoutOptions {
  /**
   * From {@link addTimeouts} until `handshake-complete` (the first key exchange, including the
   * client's host-key verdict). Default {@link DEFAULT_HANDSHAKE_TIMEOUT_MS}.
   */
  readonly handshakeMs?: number;
  /**
   * From {@link addTimeouts} until the `authenticated` event (a server's login grace time, a
   * client's time to log in). Off by default.
   */
  readonly authenticationMs?: number;
  /**
   * Longest silence from the peer, counted from {@link addTimeouts} and restarted by every
   * {@link SessionTimeouts.noteActivity}. Off by default. Only received bytes count: what we
   * send says nothing about whether the peer is alive.
   */
  readonly idleMs?: number;
  /** Send a keepalive every this many ms once authenticated. Off by default. */
  readonly keepaliveMs?: number;
  /**
   * Unanswered keepalives after which the session ends (`keepalive` timeout). Default
   * {@link DEFAULT_KEEPALIVE_COUNT_MAX}.
   */
  readonly keepaliveCountMax?: number;
}

/** Called when a clock runs out, just before the session is disconnected. */
export type TimeoutHandler = (kind: TimeoutKind, session: Session) => void;

/** The clocks of one session, made by {@link addTimeouts}. */
export interface SessionTimeouts {
  /** The config to create the session with: its `onEvent` also drives the clocks. */
  readonly config: SessionConfig<Session>;
  /**
   * Tells the clocks which session to disconnect. Call it with the session the config created,
   * as soon as it exists (events also tell it, but a silent peer causes none). A clock that ran
   * out before is acted on now.
   */
  attach(session: Session): void;
  /** Restarts the idle clock: call it for every chunk received from the link. */
  noteActivity(): void;
  /** Stops every clock (also done when the session emits `closed`). */
  cancel(): void;
  /** The clock that ran out, if one did. */
  readonly expired: TimeoutKind | undefined;
}

/**
 * Wraps `config` with handshake, authentication and idle timeouts. When a clock runs out the
 * session gets `sessionDisconnect(session, TIMEOUT_DISCONNECT_REASON, '<kind> timeout')`:
 * the peer is told, `closed` is emitted and the link is closed. `onTimeout` runs first, so the
 * application can tell a timeout from its own disconnect (`sessionLastError` stays
 * `undefined` in both). Timers are `unref()`'d: they never keep the process alive.
 *
 * The session must be {@link SessionTimeouts.attach | attached} as soon as it exists: a peer
 * that never speaks causes no event, so without `attach` the clocks would have no session to
 * end. A listener makes the config before the session, so carry the clocks by link.
 *
 * @example
 * ```ts
 * import type net from 'node:net';
 * import { spawnSession } from 'pluggable-ssh/transports/ipc';
 * import { listenTcp } from 'pluggable-ssh/transports/tcp';
 *
 * // A client: wrap, create, attach, and report received bytes.
 * const config = { role: 'client', onHostKey } as const;
 * const timeouts = addTimeouts(config, { handshakeMs: 10_000, idleMs: 300_000 }, (kind) =>
 *   console.warn(`${kind} timeout`),
 * );
 * const { session } = spawnSession('ssh', ['-W', 'db:22', 'jump'], timeouts.config, {
 *   onActivity: timeouts.noteActivity,
 * });
 * timeouts.attach(session);
 *
 * // A server: a login grace time for every connection.
 * const serverConfig = { role: 'server', hostKeys: [key] } as const;
 * const clocks = new WeakMap<net.Socket, SessionTimeouts>();
 * listenTcp(
 *   { port: 0 },
 *   (socket) => {
 *     const t = addTimeouts(serverConfig, { handshakeMs: 10_000, authenticationMs: 60_000 });
 *     clocks.set(socket, t);
 *     return t.config;
 *   },
 *   (session, socket) => {
 *     const t = clocks.get(socket)!;
 *     t.attach(session);
 *     socket.on('data', t.noteActivity);
 *   },
 * );
 * ```
 */
export function addTimeouts(
  config: SessionConfig<Session>,
  options: TimeoutOptions = {},
  onTimeout?: TimeoutHandler,
): SessionTimeouts {
  const handshakeMs = checkMs('handshakeMs', options.handshakeMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS);
  const authenticationMs = checkMs('authenticationMs', options.authenticationMs ?? 0);
  const idleMs = checkMs('idleMs', options.idleMs ?? 0);
  const keepaliveMs = checkMs('keepaliveMs', options.keepaliveMs ?? 0);
  const keepaliveCountMax = options.keepaliveCountMax ?? DEFAULT_KEEPALIVE_COUNT_MAX;
  if (!Number.isInteger(keepaliveCountMax) || keepaliveCountMax < 1) {
    throw new RangeError('keepaliveCountMax must be an integer ≥ 1');
  }
  let unanswered = 0;

  let session: Session | undefined;
  let finished = false;
  let expired: TimeoutKind | undefined;
  const timers = new Map<TimeoutKind, NodeJS.Timeout>();

  const stop = (kind: TimeoutKind) => {
    const timer = timers.get(kind);
    if (timer) clearTimeout(timer);
    timers.delete(kind);
  };
  const cancel = () => {
    finished = true;
    for (const timer of timers.values()) clearTimeout(timer);
    timers.clear();
    if (keepaliveTimer) clearInterval(keepaliveTimer);
    keepaliveTimer = undefined;
  };
  let keepaliveTimer: NodeJS.Timeout | undefined;
  const startKeepalives = (s: Session) => {
    if (keepaliveMs <= 0 || finished || keepaliveTimer) return;
    keepaliveTimer = setInterval(() => {
      if (finished || sessionState(s) === 'closed') return;
      if (unanswered >= keepaliveCountMax) return fire('keepalive');
      unanswered++;
      sessionGlobalRequest(s, 'keepalive@openssh.com', true, undefined, () => {
        unanswered = 0;
      });
    }, keepaliveMs);
    keepaliveTimer.unref();
  };
  const fire = (kind: TimeoutKind) => {
    timers.delete(kind);
    if (finished) return;
    expired = kind;
    if (session) act(session);
  };
  const act = (s: Session) => {
    const kind = expired;
    cancel();
    if (kind === undefined || sessionState(s) === 'closed') return;
    onTimeout?.(kind, s);
    sessionDisconnect(s, TIMEOUT_DISCONNECT_REASON, `${kind} timeout`);
  };
  const start = (kind: TimeoutKind, ms: number) => {
    stop(kind);
    if (ms <= 0 || finished) return;
    const timer = setTimeout(() => fire(kind), ms);
    timer.unref();
    timers.set(kind, timer);
  };

  start('handshake', handshakeMs);
  start('authentication', authenticationMs);
  start('idle', idleMs);

  const onEvent = config.onEvent;
  const wrapped: SessionConfig<Session> = {
    ...config,
    onEvent: (event: SessionEvent, s: Session) => {
      session ??= s;
      if (event.type === 'handshake-complete') stop('handshake');
      else if (event.type === 'authenticated') {
        stop('authentication');
        startKeepalives(s);
      } else if (event.type === 'closed') cancel();
      onEvent?.(event, s);
    },
  };

  return {
    config: wrapped,
    attach(s: Session) {
      session = s;
      if (sessionState(s) === 'closed') {
        cancel();
        return;
      }
      if (expired !== undefined) {
        act(s);
        return;
      }
      if (sessionState(s) === 'established') stop('handshake');
    },
    noteActivity() {
      // refresh() restarts the running timer without allocating one per chunk.
      timers.get('idle')?.refresh();
    },
    cancel,
    get expired() {
      return expired;
    },
  };
}

function checkMs(name: string, ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`${name} must be a finite number ≥ 0`);
  return ms;
}
