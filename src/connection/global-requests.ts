/**
 * @module
 * Global requests (RFC 4254 §4, §7.1; OpenSSH PROTOCOL §2.2, §2.4, §2.5): ours awaiting the
 * peer's replies in order, the peer's answered by the application in any order but replied to
 * in order, and the remote forwardings a client asked for (so that a server cannot open
 * forwarded channels nobody requested).
 */

import { SSH_MSG } from '../constants.js';
import { peerError, SSH_ERR, usageError } from '../errors.js';
import type { LayerHost } from '../layer.js';
import { SshReader } from '../wire/reader.js';
import { SshWriter } from '../wire/writer.js';
import { CONNECTION_LIMITS } from './limits.js';
import {
  decodeGlobalRequest,
  encodeGlobalReply,
  encodeGlobalRequest,
  malformed,
  readText,
} from './messages.js';
import { ReplyQueue } from './reply-queue.js';
import type { GlobalRequest, GlobalRequestAcceptOptions, ParsedGlobalRequest } from './types.js';

/** Receives the peer's reply to one of our global requests. */
export type GlobalResultFn = (success: boolean, data: Uint8Array) => void;

interface Pending {
  readonly name: string;
  /** Our own bookkeeping, run before the application hears the result. */
  readonly track: ((success: boolean, data: Uint8Array) => void) | undefined;
  readonly onResult: GlobalResultFn | undefined;
}

/*
 * tcpip-forward / cancel-tcpip-forward (RFC 4254 §7.1):
 * string    address to bind (e.g., "0.0.0.0")
 * uint32    port number to bind
 *
 * streamlocal-forward@openssh.com / cancel-streamlocal-forward@openssh.com (PROTOCOL §2.4):
 * string    socket path
 */
export function encodeForward(bindAddress: string, bindPort: number): Uint8Array {
  return new SshWriter(32).string(bindAddress).uint32(bindPort).finish();
}
export function encodeStreamlocalForward(socketPath: string): Uint8Array {
  return new SshWriter(32).string(socketPath).finish();
}

/*
 * hostkeys-00@openssh.com / hostkeys-prove-00@openssh.com (PROTOCOL §2.5):
 * string[]  hostkeys (strings until the end of the message)
 */
function decodeGlobalFields(name: string, data: Uint8Array): ParsedGlobalRequest | undefined {
  const r = new SshReader(data);
  let parsed: ParsedGlobalRequest;
  switch (name) {
    case 'tcpip-forward':
    case 'cancel-tcpip-forward':
      parsed = {
        type: name,
        bindAddress: readText(r, CONNECTION_LIMITS.HOST_MAX),
        bindPort: r.uint32(),
      };
      break;
    case 'streamlocal-forward@openssh.com':
    case 'cancel-streamlocal-forward@openssh.com':
      parsed = { type: name, socketPath: readText(r, CONNECTION_LIMITS.SOCKET_PATH_MAX) };
      break;
    case 'hostkeys-00@openssh.com':
    case 'hostkeys-prove-00@openssh.com': {
      const hostKeys: Uint8Array[] = [];
      while (r.remaining > 0) {
        if (hostKeys.length >= CONNECTION_LIMITS.HOST_KEYS_MAX)
          throw peerError(SSH_ERR.LIMIT_EXCEEDED, `${name} with too many host keys`);
        hostKeys.push(r.string());
      }
      parsed = { type: name, hostKeys };
      break;
    }
    default:
      return undefined;
  }
  r.finish();
  return parsed;
}

/** The global-request state of one connection. */
export class GlobalRequests {
  readonly #host: LayerHost;
  readonly #onRequest: ((request: GlobalRequest, session: unknown) => void) | undefined;
  readonly #replies: ReplyQueue;
  readonly #pending: Pending[] = [];
  /** Remote forwardings granted to us (client): `tcpip:<port>`, `streamlocal:<path>`. */
  readonly #forwards = new Set<string>();
  #noMoreSessions = false;

