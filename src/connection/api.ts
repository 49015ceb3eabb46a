/**
 * @module
 * The channel API (RFC 4254): free functions on opaque session and channel handles. Writes
 * never queue: `channelWrite` accepts what the peer's window allows and returns the count,
 * and the channel reports `writable` when more fits (DESIGN.md contract §3). Global requests
 * and forwardings are in ./session-api.ts.
 */

import { usageError } from '../errors.js';
import { engineOf, type Session } from '../session.js';
import { channelEngineOf } from './channel.js';
import { Connection } from './connection.js';
import { CHANNEL_TYPE } from './constants.js';
import {
  type ExitSignalOptions,
  encodeExitSignal,
  encodeExitStatus,
  encodePtyRequest,
  encodeStrings,
  encodeWindowChange,
  type PtyOptions,
  type WindowChangeOptions,
} from './requests.js';
import type { Channel, ChannelOptions, ChannelState } from './types.js';

const EMPTY = new Uint8Array(0);

/** The connection layer of an authenticated session; a usage error before authentication. */
export function connectionOf(session: Session): Connection {
  const upper = engineOf(session).upper as { connection?: unknown } | undefined;
  const connection = upper?.connection;
  if (!(connection instanceof Connection)) {
    throw usageError('the session is not authenticated: channels need the ssh-connection service');
  }
  return connection;
}

function requireRole(connection: Connection, role: 'client' | 'server', what: string): void {
  if (connection.role !== role) throw usageError(`only a ${role} ${what}`);
}

/** Checks a text field given by the application. */
export function checkText(name: string, v: unknown): string {
  if (typeof v !== 'string') throw usageError(`${name} must be a string`);
  return v;
}

/** Checks a uint32 given by the application. */
export function checkUint32(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff)
    throw usageError(`${name} must be an integer from 0 to 2^32-1`);
  return v;
}

/** Checks a TCP port given by the application. */
export function checkPort(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535)
    throw usageError(`${name} must be a port from 0 to 65535`);
  return v;
}

/**
 * Opens a `session` channel (client; RFC 4254 §6.1). Events arrive at `options.onEvent`:
 * `open` once the server confirmed, then requests such as exec can be sent.
 *
 * @example
 * ```ts
 * const output = await new Promise<string>((resolve) => {
 *   let text = '';
 *   channelOpenSession(session, {
 *     onEvent: (event, channel) => {
 *       if (event.type === 'open') channelRequestExec(channel, 'echo hello');
 *       if (event.type === 'data') text += new TextDecoder().decode(event.data);
 *       if (event.type === 'close') resolve(text);
 *     },
 *   });
 * });
 * console.log(output); // prints: hello
 * ```
 */
export function channelOpenSession(session: Session, options: ChannelOptions): Channel {
  const connection = connectionOf(session);
  requireRole(connection, 'client', 'opens session channels');
  return connection.open({ type: CHANNEL_TYPE.SESSION }, options);
}

/**
 * Asks the server to connect to `host:port` (client; RFC 4254 §7.2), as `ssh -L` does.
 *
 * @example
 * ```ts
 * const ch = channelOpenDirectTcpip(session, {
 *   host: 'db.internal', port: 5432, originatorHost: '127.0.0.1', originatorPort: 50000,
 *   onEvent: (event) => { if (event.type === 'data') process.stdout.write(event.data); },
 * });
 * ```
 */
export function channelOpenDirectTcpip(
  session: Session,
  options: ChannelOptions & {
    readonly host: string;
    readonly port: number;
    readonly originatorHost: string;
    readonly originatorPort: number;
  },
): Channel {
  const connection = connectionOf(session);
  requireRole(connection, 'client', 'opens direct-tcpip channels');
  const target = {
    type: CHANNEL_TYPE.DIRECT_TCPIP,
    host: checkText('host', options.host),
    port: checkPort('port', options.port),
    originatorHost: checkText('originatorHost', options.originatorHost),
    originatorPort: checkPort('originatorPort', options.originatorPort),
  };
  return connection.open(target, options);
}

/**
 * Asks the server to connect to a Unix socket (client; OpenSSH PROTOCOL §2.4).
 *
 * @example
 * ```ts
 * const ch = channelOpenDirectStreamlocal(session, {
 *   socketPath: '/run/docker.sock',
 *   onEvent: (event) => { if (event.type === 'data') process.stdout.write(event.data); },
 * });
 * ```
 */
export function channelOpenDirectStreamlocal(
  session: Session,
  options: ChannelOptions & { readonly socketPath: string },
): Channel {
  const connection = connectionOf(session);
  requireRole(connection, 'client', 'opens direct-streamlocal channels');
  const target = {
    type: CHANNEL_TYPE.DIRECT_STREAMLOCAL,
    socketPath: checkText('socketPath', options.socketPath),
  };
  return connection.open(target, options);
}

