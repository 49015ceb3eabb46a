/**
 * @module
 * One channel of the connection protocol (RFC 4254 §5): its state, both flow-control
 * windows, EOF, the close handshake, and its requests in both directions.
 *
 * ```
 *          we open: channelOpen...()             the peer opens: CHANNEL_OPEN
 *          send CHANNEL_OPEN                     onChannelOpen(request)
 *                 |                                      |
 *                 v                                      v
 *           +-----------+                          +-----------+
 *      +----|  opening  |                          |  offered  |----+
 *      |    +-----------+                          +-----------+    |
 *      |          | OPEN_CONFIRMATION     accept(): send |          | reject():
 *      |          | ('open')           OPEN_CONFIRMATION |          | send OPEN_FAILURE
 *      |          v                                      v          |
 *      |    +-------------------------------------------------+     |
 *      |    |                      open                       |     |
 *      |    |   EOF sent, EOF received: flags, not states     |     |
 *      |    +-------------------------------------------------+     |
 *      |          | channelClose():           peer CLOSE: |         |
 *      |          | send CLOSE            send CLOSE back |         |
 *      |          v                                       |         |
 *      |    +-----------+                                 |         |
 *      |    |  closing  |                                 |         |
 *      |    +-----------+                                 |         |
 *      |          | peer CLOSE                            |         |
 *      |          v                                       v         |
 *      |    +-------------------------------------------------+     |
 *      +--->|                     closed                      |<----+
 *  OPEN_    |  the local id returns to the free list; the     |
 *  FAILURE  |  last event is 'close' (or 'open-failed')       |
 *           +-------------------------------------------------+
 *
 * Peer messages allowed per state are in ACCEPTS below; any other ends the session, as do
 * data after the peer's EOF, beyond our window or over our maximum packet. After
 * channelClose() the only event still to come is 'close'. The end of the session moves every
 * channel to closed at once.
 * ```
 */

import { SSH_MSG } from '../constants.js';
import { peerError, SSH_ERR, usageError } from '../errors.js';
import type { LayerHost } from '../layer.js';
import { ChannelRequests } from './channel-requests.js';
import { CONNECTION_LIMITS } from './limits.js';
import {
  checkChannelOnly,
  decodeData,
  decodeOpenConfirmation,
  decodeOpenFailure,
  decodeWindowAdjust,
  encodeChannelOnly,
  encodeChannelRequest,
  encodeDataHeader,
  encodeOpenConfirmation,
  encodeOpenFailure,
  encodeWindowAdjust,
  malformed,
} from './messages.js';
import { ReceiveWindow } from './receive-window.js';
import type { Channel, ChannelEvent, ChannelOptions, ChannelState } from './types.js';

/** A channel's state; `offered` (the peer's open awaiting our answer) is internal. */
export type ChannelStateName = 'offered' | ChannelState;

const M = SSH_MSG;
const IN_OPEN = [
  M.CHANNEL_WINDOW_ADJUST,
  M.CHANNEL_DATA,
  M.CHANNEL_EXTENDED_DATA,
  M.CHANNEL_EOF,
  M.CHANNEL_CLOSE,
  M.CHANNEL_REQUEST,
  M.CHANNEL_SUCCESS,
  M.CHANNEL_FAILURE,
] as const;

/**
 * The peer messages a channel accepts in each state; any other ends the session. The peer
 * does not know our id for an `offered` channel, and a `closed` one is no longer in the table.
 */
const ACCEPTS: Record<ChannelStateName, ReadonlySet<number>> = {
  offered: new Set(),
  opening: new Set([M.CHANNEL_OPEN_CONFIRMATION, M.CHANNEL_OPEN_FAILURE]),
  open: new Set(IN_OPEN),
  closing: new Set(IN_OPEN),
  closed: new Set(),
};

/** What a channel needs from its connection. */
export interface ChannelContext {
  readonly host: LayerHost;
  /** True once the session has ended: nothing more is delivered. */
  readonly ended: boolean;
  /** Calls application code (exceptions end the session). */
  callOut(fn: () => void): void;
  /** Records the peer's id for this channel; ends the session if a live channel has it. */
  bindRemote(remoteId: number): void;
  /** The channel is closed: free its ids. */
  release(channel: ChannelEngine): void;
}

/** Our receive-side settings for one channel. */
export interface ChannelSettings {
  readonly onEvent: ChannelOptions['onEvent'];
  readonly manualWindow: boolean;
  readonly window: number;
  readonly maxPacket: number;
}

