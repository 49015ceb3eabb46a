/**
 * @module
 * An SSH channel as the link of another session (SSH over SSH, OpenSSH's `ProxyJump`): a
 * `direct-tcpip` channel opened on an authenticated client session, or any channel that is
 * already open (an exec'd `nc host 22`, `ssh -W`, a subsystem), carries the inner session's
 * bytes. Links nest: an inner session can be the outer session of the next hop.
 *
 * The core queues no application data (DESIGN.md contract §3), so `channelWrite` may accept
 * fewer bytes than the inner session sent; this transport keeps the rest in its own bounded
 * outgoing buffer and writes it on the channel's `writable` event.
 */

import {
  type Channel,
  type ChannelEvent,
  type ChannelOptions,
  channelClose,
  channelEof,
  channelOpenDirectTcpip,
  channelRemoteWindow,
  channelState,
  channelWrite,
  type Session,
  type SessionConfig,
  sessionClose,
  sessionCreate,
  sessionReceive,
} from '../src/index.js';
import { InputBuffer } from './input-buffer.js';

/**
 * The most the outgoing buffer holds by default: 16 MiB. It stays far below that in practice:
 * beyond control messages the inner session sends only what the inner peer's windows allow,
 * and that peer opens them only after reading what crossed the channel.
 */
export const DEFAULT_CHANNEL_LINK_MAX_BUFFERED = 16 * 1024 * 1024;

/** How long closing waits for buffered bytes (the inner DISCONNECT) to leave: 2 s. */
export const CHANNEL_LINK_CLOSE_DRAIN_MS = 2000;

/** Buffered chunks smaller than this are merged before writing, to fill the channel's packets. */
const MERGE_BYTES = 64 * 1024;

/** How a channel link behaves. */
export interface ChannelLinkOptions {
  /**
   * The most bytes the transport holds while the channel's window is closed. A `send` that
   * would go past it fails: the inner session ends with `SSH_ERR_SEND_FAILED` and
   * `onLinkError` is told. Default {@link DEFAULT_CHANNEL_LINK_MAX_BUFFERED}.
   */
  readonly maxBufferedBytes?: number;
  /** Called for every chunk received on the channel (e.g. `SessionTimeouts.noteActivity`). */
  readonly onActivity?: () => void;
  /** Told about link failures (the open refused, the buffer limit); the session hears only that the link closed. */
  readonly onLinkError?: (error: Error) => void;
  /** Extended data (stderr) arriving on the channel, e.g. the diagnostics of `ssh -W` or `nc`. */
  readonly onExtendedData?: (data: Uint8Array, dataType: number) => void;
}

/** Where the jump host connects the `direct-tcpip` channel (RFC 4254 §7.2). */
export interface ChannelLinkTarget {
  /** The host the jump host connects to, as it resolves it (e.g. `10.0.0.5`, `db.internal`). */
  readonly host: string;
  /** The port, e.g. 22. */
  readonly port: number;
  /** Reported to the jump host as the connection's origin. Default `127.0.0.1`. */
  readonly originatorHost?: string;
  /** Reported to the jump host as the connection's origin. Default 0. */
  readonly originatorPort?: number;
}

/** Options of {@link attachChannelLink}: the link's, and the outer channel's window. */
export interface OpenChannelLinkOptions extends ChannelLinkOptions {
  /** Our receive window for the channel. Default: the outer session's `channelWindow`. */
  readonly window?: number;
  /** The largest data per packet we accept on the channel. Default: the outer session's. */
  readonly maxPacket?: number;
}

/** A session running over a channel. */
export interface ChannelLink {
  /** The inner session. */
  readonly session: Session;
  /** The outer channel that carries it. */
  readonly channel: Channel;
  /** Bytes the inner session sent that wait for the channel's window. */
  readonly bufferedAmount: number;
}

/** A session attached to a channel the application opened, with the handler for its events. */
export interface AttachedChannelLink extends ChannelLink {
  /** Pass every later event of the channel here (from the channel's `onEvent`). */
  readonly onEvent: (event: ChannelEvent, channel: Channel) => void;
}

/** Options of {@link attachToChannel}. */
export interface AttachToChannelOptions extends ChannelLinkOptions {
  /** Bytes the channel delivered before the link was attached; they are fed first. */
  readonly received?: Uint8Array;
}

/**
 * Opens a `direct-tcpip` channel to `target` on `outer` (a client session that has
 * authenticated) and runs a session with `config` over it. What the inner session sends before
 * the channel opens waits in the transport. A refused open ends the inner session with
 * `SSH_ERR_CONNECTION_LOST` and `onLinkError` gets the reason. When the inner session ends,
 * the channel gets EOF and CLOSE once the buffered bytes left (at most
 * {@link CHANNEL_LINK_CLOSE_DRAIN_MS} later); when the channel reports EOF or closes (or the
 * outer session ends), the inner session hears `sessionClose` once every byte received was
 * fed to it.
 *
 * @example
 * ```ts
 * // ssh -J: `session` is logged in to the jump host; the target is reached through it.
 * const jump = session;
 * const target = attachChannelLink(jump, { host, port }, {
 *   role: 'client',
 *   onHostKey: (request) => (request.fingerprint === pinned ? request.accept() : request.reject()),
 *   auth: { username, methods: [{ type: 'publickey', key }] },
 * });
 * console.log(sessionState(target.session)); // prints: version-exchange (the channel is still opening)
 * ```
 */