  constructor(
    host: LayerHost,
    onRequest: ((request: GlobalRequest, session: unknown) => void) | undefined,
  ) {
    this.#host = host;
    this.#onRequest = onRequest;
    this.#replies = new ReplyQueue(
      CONNECTION_LIMITS.PENDING_GLOBAL_REQUESTS_MAX,
      'global requests',
      (success, data) => host.sendControl(encodeGlobalReply(success, data)),
    );
  }

  /** Server: the client sent no-more-sessions@openssh.com; session opens are refused. */
  get noMoreSessions(): boolean {
    return this.#noMoreSessions;
  }

  /** Client: whether we asked for the forwarding a forwarded-tcpip open names. */
  forwardsTcpipPort(port: number): boolean {
    return this.#forwards.has(`tcpip:${port}`);
  }

  /** Client: whether we asked for the forwarding a forwarded-streamlocal open names. */
  forwardsStreamlocal(socketPath: string): boolean {
    return this.#forwards.has(`streamlocal:${socketPath}`);
  }

  /** SSH_MSG_GLOBAL_REQUEST from the peer. */
  onRequest(payload: Uint8Array): void {
    const { name, wantReply, data } = decodeGlobalRequest(payload);
    const handler = this.#onRequest;
    if (name === 'no-more-sessions@openssh.com') {
      const server = this.#host.role === 'server';
      if (server) this.#noMoreSessions = true;
      if (wantReply) this.#replies.reserve()(server);
      return;
    }
    const parsed = decodeGlobalFields(name, data);
    if (name === 'keepalive@openssh.com' || !handler) {
      if (wantReply) this.#replies.reserve()(false);
      return;
    }
    const settle = wantReply ? this.#replies.reserve() : undefined;
    let answered = false;
    const answer = (success: boolean, options?: GlobalRequestAcceptOptions) => {
      if (answered) throw usageError(`global request ${name} was already answered`);
      const response = success && settle ? acceptResponse(parsed, options) : undefined;
      answered = true;
      if (settle) this.#host.answer(() => settle(success, response));
    };
    const request: GlobalRequest = {
      name,
      wantReply,
      data,
      parsed,
      accept: (options?: GlobalRequestAcceptOptions) => answer(true, options),
      reject: () => answer(false),
    };
    this.#host.callOut(() => handler(request, this.#host.publicHandle));
  }

  /** SSH_MSG_REQUEST_SUCCESS / SSH_MSG_REQUEST_FAILURE: the reply to our oldest request. */
  onReply(type: number, payload: Uint8Array): void {
    const pending = this.#pending.shift();
    if (!pending) {
      throw peerError(
        SSH_ERR.UNEXPECTED_MESSAGE,
        'a global request reply with no request outstanding',
      );
    }
    const success = type === SSH_MSG.REQUEST_SUCCESS;
    if (!success && payload.length !== 1) throw malformed('REQUEST_FAILURE with data');
    const data = payload.subarray(1);
    pending.track?.(success, data);
    const onResult = pending.onResult;
    if (onResult) this.#host.callOut(() => onResult(success, data));
  }

  /** Sends a global request; with `wantReply`, `onResult` hears the reply. */
  send(name: string, wantReply: boolean, data: Uint8Array, onResult?: GlobalResultFn): void {
    if (!/^[\x21-\x7e]{1,64}$/.test(name)) throw usageError(`invalid request name ${name}`);
    if (onResult && !wantReply) throw usageError('onResult needs wantReply');
    const track = this.#tracker(name, wantReply, data);
    if (wantReply) {
      if (this.#pending.length >= CONNECTION_LIMITS.PENDING_GLOBAL_REQUESTS_MAX)
        throw usageError('too many global requests awaiting replies');
      this.#pending.push({ name, track, onResult });
    }
    this.#host.sendControl(encodeGlobalRequest(name, wantReply, data));
  }

  /** Bookkeeping of the forwardings we request, whichever API sent them. */
  #tracker(name: string, wantReply: boolean, data: Uint8Array) {
    let parsed: ParsedGlobalRequest | undefined;
    try {
      parsed = decodeGlobalFields(name, data);
    } catch {
      return undefined; // the application's own encoding; not ours to track
    }
    if (!parsed || !('bindPort' in parsed || 'socketPath' in parsed)) return undefined;
    const cancel = parsed.type.startsWith('cancel-');
    const key = 'socketPath' in parsed ? `streamlocal:${parsed.socketPath}` : undefined;
    const requestedPort = 'bindPort' in parsed ? parsed.bindPort : 0;
    const apply = (success: boolean, response: Uint8Array) => {
      if (!success) return;
      const k = key ?? `tcpip:${cancel ? requestedPort : boundPort(requestedPort, response)}`;
      if (cancel) this.#forwards.delete(k);
      else this.#forwards.add(k);
    };
    if (!wantReply) {
      // No reply will come: assume success, unless the port is the server's to choose.
      if (key !== undefined || requestedPort !== 0) apply(true, new Uint8Array(0));
      return undefined;
    }
    return apply;
  }
}

/**
 * The port a tcpip-forward reply names: with port 0 requested the server replies with the
 * port it bound (RFC 4254 §7.1); otherwise there is no response data.
 */
export function boundPort(requestedPort: number, response: Uint8Array): number {
  if (requestedPort !== 0) return requestedPort;
  const r = new SshReader(response);
  const port = r.uint32();
  r.finish();
  return port;
}

function acceptResponse(
  parsed: ParsedGlobalRequest | undefined,
  options: GlobalRequestAcceptOptions | undefined,
): Uint8Array | undefined {
  if (parsed?.type === 'tcpip-forward' && parsed.bindPort === 0) {
    const port = options?.boundPort;
    if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535)
      throw usageError('tcpip-forward for port 0 is accepted with the boundPort (1-65535)');
    return new SshWriter(4).uint32(port).finish();
  }
  return options?.data?.slice();
}
