/**
 * @module
 * The fixed cast of a fuzz run: deterministic keys, application behaviour for servers and
 * clients that says yes to almost everything (so the fuzzer reaches deep states), and a
 * synchronous relay that drives two sessions to a phase.
 */

import {
  type AuthRequest,
  type Channel,
  type ChannelEvent,
  type ChannelOpenRequest,
  type ClientAuthConfig,
  type ClientConfig,
  channelClose,
  channelEof,
  channelSendExitStatus,
  channelWrite,
  channelWriteExtended,
  type GlobalRequest,
  type PrivateKey,
  parsePrivateKey,
  type ServerConfig,
  type Session,
  sessionLastError,
  sessionReceive,
} from '../src/index.js';
import type { Monitored } from './monitor.js';
import { seededRandom } from './random.js';

// Fuzzing-only keys, generated once for this directory; they guard nothing.
const HOST_KEY_PEM = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIDn7Qe1UhwYjNJ2/teXkilbE09SN+pg+RXkroTqz2Acp
-----END PRIVATE KEY-----`;
const USER_KEY_PEM = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIAIUmz9ZMBq++smgKcm0ci410qwuYBF4CyQrXWNaIN+S
-----END PRIVATE KEY-----`;

let hostKey: PrivateKey | undefined;
let userKey: PrivateKey | undefined;
/** The server's ed25519 host key. */
export function fuzzHostKey(): PrivateKey {
  hostKey ??= parsePrivateKey(HOST_KEY_PEM);
  return hostKey;
}
/** The client's ed25519 user key. */
export function fuzzUserKey(): PrivateKey {
  userKey ??= parsePrivateKey(USER_KEY_PEM);
  return userKey;
}

/** The software version both fuzz peers announce. */
export const PEER_SOFTWARE = 'FuzzPeer_1.0';
/** The identification line a fuzz peer sends, CR LF included. */
export const PEER_ID_LINE = new TextEncoder().encode(`SSH-2.0-${PEER_SOFTWARE}\r\n`);
/** The user name and password the fuzz server accepts. */
export const USER = 'fuzz';
export const PASSWORD = 'correct horse';

/** Seeds of the session random sources: the same for every execution. */
export const CLIENT_SEED = 0x5eed_0001;
export const SERVER_SEED = 0x5eed_0002;

/** Rekey limits high enough that no fuzz input triggers one by volume. */
const NO_REKEY = { rekeyAfterBytes: 2 ** 40, rekeyAfterPackets: 2 ** 31 };

/** A channel handler that echoes data, answers requests and closes when the peer does. */
function channelHandler(monitor: Monitored | undefined) {
  return (event: ChannelEvent, channel: Channel): void => {
    monitor?.appEvent(`channel event ${event.type}`);
    if (event.type === 'data' || event.type === 'extended-data')
      monitor?.appData(event.type, event.data);
    if (event.type === 'request') monitor?.appData('request data', event.request.data);
    switch (event.type) {
      case 'data':
        channelWrite(channel, event.data);
        channelWriteExtended(channel, 1, event.data.subarray(0, 16));
        break;
      case 'request':
        if (event.request.wantReply) event.request.accept();
        if (event.request.name === 'exec') channelWrite(channel, new TextEncoder().encode('ok\n'));
        break;
      case 'eof':
        channelSendExitStatus(channel, 0);
        channelEof(channel);
        channelClose(channel);
        break;
      default:
        break;
    }
  };
}

/** How a fuzz server decides authentication: one right password, the user key, and a prompt. */
function onAuth(monitor: Monitored | undefined) {
  return (req: AuthRequest): void => {
    monitor?.appEvent('auth request');
    if (req.method === 'password') {
      if (req.password === PASSWORD && req.username === USER) req.accept();
      else req.reject();
    } else if (req.method === 'publickey') {
      req.accept();
    } else if (req.method === 'keyboard-interactive' && req.prompt) {
      req.prompt(
        { name: 'fuzz', instruction: 'answer', prompts: [{ prompt: 'Code: ', echo: false }] },
        (answers) => {
          monitor?.appEvent('keyboard-interactive responses');
          if (answers[0] === '42') req.accept();
          else req.reject();
        },
      );
    } else {
      req.reject();
    }
  };
}

function onChannelOpen(monitor: Monitored | undefined) {
  return (req: ChannelOpenRequest): void => {
    monitor?.appEvent('channel open');
    req.accept({ onEvent: channelHandler(monitor) });
  };
}

function onGlobalRequest(monitor: Monitored | undefined) {
  return (req: GlobalRequest): void => {
    monitor?.appEvent('global request');
    if (!req.wantReply) return;
    const p = req.parsed;
    if (p?.type === 'tcpip-forward' && p.bindPort === 0) req.accept({ boundPort: 40000 });
    else req.accept();
  };
}

