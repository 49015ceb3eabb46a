/**
 * @module
 * What a Node-layer client or server runs over: a socket, any `Duplex`, a pair of streams, a
 * child process's stdio (a ProxyCommand), or any `transports/*` adapter — each attached with
 * the shipped transports, never with protocol code of its own.
 */

import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { Duplex, type Readable, type Writable } from 'node:stream';
import { type Session, type SessionConfig, SSH_ERR, SshError } from '../src/index.js';
import { attachStdio, type StreamLinkHooks } from '../transports/ipc.js';
import { attachSocket } from '../transports/tcp.js';

/**
 * A transport adapter: runs a session with `config` over some link and returns it. Every
 * `transports/*` entry point fits in one line, e.g.
 * `(config, hooks) => connectWebSocket(url, config, hooks)` or
 * `(config, hooks) => spawnSession('ssh', ['-W', 'db:22', 'jump'], config, hooks).session`.
 * `hooks.onActivity` feeds the idle timeout; call it for every chunk received if you can.
 */
export type LinkAdapter = (config: SessionConfig<Session>, hooks: StreamLinkHooks) => Session;

/** Two one-way streams: where the peer's bytes come from and where ours go. */
export interface StreamPair {
  /** The peer's bytes. */
  readonly readable: Readable;
  /** Our bytes. */
  readonly writable: Writable;
}

/**
 * A link: a `net.Socket` (TCP or Unix), any other `Duplex`, a {@link StreamPair}, a spawned
 * `ChildProcess` (its stdout is read, its stdin written: OpenSSH's ProxyCommand), or a
 * {@link LinkAdapter}.
 */
export type Link = Duplex | StreamPair | ChildProcess | LinkAdapter;

function isChildProcess(link: object): link is ChildProcess {
  return 'pid' in link && 'stdin' in link && 'stdout' in link && 'kill' in link;
}

/**
 * Runs a session with `config` over `link` (internal to the node layer). Throws
 * `SSH_ERR_USAGE` for a child process without piped stdin and stdout.
 */
export function attachLink(
  link: Link,
  config: SessionConfig<Session>,
  hooks: StreamLinkHooks,
): Session {
  if (typeof link === 'function') return link(config, hooks);
  if (link instanceof net.Socket) {
    if (hooks.onActivity) link.on('data', hooks.onActivity);
    return attachSocket(link, config);
  }
  if (link instanceof Duplex) return attachStdio(config, { input: link, output: link, ...hooks });
  if (isChildProcess(link)) {
    if (!link.stdout || !link.stdin) {
      throw new SshError(
        SSH_ERR.USAGE,
        'local',
        "link: the child process needs piped stdin and stdout (spawn with stdio: 'pipe')",
      );
    }
    return attachStdio(config, { input: link.stdout, output: link.stdin, ...hooks });
  }
  return attachStdio(config, { input: link.readable, output: link.writable, ...hooks });
}

/**
 * Closes a link that will not be served (internal to the node layer): a `Duplex` or a
 * {@link StreamPair} is destroyed, a child process's pipes are closed; an adapter was never
 * called, so there is nothing to close.
 */
export function closeLink(link: Link): void {
  if (typeof link === 'function') return;
  if (link instanceof Duplex) link.destroy();
  else if (isChildProcess(link)) {
    link.stdin?.destroy();
    link.stdout?.destroy();
  } else {
    link.readable.destroy();
    link.writable.destroy();
  }
}