/** The engine behind one opaque channel handle. */
export class ChannelEngine {
  readonly localId: number;
  readonly #ctx: ChannelContext;
  readonly #requests: ChannelRequests;
  #state: ChannelStateName;
  #onEvent: ChannelOptions['onEvent'] | undefined;
  #remoteId: number | undefined;
  #remoteWindow = 0;
  #remoteMaxPacket = 0;
  /** Our side of flow control (set by configure; a closed placeholder until then). */
  #receive = new ReceiveWindow(0, 0, false);
  #eofSent = false;
  #eofReceived = false;
  #closeSent = false;
  /** The application called channelEof / channelClose. */
  #eofWanted = false;
  #closeWanted = false;
  /** A write returned less than asked: 'writable' is owed. */
  #wantWritable = false;
  /** channelWrite calls in progress on this channel (nested calls count). */
  #writing = 0;
  /** The last event ('close' / 'open-failed') was delivered. */
  #finished = false;

  constructor(ctx: ChannelContext, localId: number, state: 'opening' | 'offered') {
    this.#ctx = ctx;
    this.localId = localId;
    this.#state = state;
    this.#requests = new ChannelRequests(
      (success) => {
        if (this.#state !== 'open' || this.#remoteId === undefined) return;
        const type = success ? M.CHANNEL_SUCCESS : M.CHANNEL_FAILURE;
        this.#ctx.host.sendControl(encodeChannelOnly(type, this.#remoteId));
      },
      (fn) => this.#ctx.host.answer(fn),
    );
  }

  /** The opaque handle the application holds. */
  get handle(): Channel {
    return this as unknown as Channel;
  }
  get state(): ChannelStateName {
    return this.#state;
  }
  get remoteId(): number | undefined {
    return this.#remoteId;
  }
  /** Bytes the peer may still send us. */
  get window(): number {
    return this.#receive.available;
  }
  /** Bytes we may still send the peer. */
  get remoteWindow(): number {
    return this.#remoteWindow;
  }
  /** The largest data per packet we send (the peer's maximum, capped by ours). */
  get remoteMaxPacket(): number {
    return this.#remoteMaxPacket;
  }

