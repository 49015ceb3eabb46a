/**
 * A server's side of `direct-tcpip` (RFC 4254 §7.2, what `ssh -L` and `ssh -J` ask for),
 * shared by the examples: connect to the requested host and port, then copy both ways with
 * backpressure (the socket pauses while the channel's window is closed, and the channel's
 * window re-opens only once the socket took the bytes).
 */

import net from 'node:net';
import {
  type Channel,
  type ChannelOpenRequest,
  channelClose,
  channelConsume,
  channelEof,
  channelState,
  channelWrite,
  SSH_OPEN,
} from '../../src/index.js';
import { OutputPump } from './pump.js';

/** Options of {@link acceptForward}. */
export interface ForwardOptions {
  /** Our receive window for the channel (default: the session's). */
  readonly window?: number;
  /** The largest data per packet we accept (default: the session's). */
  readonly maxPacket?: number;
  readonly log?: (line: string) => void;
}

/**
 * Connects to the target of a `direct-tcpip` request and accepts the channel once connected
 * (refuses it with CONNECT_FAILED if the connection fails).
 *
 * @example
 * ```ts
 * onChannelOpen: (r) => (r.type === 'direct-tcpip' && r.host === '127.0.0.1' ? acceptForward(r) : r.reject()),
 * ```
 */
export function acceptForward(
  request: ChannelOpenRequest & { readonly type: 'direct-tcpip' },
  options: ForwardOptions = {},
): void {
  const log = options.log ?? (() => {});
  const socket = net.connect(request.port, request.host);
  socket.setNoDelay(true);
  socket.once('error', (e) => {
    log(`forward to ${request.host}:${request.port} failed: ${e.message}`);
    request.reject(SSH_OPEN.CONNECT_FAILED, e.message);
  });
  socket.once('connect', () => {
    socket.removeAllListeners('error');
    socket.on('error', () => {});
    log(`forwarding to ${request.host}:${request.port}`);
    bridge(request, socket, options);
  });
}

function bridge(request: ChannelOpenRequest, socket: net.Socket, options: ForwardOptions): void {
  let ended = false;
  let socketEnded = false;
  let pump: OutputPump | undefined;
  const open = (channel: Channel) => !ended && channelState(channel) === 'open';
  // After the socket ended and every byte went out: EOF, and CLOSE once the socket closed.
  const finish = (channel: Channel) => {
    if (!socketEnded || !pump?.idle || !open(channel)) return;
    ended = true;
    channelEof(channel);
    channelClose(channel);
  };
  const channel = request.accept({
    manualWindow: true,
    ...(options.window !== undefined ? { window: options.window } : {}),
    ...(options.maxPacket !== undefined ? { maxPacket: options.maxPacket } : {}),
    onEvent: (event, ch) => {
      switch (event.type) {
        case 'data': {
          const n = event.data.length;
          socket.write(event.data, () => {
            if (channelState(ch) === 'open') channelConsume(ch, n);
          });
          return;
        }
        case 'eof':
          socket.end();
          return;
        case 'writable':
          pump?.retry();
          finish(ch);
          return;
        case 'close':
          ended = true;
          socket.destroy();
          return;
        default:
          return;
      }
    },
  });
  pump = new OutputPump(socket, (d) => (open(channel) ? channelWrite(channel, d) : d.length));
  socket.on('end', () => {
    socketEnded = true;
    finish(channel);
  });
  socket.on('close', () => {
    socketEnded = true;
    finish(channel);
  });
}