export function attachChannelLink(
  outer: Session,
  target: ChannelLinkTarget,
  config: SessionConfig<Session>,
  options: OpenChannelLinkOptions = {},
): ChannelLink {
  const { window, maxPacket, ...linkOptions } = options;
  const link = new ChannelLinkState(linkOptions);
  const channelOptions: ChannelOptions = {
    onEvent: link.onEvent,
    ...(window !== undefined ? { window } : {}),
    ...(maxPacket !== undefined ? { maxPacket } : {}),
  };
  const channel = channelOpenDirectTcpip(outer, {
    ...channelOptions,
    host: target.host,
    port: target.port,
    originatorHost: target.originatorHost ?? '127.0.0.1',
    originatorPort: target.originatorPort ?? 0,
  });
  const session = link.start(channel, config);
  return {
    session,
    channel,
    get bufferedAmount() {
      return link.bufferedAmount;
    },
  };
}

/**
 * Runs a session with `config` over a channel that is already open (or opening), such as an
 * exec'd `nc target 22` or `ssh -W target:22`, or a subsystem that speaks SSH. The channel's
 * events must be passed to the returned `onEvent` from now on; bytes that arrived before go in
 * `options.received`. Requests on the channel (e.g. the command's `exit-status`) are ignored,
 * and refused when they want a reply. Ends as {@link attachChannelLink} does.
 *
 * @example
 * ```ts
 * // `session` is logged in to a host whose `nc` reaches the target.
 * const config = { role: 'client', onHostKey } as const;
 * let link: AttachedChannelLink | undefined;
 * channelOpenSession(session, {
 *   onEvent: (event, ch) => {
 *     if (link) return link.onEvent(event, ch);
 *     if (event.type === 'open') channelRequestExec(ch, `nc ${host} ${port}`);
 *     if (event.type === 'request-result' && event.success) link = attachToChannel(ch, config);
 *   },
 * });
 * ```
 */
export function attachToChannel(
  channel: Channel,
  config: SessionConfig<Session>,
  options: AttachToChannelOptions = {},
): AttachedChannelLink {
  const { received, ...linkOptions } = options;
  const link = new ChannelLinkState(linkOptions);
  const session = link.start(channel, config);
  if (received !== undefined && received.length > 0) {
    link.onEvent({ type: 'data', data: received }, channel);
  }
  const state = channelState(channel);
  if (state === 'open') link.onEvent({ type: 'open' }, channel);
  else if (state !== 'opening') link.onEvent({ type: 'close' }, channel);
  return {
    session,
    channel,
    onEvent: link.onEvent,
    get bufferedAmount() {
      return link.bufferedAmount;
    },
  };
}

function channelLinkSend(link: ChannelLinkState, bytes: Uint8Array): 0 | -1 {
  return link.send(bytes);
}

function channelLinkClose(link: ChannelLinkState): void {
  link.close();
}

/** One channel, its input buffer and its outgoing buffer. */
class ChannelLinkState {
  readonly #options: ChannelLinkOptions;
  readonly #maxBuffered: number;
  readonly #input = new InputBuffer();
  #channel: Channel | undefined;
  #session: Session | undefined;
  /** Bytes waiting for the window, oldest first; they belong to us (contract §4). */
  readonly #queue: Uint8Array[] = [];
  #queued = 0;
  #flushing = false;
  #flushAgain = false;
  /** The inner session asked to close the link. */
  #closing = false;
  /** We sent EOF and CLOSE (or the channel is gone): nothing more is written. */
  #shut = false;
  /** The channel reported EOF, close or a refused open. */
  #gone = false;
  #reported = false;
  #drainTimer: NodeJS.Timeout | undefined;

  constructor(options: ChannelLinkOptions) {
    this.#options = options;
    const max = options.maxBufferedBytes ?? DEFAULT_CHANNEL_LINK_MAX_BUFFERED;
    if (!(Number.isInteger(max) && max > 0)) {
      throw new RangeError('maxBufferedBytes must be a positive integer');
    }
    this.#maxBuffered = max;
  }

  get bufferedAmount(): number {
    return this.#queued;
  }

