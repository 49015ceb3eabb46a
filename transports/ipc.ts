/**
 * @module
 * Links between processes as the link of a session: Unix domain sockets (node:net, through the
 * TCP transport's `attachSocket`), a child process's stdin/stdout (so `sshd -i` is a server you
 * spawn), and this process's own stdin/stdout (so our server can be OpenSSH's `ProxyCommand`).
 */

import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import {
  type Session,
  type SessionConfig,
  sessionClose,
  sessionCreate,
  sessionReceive,
} from '../src/index.js';
import { InputBuffer } from './input-buffer.js';
import { attachSocket } from './tcp.js';

/** How long {@link spawnSession} lets a child run after the session closed its stdin: 2 s. */
export const DEFAULT_KILL_AFTER_CLOSE_MS = 2000;

/** How much of a child's stderr {@link spawnSession} keeps with `stderr: 'collect'`: 64 KiB. */
export const STDERR_COLLECT_LIMIT = 64 * 1024;

/**
 * How long after a child's exit {@link spawnSession} waits for its stdout to end before it
 * tells the session the link is gone (a grandchild may hold the pipe open): 1 s.
 */
export const EXIT_GRACE_MS = 1000;

/**
 * Connects to the Unix domain socket at `path` and runs a client session on it.
 *
 * @example
 * ```ts
 * const session = connectUnix('/run/ssh-gateway.sock', { role: 'client', onHostKey });
 * ```
 */
export function connectUnix(path: string, config: SessionConfig<Session>): Session {
  return attachSocket(net.connect(path), config);
}

/**
 * Listens on the Unix domain socket at `path` and runs a server session for each connection.
 * The socket file must not exist yet (a stale one makes `listen` fail with `EADDRINUSE`:
 * remove it first); errors are emitted on the returned server.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 *
 * const path = join(mkdtempSync(join(tmpdir(), 'gateway-')), 'ssh.sock');
 * const server = listenUnix(path, () => ({ role: 'server', hostKeys: [key] }));
 * server.on('error', (e) => console.error(e));
 * ```
 */
export function listenUnix(
  path: string,
  configFor: (socket: net.Socket) => SessionConfig<Session>,
  onSession?: (session: Session, socket: net.Socket) => void,
): net.Server {
  const server = net.createServer((socket) => {
    const session = attachSocket(socket, configFor(socket));
    onSession?.(session, socket);
  });
  server.listen(path);
  return server;
}

/** Hooks shared by the stream-based links of this module. */
export interface StreamLinkHooks {
  /** Called for every chunk received (e.g. `SessionTimeouts.noteActivity`). */
  readonly onActivity?: () => void;
  /** Told about errors of the streams or the process; the session hears only that the link closed. */
  readonly onLinkError?: (error: Error) => void;
}

/** Options of {@link spawnSession}: node's spawn options (except `stdio`) and the link's. */
export interface SpawnSessionOptions extends Omit<SpawnOptions, 'stdio'>, StreamLinkHooks {
  /**
   * The child's stderr: `inherit` passes it through to ours (the default, as `ssh` does with a
   * ProxyCommand), `collect` keeps its last {@link STDERR_COLLECT_LIMIT} bytes for
   * {@link SpawnedSession.stderrText}, `ignore` discards it.
   */
  readonly stderr?: 'inherit' | 'collect' | 'ignore';
  /**
   * After the session closed the child's stdin, send it `SIGTERM` if it is still running this
   * many ms later; 0 never does. Default {@link DEFAULT_KILL_AFTER_CLOSE_MS}.
   */
  readonly killAfterCloseMs?: number;
}

/** A session running over a child process's stdin/stdout. */
export interface SpawnedSession {
  readonly session: Session;
  readonly child: ChildProcess;
  /** The collected stderr (`stderr: 'collect'`), decoded as UTF-8; else ''. */
  stderrText(): string;
}

