/**
 * @module
 * The public types of the connection layer (RFC 4254): its configuration, the opaque channel
 * handle, the events a channel reports, and the request handles the application answers now
 * or later (DESIGN.md contract §7).
 */

declare const channelBrand: unique symbol;

/** An opaque channel. Only the `channel…` functions operate on it. */
export interface Channel {
  readonly [channelBrand]: true;
}

/**
 * Where a channel is (see the diagram in src/connection/channel.ts):
 * - `opening`: we sent CHANNEL_OPEN and wait for the peer's answer;
 * - `open`: data and requests flow (EOF in either direction is a flag, not a state);
 * - `closing`: we sent CHANNEL_CLOSE and wait for the peer's;
 * - `closed`: both CLOSE messages passed, the open failed, or the session ended.
 */
export type ChannelState = 'opening' | 'open' | 'closing' | 'closed';

/**
 * What a channel reports, in order. `close` or `open-failed` is always the last event, and
 * after `channelClose` the only event still to come is `close`.
 *
 * - `open`: the peer confirmed a channel we opened (never for a channel we accepted).
 * - `open-failed`: the peer refused a channel we opened (`reason` from {@link SSH_OPEN}).
 * - `data` / `extended-data`: bytes from the peer; `data` never aliases the transport's input.
 *   In automatic window mode the window is re-opened as data is delivered; with
 *   `manualWindow` call `channelConsume` once the bytes are processed.
 * - `eof`: the peer sends no more data (it may still send requests and receive data).
 * - `close`: both sides closed, or the session ended; the last event.
 * - `writable`: after a write returned less than asked, writing is possible again (the peer
 *   opened its window, or a key exchange that paused data ended).
 * - `request`: a channel request from the peer (exit-status and exit-signal arrive as requests
 *   too); answer with `accept()`/`reject()` when it wants a reply.
 * - `request-result`: the peer's reply to our request that wanted one, in request order.
 */
export type ChannelEvent =
  | { readonly type: 'open' }
  | { readonly type: 'open-failed'; readonly reason: number; readonly description: string }
  | { readonly type: 'data'; readonly data: Uint8Array }
  | { readonly type: 'extended-data'; readonly dataType: number; readonly data: Uint8Array }
  | { readonly type: 'eof' }
  | { readonly type: 'close' }
  | { readonly type: 'writable' }
  | { readonly type: 'request'; readonly request: ChannelRequest }
  | { readonly type: 'request-result'; readonly request: string; readonly success: boolean };

/** How a channel we open or accept behaves. */
export interface ChannelOptions {
  /** Receives the channel's events. Exceptions thrown here end the session. */
  readonly onEvent: (event: ChannelEvent, channel: Channel) => void;
  /** The application re-opens the receive window with `channelConsume` (default: automatic). */
  readonly manualWindow?: boolean;
  /** Our initial receive window for this channel (default: the session's `channelWindow`). */
  readonly window?: number;
  /** The largest data per packet we accept on this channel (default: `channelMaxPacket`). */
  readonly maxPacket?: number;
}

/** The fields of a channel request this library knows (RFC 4254 §6, OpenSSH PROTOCOL §2.1). */
export type ParsedChannelRequest =
  | {
      readonly type: 'pty-req';
      readonly term: string;
      readonly cols: number;
      readonly rows: number;
      readonly width: number;
      readonly height: number;
      /** Encoded terminal modes (RFC 4254 §8), as sent. */
      readonly modes: Uint8Array;
    }
  | { readonly type: 'env'; readonly name: string; readonly value: string }
  | { readonly type: 'shell' }
  | { readonly type: 'exec'; readonly command: string }
  | { readonly type: 'subsystem'; readonly name: string }
  | {
      readonly type: 'window-change';
      readonly cols: number;
      readonly rows: number;
      readonly width: number;
      readonly height: number;
    }
  | { readonly type: 'xon-xoff'; readonly clientCanDo: boolean }
  | { readonly type: 'signal'; readonly name: string }
  | { readonly type: 'exit-status'; readonly code: number }
  | {
      readonly type: 'exit-signal';
      readonly signal: string;
      readonly coreDumped: boolean;
      readonly message: string;
      readonly language: string;
    }
  | { readonly type: 'eow@openssh.com' };

/**
 * A channel request from the peer. When `wantReply` is true answer exactly once, now or
 * later; replies leave in the order the requests arrived (RFC 4254 §5.4), whatever the order
 * of the answers. Answers after the channel or session ended do nothing; a second answer
 * throws `SSH_ERR_USAGE`.
 */
export interface ChannelRequest {
  /** The request type, e.g. `exec`. */
  readonly name: string;
  /** Whether the peer waits for CHANNEL_SUCCESS/FAILURE. */
  readonly wantReply: boolean;
  /** The type-specific bytes after want_reply, as sent. Text fields decode as lenient UTF-8. */
  readonly data: Uint8Array;
  /** The decoded fields for the types this library knows; `undefined` for others. */
  readonly parsed: ParsedChannelRequest | undefined;
  /** Sends CHANNEL_SUCCESS (when a reply is wanted). */
  accept(): void;
  /** Sends CHANNEL_FAILURE (when a reply is wanted). */
  reject(): void;
}

