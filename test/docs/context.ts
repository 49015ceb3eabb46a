/**
 * @module
 * The names a TSDoc example may use without defining them (test/docs/README.md): a logged-in
 * client session on the doc server, an open channel on it, the user key, and so on. The
 * runner makes fresh ones for each example and ends them afterwards; an example whose
 * context session ended with a local error (a callback threw, a bug) fails. An example that
 * uses `agentPath` or `agent` gets its own OpenSSH ssh-agent holding the user key, killed
 * afterwards; a missing ssh-agent or ssh-add fails it.
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type AgentClient,
  agentClose,
  agentCreate,
  agentDisconnect,
  agentLastError,
  agentReceive,
  type Channel,
  type ChannelEvent,
  channelOpenSession,
  type HostKeyRequest,
  type PrivateKey,
  parsePrivateKey,
  type Session,
  type SessionEvent,
  SSH_ERR,
  sessionDisconnect,
  sessionLastError,
  sessionState,
} from '../../src/index.js';
import { SshWriter } from '../../src/wire/writer.js';
import { InputBuffer } from '../../transports/input-buffer.js';
import { createMemoryLink, type MemoryEndpoint } from '../../transports/memory.js';
import { attachSocket } from '../../transports/tcp.js';
import { AGENT_BIN } from '../agent/helpers.js';
import { requireBinary } from '../interop/peers.js';
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
  /**
   * The Unix socket of an OpenSSH `ssh-agent` started for this example, holding `key` (added
   * by `ssh-add`); what `SSH_AUTH_SOCK` names for a real user.
   */
  readonly agentPath: string;
  /** A sans-IO agent client (`agentCreate`) connected to the agent at `agentPath`. */
  readonly agent: AgentClient;
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
  'agentPath',
  'agent',
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

/** A running `ssh-agent -D`, and the agent clients of the context connected to it. */
interface LiveAgent {
  readonly child: ChildProcess;
  readonly dir: string;
  readonly clients: { readonly agent: AgentClient; readonly socket: net.Socket }[];
}
let agents: LiveAgent[] = [];

const run = promisify(execFile);

/**
 * `key` (ed25519, read from the PKCS#8 file) in the openssh-key-v1 format, unencrypted
 * (OpenSSH PROTOCOL.key): ssh-add 9.2 does not read PKCS#8 Ed25519 keys.
 */
function openSshPrivateKey(pkcs8Pem: string, key: PrivateKey): string {
  const jwk = createPrivateKey(pkcs8Pem).export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || !jwk.d || !jwk.x) throw new Error('the doc key is not Ed25519');
  const seed = Buffer.from(jwk.d, 'base64url');
  const pub = Buffer.from(jwk.x, 'base64url');
  const check = randomBytes(4);
  const secret = new SshWriter()
    .raw(check)
    .raw(check)
    .string('ssh-ed25519')
    .string(pub)
    .string(Buffer.concat([seed, pub]))
    .string('doc-context key');
  for (let pad = 1; secret.length % 8 !== 0; pad++) secret.byte(pad);
  const file = new SshWriter()
    .raw(new TextEncoder().encode('openssh-key-v1\0'))
    .string('none')
    .string('none')
    .string('')
    .uint32(1)
    .string(key.publicKeyBlob)
    .string(secret.finish())
    .finish();
  const b64 = Buffer.from(file)
    .toString('base64')
    .replace(/.{1,70}/g, '$&\n');
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}-----END OPENSSH PRIVATE KEY-----\n`;
}

/** Starts `ssh-agent -D -a <socket>` and adds the doc key with ssh-add; returns the socket. */
async function startAgent(key: PrivateKey): Promise<LiveAgent & { readonly path: string }> {
  requireBinary(AGENT_BIN.agent);
  requireBinary(AGENT_BIN.add);
  const dir = mkdtempSync(join(tmpdir(), 'pluggable-ssh-doc-agent-'));
  const path = join(dir, 'agent.sock');
  const child = spawn(AGENT_BIN.agent, ['-D', '-a', path], { stdio: 'ignore' });
  // Like the context sockets, the agent must not count as pending for the example.
  child.unref();
  const live: LiveAgent = { child, dir, clients: [] };
  agents.push(live);
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });
  const deadline = Date.now() + 5000;
  while (!existsSync(path)) {
    if (spawnError) throw new Error(`ssh-agent: ${spawnError.message}`);
    if (child.exitCode !== null) throw new Error(`ssh-agent exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('ssh-agent did not create its socket in 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const keyFile = join(dir, 'id_ed25519');
  writeFileSync(keyFile, openSshPrivateKey(readFileSync(env('SSH_KEY_FILE'), 'utf8'), key), {
    mode: 0o600,
  });
  await run(AGENT_BIN.add, ['-q', keyFile], { env: { ...process.env, SSH_AUTH_SOCK: path } });
  return { ...live, path };
}

/** An agent client over a socket to the agent at `path`, wired as a transport would. */
function connectAgent(live: LiveAgent, path: string): Promise<AgentClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    socket.unref();
    const send = (s: net.Socket, bytes: Uint8Array) => {
      if (s.destroyed) return -1;
      s.write(bytes);
      return 0;
    };
    const agent = agentCreate(socket, send, (s) => s.end());
    live.clients.push({ agent, socket });
    const input = new InputBuffer((bytes) => agentReceive(agent, bytes));
    socket.on('data', (chunk: Buffer) => {
      if (input.push(chunk) < 0) socket.destroy();
    });
    socket.on('close', () => input.afterDrain(() => agentClose(agent)));
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve(agent);
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
  const sshAgent = want.has('agentPath') || want.has('agent') ? await startAgent(key) : undefined;
  const agent =
    want.has('agent') && sshAgent ? await connectAgent(sshAgent, sshAgent.path) : undefined;
  const all: Partial<DocContext> = {
    ...(connection ? { session: connection.session } : {}),
    ...(serverSession ? { serverSession } : {}),
    ...(channel ? { channel } : {}),
    ...(sshAgent ? { agentPath: sshAgent.path } : {}),
    ...(agent ? { agent } : {}),
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

/** Ends the context agent clients and kills the agents; a complaint as {@link endDocContext}. */
async function endAgents(): Promise<string | undefined> {
  const ending = agents;
  agents = [];
  let complaint: string | undefined;
  for (const { child, dir, clients } of ending) {
    for (const { agent, socket } of clients) {
      const error = agentLastError(agent);
      // Closing the client (agentDisconnect) is the example's to do; a callback that threw is
      // a fault.
      if (error && error.origin === 'local' && error.code !== SSH_ERR.CONNECTION_LOST)
        complaint ??= `the context agent client ended with ${error.code}: ${error.message}`;
      agentDisconnect(agent);
      socket.destroy();
    }
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGKILL');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return complaint;
}

/**
 * Ends the context sessions and agents of the example that just ran. Returns a complaint when
 * one ended with an error (the example broke it), else undefined.
 */
export async function endDocContext(): Promise<string | undefined> {
  const ending = live;
  live = [];
  let complaint = await endAgents();
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
