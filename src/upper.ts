/**
 * @module
 * The layers above the transport, composed: ssh-userauth (RFC 4252) until it succeeds, then
 * ssh-connection (RFC 4254). Messages 50–79 go to authentication, 80–127 to the connection
 * layer once authenticated; anything else out of phase ends the session.
 */

import { ClientAuth } from './auth/client-auth.js';
import { ServerAuth } from './auth/server-auth.js';
import type { ClientAuthConfig } from './auth/types.js';
import { Connection } from './connection/connection.js';
import { SSH_MSG } from './constants.js';
import { peerError, SSH_ERR, usageError } from './errors.js';
import type { LayerHost, UpperLayer } from './layer.js';
import type { Transport } from './transport/transport.js';
import type { SessionConfig } from './types.js';

/** Authentication, then the connection protocol, for one session. */
export class UpperLayers implements UpperLayer {
  readonly #host: LayerHost;
  readonly #config: SessionConfig<unknown>;
  #auth: ClientAuth | ServerAuth | undefined;
  #serviceStarted = false;
  /** Client: SERVICE_REQUEST went out; the first request may follow it (ClientAuthConfig.pipeline). */
  #serviceRequested = false;
  /** The connection layer, once authentication succeeded. */
  connection: Connection | undefined;

  constructor(host: LayerHost, config: SessionConfig<unknown>) {
    this.#host = host;
    this.#config = config;
    if (config.role === 'server') {
      this.#auth = new ServerAuth(host, config, () => this.#authenticated());
    } else if (config.auth) {
      this.#auth = new ClientAuth(host, config.auth, () => this.#authenticated());
    }
  }

  /** Client: starts authentication with `auth` (when the config did not give one). */
  authenticate(auth: ClientAuthConfig): void {
    if (this.#host.role !== 'client') throw usageError('only a client authenticates');
    if (this.#auth || this.connection) throw usageError('authentication already started');
    const client = new ClientAuth(this.#host, auth, () => this.#authenticated());
    this.#auth = client;
    if (this.#serviceStarted || (this.#serviceRequested && client.canStartEarly()))
      this.#host.answer(() => client.start());
  }

  onServiceRequested(): void {
    this.#serviceRequested = true;
    if (this.#auth instanceof ClientAuth && this.#auth.canStartEarly()) this.#auth.start();
  }

  onServiceStarted(): void {
    this.#serviceStarted = true;
    if (this.#auth instanceof ClientAuth) {
      if (!this.#auth.started) this.#auth.start();
    } else if (this.#auth instanceof ServerAuth) this.#auth.start();
  }

  #authenticated(): void {
    this.#auth = undefined;
    this.connection = new Connection(this.#host, this.#config);
  }

  handleMessage(type: number, payload: Uint8Array): boolean {
    if (type < SSH_MSG.GLOBAL_REQUEST) {
      if (this.connection) {
        // RFC 4252 §5.1: authentication requests after success are ignored by a server.
        if (this.#host.role === 'server' && type === SSH_MSG.USERAUTH_REQUEST) return true;
        throw peerError(
          SSH_ERR.UNEXPECTED_MESSAGE,
          `authentication message ${type} after authentication`,
        );
      }
      if (!this.#auth)
        throw peerError(
          SSH_ERR.UNEXPECTED_MESSAGE,
          `authentication message ${type} before authentication started`,
        );
      return this.#auth.handleMessage(type, payload);
    }
    if (type < 128) {
      if (!this.connection)
        throw peerError(
          SSH_ERR.UNEXPECTED_MESSAGE,
          `connection message ${type} before authentication succeeded`,
        );
      return this.connection.handleMessage(type, payload);
    }
    return false;
  }

  onWritable(): void {
    this.connection?.onWritable();
  }

  onSessionEnded(): void {
    this.connection?.onSessionEnded();
  }
}

/** Attaches the layers to a new engine. */
export function attachUpperLayers(engine: Transport, config: SessionConfig<unknown>): UpperLayers {
  const upper = new UpperLayers(engine, config);
  engine.upper = upper;
  return upper;
}