/** What a peer asked to open (RFC 4254 §6.1, §7.2; OpenSSH PROTOCOL §2.4). */
export type ChannelOpenTarget =
  | { readonly type: 'session' }
  | {
      readonly type: 'direct-tcpip';
      /** The host and port to connect to. */
      readonly host: string;
      readonly port: number;
      readonly originatorHost: string;
      readonly originatorPort: number;
    }
  | {
      readonly type: 'forwarded-tcpip';
      /** The forwarded address and port that received the connection. */
      readonly address: string;
      readonly port: number;
      readonly originatorHost: string;
      readonly originatorPort: number;
    }
  | { readonly type: 'direct-streamlocal@openssh.com'; readonly socketPath: string }
  | { readonly type: 'forwarded-streamlocal@openssh.com'; readonly socketPath: string };

/**
 * A channel the peer wants to open. Answer exactly once, now or later: `accept` returns the
 * channel (already open: no `open` event follows), `reject` refuses it. Answers after the
 * session ended do nothing (`accept` then returns a `closed` channel); a second answer throws
 * `SSH_ERR_USAGE`.
 */
export type ChannelOpenRequest = ChannelOpenTarget & {
  /** The peer's initial window: bytes we may send before it adjusts. */
  readonly peerWindow: number;
  /** The peer's largest data per packet. */
  readonly peerMaxPacket: number;
  /** Opens the channel (CHANNEL_OPEN_CONFIRMATION) and returns its handle. */
  accept(options: ChannelOptions): Channel;
  /** Refuses with `reason` (default ADMINISTRATIVELY_PROHIBITED) and a description. */
  reject(reason?: number, description?: string): void;
};

/** The fields of a global request this library knows (RFC 4254 §7, OpenSSH PROTOCOL). */
export type ParsedGlobalRequest =
  | {
      readonly type: 'tcpip-forward' | 'cancel-tcpip-forward';
      readonly bindAddress: string;
      readonly bindPort: number;
    }
  | {
      readonly type: 'streamlocal-forward@openssh.com' | 'cancel-streamlocal-forward@openssh.com';
      readonly socketPath: string;
    }
  | {
      readonly type: 'hostkeys-00@openssh.com' | 'hostkeys-prove-00@openssh.com';
      /** Public key blobs (RFC 4253 §6.6). */
      readonly hostKeys: readonly Uint8Array[];
    };

/** What an accepted global request replies with. */
export interface GlobalRequestAcceptOptions {
  /** For `tcpip-forward` with port 0: the port that was bound (RFC 4254 §7.1). Required then. */
  readonly boundPort?: number;
  /** Other response-specific data, sent as is. */
  readonly data?: Uint8Array;
}

/**
 * A global request from the peer. When `wantReply` is true answer exactly once, now or
 * later; replies leave in request order. Answers after the session ended do nothing; a second
 * answer throws `SSH_ERR_USAGE`.
 */
export interface GlobalRequest {
  readonly name: string;
  readonly wantReply: boolean;
  /** The request-specific bytes after want_reply, as sent. */
  readonly data: Uint8Array;
  /** The decoded fields for the requests this library knows; `undefined` for others. */
  readonly parsed: ParsedGlobalRequest | undefined;
  /** Sends REQUEST_SUCCESS (when a reply is wanted), with the bound port for tcpip-forward. */
  accept(options?: GlobalRequestAcceptOptions): void;
  /** Sends REQUEST_FAILURE (when a reply is wanted). */
  reject(): void;
}

/** Configuration of the connection layer; part of the session configuration. */
export interface ConnectionConfig<S = unknown> {
  /**
   * Channels the peer opens: `session`, `direct-tcpip`, `direct-streamlocal@openssh.com` on a
   * server; `forwarded-tcpip` / `forwarded-streamlocal@openssh.com` on a client, and only for
   * a forwarding it requested. Without it every open is refused (ADMINISTRATIVELY_PROHIBITED).
   */
  readonly onChannelOpen?: (request: ChannelOpenRequest, session: S) => void;
  /**
   * Global requests from the peer. Without it, requests that want a reply fail.
   * `keepalive@openssh.com` always fails and `no-more-sessions@openssh.com` is handled by the
   * core (a server then refuses session channels); neither reaches this callback.
   */
  readonly onGlobalRequest?: (request: GlobalRequest, session: S) => void;
  /** Our initial receive window per channel, 1 … 2^32-1 (default 2 MiB). */
  readonly channelWindow?: number;
  /**
   * The largest data per CHANNEL_DATA we accept, 1 … 261632 (default 261632: 256 KiB minus
   * framing, the most a 256 KiB packet carries). Lower it (e.g. 32768) for a smaller
   * per-packet memory footprint.
   */
  readonly channelMaxPacket?: number;
  /** Channels at once, 1 … 16384 (default 1024); more opens by the peer are refused. */
  readonly maxChannels?: number;
}