  /** Creates the inner session on `channel`; closes the channel if the session cannot be made. */
  start(channel: Channel, config: SessionConfig<Session>): Session {
    this.#channel = channel;
    let session: Session;
    try {
      session = sessionCreate(this, channelLinkSend, channelLinkClose, config);
    } catch (e) {
      this.#closing = true;
      this.#shutChannel();
      throw e;
    }
    this.#session = session;
    this.#input.attach((bytes) => sessionReceive(session, bytes));
    // The channel may have ended while the session was being made.
    if (this.#gone) this.#reportGone();
    return session;
  }

  readonly onEvent = (event: ChannelEvent, channel: Channel): void => {
    this.#channel ??= channel;
    switch (event.type) {
      case 'open':
      case 'writable':
        this.#flush();
        return;
      case 'data':
        this.#options.onActivity?.();
        if (this.#gone) return;
        // -1: the inner session ended and already asked `close` to end the channel.
        this.#input.push(event.data);
        return;
      case 'extended-data':
        this.#options.onActivity?.();
        this.#options.onExtendedData?.(event.data, event.dataType);
        return;
      case 'request':
        if (event.request.wantReply) event.request.reject();
        return;
      case 'open-failed':
        this.#options.onLinkError?.(
          new Error(`the channel was refused (${event.reason}): ${event.description}`),
        );
        this.#channelGone();
        return;
      case 'eof':
      case 'close':
        this.#channelGone();
        return;
      case 'request-result':
        return;
    }
  };

  send(bytes: Uint8Array): 0 | -1 {
    // The channel is gone: the session hears sessionClose once the input is drained (a lost
    // link, not a failed send), so what it sends until then is dropped.
    if (this.#gone) return 0;
    if (this.#closing || this.#shut) return -1;
    if (this.#queued + bytes.length > this.#maxBuffered) {
      this.#options.onLinkError?.(
        new Error(`the channel link buffered more than ${this.#maxBuffered} bytes`),
      );
      return -1;
    }
    if (bytes.length === 0) return 0;
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    this.#flush();
    return 0;
  }

  /** The inner session ended: let the buffered bytes (its DISCONNECT) leave, then EOF and CLOSE. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#queued === 0 || this.#gone) {
      this.#shutChannel();
      return;
    }
    this.#drainTimer = setTimeout(() => this.#shutChannel(), CHANNEL_LINK_CLOSE_DRAIN_MS);
    this.#drainTimer.unref();
  }

  /**
   * Writes buffered bytes while the channel accepts them. Never nests: a `send` or `writable`
   * that arrives while a write is running (a synchronous link) is picked up by the running loop.
   */
  #flush(): void {
    const channel = this.#channel;
    if (channel === undefined || this.#shut) return;
    if (this.#flushing) {
      this.#flushAgain = true;
      return;
    }
    this.#flushing = true;
    try {
      do {
        this.#flushAgain = false;
        while (this.#queue.length > 0 && !this.#shut && channelState(channel) === 'open') {
          const head = this.#mergeHead(channelRemoteWindow(channel));
          const n = channelWrite(channel, head);
          if (this.#shut) break; // the link ended during the write: the queue is gone
          this.#queued -= n;
          if (n === head.length) {
            this.#queue.shift();
          } else {
            this.#queue[0] = head.subarray(n);
            break;
          }
        }
      } while (this.#flushAgain && this.#queue.length > 0 && !this.#shut);
    } finally {
      this.#flushing = false;
    }
    if (this.#closing && this.#queued === 0) this.#shutChannel();
  }

  /**
   * Merges small chunks at the head of the queue so the channel's packets are filled, when the
   * window takes more than the head (else copying would gain nothing).
   */
  #mergeHead(window: number): Uint8Array {
    const head = this.#queue[0]!;
    if (head.length >= MERGE_BYTES || this.#queue.length === 1 || window <= head.length) {
      return head;
    }
    let count = 0;
    let size = 0;
    while (count < this.#queue.length && size < MERGE_BYTES) size += this.#queue[count++]!.length;
    const merged = new Uint8Array(size);
    let at = 0;
    for (const chunk of this.#queue.splice(0, count, merged)) {
      merged.set(chunk, at);
      at += chunk.length;
    }
    return merged;
  }

  /** Ends our side of the channel (once), dropping whatever is still buffered. */
  #shutChannel(): void {
    if (this.#shut) return;
    this.#shut = true;
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    this.#queue.length = 0;
    this.#queued = 0;
    const channel = this.#channel;
    if (channel === undefined) return;
    const state = channelState(channel);
    if (state === 'open' || state === 'opening') {
      channelEof(channel);
      channelClose(channel);
    }
  }

  #channelGone(): void {
    this.#gone = true;
    if (this.#session !== undefined) this.#reportGone();
  }

  /** Tells the inner session, once every byte received was fed, and ends our side too. */
  #reportGone(): void {
    this.#input.afterDrain(() => {
      if (this.#reported) return;
      this.#reported = true;
      sessionClose(this.#session!);
      // The session does not call `close` after sessionClose: end the channel here.
      this.#shutChannel();
    });
  }
}