function request(channel: Channel, name: string, wantReply: boolean, data: Uint8Array): void {
  const engine = channelEngineOf(channel);
  engine.run(() => engine.request(name, wantReply, data));
}

/**
 * Sends any channel request (RFC 4254 §5.4). With `wantReply`, the reply arrives as a
 * `request-result` event, in request order.
 *
 * @example
 * ```ts
 * channelRequest(channel, 'auth-agent-req@openssh.com', true);
 * ```
 */
export function channelRequest(
  channel: Channel,
  name: string,
  wantReply: boolean,
  data: Uint8Array = EMPTY,
): void {
  if (!/^[\x21-\x7e]{1,64}$/.test(name)) throw usageError(`invalid request name ${name}`);
  if (!(data instanceof Uint8Array)) throw usageError('data must be a Uint8Array');
  request(channel, name, wantReply === true, data);
}

/**
 * Asks for a pseudo-terminal (RFC 4254 §6.2); the result arrives as `request-result`.
 *
 * @example
 * ```ts
 * channelRequestPty(channel, { term: 'xterm-256color', cols: 120, rows: 40 });
 * channelRequestShell(channel);
 * ```
 */
export function channelRequestPty(channel: Channel, options: PtyOptions): void {
  checkText('term', options.term);
  for (const k of ['cols', 'rows', 'width', 'height'] as const)
    if (options[k] !== undefined) checkUint32(k, options[k]);
  if (options.modes !== undefined && !(options.modes instanceof Uint8Array))
    throw usageError('modes must be a Uint8Array');
  request(channel, 'pty-req', true, encodePtyRequest(options));
}

/**
 * Sets an environment variable for the coming shell or command (RFC 4254 §6.4); the result
 * arrives as `request-result` (servers commonly refuse all but a few names).
 *
 * @example
 * ```ts
 * channelRequestEnv(channel, 'LANG', 'C.UTF-8');
 * ```
 */
export function channelRequestEnv(channel: Channel, name: string, value: string): void {
  request(channel, 'env', true, encodeStrings(checkText('name', name), checkText('value', value)));
}

/**
 * Starts the user's shell (RFC 4254 §6.5); the result arrives as `request-result`.
 *
 * @example
 * ```ts
 * channelRequestShell(channel);
 * ```
 */
export function channelRequestShell(channel: Channel): void {
  request(channel, 'shell', true, EMPTY);
}

/**
 * Runs a command (RFC 4254 §6.5); the result arrives as `request-result`, the command's exit
 * as an `exit-status` (or `exit-signal`) request event.
 *
 * @example
 * ```ts
 * channelRequestExec(channel, 'ls -l /'); // then 'data' events, exit-status, 'eof', 'close'
 * ```
 */
export function channelRequestExec(channel: Channel, command: string | Uint8Array): void {
  if (typeof command !== 'string' && !(command instanceof Uint8Array))
    throw usageError('command must be a string or a Uint8Array');
  request(channel, 'exec', true, encodeStrings(command));
}

/**
 * Starts a subsystem such as `sftp` (RFC 4254 §6.5); the result arrives as `request-result`.
 *
 * @example
 * ```ts
 * channelRequestSubsystem(channel, 'sftp');
 * ```
 */
export function channelRequestSubsystem(channel: Channel, name: string): void {
  request(channel, 'subsystem', true, encodeStrings(checkText('name', name)));
}

/**
 * Reports a new terminal size (RFC 4254 §6.7; no reply).
 *
 * @example
 * ```ts
 * process.stdout.on('resize', () =>
 *   channelWindowChange(channel, { cols: process.stdout.columns, rows: process.stdout.rows }));
 * ```
 */
export function channelWindowChange(channel: Channel, size: WindowChangeOptions): void {
  for (const k of ['cols', 'rows', 'width', 'height'] as const)
    if (size[k] !== undefined) checkUint32(k, size[k]);
  request(channel, 'window-change', false, encodeWindowChange(size));
}

/**
 * Delivers a signal to the remote process (RFC 4254 §6.9; no reply). `name` is without
 * `SIG`, e.g. `INT`.
 *
 * @example
 * ```ts
 * channelSignal(channel, 'INT');
 * ```
 */
export function channelSignal(channel: Channel, name: string): void {
  request(channel, 'signal', false, encodeStrings(checkText('name', name)));
}

/**
 * Server: reports the command's exit status (RFC 4254 §6.10; no reply). Send it before
 * closing the channel.
 *
 * @example
 * ```ts
 * channelSendExitStatus(channel, 0);
 * channelEof(channel);
 * channelClose(channel);
 * ```
 */
export function channelSendExitStatus(channel: Channel, code: number): void {
  request(channel, 'exit-status', false, encodeExitStatus(checkUint32('code', code)));
}

