/**
 * @module
 * The transport's service phase (RFC 4253 §10, RFC 8308): the one service request and its
 * acceptance (ssh-userauth), and the peer's EXT_INFO extensions, kept within bounds. The
 * transport engine routes the messages here and reads `started` before letting upper-layer
 * messages through.
 */

import { DISCONNECT_REASON, SSH_MSG } from '../constants.js';
import { peerError, SSH_ERR } from '../errors.js';
import type { UpperLayer } from '../layer.js';
import { LIMITS } from '../limits.js';
import type { SessionEvent } from '../types.js';
import { decodeExtInfo, decodeService, encodeService } from './messages.js';

const USERAUTH_SERVICE = 'ssh-userauth';

/** The transport engine's public members that the service phase uses. */
export interface ServiceEngine {
  readonly role: 'client' | 'server';
  readonly upper: UpperLayer | undefined;
  emit(event: SessionEvent): void;
}

/** One session's service request/accept state and the peer's extensions. */
export class ServicePhase {
  readonly #engine: ServiceEngine;
  /** Frames, seals and queues one transport message (the engine's). */
  readonly #send: (payload: Uint8Array) => void;
  /** True once ssh-userauth is accepted: upper-layer messages may flow. */
  started = false;
  #requested = false;
  readonly extensions = new Map<string, Uint8Array>();
  /** Bytes of names and values in `extensions` (LIMITS.EXT_INFO_RETAINED_BYTES_MAX). */
  #extensionBytes = 0;

  constructor(engine: ServiceEngine, send: (payload: Uint8Array) => void) {
    this.#engine = engine;
    this.#send = send;
  }

  /**
   * Client: asks for ssh-userauth once the initial key exchange is done. The upper layer may
   * send its first authentication request right behind it (ClientAuthConfig.pipeline): the
   * server reads it after accepting the service.
   */
  request(): void {
    this.#requested = true;
    this.#send(encodeService(SSH_MSG.SERVICE_REQUEST, USERAUTH_SERVICE));
    this.#engine.upper?.onServiceRequested?.();
  }

  /** Handles SERVICE_REQUEST, SERVICE_ACCEPT and EXT_INFO. */
  onMessage(type: number, payload: Uint8Array): void {
    const engine = this.#engine;
    if (type === SSH_MSG.EXT_INFO) {
      const extensions = decodeExtInfo(payload);
      this.#retainExtensions(extensions);
      engine.emit({ type: 'ext-info', extensions });
      return;
    }
    const service = decodeService(payload);
    if (type === SSH_MSG.SERVICE_REQUEST) {
      if (engine.role !== 'server' || this.started) {
        throw peerError(SSH_ERR.UNEXPECTED_MESSAGE, 'unexpected SERVICE_REQUEST');
      }
      if (service !== USERAUTH_SERVICE) {
        throw peerError(
          SSH_ERR.SERVICE_NOT_AVAILABLE,
          `service ${service} is not available`,
          DISCONNECT_REASON.SERVICE_NOT_AVAILABLE,
        );
      }
      this.#send(encodeService(SSH_MSG.SERVICE_ACCEPT, service));
    } else if (
      engine.role !== 'client' ||
      !this.#requested ||
      this.started ||
      service !== USERAUTH_SERVICE
    ) {
      throw peerError(SSH_ERR.UNEXPECTED_MESSAGE, `unexpected SERVICE_ACCEPT for ${service}`);
    }
    this.started = true;
    engine.emit({ type: 'service-accepted', service });
    engine.upper?.onServiceStarted?.();
  }

  /**
   * Merges the entries of one EXT_INFO into those kept, bounded across messages by
   * LIMITS.EXT_INFO_ENTRIES_MAX and LIMITS.EXT_INFO_RETAINED_BYTES_MAX.
   */
  #retainExtensions(extensions: ReadonlyMap<string, Uint8Array>): void {
    const kept = this.extensions;
    let count = kept.size;
    let bytes = this.#extensionBytes;
    for (const [name, value] of extensions) {
      const old = kept.get(name);
      if (old === undefined) count++;
      else bytes -= name.length + old.length;
      bytes += name.length + value.length;
    }
    if (count > LIMITS.EXT_INFO_ENTRIES_MAX || bytes > LIMITS.EXT_INFO_RETAINED_BYTES_MAX) {
      throw peerError(
        SSH_ERR.LIMIT_EXCEEDED,
        `EXT_INFO messages would keep ${count} extensions of ${bytes} bytes`,
      );
    }
    for (const [name, value] of extensions) kept.set(name, value);
    this.#extensionBytes = bytes;
  }
}
