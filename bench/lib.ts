/**
 * The shared harness of the benchmarks: keys, the in-memory Duplex link both libraries run
 * on, our session over a Duplex, the servers (ours and ssh2's, one instance each, reused by
 * every connection), client/server pairs in the four combinations, the byte-counting sink
 * and the channel writers, and small statistics helpers.
 *
 * Every pair authenticates with a password through curve25519-sha256 + ssh-ed25519 and the
 * one cipher (and MAC) under test; the servers offer their defaults and the clients list only
 * what is measured, so the client's choice is what both agree on.
 */

import { createRequire } from 'node:module';
import net, { type AddressInfo } from 'node:net';
import { dirname, sep } from 'node:path';
import { Duplex } from 'node:stream';
import type { Algorithms, ClientChannel, Connection, ServerChannel } from 'ssh2';
import ssh2 from 'ssh2';
import {
  type Channel,
  type ChannelOpenRequest,
  type ClientConfig,
  channelClose,
  channelEof,
  channelOpenSession,
  channelRequestExec,
  channelWrite,
  type PrivateKey,
  parsePrivateKey,
  type ServerConfig,
  type Session,
  type SessionConfig,
  sessionClose,
  sessionCreate,
  sessionDisconnect,
  sessionReceive,
} from '../src/index.js';
import { InputBuffer } from '../transports/input-buffer.js';
import { createMemoryLink } from '../transports/memory.js';
import { attachSocket } from '../transports/tcp.js';

const { utils } = ssh2;
type Ssh2Module = typeof ssh2;
type Ssh2Client = InstanceType<Ssh2Module['Client']>;
type Ssh2Server = InstanceType<Ssh2Module['Server']>;

// ---- ssh2, two ways: as installed, and pure JS ---------------------------------------------

/**
 * ssh2 ships an optional C++ binding (lib/protocol/crypto/build/Release/sshcrypto.node:
 * AES-GCM, ChaCha20-Poly1305, CTR + HMAC over OpenSSL) that its install script builds; a plain
 * `npm install` with npm ≥ 11 does not run that script, so users and CI normally get ssh2's
 * pure-JS path. `ssh2` (the `Impl`) is the package as installed here; `ssh2js` is a second copy
 * of the same package loaded into this process with `require` of `sshcrypto.node` made to fail,
 * so it takes its own JS fallback (crypto.js catches the failed require and leaves the binding
 * classes undefined). Both copies run in the same process on the same links.
 */
export type Ssh2Mode = 'installed' | 'js';

export interface Ssh2ModeInfo {
  /** crypto.js's `bindingAvailable` in this copy. */
  readonly bindingAvailable: boolean;
  /** The classes this copy's createCipher picks for aes128-gcm and chacha20 and aes128-ctr. */
  readonly cipherClasses: string;
}

interface Ssh2Crypto {
  bindingAvailable?: boolean;
  CIPHER_INFO: Record<string, unknown>;
  createCipher(config: unknown): object;
}

const cjs = createRequire(import.meta.url);
const SSH2_DIR = `${dirname(cjs.resolve('ssh2/package.json'))}${sep}`;

function describe(crypto: Ssh2Crypto): Ssh2ModeInfo {
  const classes = ['aes128-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'aes128-ctr'].map(
    (name) => {
      const info = crypto.CIPHER_INFO[name] as { keyLen: number; ivLen: number };
      const c = crypto.createCipher({
        outbound: {
          onWrite: () => {},
          cipherInfo: info,
          cipherKey: Buffer.alloc(info.keyLen),
          cipherIV: Buffer.alloc(info.ivLen),
          seqno: 0,
          macInfo: { sslName: 'sha256', len: 32, actualLen: 32, isETM: false },
          macKey: Buffer.alloc(32),
        },
      });
      return c.constructor.name;
    },
  );
  return { bindingAvailable: crypto.bindingAvailable === true, cipherClasses: classes.join(', ') };
}

let jsSsh2: { mod: Ssh2Module; crypto: Ssh2Crypto } | undefined;

/**
 * A second copy of ssh2 whose require of sshcrypto.node throws MODULE_NOT_FOUND, as it does
 * where the binding was never built. Loaded on first use; ssh2's own files are taken out of
 * the require cache while it loads and put back afterwards, so the installed copy (and anyone
 * requiring ssh2 later) is untouched. Its dependencies (asn1, bcrypt-pbkdf, cpu-features) are
 * shared: they hold no crypto state.
 */
