/**
 * Running commands over SSH session channels (RFC 4254 §6.5), shared by the examples: the
 * server side runs `exec` and `shell` requests with /bin/sh, the client side runs one command
 * and streams its output. Both honour the windows: `channelWrite` may accept less than given
 * (the core queues nothing), so output streams pause until the channel's `writable` event.
 */

import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import {
  type Channel,
  type ChannelOpenRequest,
  channelClose,
  channelConsume,
  channelEof,
  channelOpenSession,
  channelRequestExec,
  channelSendExitSignal,
  channelSendExitStatus,
  channelState,
  channelWrite,
  channelWriteExtended,
  type Session,
  SSH_EXTENDED_DATA,
} from '../../src/index.js';
import { OutputPump } from './pump.js';

/**
 * Accepts a `session` channel and runs its `exec` (or `shell`) request with /bin/sh: channel
 * data goes to the command's stdin (the window re-opens as the pipe takes it), stdout and
 * stderr come back as data and extended data, then exit-status (or exit-signal), EOF, CLOSE.
 * Pseudo-terminals and other requests are refused.
 *
 * @example
 * ```ts
 * onChannelOpen: (request) => (request.type === 'session' ? acceptCommands(request) : request.reject()),
 * ```
 */
export function acceptCommands(
  request: ChannelOpenRequest,
  log: (line: string) => void = () => {},
): Channel {
  let started = false;
  let stdin: NodeJS.WritableStream | undefined;
  let kill: (() => void) | undefined;
  let pumps: OutputPump[] = [];
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let ended = false;

  const finish = (channel: Channel) => {
    if (ended || exit === undefined || !pumps.every((p) => p.idle)) return;
    ended = true;
    if (channelState(channel) !== 'open') return;
    if (exit.signal !== null) {
      channelSendExitSignal(channel, {
        signal: exit.signal.replace(/^SIG/, ''),
        coreDumped: false,
        message: '',
      });
    } else {
      channelSendExitStatus(channel, exit.code ?? 255);
    }
    channelEof(channel);
    channelClose(channel);
  };

  const start = (channel: Channel, command: string | undefined) => {
    started = true;
    log(command === undefined ? 'shell' : `exec ${JSON.stringify(command)}`);
    const args = command === undefined ? [] : ['-c', command];
    const child = spawn('/bin/sh', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => {});
    stdin = child.stdin;
    kill = () => child.kill('SIGKILL');
    const writable = () => !ended && channelState(channel) === 'open';
    pumps = [
      new OutputPump(child.stdout, (d) => (writable() ? channelWrite(channel, d) : d.length)),
      new OutputPump(child.stderr, (d) =>
        writable() ? channelWriteExtended(channel, SSH_EXTENDED_DATA.STDERR, d) : d.length,
      ),
    ];
    child.on('error', (e) => log(`cannot run /bin/sh: ${e.message}`));
    child.on('close', (code, signal) => {
      kill = undefined;
      exit = { code, signal };
      finish(channel);
    });
  };

  return request.accept({
    manualWindow: true,
    onEvent: (event, channel) => {
      switch (event.type) {
        case 'request': {
          const parsed = event.request.parsed;
          if (!started && parsed?.type === 'exec') {
            event.request.accept();
            start(channel, parsed.command);
          } else if (!started && parsed?.type === 'shell') {
            event.request.accept();
            start(channel, undefined);
          } else if (event.request.wantReply) {
            event.request.reject();
          }
          return;
        }
        case 'data': {
          const n = event.data.length;
          if (stdin === undefined) channelConsume(channel, n);
          // The window re-opens only once the pipe took the bytes: backpressure end to end.
          else
            stdin.write(
              event.data,
              () => channelState(channel) === 'open' && channelConsume(channel, n),
            );
          return;
        }
        case 'eof':
          stdin?.end();
          return;
        case 'writable':
          for (const p of pumps) p.retry();
          finish(channel);
          return;
        case 'close':
          ended = true;
          kill?.();
          return;
        default:
          return;
      }
    },
  });
}

/** How a command ended. */
export interface CommandResult {
  /** The exit status, if the server sent one. */
  readonly status: number | undefined;
  /** The signal that killed the command (without `SIG`), if the server sent one. */
  readonly signal: string | undefined;
}

/** Where a command's input comes from and its output goes. */
export interface CommandIo {
  /** Sent to the command's stdin, then EOF. Default: EOF at once. */
  readonly stdin?: Readable | Uint8Array;
  readonly stdout?: (data: Uint8Array) => void;
  readonly stderr?: (data: Uint8Array) => void;
}

/**
 * Runs `command` on an authenticated client session and resolves when the channel closes.
 * Rejects when the server refuses the channel or the command.
 *
 * @example
 * ```ts
 * const { status } = await runCommand(session, 'uname -a', { stdout: (d) => process.stdout.write(d) });
 * ```
 */
export function runCommand(
  session: Session,
  command: string,
  io: CommandIo = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    let status: number | undefined;
    let signal: string | undefined;
    let retry = () => {};
    const sendStdin = (channel: Channel) => {
      const input = io.stdin;
      if (input === undefined) return channelEof(channel);
      if (input instanceof Uint8Array) {
        let offset = 0;
        retry = () => {
          if (offset === input.length) return;
          offset += channelWrite(channel, input.subarray(offset));
          if (offset === input.length) channelEof(channel);
        };
        return retry();
      }
      const writable = () => channelState(channel) === 'open';
      const pump = new OutputPump(input, (d) => (writable() ? channelWrite(channel, d) : d.length));
      retry = () => {
        pump.retry();
        if (stdinEnded && pump.idle && writable()) channelEof(channel);
      };
      let stdinEnded = false;
      input.on('end', () => {
        stdinEnded = true;
        retry();
      });
    };
    channelOpenSession(session, {
      onEvent: (event, channel) => {
        switch (event.type) {
          case 'open':
            channelRequestExec(channel, command);
            return;
          case 'open-failed':
            reject(new Error(`the server refused the channel: ${event.description}`));
            return;
          case 'request-result':
            if (event.request !== 'exec') return;
            if (event.success) sendStdin(channel);
            else {
              reject(new Error(`the server refused to run ${JSON.stringify(command)}`));
              channelClose(channel);
            }
            return;
          case 'writable':
            retry();
            return;
          case 'data':
            io.stdout?.(event.data);
            return;
          case 'extended-data':
            io.stderr?.(event.data);
            return;
          case 'request': {
            const p = event.request.parsed;
            if (p?.type === 'exit-status') status = p.code;
            else if (p?.type === 'exit-signal') signal = p.signal;
            return;
          }
          case 'close':
            if (io.stdin !== undefined && !(io.stdin instanceof Uint8Array)) io.stdin.pause();
            resolve({ status, signal });
            return;
          default:
            return;
        }
      },
    });
  });
}
