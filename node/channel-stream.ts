/**
 * @module
 * An SSH channel (RFC 4254 §5) as a Node `Duplex`: the readable side is the channel's data
 * (a command's stdout), `stderr` a second `Readable` for extended data type 1, the writable
 * side the data we send (stdin). Backpressure maps onto SSH windows both ways: the receive
 * window is manual and re-opened only as the consumer reads, and writes complete only when
 * `channelWrite` took every byte.
 */

import { Duplex, Readable } from 'node:stream';
import {
  type Channel,
  type ChannelEvent,
  type ChannelOptions,
  type ChannelRequest,
  channelClose,
  channelConsume,
  channelEof,
  channelSendExitSignal,
  channelSendExitStatus,
  channelSignal,
  channelState,
  channelWindowChange,
  channelWrite,
  channelWriteExtended,
  type Session,
  SSH_ERR,
  SSH_EXTENDED_DATA,
  SshError,
  sessionLastError,
  sessionState,
  type WindowChangeOptions,
} from '../src/index.js';

/** How an exec'd command or shell ended: an exit status, or the signal that killed it. */
export interface ExitInfo {
  /** The exit status (`exit-status`), or `null` when a signal ended it. */
  readonly code: number | null;
  /** The signal name without `SIG` (`exit-signal`, e.g. `TERM`), or `null`. */
  readonly signal: string | null;
  /** Whether a core was dumped (`exit-signal`). */
  readonly coreDumped: boolean;
  /** The peer's message (`exit-signal`), or ''. */
  readonly message: string;
}

/**
 * When the stream sends CHANNEL_CLOSE by itself: a server's session channel once its EOF is
 * sent; a forwarded connection once both EOFs passed; a client's session channel never (the
 * server closes it after exit-status, which follows EOF: closing earlier would lose it).
 */
type CloseRule = 'after-our-eof' | 'after-both-eof' | 'peer-closes';

/** What the opener of a stream learns, and what it may hook (internal to the node layer). */
interface StreamHooks {
  /** The peer confirmed (`undefined`) or refused the channel. */
  readonly onOpen?: (error: SshError | undefined) => void;
  /** A request from the peer other than exit-status / exit-signal. Default: refused. */
  readonly onRequest?: (request: ChannelRequest) => void;
  /** When CLOSE is sent by the stream itself. */
  readonly closeRule: CloseRule;
}

interface Internals {
  readonly replies: ((success: boolean) => void)[];
}

const internals = new WeakMap<ChannelStream, Internals>();

/**
 * Sends a want-reply request on `stream` (with `send`, one of the core's `channelRequest…`
 * calls) and resolves with the peer's answer. Internal to the node layer.
 */
export function requestWithReply(
  stream: ChannelStream,
  send: (channel: Channel) => void,
): Promise<boolean> {
  const inner = internals.get(stream)!;
  return new Promise((resolve) => {
    if (stream.closed || channelState(stream.channel) === 'closed') return resolve(false);
    inner.replies.push(resolve);
    try {
      send(stream.channel);
    } catch (e) {
      inner.replies.pop();
      throw e;
    }
  });
}

/**
 * One SSH channel as a `Duplex` stream. Made by the client's `exec`, `shell`, `subsystem`,
 * `forwardOut` and `forwardIn`, and by the server's `accept()` calls; not constructed by
 * applications.
 *
 * - Reading: each CHANNEL_DATA is pushed as a `Buffer`; the SSH receive window is given back
 *   (`channelConsume`) only for bytes the readable side accepted while below its high-water
 *   mark, the rest when the consumer reads (`_read`). A slow reader therefore stops the peer
 *   once the window (2 MiB by default) is used up: buffering is bounded by the window.
 * - `stderr`: extended data of type 1, with the same rule. Read it (or `resume()` it) like a
 *   child process's stderr, or the shared window fills and the channel stalls. Destroying it
 *   drops what it would have received (the window is still given back).
 * - Writing: a write's callback runs only when `channelWrite` accepted all of it; the rest
 *   waits for the channel's `writable` event, so `write()` returns false and `pipe`/`pipeline`
 *   pause while the peer's window is exhausted.
 * - `end()` sends EOF. The peer's EOF ends the readable sides. A forwarded connection sends
 *   CLOSE once both EOFs passed, a server's session stream once its own EOF is sent, a
 *   client's session stream waits for the server's CLOSE (`destroy()` closes at once). `'close'` comes
 *   after the channel closed, everything was read and the writable side finished, so
 *   {@link ChannelStream.exit} is known by then (OpenSSH sends exit-status after EOF).
 * - `'exit'` `(code, signal, coreDumped, message)` fires for exit-status / exit-signal;
 *   {@link ChannelStream.exit} holds it afterwards.
 * - When the channel closes because the session ended with an error, the stream is destroyed
 *   with that `SshError`; a channel the peer closed normally just ends (writes still pending
 *   are dropped, as on a socket the peer closed).
 */
