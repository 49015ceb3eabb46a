/**
 * @module
 * Test helpers: deterministic randomness, host keys, a client/server pair over the memory
 * link with event transcripts, and raw packet building for hostile-input tests.
 */

import { generatePrivateKey, type PrivateKey } from '../src/crypto/keys.js';
import {
  type ClientConfig,
  type RandomFn,
  type ServerConfig,
  type Session,
  type SessionEvent,
  sessionCreate,
} from '../src/index.js';
import { encodeKexInit, type KexInitLists } from '../src/transport/kexinit.js';
import {
  createMemoryLink,
  type MemoryEndpoint,
  type MemoryLinkOptions,
  mulberry32,
} from '../transports/memory.js';

/** A seeded random source: same seed, same bytes. */
export function seededRandom(seed: number): RandomFn {
  const next = mulberry32(seed);
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
    return out;
  };
}

const keyCache = new Map<string, PrivateKey>();
/** One host key per type, generated once per test file. */
export function hostKey(
  type: 'ed25519' | 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | 'rsa',
): PrivateKey {
  let k = keyCache.get(type);
  if (!k) {
    k = generatePrivateKey(type, type === 'rsa' ? { bits: 2048 } : undefined);
    keyCache.set(type, k);
  }
  return k;
}

/** Renders an event as one transcript line, keeping what must not vary with input splitting. */
export function describe(event: SessionEvent): string {
  switch (event.type) {
    case 'handshake-complete':
    case 'rekey-complete':
      return `${event.type} ${Object.values(event.algorithms).join(' ')}`;
    case 'error':
      return `error ${event.error.code}`;
    case 'identification':
      return `identification ${event.peer}`;
    case 'disconnected':
      return `disconnected ${event.reason}`;
    case 'rekey-started':
      return `rekey-started ${event.initiator}`;
    default:
      return event.type;
  }
}

export interface Pair {
  client: Session;
  server: Session;
  a: MemoryEndpoint;
  b: MemoryEndpoint;
  clientLog: string[];
  serverLog: string[];
  /** Waits until deferred deliveries settle (no-op for sync links). */
  settle(): Promise<void>;
}

export interface PairOptions {
  link?: MemoryLinkOptions;
  client?: Partial<ClientConfig<Session>>;
  server?: Partial<ServerConfig<Session>>;
  seed?: number;
}

/** A client and a server over a memory link, each logging its events. */
export function makePair(options: PairOptions = {}): Pair {
  const [a, b] = createMemoryLink(options.link ?? {});
  const clientLog: string[] = [];
  const serverLog: string[] = [];
  const seed = options.seed ?? 1;
  const server = b.create({
    role: 'server',
    hostKeys: [hostKey('ed25519')],
    random: seededRandom(seed + 1000),
    onEvent: (e) => serverLog.push(describe(e)),
    ...options.server,
  } as ServerConfig<Session>);
  const client = a.create({
    role: 'client',
    random: seededRandom(seed),
    onHostKey: (r) => {
      clientLog.push(`host-key ${r.algorithm} ${r.fingerprint}`);
      r.accept();
    },
    onEvent: (e) => clientLog.push(describe(e)),
    ...options.client,
  } as ClientConfig<Session>);
  return {
    client,
    server,
    a,
    b,
    clientLog,
    serverLog,
    async settle() {
      for (let i = 0; i < 1000; i++) {
        await a.idle();
        await new Promise((r) => setImmediate(r));
        await a.idle();
        if (a.input.length === 0 && b.input.length === 0) return;
      }
    },
  };
}

/** Records everything a raw session sends, and how often it asked to close. */
export interface Recorder {
  sent: Uint8Array[];
  closes: number;
  events: SessionEvent[];
}

/** A session whose peer is the test itself: the test feeds raw bytes and reads what it sent. */
export function rawSession(config: ClientConfig<Session> | ServerConfig<Session>): {
  session: Session;
  rec: Recorder;
} {
  const rec: Recorder = { sent: [], closes: 0, events: [] };
  const onEvent = config.onEvent;
  const session = sessionCreate(
    rec,
    (r, bytes) => {
      r.sent.push(bytes.slice());
      return 0;
    },
    (r) => {
      r.closes++;
    },
    {
      ...config,
      onEvent: (e, s) => {
        rec.events.push(e);
        onEvent?.(e, s);
      },
    },
  );
  return { session, rec };
}

/** Builds an unencrypted binary packet (RFC 4253 §6) with 8-byte alignment. */
export function plainPacket(payload: Uint8Array, paddingLength?: number): Uint8Array {
  let pad = paddingLength ?? 8 - ((payload.length + 5) % 8);
  if (paddingLength === undefined && pad < 4) pad += 8;
  const len = 1 + payload.length + pad;
  const out = new Uint8Array(4 + len);
  new DataView(out.buffer).setUint32(0, len);
  out[4] = pad;
  out.set(payload, 5);
  return out;
}

/**
 * A KEXINIT payload as a hand-written client sends it: curve25519-sha256, ssh-ed25519,
 * aes128-ctr with hmac-sha2-256, no compression, unless `lists` says otherwise.
 */
export function clientKexInitPayload(
  lists: Partial<KexInitLists> = {},
  firstKexPacketFollows = false,
): Uint8Array {
  return encodeKexInit(
    new Uint8Array(16),
    {
      kex: ['curve25519-sha256'],
      hostKey: ['ssh-ed25519'],
      cipherClientToServer: ['aes128-ctr'],
      cipherServerToClient: ['aes128-ctr'],
      macClientToServer: ['hmac-sha2-256'],
      macServerToClient: ['hmac-sha2-256'],
      compressionClientToServer: ['none'],
      compressionServerToClient: ['none'],
      ...lists,
    },
    firstKexPacketFollows,
  );
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Parses the plaintext packets in `bytes` (after any identification line). */
export function parsePlainPackets(bytes: Uint8Array): Uint8Array[] {
  let o = 0;
  const text = new TextDecoder().decode(bytes.subarray(0, Math.min(bytes.length, 300)));
  if (text.startsWith('SSH-')) o = text.indexOf('\n') + 1;
  const out: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (o + 4 <= bytes.length) {
    const len = view.getUint32(o);
    const pad = bytes[o + 4]!;
    out.push(bytes.slice(o + 5, o + 4 + len - pad));
    o += 4 + len;
  }
  return out;
}

export const enc = (s: string) => new TextEncoder().encode(s);