/**
 * Spawns `command` and runs a session over its stdin (our output) and stdout (our input).
 * When the session ends it closes the child's stdin (and later sends `SIGTERM` if the child
 * stays, see {@link SpawnSessionOptions.killAfterCloseMs}); when the child's stdout ends or
 * the child exits, the session hears `sessionClose` once everything received was fed to it,
 * and the child's stdin is closed too.
 * A command that cannot be started ends the session with `SSH_ERR_CONNECTION_LOST`, and
 * `onLinkError` gets the reason.
 *
 * @example
 * ```ts
 * // Any program that speaks SSH on stdin/stdout: `sshd -i`, `ssh -W host:22 jump`, or our
 * // example server, here with a host key we know.
 * import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 *
 * const hostKeyFile = join(mkdtempSync(join(tmpdir(), 'spawn-')), 'host_key.pem');
 * writeFileSync(hostKeyFile, privateKeyToPem(generatePrivateKey('ed25519')), { mode: 0o600 });
 * const pinned = fingerprintSha256(parsePrivateKey(readFileSync(hostKeyFile)).publicKeyBlob);
 * const server = ['--import', 'tsx', 'examples/exec-server.ts', '--stdio', '--host-key', hostKeyFile, '--password', 'x'];
 * const { child } = spawnSession(process.execPath, server, {
 *   role: 'client',
 *   onHostKey: (request) => (request.fingerprint === pinned ? request.accept() : request.reject()),
 *   onEvent: (event, session) => {
 *     if (event.type === 'handshake-complete') sessionDisconnect(session);
 *   },
 * });
 * child.on('exit', (code) => console.log('the server exited', code)); // prints: the server exited 0
 * ```
 */
export function spawnSession(
  command: string,
  args: readonly string[],
  config: SessionConfig<Session>,
  options: SpawnSessionOptions = {},
): SpawnedSession {
  const {
    stderr = 'inherit',
    killAfterCloseMs,
    onActivity,
    onLinkError,
    ...spawnOptions
  } = options;
  const killAfter = killAfterCloseMs ?? DEFAULT_KILL_AFTER_CLOSE_MS;
  const child = spawn(command, args, {
    ...spawnOptions,
    stdio: ['pipe', 'pipe', stderr === 'collect' ? 'pipe' : stderr],
  });
  const stdin = child.stdin as Writable;
  const stdout = child.stdout as Readable;
  // The link's listeners report errors; these keep a late EPIPE from being unhandled.
  stdin.on('error', () => {});
  stdout.on('error', () => {});

  const collected: Buffer[] = [];
  let collectedBytes = 0;
  child.stderr?.on('data', (chunk: Buffer) => {
    collected.push(chunk);
    collectedBytes += chunk.length;
    while (collectedBytes - (collected[0]?.length ?? 0) >= STDERR_COLLECT_LIMIT) {
      collectedBytes -= collected.shift()!.length;
    }
  });

  let exited = false;
  let link: { session: Session; gone: () => void };
  try {
    link = attachStreams(stdout, stdin, config, {
      ...(onActivity ? { onActivity } : {}),
      ...(onLinkError ? { onLinkError } : {}),
      afterEnd: 'drain',
      endLink: () => {
        stdin.end();
        if (killAfter > 0) {
          setTimeout(() => {
            if (!exited) child.kill();
          }, killAfter).unref();
        }
      },
    });
  } catch (e) {
    child.on('error', () => {});
    child.kill();
    throw e;
  }
  child.on('error', (error) => {
    onLinkError?.(error);
    link.gone();
  });
  child.on('exit', () => {
    exited = true;
    setTimeout(link.gone, EXIT_GRACE_MS).unref();
  });
  return {
    session: link.session,
    child,
    stderrText: () => Buffer.concat(collected).toString('utf8'),
  };
}

/** Options of {@link attachStdio}. */
export interface StdioOptions extends StreamLinkHooks {
  /** Where the peer's bytes come from. Default `process.stdin`. */
  readonly input?: Readable;
  /** Where our bytes go. Default `process.stdout`. */
  readonly output?: Writable;
}