/**
 * Server: reports that the command was killed by a signal (RFC 4254 §6.10; no reply).
 *
 * @example
 * ```ts
 * channelSendExitSignal(channel, { signal: 'KILL', coreDumped: false, message: 'killed' });
 * ```
 */
export function channelSendExitSignal(channel: Channel, options: ExitSignalOptions): void {
  checkText('signal', options.signal);
  request(channel, 'exit-signal', false, encodeExitSignal(options));
}

/**
 * Tells the peer to stop sending data on this channel while we go on writing
 * (`eow@openssh.com`, OpenSSH PROTOCOL §2.1; no reply). Send it only to OpenSSH peers.
 *
 * @example
 * ```ts
 * channelSendEow(channel);
 * ```
 */
export function channelSendEow(channel: Channel): void {
  request(channel, 'eow@openssh.com', false, EMPTY);
}

/**
 * Sends data; returns how many bytes were accepted: at most the peer's window, cut into
 * packets no larger than its maximum packet, and 0 while a key exchange pauses data or the
 * channel is not open yet. Nothing is queued: when less than asked was accepted, a `writable`
 * event follows once more fits. Writing after `channelEof`/`channelClose` throws.
 *
 * @example
 * ```ts
 * let pending = bytes;
 * const pump = () => { pending = pending.subarray(channelWrite(channel, pending)); };
 * pump(); // and on every 'writable' event
 * ```
 */
export function channelWrite(channel: Channel, data: Uint8Array): number {
  if (!(data instanceof Uint8Array)) throw usageError('data must be a Uint8Array');
  return channelEngineOf(channel).write(data, undefined);
}

/**
 * Sends extended data, such as stderr (`dataType` 1, SSH_EXTENDED_DATA.STDERR); returns the
 * bytes accepted, exactly as {@link channelWrite}.
 *
 * @example
 * ```ts
 * channelWriteExtended(channel, SSH_EXTENDED_DATA.STDERR, new TextEncoder().encode('oops\n'));
 * ```
 */
export function channelWriteExtended(channel: Channel, dataType: number, data: Uint8Array): number {
  checkUint32('dataType', dataType);
  if (!(data instanceof Uint8Array)) throw usageError('data must be a Uint8Array');
  return channelEngineOf(channel).write(data, dataType);
}

/**
 * Sends EOF: we write no more data (RFC 4254 §5.3). The channel stays open for the peer's
 * data and for requests such as exit-status. Sent once the channel is open if it is opening.
 *
 * @example
 * ```ts
 * channelEof(channel);
 * ```
 */
export function channelEof(channel: Channel): void {
  const engine = channelEngineOf(channel);
  engine.run(() => engine.eof());
}

/**
 * Closes the channel (RFC 4254 §5.3): sends CLOSE (once the channel is open if it is
 * opening). The next and last event is `close`, when the peer's CLOSE arrived; data still
 * arriving until then is dropped.
 *
 * @example
 * ```ts
 * channelClose(channel);
 * ```
 */
export function channelClose(channel: Channel): void {
  const engine = channelEngineOf(channel);
  engine.run(() => engine.close());
}

/**
 * Manual window mode (`manualWindow: true`): gives `bytes` of delivered data back to the
 * peer's window once processed. A WINDOW_ADJUST leaves when half the window was consumed.
 *
 * @example
 * ```ts
 * import { createWriteStream } from 'node:fs';
 *
 * const file = createWriteStream('/dev/null');
 * channelOpenSession(session, {
 *   manualWindow: true,
 *   onEvent: (event, channel) => {
 *     if (event.type === 'open') channelRequestExec(channel, 'echo hello');
 *     // The window reopens only as fast as the file takes the data.
 *     if (event.type === 'data') file.write(event.data, () => channelConsume(channel, event.data.length));
 *   },
 * });
 * ```
 */
export function channelConsume(channel: Channel, bytes: number): void {
  const engine = channelEngineOf(channel);
  engine.run(() => engine.consume(bytes));
}

/**
 * How many more bytes the peer may send us before we adjust the window.
 *
 * @example
 * ```ts
 * console.log(channelWindow(channel));
 * ```
 */
export function channelWindow(channel: Channel): number {
  return channelEngineOf(channel).window;
}

/**
 * How many more bytes we may send before the peer adjusts its window; a write accepts at
 * most this many.
 *
 * @example
 * ```ts
 * const room = channelRemoteWindow(channel); // 0: wait for the 'writable' event
 * console.log(room);
 * ```
 */
export function channelRemoteWindow(channel: Channel): number {
  return channelEngineOf(channel).remoteWindow;
}

/**
 * The channel's state: `opening`, `open`, `closing` or `closed`.
 *
 * @example
 * ```ts
 * if (channelState(channel) === 'open') channelWrite(channel, bytes);
 * ```
 */
export function channelState(channel: Channel): ChannelState {
  const state = channelEngineOf(channel).state;
  return state === 'offered' ? 'opening' : state;
}