export class ChannelStream extends Duplex {
  /** The extended-data (stderr) side. */
  readonly stderr: Readable;
  readonly #session: Session;
  #channel: Channel | undefined;
  readonly #hooks: StreamHooks;
  #exit: ExitInfo | undefined;
  #owed = { out: 0, err: 0 };
  #held = { out: false, err: false };
  #pending: { data: Uint8Array; callback: (error?: Error | null) => void } | undefined;
  #sentEof = false;
  #gotEof = false;
  #channelClosed = false;
  #opened: boolean;

  /**
   * @internal Opens or accepts the channel through `open`, with this stream's event handler.
   */
  constructor(session: Session, open: (options: ChannelOptions) => Channel, hooks: StreamHooks) {
    // Destroyed (and `'close'` emitted) only once the channel itself closed: see #onClose.
    super({ allowHalfOpen: true, autoDestroy: false });
    this.#session = session;
    this.#hooks = hooks;
    // A channel we accepted is open at once and hears no `open` event.
    this.#opened = hooks.onOpen === undefined;
    internals.set(this, { replies: [] });
    this.stderr = new Readable({
      read: () => this.#release('err'),
      // Destroyed by the application: what it still held back is dropped, and given back.
      destroy: (error, callback) => {
        this.#release('err');
        callback(error);
      },
    });
    this.#channel = open({
      manualWindow: true,
      onEvent: (event, channel) => this.#onEvent(event, channel),
    });
  }

  /** The core's channel handle, for calls this class does not wrap. */
  get channel(): Channel {
    return this.#channel!;
  }

  /** How the remote command ended, once `exit-status` or `exit-signal` arrived. */
  get exit(): ExitInfo | undefined {
    return this.#exit;
  }

  /** Client: tells the server the terminal's new size (`window-change`). */
  setWindow(size: WindowChangeOptions): void {
    channelWindowChange(this.channel, size);
  }

  /** Client: sends a `signal` request, e.g. `TERM` (servers may ignore it). */
  signal(name: string): void {
    channelSignal(this.channel, name);
  }

  /**
   * Server: reports how the command ended, `exit-status` for a number or `exit-signal` for a
   * signal name (without `SIG`). Send it before `end()`.
   */
  sendExit(codeOrSignal: number | string, coreDumped = false, message = ''): void {
    if (typeof codeOrSignal === 'number') channelSendExitStatus(this.channel, codeOrSignal);
    else channelSendExitSignal(this.channel, { signal: codeOrSignal, coreDumped, message });
  }

  /**
   * Server: writes to the client's stderr (extended data type 1), honouring the window;
   * resolves once all of it was accepted. `end()` sends EOF only after pending stderr writes
   * completed. Rejects with `SSH_ERR_USAGE` after `end()`, and with the session's error (or
   * `SSH_ERR_CONNECTION_LOST`) when the channel closed first.
   */
  writeStderr(data: Uint8Array | string): Promise<void> {
    if (this.writableEnded) {
      return Promise.reject(new SshError(SSH_ERR.USAGE, 'local', 'writeStderr after end()'));
    }
    let rest = typeof data === 'string' ? Buffer.from(data) : data;
    this.#stderrBusy++;
    return new Promise((resolve, reject) => {
      const pump = () => {
        if (this.#channelClosed) {
          this.#stderrDone();
          return reject(this.#closedError());
        }
        const n = channelWriteExtended(this.channel, SSH_EXTENDED_DATA.STDERR, rest);
        rest = rest.subarray(n);
        if (rest.length > 0) return void this.#stderrWaiters.push(pump);
        this.#stderrDone();
        resolve();
      };
      pump();
    });
  }

  #stderrWaiters: (() => void)[] = [];
  #stderrBusy = 0;
  #finalWaiting: (() => void) | undefined;

  #stderrDone(): void {
    this.#stderrBusy--;
    const final = this.#finalWaiting;
    if (this.#stderrBusy === 0 && final) {
      this.#finalWaiting = undefined;
      final();
    }
  }

  /** Retries stderr writes waiting for window (a full data write cancels the core's `writable`). */
  #retryStderr(): void {
    for (const w of this.#stderrWaiters.splice(0)) w();
  }

  /** @internal Node's hook: the consumer wants more, so give the window back. */
  override _read(): void {
    this.#release('out');
  }

  /** @internal Node's hook: writes as much as the window allows. */
  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.#pending = { data: chunk, callback };
    this.#pump();
  }

  /** @internal Node's hook: sends EOF. */
  override _final(callback: (error?: Error | null) => void): void {
    const finish = () => {
      if (!this.#channelClosed && !this.#sentEof) {
        this.#sentEof = true;
        channelEof(this.channel);
        this.#maybeClose();
      }
      callback();
    };
    if (this.#stderrBusy > 0) this.#finalWaiting = finish;
    else finish();
  }

  /** @internal Node's hook: sends CLOSE. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#channel && !this.#channelClosed) channelClose(this.#channel);
    if (!this.stderr.destroyed) this.stderr.destroy();
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.callback(error);
    callback(error);
  }

  #pump(): void {
    const pending = this.#pending;
    if (!pending) return;
    if (this.#channelClosed) {
      // The peer closed the channel: the bytes cannot go anywhere (as on a reset socket).
      this.#pending = undefined;
      pending.callback();
      return;
    }
    const n = channelWrite(this.channel, pending.data);
    if (n === pending.data.length) {
      this.#pending = undefined;
      pending.callback();
      if (n > 0 && this.#stderrWaiters.length > 0) this.#retryStderr();
    } else {
      pending.data = pending.data.subarray(n);
    }
  }

  #release(which: 'out' | 'err'): void {
    this.#held[which] = false;
    const owed = this.#owed[which];
    if (owed > 0 && this.#channel && !this.#channelClosed) {
      this.#owed[which] = 0;
      channelConsume(this.#channel, owed);
    }
  }

  #deliver(which: 'out' | 'err', data: Uint8Array): void {
    const target = which === 'out' ? this : this.stderr;
    if (target.destroyed || target.readableEnded) {
      // Nobody reads these bytes: drop them but give the window back, or the other side of
      // the shared window stalls too.
      if (!this.#channelClosed) channelConsume(this.channel, data.length);
      return;
    }
    const more = target.push(Buffer.from(data.buffer, data.byteOffset, data.length));
    if (more && !this.#held[which]) channelConsume(this.channel, data.length);
    else {
      this.#owed[which] += data.length;
      this.#held[which] = true;
    }
  }

  #onEvent(event: ChannelEvent, channel: Channel): void {
    this.#channel ??= channel;
    switch (event.type) {
      case 'open':
        this.#opened = true;
        this.#hooks.onOpen?.(undefined);
        return;
      case 'open-failed': {
        this.#channelClosed = true;
        this.#opened = true;
        const error = new SshError(
          SSH_ERR.CHANNEL_OPEN_FAILED,
          'negotiation',
          `channel open refused (reason ${event.reason}): ${event.description}`,
          undefined,
          { cause: { reason: event.reason, description: event.description } },
        );
        this.#hooks.onOpen?.(error);
        this.destroy();
        return;
      }
      case 'data':
        this.#deliver('out', event.data);
        return;
      case 'extended-data':
        if (event.dataType === SSH_EXTENDED_DATA.STDERR) this.#deliver('err', event.data);
        else channelConsume(channel, event.data.length);
        return;
      case 'eof':
        this.#gotEof = true;
        this.#endReadables();
        this.#maybeClose();
        return;
      case 'writable':
        this.#pump();
        this.#retryStderr();
        return;
      case 'request':
        this.#onRequest(event.request);
        return;
      case 'request-result':
        internals.get(this)!.replies.shift()?.(event.success);
        return;
      case 'close':
        this.#onClose();
        return;
    }
  }

  #onRequest(request: ChannelRequest): void {
    const parsed = request.parsed;
    if (parsed?.type === 'exit-status' || parsed?.type === 'exit-signal') {
      const exit: ExitInfo =
        parsed.type === 'exit-status'
          ? { code: parsed.code, signal: null, coreDumped: false, message: '' }
          : {
              code: null,
              signal: parsed.signal,
              coreDumped: parsed.coreDumped,
              message: parsed.message,
            };
      this.#exit ??= exit;
      this.emit('exit', exit.code, exit.signal, exit.coreDumped, exit.message);
      if (request.wantReply) request.reject();
      return;
    }
    if (this.#hooks.onRequest) this.#hooks.onRequest(request);
    else if (request.wantReply) request.reject();
  }

  #onClose(): void {
    this.#channelClosed = true;
    for (const resolve of internals.get(this)!.replies.splice(0)) resolve(false);
    const error =
      sessionState(this.#session) === 'closed' ? sessionLastError(this.#session) : undefined;
    if (!this.#opened) {
      this.#opened = true;
      this.#hooks.onOpen?.(error ?? this.#closedError());
    }
    if (error) {
      this.#retryStderr();
      this.destroy(error);
      return;
    }
    this.#endReadables();
    this.#retryStderr();
    this.#pump();
    if (!this.writableEnded) this.end();
    // 'close' follows the channel's CLOSE (so exit-status, sent after EOF, is in), once the
    // consumer has read everything and the writable side finished.
    const done = () => {
      if (this.readableEnded && this.writableFinished && !this.destroyed) this.destroy();
    };
    if (!this.readableEnded) this.once('end', done);
    if (!this.writableFinished) this.once('finish', done);
    done();
  }

  #endReadables(): void {
    if (!this.readableEnded && !this.destroyed) this.push(null);
    if (!this.stderr.readableEnded && !this.stderr.destroyed) this.stderr.push(null);
  }

  #maybeClose(): void {
    const rule = this.#hooks.closeRule;
    if (this.#channelClosed || !this.#sentEof || rule === 'peer-closes') return;
    if (rule === 'after-our-eof' || this.#gotEof) channelClose(this.channel);
  }

  #closedError(): SshError {
    return (
      sessionLastError(this.#session) ??
      new SshError(SSH_ERR.CONNECTION_LOST, 'link', 'the channel is closed')
    );
  }
}