  /** Runs an API command on this channel's session (see Connection.run). */
  run(fn: () => void): boolean {
    let ran = false;
    this.#ctx.host.answer(() => {
      ran = true;
      fn();
    });
    return ran;
  }

  /** Whether the peer may send message `type` for this channel now. */
  accepts(type: number): boolean {
    return ACCEPTS[this.#state].has(type);
  }

  // ---- opening and offers ----------------------------------------------------------------

  /** Applies our receive-side settings (before CHANNEL_OPEN or OPEN_CONFIRMATION). */
  configure(settings: ChannelSettings): void {
    this.#onEvent = settings.onEvent;
    this.#receive = new ReceiveWindow(settings.window, settings.maxPacket, settings.manualWindow);
  }

  /** The peer's side of the channel (its CHANNEL_OPEN or OPEN_CONFIRMATION). */
  #setRemote(remoteId: number, window: number, maxPacket: number): void {
    if (maxPacket < 1) throw malformed('maximum packet size 0');
    this.#ctx.bindRemote(remoteId);
    this.#remoteId = remoteId;
    this.#remoteWindow = window;
    this.#remoteMaxPacket = Math.min(maxPacket, CONNECTION_LIMITS.MAX_PACKET_MAX);
  }

  /** A peer's CHANNEL_OPEN became this offered channel. */
  offered(remoteId: number, window: number, maxPacket: number): void {
    this.#setRemote(remoteId, window, maxPacket);
  }

  /** accept(): sends OPEN_CONFIRMATION; the channel is open. */
  acceptOffer(settings: ChannelSettings): void {
    this.configure(settings);
    this.#state = 'open';
    const confirmation = encodeOpenConfirmation(
      this.#remoteId!,
      this.localId,
      this.#receive.available,
      this.#receive.maxPacket,
    );
    this.#ctx.host.sendControl(confirmation);
  }

  /** reject(): sends OPEN_FAILURE; the id is free at once (the peer never learned it). */
  rejectOffer(reason: number, description: string): void {
    const remoteId = this.#remoteId!;
    this.#state = 'closed';
    this.#ctx.release(this);
    this.#ctx.host.sendControl(encodeOpenFailure(remoteId, reason, description));
  }

  /* RFC 4254 §5.1: the answer to our CHANNEL_OPEN. */
  onOpenConfirmation(payload: Uint8Array): void {
    const { sender, window, maxPacket } = decodeOpenConfirmation(payload);
    this.#setRemote(sender, window, maxPacket);
    this.#state = 'open';
    if (this.#eofWanted) this.#sendEof();
    if (this.#closeWanted) return this.#sendClose();
    this.#emit({ type: 'open' });
    this.maybeWritable();
  }

  onOpenFailure(payload: Uint8Array): void {
    const { reason, description } = decodeOpenFailure(payload);
    this.#finish(
      this.#closeWanted ? { type: 'close' } : { type: 'open-failed', reason, description },
    );
  }

  // ---- data and windows (RFC 4254 §5.2) ---------------------------------------------------

  onWindowAdjust(payload: Uint8Array): void {
    const bytes = decodeWindowAdjust(payload);
    if (this.#remoteWindow + bytes > CONNECTION_LIMITS.WINDOW_MAX) {
      throw peerError(
        SSH_ERR.LIMIT_EXCEEDED,
        'CHANNEL_WINDOW_ADJUST makes the window exceed 2^32-1',
      );
    }
    this.#remoteWindow += bytes;
    this.maybeWritable();
  }

  onData(payload: Uint8Array): void {
    const { dataType, data } = decodeData(payload);
    if (this.#eofReceived) throw peerError(SSH_ERR.UNEXPECTED_MESSAGE, 'channel data after EOF');
    this.#receive.receive(data.length);
    if (this.#state !== 'open') return; // closing: we said CLOSE, the data is dropped
    this.#receive.delivered(data.length);
    this.#maybeAdjust();
    this.#emit(
      dataType === undefined ? { type: 'data', data } : { type: 'extended-data', dataType, data },
    );
  }

  /** Grants more window once enough was consumed (not after the peer's EOF or our CLOSE). */
  #maybeAdjust(): void {
    if (this.#state !== 'open' || this.#eofReceived) return;
    const bytes = this.#receive.takeAdjustment();
    if (bytes > 0) this.#ctx.host.sendControl(encodeWindowAdjust(this.#remoteId!, bytes));
  }

  /** channelConsume: manual mode gives processed bytes back to the window. */
  consume(bytes: number): void {
    this.#receive.consume(bytes);
    this.#maybeAdjust();
  }

  /**
   * channelWrite: sends at most what the peer's window allows, in packets no larger than its
   * maximum, and nothing while a key exchange pauses data; returns the bytes accepted.
   *
   * Over a synchronous link the peer may re-open its window while our packets are being
   * handed to `send`, before this call returns. Such a re-opening is used by this call (it
   * writes on) instead of being announced: a 'writable' event before the application knew
   * this call's result would make it write the same bytes twice. 'writable' is owed only for
   * a write that returns less than asked.
   */
  write(data: Uint8Array, dataType: number | undefined): number {
    if (this.#eofWanted || this.#closeWanted) {
      throw usageError('cannot write after channelEof or channelClose');
    }
    this.#wantWritable = false;
    this.#writing++;
    let total = 0;
    try {
      for (;;) {
        let sent = 0;
        const ran = this.run(() => {
          sent = this.#writeOnce(data, total, dataType);
        });
        total += sent;
        if (!ran || sent === 0 || total === data.length) break;
      }
    } finally {
      this.#writing--;
    }
    if (total < data.length && this.#state !== 'closed') this.#wantWritable = true;
    return total;
  }

  /** One pass: packets from `offset` while the window and the transport allow. */
  #writeOnce(data: Uint8Array, offset: number, dataType: number | undefined): number {
    if (this.#state !== 'open') return 0;
    const host = this.#ctx.host;
    const end = offset + Math.min(data.length - offset, this.#remoteWindow);
    let at = offset;
    if (end > at && host.canSendUpper) {
      const packets = Math.ceil((end - at) / this.#remoteMaxPacket);
      host.reserveUpper?.(end - at + packets * 13, packets);
    }
    while (at < end && host.canSendUpper) {
      const n = Math.min(end - at, this.#remoteMaxPacket);
      const header = encodeDataHeader(this.#remoteId!, n, dataType);
      // The data goes to the cipher from the application's buffer: no payload copy.
      if (!host.sendUpper(header, data.subarray(at, at + n))) break;
      at += n;
      this.#remoteWindow -= n;
    }
    return at - offset;
  }

  /** Emits the owed 'writable' when writing is possible again (not inside our own write). */
  maybeWritable(): void {
    if (!this.#wantWritable || this.#writing > 0) return;
    if (this.#state !== 'open' || this.#remoteWindow === 0 || !this.#ctx.host.canSendUpper) return;
    this.#wantWritable = false;
    this.#emit({ type: 'writable' });
  }

  // ---- EOF and close (RFC 4254 §5.3) ------------------------------------------------------

  eof(): void {
    if (this.#eofWanted || this.#closeWanted) return;
    this.#eofWanted = true;
    this.#wantWritable = false;
    if (this.#state === 'open') this.#sendEof();
  }

  close(): void {
    if (this.#closeWanted) return;
    this.#closeWanted = true;
    this.#wantWritable = false;
    if (this.#state === 'open') this.#sendClose();
  }

  #sendEof(): void {
    if (this.#eofSent) return;
    this.#eofSent = true;
    this.#ctx.host.sendControl(encodeChannelOnly(M.CHANNEL_EOF, this.#remoteId!));
  }

  #sendClose(): void {
    this.#state = 'closing';
    this.#closeSent = true;
    this.#requests.dropOwedReplies();
    this.#ctx.host.sendControl(encodeChannelOnly(M.CHANNEL_CLOSE, this.#remoteId!));
  }

  onEof(payload: Uint8Array): void {
    checkChannelOnly(payload);
    if (this.#eofReceived) throw peerError(SSH_ERR.UNEXPECTED_MESSAGE, 'a second CHANNEL_EOF');
    this.#eofReceived = true;
    if (this.#state === 'open') this.#emit({ type: 'eof' });
  }

  /* A party receiving CLOSE sends CLOSE back unless it already did (RFC 4254 §5.3). */
  onClose(payload: Uint8Array): void {
    checkChannelOnly(payload);
    if (!this.#closeSent) {
      this.#closeSent = true;
      this.#ctx.host.sendControl(encodeChannelOnly(M.CHANNEL_CLOSE, this.#remoteId!));
    }
    this.#finish({ type: 'close' });
  }

  #finish(last: ChannelEvent & { type: 'close' | 'open-failed' }): void {
    this.#state = 'closed';
    this.#wantWritable = false;
    this.#requests.clear();
    this.#ctx.release(this);
    this.#emit(last);
  }

  /** The session ended: the channel is closed and hears 'close' if it has not yet. */
  sessionEnded(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#wantWritable = false;
    this.#requests.clear();
    const cb = this.#onEvent;
    if (!cb || this.#finished) return;
    this.#finished = true;
    this.#ctx.callOut(() => cb({ type: 'close' }, this.handle));
  }

  // ---- requests (RFC 4254 §5.4) -----------------------------------------------------------

  onRequest(payload: Uint8Array): void {
    const request = this.#requests.received(payload, this.#state === 'open');
    if (request) this.#emit({ type: 'request', request });
  }

  onRequestReply(payload: Uint8Array): void {
    const { request, success } = this.#requests.replied(payload);
    if (this.#state === 'open') this.#emit({ type: 'request-result', request, success });
  }

  /** Sends a channel request; with `wantReply` its result arrives as 'request-result'. */
  request(name: string, wantReply: boolean, data: Uint8Array): void {
    if (this.#closeWanted) throw usageError('cannot send a request after channelClose');
    if (this.#state === 'opening' || this.#state === 'offered') {
      throw usageError('the channel is not open yet: wait for its open event');
    }
    if (this.#state !== 'open') return; // closed by the peer or the end of the session
    this.#requests.sending(name, wantReply);
    this.#ctx.host.sendControl(encodeChannelRequest(this.#remoteId!, name, wantReply, data));
  }

  #emit(event: ChannelEvent): void {
    const cb = this.#onEvent;
    if (!cb || this.#finished || this.#ctx.ended) return;
    if (event.type === 'close' || event.type === 'open-failed') this.#finished = true;
    this.#ctx.callOut(() => cb(event, this.handle));
  }
}

/** Returns the engine behind a channel handle; throws a usage error for anything else. */
export function channelEngineOf(channel: Channel): ChannelEngine {
  if (!(channel instanceof ChannelEngine)) throw usageError('not a channel of this library');
  return channel;
}
