/**
 * @module
 * Test harness for ssh-userauth: a client and a server over the memory link, each engine
 * given an authentication-only upper layer (ClientAuth/ServerAuth), or a raw scripted layer
 * that records what the peer sent and lets the test send any payload.
 */

import { ClientAuth } from '../../src/auth/client-auth.js';
import { ServerAuth } from '../../src/auth/server-auth.js';
import type { ClientAuthConfig, ServerAuthConfig } from '../../src/auth/types.js';
import { SSH_MSG } from '../../src/constants.js';
import { peerError, SSH_ERR } from '../../src/errors.js';
import {
  type HostKeyRequest,
  type Session,
  type SessionEvent,
  sessionLastError,
  sessionState,
} from '../../src/index.js';
import type { LayerHost, UpperLayer } from '../../src/layer.js';
import { engineOf } from '../../src/session.js';
import type { Transport } from '../../src/transport/transport.js';
import { SshReader } from '../../src/wire/reader.js';
import { createMemoryLink, type MemoryLinkOptions } from '../../transports/memory.js';
import { hostKey, seededRandom } from '../helpers.js';

/** Any event, including the authentication events not yet in SessionEvent. */
export type AnyEvent = SessionEvent | { readonly type: string; readonly [k: string]: unknown };

/** An upper layer that runs only authentication, as src/upper.ts does before connection. */
export class AuthLayer implements UpperLayer {
  readonly auth: ClientAuth | ServerAuth;
  successes: string[] = [];
  #done = false;

  constructor(make: (onSuccess: (user?: string) => void) => ClientAuth | ServerAuth) {
    this.auth = make((user) => {
      this.#done = true;
      this.successes.push(user ?? '(client)');
    });
  }

  handleMessage(type: number, payload: Uint8Array): boolean {
    if (this.#done) {
      if (this.auth instanceof ServerAuth && type === SSH_MSG.USERAUTH_REQUEST) return true;
      if (type < 80) throw peerError(SSH_ERR.UNEXPECTED_MESSAGE, `message ${type} after auth`);
      return false;
    }
    return this.auth.handleMessage(type, payload);
  }

  onServiceStarted(): void {
    this.auth.start();
  }
}

/** A scripted peer: records upper-layer messages; `onMessage` may answer. */
export class RawLayer implements UpperLayer {
  readonly received: Uint8Array[] = [];
  serviceStarted = false;
  onMessage: ((type: number, payload: Uint8Array) => void) | undefined;
  onStart: (() => void) | undefined;

  handleMessage(type: number, payload: Uint8Array): boolean {
    this.received.push(payload.slice());
    this.onMessage?.(type, payload);
    return true;
  }

  onServiceStarted(): void {
    this.serviceStarted = true;
    this.onStart?.();
  }
}

export interface AuthPairOptions {
  link?: MemoryLinkOptions;
  /** The client's authentication, or 'raw' for a scripted client. */
  client: ClientAuthConfig | 'raw';
  /** The server's authentication, or 'raw' for a scripted server. */
  server: ServerAuthConfig | 'raw';
  /** Installed on the raw layers before anything happens. */
  clientScript?: (layer: RawLayer, pair: AuthPair) => void;
  serverScript?: (layer: RawLayer, pair: AuthPair) => void;
  /** Replaces the extensions the client's authentication sees (server-sig-algs tests). */
  clientExtensions?: ReadonlyMap<string, Uint8Array>;
}

export interface AuthPair {
  client: Session;
  server: Session;
  clientEvents: AnyEvent[];
  serverEvents: AnyEvent[];
  clientLayer: AuthLayer | RawLayer;
  serverLayer: AuthLayer | RawLayer;
  /** Sends a raw payload from the client / the server. */
  sendFromClient(payload: Uint8Array): void;
  sendFromServer(payload: Uint8Array): void;
  /** Waits until deferred deliveries settle. */
  settle(): Promise<void>;
}

