/**
 * @module
 * The connection protocol (RFC 4254) of one session: the channel table with local ids from a
 * free list, dispatch of messages 80–100 through each channel's state table, channel opens
 * from the peer as request handles, global requests, and the 'writable' fan-out after a key
 * exchange paused data.
 */

import { SSH_MSG } from '../constants.js';
import { peerError, SSH_ERR, usageError } from '../errors.js';
import type { LayerHost } from '../layer.js';
import { type ChannelContext, ChannelEngine, type ChannelSettings } from './channel.js';
import { SSH_OPEN } from './constants.js';
import { GlobalRequests } from './global-requests.js';
import { CONNECTION_LIMITS } from './limits.js';
import {
  type ChannelOpenMessage,
  decodeChannelOpen,
  encodeChannelOpen,
  encodeOpenFailure,
  malformed,
  recipientOf,
} from './messages.js';
import type {
  Channel,
  ChannelOpenRequest,
  ChannelOpenTarget,
  ChannelOptions,
  ConnectionConfig,
} from './types.js';

/** Validated connection settings, defaults applied. */
export interface ConnectionSettings {
  readonly window: number;
  readonly maxPacket: number;
  readonly maxChannels: number;
}

/**
 * Checks the connection fields of a session configuration; throws `SSH_ERR_USAGE` for a value
 * out of range. Call it when the session is created, so that mistakes surface early.
 */
export function validateConnectionConfig(config: ConnectionConfig): ConnectionSettings {
  const c = config;
  if (c.onChannelOpen !== undefined && typeof c.onChannelOpen !== 'function')
    throw usageError('onChannelOpen must be a function');
  if (c.onGlobalRequest !== undefined && typeof c.onGlobalRequest !== 'function')
    throw usageError('onGlobalRequest must be a function');
  const L = CONNECTION_LIMITS;
  return {
    window: intIn('channelWindow', c.channelWindow, 1, L.WINDOW_MAX, L.WINDOW_DEFAULT),
    maxPacket: intIn(
      'channelMaxPacket',
      c.channelMaxPacket,
      1,
      L.MAX_PACKET_MAX,
      L.MAX_PACKET_DEFAULT,
    ),
    maxChannels: intIn('maxChannels', c.maxChannels, 1, L.CHANNELS_MAX, L.CHANNELS_DEFAULT),
  };
}

function intIn(name: string, v: number | undefined, min: number, max: number, def: number): number {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || v < min || v > max)
    throw usageError(`${name} must be an integer from ${min} to ${max}`);
  return v;
}

/** The ssh-connection service of one authenticated session. */
export class Connection {
  readonly #host: LayerHost;
  readonly #openHandler: ConnectionConfig['onChannelOpen'];
  readonly #settings: ConnectionSettings;
  /** Built with the first channel: an idle session holds no table (bench/RESULTS.md, memory). */
  #channels: Map<number, ChannelEngine> | undefined;
  /** The peer's ids of our live channels: a peer may not reuse one before the close. */
  #remoteIds: Set<number> | undefined;
  /** Freed local ids, oldest first: an id returns to use as late as possible. */
  #freeIds: number[] = [];
  #freeHead = 0;
  #nextId = 0;
  /** Built on first use, as are the channel table and context. */
  #global: GlobalRequests | undefined;
  readonly #onGlobalRequest: ConnectionConfig['onGlobalRequest'];
  #ctx: ChannelContext | undefined;
  #ended = false;
  #rotation = 0;

  constructor(host: LayerHost, config: ConnectionConfig) {
    this.#host = host;
    this.#settings = validateConnectionConfig(config);
    this.#openHandler = config.onChannelOpen;
    this.#onGlobalRequest = config.onGlobalRequest;
  }