function pureJsSsh2(): { mod: Ssh2Module; crypto: Ssh2Crypto } {
  if (jsSsh2) return jsSsh2;
  // Make sure the installed copy is in the cache first (it is: imported above).
  cjs('ssh2');
  const Module = cjs('node:module') as {
    _load: (request: string, parent: unknown, isMain: boolean) => unknown;
  };
  const cache = cjs.cache;
  const saved = new Map<string, NodeJS.Module>();
  for (const [k, m] of Object.entries(cache)) {
    if (k.startsWith(SSH2_DIR) && m) {
      saved.set(k, m);
      delete cache[k];
    }
  }
  const load = Module._load;
  Module._load = function (this: unknown, request, parent, isMain) {
    if (typeof request === 'string' && /sshcrypto\.node$/.test(request)) {
      const e = new Error(`Cannot find module '${request}' (blocked by the benchmark)`);
      (e as Error & { code: string }).code = 'MODULE_NOT_FOUND';
      throw e;
    }
    return load.call(this, request, parent, isMain);
  };
  try {
    const mod = cjs('ssh2') as Ssh2Module;
    const crypto = cjs('ssh2/lib/protocol/crypto.js') as Ssh2Crypto;
    jsSsh2 = { mod, crypto };
  } finally {
    Module._load = load;
    for (const k of Object.keys(cache)) if (k.startsWith(SSH2_DIR)) delete cache[k];
    for (const [k, m] of saved) cache[k] = m;
  }
  return jsSsh2;
}

/** What each ssh2 copy runs on: from crypto.js's exports and the classes createCipher picks. */
export function ssh2Modes(): Record<Ssh2Mode, Ssh2ModeInfo> {
  return {
    installed: describe(cjs('ssh2/lib/protocol/crypto.js') as Ssh2Crypto),
    js: describe(pureJsSsh2().crypto),
  };
}

/** Whether the installed ssh2 has its native binding (then `ssh2js` is a distinct case). */
export const SSH2_NATIVE: boolean =
  (cjs('ssh2/lib/protocol/crypto.js') as Ssh2Crypto).bindingAvailable === true;

function ssh2Of(impl: Impl): Ssh2Module {
  return impl === 'ssh2js' ? pureJsSsh2().mod : ssh2;
}

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const USER = 'bench';
export const PASSWORD = 'bench password';

// ---- keys ---------------------------------------------------------------------------------

/**
 * One ed25519 host key in OpenSSH format, for both servers. ssh2 1.17's generator writes a
 * 31-byte public key when the key's first byte is zero (92 of 20,000 keys here), which its
 * own parser then refuses: such a key is drawn again.
 */
function generateHostKey(): string {
  for (;;) {
    const { private: text } = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(text) instanceof Error)) return text;
  }
}
export const HOST_KEY_OPENSSH: string = generateHostKey();
export const OUR_HOST_KEY: PrivateKey = parsePrivateKey(HOST_KEY_OPENSSH);

// ---- algorithms ---------------------------------------------------------------------------

/** A cipher (and MAC, for the non-AEAD ciphers) under test. */
export interface CipherSpec {
  readonly id: string;
  readonly cipher: string;
  readonly mac?: string;
}

export const CIPHERS: readonly CipherSpec[] = [
  { id: 'aes128-gcm@openssh.com', cipher: 'aes128-gcm@openssh.com' },
  { id: 'chacha20-poly1305@openssh.com', cipher: 'chacha20-poly1305@openssh.com' },
  {
    id: 'aes128-ctr + hmac-sha2-256-etm',
    cipher: 'aes128-ctr',
    mac: 'hmac-sha2-256-etm@openssh.com',
  },
  { id: 'aes128-ctr + hmac-sha2-256', cipher: 'aes128-ctr', mac: 'hmac-sha2-256' },
];

export const KEX = 'curve25519-sha256';
export const HOST_KEY_ALG = 'ssh-ed25519';
const DEFAULT_MAC = 'hmac-sha2-256-etm@openssh.com';

// ---- the in-memory Duplex link ------------------------------------------------------------

/**
 * One end of an in-memory Duplex pair: each written chunk is copied and pushed to the other
 * end on a later macrotask (setImmediate), as the harness behind PERF-NOTES.md's ssh2
 * figures does. Both libraries run on it unchanged (ssh2 as `sock` / `injectSocket`).
 */
export class LinkEnd extends Duplex {
  peer!: LinkEnd;
  /** One-way latency: 0 delivers on the next macrotask (setImmediate), else after this many ms. */
  readonly delayMs: number;

