/**
 * @module
 * A server's `session` channel (RFC 4254 §6) as an event emitter: the client's `pty-req`,
 * `env`, `window-change` and `signal` requests, then one of `exec`, `shell` or `subsystem`,
 * whose `accept()` hands over the channel as a {@link ChannelStream}.
 */

import { EventEmitter } from 'node:events';
import { type ChannelRequest, type ParsedChannelRequest, SSH_ERR, SshError } from '../src/index.js';
import type { ChannelStream } from './channel-stream.js';

/** Grants a request that wants an answer. */
export type AcceptFn = () => void;
/** Refuses a request that wants an answer. */
export type RejectFn = () => void;
/** Grants `exec`, `shell` or `subsystem` and returns the channel's stream. */
export type AcceptStreamFn = () => ChannelStream;

/** `pty-req` fields (RFC 4254 §6.2). */
export type PtyInfo = Omit<Extract<ParsedChannelRequest, { type: 'pty-req' }>, 'type'>;

/** The events of a {@link ServerSession} and their arguments. */
export interface ServerSessionEvents {
  /** `pty-req`. */
  pty: [accept: AcceptFn, reject: RejectFn, info: PtyInfo];
  /** `env`. */
  env: [accept: AcceptFn, reject: RejectFn, info: { name: string; value: string }];
  /** `exec`: `accept()` returns the stream. */
  exec: [accept: AcceptStreamFn, reject: RejectFn, info: { command: string }];
  /** `shell`: `accept()` returns the stream. */
  shell: [accept: AcceptStreamFn, reject: RejectFn, info: Record<string, never>];
  /** `subsystem`: `accept()` returns the stream. */
  subsystem: [accept: AcceptStreamFn, reject: RejectFn, info: { name: string }];
  /** The client's terminal changed size. */
  'window-change': [info: { cols: number; rows: number; width: number; height: number }];
  /** The client asks to deliver a signal. */
  signal: [info: { name: string }];
  /** The channel closed. */
  close: [];
}

/**
 * The client's requests on one session channel. Events, each with `(accept, reject, info)`
 * like the `ssh2` package: `'pty'` ({@link PtyInfo}), `'env'` (`{name, value}`), `'exec'`
 * (`{command}`), `'shell'` (`{}`), `'subsystem'` (`{name}`); and `(info)` only:
 * `'window-change'` (`{cols, rows, width, height}`), `'signal'` (`{name}`). A request with no
 * listener is refused. Only one `exec`/`shell`/`subsystem` can be granted (RFC 4254 §6.5):
 * while one waits for its answer, or once one was accepted, further ones are refused at once
 * (one refused by `reject()` leaves room for the next). Its `accept()` returns the stream.
 * `'close'` when the channel closed.
 */
export class ServerSession extends EventEmitter<ServerSessionEvents> {
  readonly #stream: ChannelStream;
  /** `pending` from dispatching an exec/shell/subsystem until its answer; `started` once accepted. */
  #start: 'none' | 'pending' | 'started' = 'none';

  /** @internal Made by the server for each accepted session channel. */
  constructor(stream: ChannelStream) {
    super();
    this.#stream = stream;
    stream.on('close', () => this.emit('close'));
    stream.on('error', () => {});
  }

  /** @internal Dispatches one request of the channel. */
  handle(request: ChannelRequest): void {
    const parsed = request.parsed;
    const refuse = () => {
      if (request.wantReply) request.reject();
    };
    if (!parsed) return refuse();
    switch (parsed.type) {
      case 'pty-req': {
        const { type: _, ...info } = parsed;
        if (this.listenerCount('pty') === 0) return refuse();
        this.emit('pty', once(request, true), once(request, false), info);
        return;
      }
      case 'env': {
        if (this.listenerCount('env') === 0) return refuse();
        const info = { name: parsed.name, value: parsed.value };
        this.emit('env', once(request, true), once(request, false), info);
        return;
      }
      case 'window-change': {
        const { type: _, ...info } = parsed;
        refuse();
        this.emit('window-change', info);
        return;
      }
      case 'signal':
        refuse();
        this.emit('signal', { name: parsed.name });
        return;
      case 'exec':
      case 'shell':
      case 'subsystem': {
        if (this.#start !== 'none' || this.listenerCount(parsed.type) === 0) return refuse();
        this.#start = 'pending';
        let answered = false;
        const accept: AcceptStreamFn = () => {
          if (!answered) {
            answered = true;
            if (this.#start === 'started') {
              refuse();
              throw new SshError(
                SSH_ERR.USAGE,
                'local',
                `${parsed.type}: this session channel already started a command`,
              );
            }
            this.#start = 'started';
            request.accept();
          }
          return this.#stream;
        };
        const reject: RejectFn = () => {
          if (answered) return;
          answered = true;
          if (this.#start === 'pending') this.#start = 'none';
          refuse();
        };
        if (parsed.type === 'exec') this.emit('exec', accept, reject, { command: parsed.command });
        else if (parsed.type === 'shell') this.emit('shell', accept, reject, {});
        else this.emit('subsystem', accept, reject, { name: parsed.name });
        return;
      }
      default:
        refuse();
    }
  }
}

function once(request: ChannelRequest, grant: boolean): () => void {
  return () => {
    if (!request.wantReply) return;
    try {
      if (grant) request.accept();
      else request.reject();
    } catch {
      // Answered already: the first answer stands.
    }
  };
}