/** A fuzz server's configuration; `monitor` is told of every application callback. */
export function serverConfig(
  monitor?: Monitored,
  extra: Partial<ServerConfig<Session>> = {},
): ServerConfig<Session> {
  return {
    role: 'server',
    hostKeys: [fuzzHostKey()],
    random: seededRandom(SERVER_SEED),
    softwareVersion: PEER_SOFTWARE,
    authMethods: ['publickey', 'password', 'keyboard-interactive'],
    banner: 'fuzz banner\n',
    onAuth: onAuth(monitor),
    onChannelOpen: onChannelOpen(monitor),
    onGlobalRequest: onGlobalRequest(monitor),
    ...NO_REKEY,
    ...extra,
  };
}

/** The authentication a fuzz client tries: a wrong password, prompts, the key, the right password. */
export function clientAuth(monitor?: Monitored): ClientAuthConfig {
  return {
    username: USER,
    methods: [
      { type: 'password', password: 'wrong' },
      {
        type: 'keyboard-interactive',
        onPrompt: (req) => {
          monitor?.appEvent('keyboard-interactive prompt');
          req.answer(req.prompts.map(() => '42'));
        },
      },
      { type: 'publickey', key: fuzzUserKey() },
      { type: 'password', password: PASSWORD },
    ],
  };
}

/** A fuzz client's configuration; it trusts any host key. */
export function clientConfig(
  monitor?: Monitored,
  extra: Partial<ClientConfig<Session>> = {},
): ClientConfig<Session> {
  return {
    role: 'client',
    random: seededRandom(CLIENT_SEED),
    softwareVersion: PEER_SOFTWARE,
    onHostKey: (req) => {
      monitor?.appEvent('host key');
      req.accept();
    },
    onChannelOpen: onChannelOpen(monitor),
    onGlobalRequest: onGlobalRequest(monitor),
    ...NO_REKEY,
    ...extra,
  };
}

/** What the relay passes from one side to the other; returns the bytes to deliver. */
export type RelayFilter = (bytes: Uint8Array) => Uint8Array;

/** One side of a relay: a monitored session and the bytes waiting for it. */
interface Side {
  readonly party: Monitored;
  pending: Uint8Array;
}

function append(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Moves bytes between two sessions, synchronously, until neither has anything to say.
 * `toB` and `toA` may cut or hold back what passes. Throws if a session ended.
 */
export function relay(
  a: Monitored,
  b: Monitored,
  toB: RelayFilter = (x) => x,
  toA: RelayFilter = (x) => x,
): void {
  const sa: Side = { party: a, pending: new Uint8Array(0) };
  const sb: Side = { party: b, pending: new Uint8Array(0) };
  for (let round = 0; round < 10_000; round++) {
    const fromA = a.takeOutput();
    const fromB = b.takeOutput();
    if (fromA.length > 0) sb.pending = append(sb.pending, toB(fromA));
    if (fromB.length > 0) sa.pending = append(sa.pending, toA(fromB));
    const moved = step(sa) + step(sb);
    if (moved === 0 && a.outbox.length === 0 && b.outbox.length === 0) return;
  }
  throw new Error('relay did not settle');
}

function step(side: Side): number {
  if (side.pending.length === 0) return 0;
  const n = sessionReceive(side.party.session, side.pending);
  side.party.check();
  if (n < 0) {
    const err = sessionLastError(side.party.session);
    throw new Error(`a session ended while driving it: ${err?.code} ${err?.message}`);
  }
  side.pending = side.pending.subarray(n);
  return n;
}

/**
 * A filter that passes the identification line and plaintext packets up to and including
 * the first NEWKEYS (message 21), and holds back everything after it.
 */
export function upToNewKeys(): RelayFilter {
  let buffered: Uint8Array = new Uint8Array(0);
  let idSeen = false;
  let done = false;
  return (bytes) => {
    if (done) return new Uint8Array(0);
    buffered = append(buffered, bytes);
    let o = 0;
    if (!idSeen) {
      const lf = buffered.indexOf(0x0a);
      if (lf < 0) return new Uint8Array(0);
      o = lf + 1;
      idSeen = true;
    }
    while (o + 6 <= buffered.length) {
      const view = new DataView(buffered.buffer, buffered.byteOffset + o);
      const end = o + 4 + view.getUint32(0);
      if (end > buffered.length) break;
      const type = buffered[o + 5];
      o = end;
      if (type === 21) {
        done = true;
        break;
      }
    }
    const out = buffered.slice(0, o);
    buffered = buffered.slice(o);
    return out;
  };
}
