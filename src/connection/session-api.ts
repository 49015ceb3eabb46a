/**
 * @module
 * Session-wide connection commands (RFC 4254 §4, §7; OpenSSH PROTOCOL §2.2, §2.4): global
 * requests, remote forwardings, and the channels a server opens toward a client.
 */

import { usageError } from '../errors.js';
import type { Session } from '../session.js';
import { checkPort, checkText, connectionOf } from './api.js';
import { CHANNEL_TYPE } from './constants.js';
import {
  boundPort,
  encodeForward,
  encodeStreamlocalForward,
  type GlobalResultFn,
} from './global-requests.js';
import type { Channel, ChannelOptions } from './types.js';

/**
 * Sends a global request (RFC 4254 §4). With `wantReply`, `onResult(success, data)` hears
 * the reply (replies come in request order); `data` is the response-specific data.
 *
 * @example
 * ```ts
 * sessionGlobalRequest(session, 'keepalive@openssh.com', true, undefined, (success) =>
 *   console.log('the server answered', success), // any answer shows it is alive
 * );
 * ```
 */
export function sessionGlobalRequest(
  session: Session,
  name: string,
  wantReply: boolean,
  data: Uint8Array = new Uint8Array(0),
  onResult?: GlobalResultFn,
): void {
  if (!(data instanceof Uint8Array)) throw usageError('data must be a Uint8Array');
  if (onResult !== undefined && typeof onResult !== 'function')
    throw usageError('onResult must be a function');
  const connection = connectionOf(session);
  connection.run(() => connection.globalRequests.send(name, wantReply === true, data, onResult));
}

/**
 * Client: asks the server to listen on `bindAddress:bindPort` and open a `forwarded-tcpip`
 * channel per connection (RFC 4254 §7.1), as `ssh -R` does. With port 0 the server picks
 * one: `onResult(true, boundPort)` names it. Only forwardings granted this way (or through
 * {@link sessionGlobalRequest}) let the server open forwarded-tcpip channels to us.
 *
 * @example
 * ```ts
 * sessionForwardTcpip(session, '127.0.0.1', 0, (ok, port) => console.log(ok, port));
 * ```
 */
export function sessionForwardTcpip(
  session: Session,
  bindAddress: string,
  bindPort: number,
  onResult: (success: boolean, boundPort: number) => void,
): void {
  const connection = connectionOf(session);
  if (connection.role !== 'client') throw usageError('only a client requests forwardings');
  if (typeof onResult !== 'function') throw usageError('onResult must be a function');
  const data = encodeForward(
    checkText('bindAddress', bindAddress),
    checkPort('bindPort', bindPort),
  );
  connection.run(() =>
    connection.globalRequests.send('tcpip-forward', true, data, (success, response) =>
      onResult(success, success ? boundPort(bindPort, response) : 0),
    ),
  );
}

/**
 * Client: cancels a forwarding made by {@link sessionForwardTcpip} (RFC 4254 §7.1).
 *
 * @example
 * ```ts
 * sessionCancelForwardTcpip(session, '127.0.0.1', 8080, (ok) => console.log(ok));
 * ```
 */
export function sessionCancelForwardTcpip(
  session: Session,
  bindAddress: string,
  bindPort: number,
  onResult?: (success: boolean) => void,
): void {
  const connection = connectionOf(session);
  if (connection.role !== 'client') throw usageError('only a client cancels forwardings');
  const data = encodeForward(
    checkText('bindAddress', bindAddress),
    checkPort('bindPort', bindPort),
  );
  connection.run(() =>
    connection.globalRequests.send(
      'cancel-tcpip-forward',
      onResult !== undefined,
      data,
      onResult && ((success) => onResult(success)),
    ),
  );
}

/**
 * Client: asks the server to listen on a Unix socket and open a
 * `forwarded-streamlocal@openssh.com` channel per connection (OpenSSH PROTOCOL §2.4).
 *
 * @example
 * ```ts
 * sessionForwardStreamlocal(session, '/tmp/app.sock', (ok) => console.log(ok));
 * ```
 */