  /** What the channels see of this connection, made when the first channel is. */
  #context(): ChannelContext {
    if (this.#ctx !== undefined) return this.#ctx;
    const self = this;
    this.#ctx = {
      host: this.#host,
      get ended() {
        return self.#ended;
      },
      callOut: (fn) => this.#callOut(fn),
      bindRemote: (remoteId) => this.#bindRemote(remoteId),
      release: (channel) => this.#release(channel),
    };
    return this.#ctx;
  }

  /** Our role in the session. */
  get role(): 'client' | 'server' {
    return this.#host.role;
  }
  /** Channels in the table: opening, offered, open or closing. */
  get channelCount(): number {
    return this.#channels?.size ?? 0;
  }
  /** Global requests in both directions. */
  get globalRequests(): GlobalRequests {
    this.#global ??= new GlobalRequests(this.#host, this.#onGlobalRequest);
    return this.#global;
  }

  /**
   * Runs an API command: output is flushed when it returns and a failure ends the session
   * (usage errors are thrown to the caller). Returns false, running nothing, once the session
   * has ended.
   */
  run(fn: () => void): boolean {
    let ran = false;
    this.#host.answer(() => {
      ran = true;
      fn();
    });
    return ran;
  }

  /** Handles one message numbered 80–127; false for a number this layer does not know. */
  handleMessage(type: number, payload: Uint8Array): boolean {
    switch (type) {
      case SSH_MSG.GLOBAL_REQUEST:
        this.globalRequests.onRequest(payload);
        return true;
      case SSH_MSG.REQUEST_SUCCESS:
      case SSH_MSG.REQUEST_FAILURE:
        this.globalRequests.onReply(type, payload);
        return true;
      case SSH_MSG.CHANNEL_OPEN:
        this.#onChannelOpen(payload);
        return true;
    }
    if (type < SSH_MSG.CHANNEL_OPEN_CONFIRMATION || type > SSH_MSG.CHANNEL_FAILURE) return false;
    const id = recipientOf(payload);
    const channel = this.#channels?.get(id);
    if (!channel)
      throw peerError(SSH_ERR.UNEXPECTED_MESSAGE, `message ${type} for unknown channel ${id}`);
    if (!channel.accepts(type)) {
      throw peerError(
        SSH_ERR.UNEXPECTED_MESSAGE,
        `message ${type} is not allowed for channel ${id} while ${channel.state}`,
      );
    }
    switch (type) {
      case SSH_MSG.CHANNEL_OPEN_CONFIRMATION:
        channel.onOpenConfirmation(payload);
        break;
      case SSH_MSG.CHANNEL_OPEN_FAILURE:
        channel.onOpenFailure(payload);
        break;
      case SSH_MSG.CHANNEL_WINDOW_ADJUST:
        channel.onWindowAdjust(payload);
        break;
      case SSH_MSG.CHANNEL_DATA:
      case SSH_MSG.CHANNEL_EXTENDED_DATA:
        channel.onData(payload);
        break;
      case SSH_MSG.CHANNEL_EOF:
        channel.onEof(payload);
        break;
      case SSH_MSG.CHANNEL_CLOSE:
        channel.onClose(payload);
        break;
      case SSH_MSG.CHANNEL_REQUEST:
        channel.onRequest(payload);
        break;
      default:
        channel.onRequestReply(payload);
    }
    return true;
  }

  /** A key exchange ended: every channel owed a 'writable' hears it, starting in turn. */
  onWritable(): void {
    if (this.#channels === undefined) return;
    const list = [...this.#channels.values()];
    const n = list.length;
    if (n === 0) return;
    const start = this.#rotation++ % n;
    for (let i = 0; i < n && !this.#ended; i++) list[(start + i) % n]!.maybeWritable();
  }

  /** The session ended: every channel is closed and hears 'close' once. */
  onSessionEnded(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#channels === undefined) return;
    for (const channel of [...this.#channels.values()]) channel.sessionEnded();
  }

  /** Opens a channel of ours (RFC 4254 §5.1); inert (a closed channel) once the session ended. */
  open(target: ChannelOpenTarget, options: ChannelOptions): Channel {
    const settings = this.#channelSettings(options);
    if (!this.#ended && this.channelCount >= this.#settings.maxChannels)
      throw usageError(`at most ${this.#settings.maxChannels} channels (maxChannels)`);
    let channel: ChannelEngine | undefined;
    this.run(() => {
      channel = this.#allocate('opening');
      channel.configure(settings);
      const { window, maxPacket } = settings;
      this.#host.sendControl(encodeChannelOpen(target, channel.localId, window, maxPacket));
    });
    if (channel) return channel.handle;
    const detached = new ChannelEngine(this.#context(), -1, 'opening');
    detached.sessionEnded();
    return detached.handle;
  }

  // ---- channels the peer opens ------------------------------------------------------------

  #onChannelOpen(payload: Uint8Array): void {
    const open = decodeChannelOpen(payload);
    if (open.maxPacket < 1) throw malformed('CHANNEL_OPEN with maximum packet size 0');
    if (this.#remoteIds?.has(open.sender)) {
      throw peerError(
        SSH_ERR.UNEXPECTED_MESSAGE,
        `CHANNEL_OPEN reuses the live channel id ${open.sender}`,
      );
    }
    const target = open.target;
    const refusal = this.#refusal(open);
    if (refusal || !target || !this.#openHandler) {
      const [reason, description] = refusal ?? [SSH_OPEN.ADMINISTRATIVELY_PROHIBITED, 'refused'];
      this.#host.sendControl(encodeOpenFailure(open.sender, reason, description));
      return;
    }
    const handler = this.#openHandler;
    const channel = this.#allocate('offered');
    channel.offered(open.sender, open.window, open.maxPacket);
    let answered = false;
    const request: ChannelOpenRequest = {
      ...target,
      peerWindow: open.window,
      peerMaxPacket: open.maxPacket,
      accept: (options: ChannelOptions) => {
        if (answered) throw usageError('this channel open was already answered');
        const settings = this.#channelSettings(options);
        answered = true;
        if (!this.run(() => channel.acceptOffer(settings))) channel.sessionEnded();
        return channel.handle;
      },
      reject: (reason: number = SSH_OPEN.ADMINISTRATIVELY_PROHIBITED, description = '') => {
        if (answered) throw usageError('this channel open was already answered');
        if (!Number.isInteger(reason) || reason < 0 || reason > 0xffff_ffff)
          throw usageError('reason must be a uint32');
        answered = true;
        this.run(() => channel.rejectOffer(reason, description));
      },
    };
    this.#callOut(() => handler(request, this.#host.publicHandle));
  }

  /** Why a channel open is refused without asking the application, if it is. */
  #refusal(open: ChannelOpenMessage): [number, string] | undefined {
    const target = open.target;
    const prohibited = SSH_OPEN.ADMINISTRATIVELY_PROHIBITED;
    if (!target) return [SSH_OPEN.UNKNOWN_CHANNEL_TYPE, `unknown channel type ${open.channelType}`];
    const server = this.#host.role === 'server';
    switch (target.type) {
      case 'session':
        // RFC 4254 §6.1: clients SHOULD reject session opens; PROTOCOL §2.2: no-more-sessions.
        if (!server) return [prohibited, 'a client accepts no session channels'];
        if (this.globalRequests.noMoreSessions)
          return [prohibited, 'no-more-sessions@openssh.com was sent'];
        break;
      case 'direct-tcpip':
      case 'direct-streamlocal@openssh.com':
        if (!server) return [prohibited, `a client accepts no ${target.type} channels`];
        break;
      case 'forwarded-tcpip':
        if (server) return [prohibited, 'a server accepts no forwarded-tcpip channels'];
        if (!this.globalRequests.forwardsTcpipPort(target.port))
          return [prohibited, `no forwarding was requested for port ${target.port}`];
        break;
      case 'forwarded-streamlocal@openssh.com':
        if (server) return [prohibited, `a server accepts no ${target.type} channels`];
        if (!this.globalRequests.forwardsStreamlocal(target.socketPath))
          return [prohibited, `no forwarding was requested for ${target.socketPath}`];
        break;
    }
    if (this.channelCount >= this.#settings.maxChannels)
      return [SSH_OPEN.RESOURCE_SHORTAGE, 'too many channels'];
    return undefined;
  }

  // ---- the channel table ------------------------------------------------------------------

  #channelSettings(options: ChannelOptions): ChannelSettings {
    if (typeof options !== 'object' || options === null || typeof options.onEvent !== 'function')
      throw usageError('channel options need an onEvent function');
    const L = CONNECTION_LIMITS;
    return {
      onEvent: options.onEvent,
      manualWindow: options.manualWindow === true,
      window: intIn('window', options.window, 1, L.WINDOW_MAX, this.#settings.window),
      maxPacket: intIn(
        'maxPacket',
        options.maxPacket,
        1,
        L.MAX_PACKET_MAX,
        this.#settings.maxPacket,
      ),
    };
  }

  #allocate(state: 'opening' | 'offered'): ChannelEngine {
    let id: number;
    if (this.#freeHead < this.#freeIds.length) {
      id = this.#freeIds[this.#freeHead++]!;
      if (this.#freeHead >= 64 && this.#freeHead * 2 >= this.#freeIds.length) {
        this.#freeIds = this.#freeIds.slice(this.#freeHead);
        this.#freeHead = 0;
      }
    } else {
      id = this.#nextId++;
    }
    const channel = new ChannelEngine(this.#context(), id, state);
    this.#channels ??= new Map();
    this.#channels.set(id, channel);
    return channel;
  }

  #release(channel: ChannelEngine): void {
    if (this.#channels?.get(channel.localId) !== channel) return;
    this.#channels.delete(channel.localId);
    if (channel.remoteId !== undefined) this.#remoteIds?.delete(channel.remoteId);
    this.#freeIds.push(channel.localId);
  }

  #bindRemote(remoteId: number): void {
    if (this.#remoteIds?.has(remoteId)) {
      throw peerError(
        SSH_ERR.UNEXPECTED_MESSAGE,
        `the peer reused the live channel id ${remoteId}`,
      );
    }
    this.#remoteIds ??= new Set();
    this.#remoteIds.add(remoteId);
  }

  /** Calls the application; if it throws, the session has ended and nothing more is delivered. */
  #callOut(fn: () => void): void {
    let returned = false;
    this.#host.callOut(() => {
      fn();
      returned = true;
    });
    if (!returned) this.#ended = true;
  }
}