  constructor(delayMs = 0) {
    super({ allowHalfOpen: false });
    this.delayMs = delayMs;
  }

  #later(fn: () => void): void {
    if (this.delayMs > 0) setTimeout(fn, this.delayMs);
    else setImmediate(fn);
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    const copy = Buffer.from(chunk);
    const peer = this.peer;
    this.#later(() => {
      if (!peer.destroyed) peer.push(copy);
    });
    cb();
  }

  override _final(cb: (e?: Error | null) => void): void {
    const peer = this.peer;
    this.#later(() => {
      if (!peer.destroyed) peer.push(null);
    });
    cb();
  }
}

/** Two connected ends; `delayMs` > 0 models a link with that one-way latency (order kept). */
export function duplexPair(delayMs = 0): [LinkEnd, LinkEnd] {
  const a = new LinkEnd(delayMs);
  const b = new LinkEnd(delayMs);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

function streamSend(stream: Duplex, bytes: Uint8Array): 0 | -1 {
  if (stream.destroyed || !stream.writable) return -1;
  stream.write(bytes);
  return 0;
}

function streamClose(stream: Duplex): void {
  stream.end();
}

/** Our session over any Duplex: the same few lines as transports/tcp.ts attachSocket. */
export function attachStream(stream: Duplex, config: SessionConfig<Session>): Session {
  const input = new InputBuffer();
  const session = sessionCreate(stream, streamSend, streamClose, config);
  input.attach((bytes) => sessionReceive(session, bytes));
  stream.on('data', (chunk: Uint8Array) => {
    if (input.push(chunk) < 0) stream.pause();
  });
  stream.on('close', () => sessionClose(session));
  stream.on('error', () => {});
  return session;
}

// ---- the sink: the server side of every bulk transfer counts bytes here --------------------

interface SinkState {
  received: number;
  target: number;
  done: ((at: number) => void) | undefined;
}

const sinkState: SinkState = { received: 0, target: Number.POSITIVE_INFINITY, done: undefined };

function sinkAdd(n: number): void {
  const s = sinkState;
  s.received += n;
  if (s.received >= s.target && s.done) {
    const done = s.done;
    s.done = undefined;
    done(performance.now());
  }
}

/** Resets the sink; resolves with the time the server side has counted `bytes`. */
export function sinkExpect(bytes: number): Promise<number> {
  sinkState.received = 0;
  sinkState.target = bytes;
  return new Promise((resolve) => {
    sinkState.done = resolve;
  });
}

// ---- servers ------------------------------------------------------------------------------

/** `ssh2`: the package as installed (its binding if built); `ssh2js`: its pure-JS path. */
export type Impl = 'ours' | 'ssh2' | 'ssh2js';
export type LinkKind = 'duplex' | 'tcp' | 'memlink';

/** Channel maximum packet our sessions use (undefined: the library default, 261632). */
let ourMaxPacket: number | undefined;

/** Sets our sessions' channelMaxPacket for pairs created afterwards. */
export function setOurMaxPacket(maxPacket: number | undefined): void {
  ourMaxPacket = maxPacket;
}

function acceptSink(req: ChannelOpenRequest): void {
  req.accept({
    onEvent: (e, ch) => {
      if (e.type === 'data') sinkAdd(e.data.length);
      else if (e.type === 'request') e.request.accept();
      else if (e.type === 'eof') channelClose(ch);
    },
  });
}

export function ourServerConfig(): ServerConfig<Session> {
  return {
    role: 'server',
    hostKeys: [OUR_HOST_KEY],
    authMethods: ['password'],
    onAuth: (r) => (r.method === 'password' && r.password === PASSWORD ? r.accept() : r.reject()),
    onChannelOpen: (req) => (req.type === 'session' ? acceptSink(req) : req.reject()),
    ...(ourMaxPacket !== undefined ? { channelMaxPacket: ourMaxPacket } : {}),
  };
}

function serveSsh2(conn: Connection): void {
  // Our TCP transport disables Nagle; do the same for ssh2's server connections (its client
  // gets a socket with noDelay already), else a login over TCP waits ~40 ms on delayed ACKs.
  (conn as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
  conn.on('error', () => {});
  conn.on('authentication', (ctx) => {
    if (ctx.method === 'password' && ctx.password === PASSWORD) ctx.accept();
    else ctx.reject(['password']);
  });
  conn.on('ready', () => {
    conn.on('session', (accept) => {
      const session = accept();
      session.on('exec', (acceptExec) => {
        const stream: ServerChannel = acceptExec();
        stream.on('data', (d: Buffer) => sinkAdd(d.length));
        stream.on('end', () => {
          stream.exit(0);
          stream.end();
        });
      });
    });
  });
}

type Ssh2Impl = Exclude<Impl, 'ours'>;
const theirServers = new Map<Ssh2Impl, Ssh2Server>();
const theirPorts = new Map<Ssh2Impl, number>();
let ourTcp: net.Server | undefined;
let ourPort = 0;

function ssh2Server(impl: Ssh2Impl): Ssh2Server {
  let srv = theirServers.get(impl);
  if (!srv) {
    srv = new (ssh2Of(impl).Server)({ hostKeys: [HOST_KEY_OPENSSH] }, serveSsh2);
    theirServers.set(impl, srv);
  }
  return srv;
}

/** Starts the loopback TCP listeners (once): ours, ssh2's, and pure-JS ssh2's if distinct. */
export async function startTcpServers(): Promise<void> {
  if (ourTcp) return;
  ourTcp = net.createServer((socket) => {
    attachSocket(socket, ourServerConfig());
  });
  await new Promise<void>((r) => ourTcp!.listen(0, '127.0.0.1', () => r()));
  ourPort = (ourTcp.address() as AddressInfo).port;
  for (const impl of (SSH2_NATIVE ? ['ssh2', 'ssh2js'] : ['ssh2']) as Ssh2Impl[]) {
    const srv = ssh2Server(impl);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    theirPorts.set(impl, (srv.address() as AddressInfo).port);
  }
}

export async function stopTcpServers(): Promise<void> {
  await Promise.all([
    new Promise<void>((r) => (ourTcp ? ourTcp.close(() => r()) : r())),
    ...[...theirPorts.keys()].map(
      (impl) => new Promise<void>((r) => theirServers.get(impl)!.close(() => r())),
    ),
  ]);
  ourTcp = undefined;
  theirPorts.clear();
}

// ---- pairs --------------------------------------------------------------------------------

/** An established (or establishing) client↔server pair. */
export interface Pair {
  /** Resolves with the time the client saw the key exchange complete. */
  readonly kex: Promise<number>;
  /** Resolves with the time the client was authenticated. */
  readonly ready: Promise<number>;
  /**
   * Opens a session channel, execs `sink`, then writes `total` bytes in writes of `chunk`,
   * honouring backpressure, then EOF. Resolves with the time writing started.
   */
  write(total: number, chunk: number): Promise<number>;
  /** Disconnects and tears the link down. */
  close(): void;
}

export interface PairOptions {
  readonly client: Impl;
  readonly server: Impl;
  readonly link: LinkKind;
  readonly cipher: CipherSpec;
  /** Duplex link only: one-way latency in ms (default: none, setImmediate delivery). */
  readonly delayMs?: number;
  /** Our client: ClientConfig.kexGuess. */
  readonly kexGuess?: boolean;
}

/** Source bytes for every write (content is irrelevant to the cost). */
const SOURCE = Buffer.alloc(4 * MiB, 0x5a);

export function pairLabel(client: Impl, server: Impl): string {
  return `${client} client → ${server} server`;
}

export function createPair(o: PairOptions): Pair {
  if (o.link === 'memlink' && (o.client !== 'ours' || o.server !== 'ours'))
    throw new Error('the memory link carries our sessions only');
  let kexAt!: (t: number) => void;
  let readyAt!: (t: number) => void;
  let failed!: (e: Error) => void;
  const kex = new Promise<number>((r) => {
    kexAt = r;
  });
  const ready = new Promise<number>((r, j) => {
    readyAt = r;
    failed = j;
  });
  ready.catch(() => {});

  // Server side first (for the Duplex links both ends exist before the client starts).
  let clientStream: Duplex | undefined;
  let serverStream: Duplex | undefined;
  let memClient: ReturnType<typeof createMemoryLink>[0] | undefined;
  if (o.link === 'duplex') {
    const [a, b] = duplexPair(o.delayMs ?? 0);
    clientStream = a;
    serverStream = b;
    if (o.server === 'ours') attachStream(b, ourServerConfig());
    else ssh2Server(o.server).injectSocket(b as unknown as net.Socket);
  } else if (o.link === 'memlink') {
    const [a, b] = createMemoryLink({ delivery: 'deferred' });
    b.create(ourServerConfig());
    memClient = a;
  } else {
    const port = o.server === 'ours' ? ourPort : (theirPorts.get(o.server) ?? 0);
    if (!port) throw new Error('startTcpServers() first');
    clientStream = net.connect(port, '127.0.0.1');
    (clientStream as net.Socket).setNoDelay(true);
  }

  if (o.client === 'ours') {
    const config: ClientConfig<Session> = {
      role: 'client',
      onHostKey: (r) => r.accept(),
      auth: { username: USER, methods: [{ type: 'password', password: PASSWORD }] },
      algorithms: {
        kex: [KEX],
        hostKey: [HOST_KEY_ALG],
        cipher: [o.cipher.cipher],
        mac: [o.cipher.mac ?? DEFAULT_MAC],
      },
      ...(ourMaxPacket !== undefined ? { channelMaxPacket: ourMaxPacket } : {}),
      ...(o.kexGuess ? { kexGuess: true } : {}),
      onEvent: (e) => {
        if (e.type === 'handshake-complete') kexAt(performance.now());
        else if (e.type === 'authenticated') readyAt(performance.now());
        else if (e.type === 'error') failed(new Error(`${e.error.code}: ${e.error.message}`));
      },
    };
    let session: Session;
    if (memClient) session = memClient.create(config);
    else if (o.link === 'tcp') session = attachSocket(clientStream as net.Socket, config);
    else session = attachStream(clientStream!, config);
    return {
      kex,
      ready,
      write: (total, chunk) => ourWrite(session, total, chunk),
      close: () => {
        sessionDisconnect(session);
        setImmediate(() => {
          clientStream?.destroy();
          serverStream?.destroy();
        });
      },
    };
  }

  const client: Ssh2Client = new (ssh2Of(o.client).Client)();
  client.on('handshake', () => kexAt(performance.now()));
  client.on('ready', () => readyAt(performance.now()));
  client.on('error', (e) => failed(e));
  client.connect({
    sock: clientStream!,
    username: USER,
    password: PASSWORD,
    // Straight to password, as our client does (ssh2's default tries `none` first).
    authHandler: ['password'],
    hostVerifier: () => true,
    readyTimeout: 0,
    algorithms: {
      kex: [KEX],
      serverHostKey: [HOST_KEY_ALG],
      cipher: [o.cipher.cipher],
      hmac: [o.cipher.mac ?? DEFAULT_MAC],
      compress: ['none'],
    } as Algorithms,
  });
  return {
    kex,
    ready,
    write: (total, chunk) => ssh2Write(client, total, chunk),
    close: () => {
      client.end();
      setImmediate(() => {
        clientStream?.destroy();
        serverStream?.destroy();
      });
    },
  };
}

function ourWrite(session: Session, total: number, chunk: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let left = total;
    let started = 0;
    const pump = (ch: Channel) => {
      while (left > 0) {
        const want = Math.min(chunk, left);
        const n = channelWrite(ch, SOURCE.subarray(0, want));
        left -= n;
        if (n < want) return;
      }
      channelEof(ch);
      resolve(started);
    };
    channelOpenSession(session, {
      onEvent: (e, ch) => {
        if (e.type === 'open') channelRequestExec(ch, 'sink');
        else if (e.type === 'request-result') {
          if (!e.success) return reject(new Error('exec refused'));
          started = performance.now();
          pump(ch);
        } else if (e.type === 'writable') pump(ch);
        else if (e.type === 'open-failed') reject(new Error(`open failed: ${e.description}`));
      },
    });
  });
}

function ssh2Write(client: Ssh2Client, total: number, chunk: number): Promise<number> {
  return new Promise((resolve, reject) => {
    client.exec('sink', (err, stream: ClientChannel) => {
      if (err) return reject(err);
      stream.on('data', () => {});
      stream.stderr.on('data', () => {});
      const started = performance.now();
      let left = total;
      const pump = () => {
        while (left > 0) {
          const want = Math.min(chunk, left);
          left -= want;
          if (!stream.write(SOURCE.subarray(0, want))) {
            stream.once('drain', pump);
            return;
          }
        }
        stream.end();
        resolve(started);
      };
      pump();
    });
  });
}

// ---- statistics and formatting ------------------------------------------------------------

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function fmt(x: number, digits = 0): string {
  if (!Number.isFinite(x)) return '—';
  return x.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** Lets pending setImmediate deliveries and socket events run. */
export function settle(ms = 0): Promise<void> {
  return new Promise((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r)));
}

/** Runs `tasks` with at most `limit` in flight. */
export async function pool<T>(count: number, limit: number, task: (i: number) => Promise<T>) {
  const out: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return out;
}