export function sessionForwardStreamlocal(
  session: Session,
  socketPath: string,
  onResult: (success: boolean) => void,
): void {
  const connection = connectionOf(session);
  if (connection.role !== 'client') throw usageError('only a client requests forwardings');
  if (typeof onResult !== 'function') throw usageError('onResult must be a function');
  const data = encodeStreamlocalForward(checkText('socketPath', socketPath));
  connection.run(() =>
    connection.globalRequests.send('streamlocal-forward@openssh.com', true, data, (success) =>
      onResult(success),
    ),
  );
}

/**
 * Client: cancels a forwarding made by {@link sessionForwardStreamlocal}.
 *
 * @example
 * ```ts
 * sessionCancelForwardStreamlocal(session, '/tmp/app.sock');
 * ```
 */
export function sessionCancelForwardStreamlocal(
  session: Session,
  socketPath: string,
  onResult?: (success: boolean) => void,
): void {
  const connection = connectionOf(session);
  if (connection.role !== 'client') throw usageError('only a client cancels forwardings');
  const data = encodeStreamlocalForward(checkText('socketPath', socketPath));
  connection.run(() =>
    connection.globalRequests.send(
      'cancel-streamlocal-forward@openssh.com',
      onResult !== undefined,
      data,
      onResult && ((success) => onResult(success)),
    ),
  );
}

/**
 * Client: promises to open no more session channels (`no-more-sessions@openssh.com`,
 * OpenSSH PROTOCOL §2.2); a server that knows it refuses any later session open. Send it only
 * to servers that know it (OpenSSH, pluggable-ssh).
 *
 * @example
 * ```ts
 * channelOpenSession(session, { onEvent });
 * sessionNoMoreSessions(session);
 * ```
 */
export function sessionNoMoreSessions(session: Session): void {
  const connection = connectionOf(session);
  if (connection.role !== 'client') throw usageError('only a client sends no-more-sessions');
  connection.run(() =>
    connection.globalRequests.send('no-more-sessions@openssh.com', false, new Uint8Array(0)),
  );
}

/**
 * Server: opens a `forwarded-tcpip` channel toward the client for a connection that arrived
 * on a port the client had forwarded with tcpip-forward (RFC 4254 §7.2).
 *
 * @example
 * ```ts
 * const ch = sessionOpenForwardedTcpip(serverSession, {
 *   address: '127.0.0.1', port: 8080, originatorHost: '10.0.0.7', originatorPort: 51234,
 *   onEvent: (event) => { if (event.type === 'open-failed') console.log('the client did not ask for it'); },
 * });
 * ```
 */
export function sessionOpenForwardedTcpip(
  session: Session,
  options: ChannelOptions & {
    readonly address: string;
    readonly port: number;
    readonly originatorHost: string;
    readonly originatorPort: number;
  },
): Channel {
  const connection = connectionOf(session);
  if (connection.role !== 'server') throw usageError('only a server opens forwarded-tcpip');
  const target = {
    type: CHANNEL_TYPE.FORWARDED_TCPIP,
    address: checkText('address', options.address),
    port: checkPort('port', options.port),
    originatorHost: checkText('originatorHost', options.originatorHost),
    originatorPort: checkPort('originatorPort', options.originatorPort),
  };
  return connection.open(target, options);
}

/**
 * Server: opens a `forwarded-streamlocal@openssh.com` channel toward the client for a
 * connection to a socket the client had forwarded (OpenSSH PROTOCOL §2.4).
 *
 * @example
 * ```ts
 * const ch = sessionOpenForwardedStreamlocal(serverSession, { socketPath: '/tmp/app.sock', onEvent });
 * ```
 */
export function sessionOpenForwardedStreamlocal(
  session: Session,
  options: ChannelOptions & { readonly socketPath: string },
): Channel {
  const connection = connectionOf(session);
  if (connection.role !== 'server') throw usageError('only a server opens forwarded-streamlocal');
  const target = {
    type: CHANNEL_TYPE.FORWARDED_STREAMLOCAL,
    socketPath: checkText('socketPath', options.socketPath),
  };
  return connection.open(target, options);
}
