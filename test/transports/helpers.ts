/**
 * @module
 * Helpers for the transport tests: event recorders that can be awaited, client and server
 * configs that record, and the handshake-then-rekey run every transport must complete.
 */

import { expect } from 'vitest';
import {
  type ClientConfig,
  type ServerConfig,
  type Session,
  type SessionEvent,
  SSH_ERR,
  sessionLastError,
  sessionRekey,
  sessionState,
} from '../../src/index.js';
import { hostKey } from '../helpers.js';

/** The events of one session, with promises for the ones a test waits on. */
export class Recorder {
  readonly events: SessionEvent[] = [];
  session: Session | undefined;
  readonly #waiters = new Set<() => void>();

  /** The `onEvent` to put in a config. */
  readonly onEvent = (event: SessionEvent, session: Session): void => {
    this.session ??= session;
    this.events.push(event);
    for (const w of [...this.#waiters]) w();
  };

  /** Event types so far, in order. */
  get types(): string[] {
    return this.events.map((e) => e.type);
  }

  /**
   * Resolves with the first event of `type` (at index `from` or later). Rejects when the
   * session closes first (unless `type` is `closed`) or after `timeoutMs`.
   */
  waitFor(type: SessionEvent['type'], from = 0, timeoutMs = 20_000): Promise<SessionEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no ${type} within ${timeoutMs} ms; events: ${this.types.join(', ')}`));
      }, timeoutMs);
      const check = () => {
        const found = this.events.slice(from).find((e) => e.type === type);
        const closed = this.events.slice(from).some((e) => e.type === 'closed');
        if (!found && !closed) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        if (found) resolve(found);
        else {
          const error = this.session ? sessionLastError(this.session) : undefined;
          reject(
            new Error(
              `closed before ${type} (${error?.code ?? 'no error'}: ${error?.message ?? ''}); events: ${this.types.join(', ')}`,
            ),
          );
        }
      };
      this.#waiters.add(check);
      check();
    });
  }
}

/** A client config that accepts any host key and records its events. */
export function clientConfig(
  rec: Recorder,
  extra: Partial<ClientConfig<Session>> = {},
): ClientConfig<Session> {
  return {
    role: 'client',
    onHostKey: (request) => request.accept(),
    onEvent: rec.onEvent,
    ...extra,
  };
}

/** A server config with an ed25519 host key that records its events. */
export function serverConfig(
  rec: Recorder,
  extra: Partial<ServerConfig<Session>> = {},
): ServerConfig<Session> {
  return { role: 'server', hostKeys: [hostKey('ed25519')], onEvent: rec.onEvent, ...extra };
}

/**
 * Waits for both sides to reach `service-accepted`, has the client rekey, and waits for both
 * `rekey-complete` events; then checks that neither side recorded an error.
 */
export async function handshakeAndRekey(
  client: Session,
  clientRec: Recorder,
  serverRec: Recorder,
): Promise<void> {
  await Promise.all([clientRec.waitFor('service-accepted'), serverRec.waitFor('service-accepted')]);
  expect(sessionState(client)).toBe('established');
  const from = [clientRec.events.length, serverRec.events.length] as const;
  expect(sessionRekey(client)).toBe(true);
  await Promise.all([
    clientRec.waitFor('rekey-complete', from[0]),
    serverRec.waitFor('rekey-complete', from[1]),
  ]);
  expect(clientRec.types).not.toContain('error');
  expect(serverRec.types).not.toContain('error');
}

/** The codes a session may end with when its peer drops the link. */
export const LINK_DROPPED_CODES: readonly string[] = [
  SSH_ERR.CONNECTION_LOST,
  SSH_ERR.PEER_DISCONNECTED,
  // A dead peer is noticed by whichever side of the link sees it first: mid-transfer, our
  // next write to a closed pipe can fail before the read side reports the end.
  SSH_ERR.SEND_FAILED,
];

/** Waits for `closed` and checks that the session ended because the link went away. */
export async function expectLinkDropped(rec: Recorder, known?: Session): Promise<void> {
  await rec.waitFor('closed');
  const session = known ?? rec.session!;
  expect(sessionState(session)).toBe('closed');
  const error = sessionLastError(session);
  expect(error, 'the session records why it ended').toBeDefined();
  expect(LINK_DROPPED_CODES).toContain(error!.code);
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
