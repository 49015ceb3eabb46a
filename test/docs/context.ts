/**
 * @module
 * The names a TSDoc example may use without defining them (test/docs/README.md): a logged-in
 * client session on the doc server, an open channel on it, the user key, and so on. The
 * runner makes fresh ones for each example and ends them afterwards; an example whose
 * context session ended with a local error (a callback threw, a bug) fails.
 */

import { readFileSync } from 'node:fs';
import net from 'node:net';
import {
  type Channel,
  type ChannelEvent,
  channelOpenSession,
  type HostKeyRequest,
  type PrivateKey,
  parsePrivateKey,
  type Session,
  type SessionEvent,
  sessionDisconnect,
  sessionLastError,
  sessionState,
} from '../../src/index.js';
import { createMemoryLink, type MemoryEndpoint } from '../../transports/memory.js';
import { attachSocket } from '../../transports/tcp.js';
import { DOC_CONTEXT_USER } from './server.js';

/** What `docContext` provides. */
export interface DocContext {
  /** A client session logged in to the doc server (state `established`, authenticated). */
  readonly session: Session;
  /** A session channel of `session`, open, nothing requested yet; its events are dropped. */
  readonly channel: Channel;
  /**
   * A server session, authenticated, whose client (a client session of ours over an
   * in-process memory link) asked for no forwardings; for the server-side calls.
   */
  readonly serverSession: Session;
  /** The user key the doc server accepts (ed25519). */
  readonly key: PrivateKey;
  /** The file `key` was read from (PKCS#8 PEM). */
  readonly keyFile: string;
  /** The doc server's host-key fingerprint (`SHA256:…`). */
  readonly pinned: string;
  /** A host-key callback that accepts the doc server's key and rejects any other. */
  readonly onHostKey: (request: HostKeyRequest) => void;
  /** The doc server's address. */
  readonly host: string;
  readonly port: number;
  /** The user name the doc server lets in. */
  readonly username: string;
  /** A channel event handler that ignores every event. */
  readonly onEvent: (event: ChannelEvent, channel: Channel) => void;
  /** Six bytes: `hello\n`. */
  readonly bytes: Uint8Array;
}

/** The names of {@link DocContext}, for the generator. */
export const DOC_CONTEXT_NAMES = [
  'session',
  'channel',
  'serverSession',
  'key',
  'keyFile',
  'pinned',
  'onHostKey',
  'host',
  'port',
  'username',
  'onEvent',
  'bytes',
] as const satisfies readonly (keyof DocContext)[];

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set: run examples through the doc test`);
  return value;
}

interface Live {
  readonly session: Session;
  readonly socket?: net.Socket;
  readonly link?: MemoryEndpoint;
}
let live: Live[] = [];

const onHostKey = (request: HostKeyRequest) =>
  request.fingerprint === env('SSH_HOST_FINGERPRINT') ? request.accept() : request.reject();

function connect(key: PrivateKey): Promise<Live> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(env('SSH_PORT')), env('SSH_HOST'));
    // The runner waits until an example leaves nothing pending; the context's own socket
    // must not count as pending.
    socket.unref();
    const session = attachSocket(socket, {
      role: 'client',
      onHostKey,
      auth: { username: DOC_CONTEXT_USER, methods: [{ type: 'publickey', key }] },
      onEvent: (event: SessionEvent) => {
        if (event.type === 'authenticated') resolve({ session, socket });
        if (event.type === 'closed')
          reject(new Error(`context session: ${sessionLastError(session)?.message}`));
      },
    });
    live.push({ session, socket });
  });
}

function serverPair(key: PrivateKey): Promise<Session> {
  const [clientEnd, serverEnd] = createMemoryLink();
  return new Promise((resolve, reject) => {
    const session = serverEnd.create({
      role: 'server',
      hostKeys: [key],
      authMethods: ['password'],
      onAuth: (request) => request.accept(),
      onEvent: (event) => {
        if (event.type === 'authenticated') resolve(session);
        if (event.type === 'closed') reject(new Error('context server session closed'));
      },
    });
    live.push({ session, link: serverEnd });
    clientEnd.create({
      role: 'client',
      onHostKey: (request) => request.accept(),
      auth: { username: 'client', methods: [{ type: 'password', password: 'any' }] },
    });
  });
}

function openChannel(session: Session): Promise<Channel> {
  return new Promise((resolve, reject) => {
    channelOpenSession(session, {
      onEvent: (event, channel) => {
        if (event.type === 'open') resolve(channel);
        if (event.type === 'open-failed') reject(new Error('context channel refused'));
      },
    });
  });
}

/** Makes the context names an example uses. */
export async function docContext<K extends keyof DocContext>(
  names: readonly K[],
): Promise<Pick<DocContext, K>> {
  const key = parsePrivateKey(readFileSync(env('SSH_KEY_FILE'), 'utf8'));
  const want = new Set<keyof DocContext>(names);
  const needsSession = want.has('session') || want.has('channel');
  const connection = needsSession ? await connect(key) : undefined;
  const channel =
    want.has('channel') && connection ? await openChannel(connection.session) : undefined;
  const serverSession = want.has('serverSession') ? await serverPair(key) : undefined;
  const all: Partial<DocContext> = {
    ...(connection ? { session: connection.session } : {}),
    ...(serverSession ? { serverSession } : {}),
    ...(channel ? { channel } : {}),
    key,
    keyFile: env('SSH_KEY_FILE'),
    pinned: env('SSH_HOST_FINGERPRINT'),
    onHostKey,
    host: env('SSH_HOST'),
    port: Number(env('SSH_PORT')),
    username: env('SSH_USER'),
    onEvent: () => {},
    bytes: new TextEncoder().encode('hello\n'),
  };
  return all as Pick<DocContext, K>;
}

/**
 * Ends the context sessions of the example that just ran. Returns a complaint when one ended
 * with an error (the example broke it), else undefined.
 */
export async function endDocContext(): Promise<string | undefined> {
  const ending = live;
  live = [];
  let complaint: string | undefined;
  for (const { session, socket, link } of ending) {
    const error = sessionLastError(session);
    // An example may end the session (that is what some show); a callback that threw or a
    // bug is a fault.
    if (error && error.origin === 'local')
      complaint ??= `the context session ended with ${error.code}: ${error.message}`;
    if (sessionState(session) !== 'closed') sessionDisconnect(session);
    link?.hangUp();
    if (socket && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          socket.destroy();
          resolve();
        }, 2000);
        socket.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
  return complaint;
}