/**
 * Runs a session over a pair of streams, by default this process's stdin and stdout: a
 * server started as OpenSSH's `ProxyCommand`, or one started by `sshd`-style inetd. When the
 * session ends, `output` is ended and `input` is paused and released, so a program with
 * nothing else to do exits by itself. When `input` ends, the session hears `sessionClose`
 * (after the bytes received were fed to it) and `output` is ended likewise.
 *
 * Writes are never refused: when `output.write` returns false the stream keeps the bytes. That
 * buffer stays bounded because the core queues no application data: what it sends beyond
 * control messages is limited by the windows the peer grants, and the peer grants more only
 * after reading what it got.
 *
 * @example
 * ```ts no-run: it would take over the test runner's own stdin and stdout
 * // ssh -o ProxyCommand='node server.js' anyhost
 * attachStdio({ role: 'server', hostKeys: [key], onEvent: (e) => console.error(e.type) }); // stdout is the link
 * ```
 */
export function attachStdio(config: SessionConfig<Session>, options: StdioOptions = {}): Session {
  const { input = process.stdin, output = process.stdout, ...hooks } = options;
  return attachStreams(input, output, config, {
    ...hooks,
    endLink: () => output.end(),
    afterEnd: 'pause',
  }).session;
}

// ---- a session over a readable and a writable stream -------------------------------------

interface StreamHandle {
  readonly output: Writable;
  ended: boolean;
  readonly endLink: () => void;
}

interface AttachHooks extends StreamLinkHooks {
  /** Ends the link when the session asks (once). */
  readonly endLink: () => void;
  /**
   * What happens to `input` once the session ended: `pause` stops reading it (so this
   * process can exit), `drain` reads and discards the rest (so a child never blocks on a
   * full pipe).
   */
  readonly afterEnd: 'pause' | 'drain';
}

function streamSend(handle: StreamHandle, bytes: Uint8Array): 0 | -1 {
  const out = handle.output;
  if (handle.ended || out.destroyed || out.writableEnded) return -1;
  out.write(bytes);
  return 0;
}

function streamClose(handle: StreamHandle): void {
  if (handle.ended) return;
  handle.ended = true;
  handle.endLink();
}

/**
 * Feeds `input` into a new session through an InputBuffer and writes its output to `output`.
 * Returns the session and `gone()`, which reports the link's end (once, after the bytes held
 * were fed) and ends our side of it; `input` ending calls it too.
 */
function attachStreams(
  input: Readable,
  output: Writable,
  config: SessionConfig<Session>,
  hooks: AttachHooks,
): { session: Session; gone: () => void } {
  const buffer = new InputBuffer();
  let reported = false;
  const handle: StreamHandle = {
    output,
    ended: false,
    endLink: () => {
      release();
      hooks.endLink();
    },
  };
  const onData = (chunk: Uint8Array) => {
    hooks.onActivity?.();
    if (buffer.push(chunk) < 0) streamClose(handle);
  };
  const onError = (error: Error) => {
    hooks.onLinkError?.(error);
    gone();
  };
  const onOutputError = (error: Error) => {
    // Later sends fail (the stream is destroyed); the end of input reports the link's end.
    hooks.onLinkError?.(error);
  };
  const gone = () =>
    buffer.afterDrain(() => {
      if (reported) return;
      reported = true;
      sessionClose(session);
      // The link is gone both ways: end our side too (the session does not call close now).
      streamClose(handle);
    });
  // Stop listening once the session ended: a paused stdin lets this process exit.
  const release = () => {
    input.off('data', onData);
    input.off('end', gone);
    input.off('close', gone);
    if (hooks.afterEnd === 'pause') input.pause();
    else input.resume();
  };

  output.on('error', onOutputError);
  input.on('error', onError);
  let session: Session;
  try {
    session = sessionCreate(handle, streamSend, streamClose, config);
  } catch (e) {
    output.off('error', onOutputError);
    input.off('error', onError);
    throw e;
  }
  buffer.attach((bytes) => sessionReceive(session, bytes));
  input.on('data', onData);
  input.on('end', gone);
  input.on('close', gone);
  return { session, gone };
}