/** Builds a pair; authentication runs as soon as the handshake completes. */
export function authPair(options: AuthPairOptions): AuthPair {
  const [a, b] = createMemoryLink(options.link ?? {});
  const clientEvents: AnyEvent[] = [];
  const serverEvents: AnyEvent[] = [];
  const pair = { clientEvents, serverEvents } as AuthPair;

  const server = b.create({
    role: 'server',
    hostKeys: [hostKey('ed25519')],
    random: seededRandom(1001),
    onEvent: (e) => serverEvents.push(e),
  });
  const serverEngine = engineOf(server);
  const serverLayer =
    options.server === 'raw'
      ? new RawLayer()
      : new AuthLayer(
          (done) => new ServerAuth(serverEngine, options.server as ServerAuthConfig, done),
        );
  serverEngine.upper = serverLayer;

  let attached = false;
  let verdict: HostKeyRequest | undefined;
  const client = a.create({
    role: 'client',
    random: seededRandom(1),
    onHostKey: (r) => {
      if (attached) r.accept();
      else verdict = r;
    },
    onEvent: (e) => clientEvents.push(e),
  });
  const clientEngine = engineOf(client);
  const clientLayer =
    options.client === 'raw'
      ? new RawLayer()
      : new AuthLayer(
          (done) =>
            new ClientAuth(
              options.clientExtensions
                ? withExtensions(clientEngine, options.clientExtensions)
                : clientEngine,
              options.client as ClientAuthConfig,
              () => done(),
            ),
        );
  Object.assign(pair, {
    client,
    server,
    clientLayer,
    serverLayer,
    sendFromClient: (p: Uint8Array) => clientEngine.sendControl(p),
    sendFromServer: (p: Uint8Array) => serverEngine.sendControl(p),
    async settle() {
      for (let i = 0; i < 1000; i++) {
        await a.idle();
        await new Promise((r) => setImmediate(r));
        await a.idle();
        if (a.input.length === 0 && b.input.length === 0) return;
      }
    },
  });
  if (serverLayer instanceof RawLayer) options.serverScript?.(serverLayer, pair);
  if (clientLayer instanceof RawLayer) options.clientScript?.(clientLayer, pair);
  clientEngine.upper = clientLayer;
  attached = true;
  verdict?.accept();
  return pair;
}

/** The engine as a LayerHost, with other peer extensions. */
function withExtensions(engine: Transport, extensions: ReadonlyMap<string, Uint8Array>): LayerHost {
  return {
    role: engine.role,
    get sessionId() {
      return engine.sessionId;
    },
    peerExtensions: extensions,
    get publicHandle() {
      return engine.publicHandle;
    },
    get canSendUpper() {
      return engine.canSendUpper;
    },
    sendUpper: (p) => engine.sendUpper(p),
    sendControl: (p) => engine.sendControl(p),
    emit: (e) => engine.emit(e),
    callOut: (f) => engine.callOut(f),
    answer: (f) => engine.answer(f),
    disconnect: (r, d) => engine.disconnect(r, d),
  };
}

/** Waits (on timers) until `cond` holds, settling the link between checks. */
export async function until(pair: AuthPair, cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    await pair.settle();
    if (cond()) return;
    if (Date.now() > end) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Both sessions ended (or the condition to wait for when a test expects an end). */
export function ended(pair: AuthPair): boolean {
  return sessionState(pair.client) === 'closed' && sessionState(pair.server) === 'closed';
}

/** The events of a type. */
export function eventsOf<T extends string>(
  events: AnyEvent[],
  type: T,
): (AnyEvent & { type: T } & Record<string, unknown>)[] {
  return events.filter((e) => e.type === type) as (AnyEvent & { type: T } & Record<
      string,
      unknown
    >)[];
}

/** The session's last error code, if any. */
export function errorCode(session: Session): string | undefined {
  return sessionLastError(session)?.code;
}

/** The reason of the DISCONNECT a session received, if it got one. */
export function disconnectReason(events: AnyEvent[]): number | undefined {
  const d = events.find((e) => e.type === 'disconnected') as { reason: number } | undefined;
  return d?.reason;
}

/** The method name and user of a USERAUTH_REQUEST payload. */
export function requestSummary(payload: Uint8Array): { user: string; method: string } {
  const r = new SshReader(payload);
  r.byte();
  const user = r.utf8();
  r.ascii();
  return { user, method: r.ascii() };
}

/** The link modes the main flows run in. */
export const LINK_MODES: { name: string; link: MemoryLinkOptions }[] = [
  { name: 'sync whole', link: { delivery: 'sync' } },
  { name: 'sync one byte at a time', link: { delivery: 'sync', split: 'bytes' } },
  { name: 'deferred random pieces', link: { delivery: 'deferred', split: { seed: 9 } } },
];
