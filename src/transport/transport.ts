/**
 * @module
 * The session engine behind the three calls: version exchange, the binary packet protocol
 * (RFC 4253 §6) with no input buffering, message dispatch through the phase table, output,
 * and the one way a session ends (DESIGN.md contract §1–§6). Key exchange and rekey live in
 * kex-coordinator.ts, the service request and EXT_INFO in service.ts.
 */

import { DISCONNECT_REASON, SSH_MSG } from '../constants.js';
import { peerError, SSH_ERR, SshError } from '../errors.js';
import type { UpperLayer } from '../layer.js';
import { LIMITS } from '../limits.js';
import type { CloseFn, SendFn, SessionConfig, SessionEvent, SessionState } from '../types.js';
import { scanIdentificationLine } from './identification.js';
import { KexCoordinator } from './kex-coordinator.js';
import type { NegotiatedAlgorithms } from './kexinit.js';
import { classify } from './message-table.js';
import {
  decodeDebug,
  decodeDisconnect,
  decodeUnimplemented,
  encodeDisconnect,
  encodeUnimplemented,
} from './messages.js';
import { PacketIO } from './packet-io.js';
import { resolveSettings } from './preferences.js';
import { ServicePhase } from './service.js';

/** The engine behind one opaque session handle. */
export class Transport<H = unknown> {
  readonly role: 'client' | 'server';
  readonly #handle: H;
  readonly #sendFn: SendFn<H>;
  readonly #closeFn: CloseFn<H>;
  readonly #config: SessionConfig<unknown>;
  /** The object the application holds (passed back in callbacks). */
  publicHandle: unknown = this;

  #state: SessionState = 'version-exchange';
  #error: SshError | undefined;
  #closeRequested = false;
  #closeCalled = false;
  #inReceive = false;
  #depth = 0;

  readonly ourId: string;
  #peerId: string | undefined;
  #preIdLines = 0;

  readonly #io: PacketIO;
  /** Key exchange and rekey; `#kx.current` is the running exchange. */
  readonly #kx: KexCoordinator;
  /** The service request and the peer's EXT_INFO. */
  readonly #service: ServicePhase;
  upper: UpperLayer | undefined;

  constructor(handle: H, send: SendFn<H>, close: CloseFn<H>, config: SessionConfig<unknown>) {
    this.#handle = handle;
    this.#sendFn = send;
    this.#closeFn = close;
    this.#config = config;
    this.role = config.role;
    const settings = resolveSettings(config);
    this.ourId = settings.ourId;
    this.#io = new PacketIO(settings.random);
    const self = this;
    const sendPacket = (payload: Uint8Array) => this.#sendPacket(payload);
    const hooks = {
      config,
      get peerId() {
        return self.#peerId;
      },
      sendPacket,
      onEstablished: (algorithms: NegotiatedAlgorithms) => this.#onEstablished(algorithms),
    };
    this.#kx = new KexCoordinator(this, hooks, this.#io, settings);
    this.#service = new ServicePhase(this, sendPacket);
  }

  /** Sends our identification and first KEXINIT (RFC 4253 §4.2, §7.1). */
  start(): void {
    this.#run(() => {
      this.#io.queueRaw(new TextEncoder().encode(`${this.ourId}\r\n`));
      this.#kx.start(true);
    });
  }

  // ---- queries ----------------------------------------------------------------------------

  get state(): SessionState {
    return this.#state;
  }
  get lastError(): SshError | undefined {
    return this.#error;
  }
  get peerId(): string | undefined {
    return this.#peerId;
  }
  get algorithms(): NegotiatedAlgorithms | undefined {
    return this.#kx.algorithms;
  }
  get sessionId(): Uint8Array | undefined {
    return this.#kx.sessionId;
  }
  get hostKeyBlob(): Uint8Array | undefined {
    return this.#kx.hostKeyBlob;
  }
  get strictKex(): boolean {
    return this.#kx.strict;
  }
  get peerExtensions(): ReadonlyMap<string, Uint8Array> {
    return this.#service.extensions;
  }
  /** True when upper-layer messages may be sent now (established, not paused by a kex). */
  get canSendUpper(): boolean {
    const kex = this.#kx.current;
    return this.#state === 'established' && (kex === undefined || kex.sentNewKeys);
  }
  /** True while a key exchange is running (initial or later). */
  get kexInProgress(): boolean {
    return this.#kx.current !== undefined;
  }

  // ---- the three calls and commands ------------------------------------------------------

  /** sessionReceive: consumes whole units only; returns bytes consumed or -1. */
  receive(bytes: Uint8Array): number {
    if (this.#inReceive) {
      throw new SshError(
        SSH_ERR.USAGE,
        'local',
        'sessionReceive called while already inside sessionReceive for this session',
      );
    }
    if (this.#state === 'closed') return -1;
    let consumed = 0;
    this.#inReceive = true;
    try {
      this.#run(() => {
        while (this.#state !== 'closed') {
          const n =
            this.#peerId === undefined
              ? this.#readIdentification(bytes, consumed)
              : this.#readPacket(bytes, consumed);
          if (n === 0) break;
          consumed += n;
        }
      });
    } finally {
      this.#inReceive = false;
    }
    return (this.#state as SessionState) === 'closed' ? -1 : consumed;
  }

  /** sessionClose: the transport says the link is gone. */
  linkClosed(): void {
    if (this.#state === 'closed') return;
    this.#closeCalled = true; // the transport already knows; do not call close back
    this.#run(() => {
      this.#fail(
        new SshError(SSH_ERR.CONNECTION_LOST, 'link', 'the link closed before the session ended'),
      );
    });
  }

  /** Ends the session gracefully with SSH_MSG_DISCONNECT. */
  disconnect(reason: number, description: string): void {
    if (this.#state === 'closed') return;
    this.#run(() => {
      this.#sendDisconnect(reason, description);
      this.#end();
    });
  }

  /** Starts a key re-exchange now. Returns false when one is running or the session is not established. */
  rekey(): boolean {
    if (this.#state !== 'established' || this.#kx.current) return false;
    this.#run(() => this.#kx.start(false, 'local'));
    return true;
  }

  /**
   * Sends one upper-layer message (50–255) that carries application data. Returns false,
   * sending nothing, while a key exchange pauses upper-layer traffic or the session is not
   * established: application data is never queued (DESIGN.md contract §3).
   */
  sendUpper(payload: Uint8Array, body?: Uint8Array): boolean {
    if (!this.canSendUpper) return false;
    this.#run(() => {
      if (!this.#closeCalled) this.#io.seal(payload, body);
      if (this.#state === 'established') this.#kx.maybeRekey();
    });
    return true;
  }

  /** Sets aside output room for `packets` upper-layer messages of `payloadBytes` in all. */
  reserveUpper(payloadBytes: number, packets: number): void {
    if (!this.#closeCalled) this.#io.reserve(payloadBytes, packets);
  }

  /**
   * Sends one upper-layer control message (requests, window adjustments, channel opens and
   * closes). While a key exchange pauses upper-layer traffic it waits, in order, in a queue
   * bounded by LIMITS.PENDING_CONTROL_MESSAGES_MAX, and leaves right after our NEWKEYS.
   */
  sendControl(payload: Uint8Array): void {
    if (this.#state === 'closed') return;
    const kx = this.#kx;
    if (this.canSendUpper && kx.pendingControl === 0) {
      this.#run(() => {
        this.#sendPacket(payload);
        if (this.#state === 'established') this.#kx.maybeRekey();
      });
      return;
    }
    if (kx.pendingControl >= LIMITS.PENDING_CONTROL_MESSAGES_MAX) {
      this.#run(() => {
        throw new SshError(
          SSH_ERR.LIMIT_EXCEEDED,
          'local',
          'too many control messages waiting for a key exchange',
          DISCONNECT_REASON.BY_APPLICATION,
        );
      });
      return;
    }
    kx.queueControl(payload);
  }

  /** Runs `fn` as the body of an API call whose failures end the session (for the upper layer). */
  guard(fn: () => void): void {
    if (this.#state === 'closed') return;
    this.#run(fn);
  }

  /** Delivers an event to the application; exceptions it throws end the session. */
  emit(event: SessionEvent): void {
    const cb = this.#config.onEvent;
    if (!cb) return;
    if (
      this.#state === 'closed' &&
      event.type !== 'error' &&
      event.type !== 'closed' &&
      event.type !== 'disconnected'
    ) {
      return;
    }
    this.callOut(() => cb(event, this.publicHandle));
  }

  /** Calls application code; an exception from it ends the session with SSH_ERR_CALLBACK_FAILED. */
  callOut(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (e instanceof SshError && e.origin !== 'local') throw e;
      const message = e instanceof Error ? e.message : String(e);
      this.#fail(
        new SshError(
          SSH_ERR.CALLBACK_FAILED,
          'local',
          `an application callback threw: ${message}`,
          DISCONNECT_REASON.BY_APPLICATION,
          { cause: e },
        ),
      );
    }
  }

  /**
   * Runs one API call: failures end the session; output is flushed when the outermost call
   * ends. Usage errors are the application's and are rethrown to it.
   */
  #run(fn: () => void): void {
    this.#depth++;
    let usage: SshError | undefined;
    try {
      fn();
    } catch (e) {
      if (e instanceof SshError && e.code === SSH_ERR.USAGE) usage = e;
      else this.#fail(toSshError(e));
    } finally {
      this.#depth--;
    }
    if (this.#depth === 0) this.#flush();
    if (usage) throw usage;
  }

  #flush(): void {
    while (!this.#closeCalled) {
      const bytes = this.#io.takeOutput();
      if (!bytes) break;
      if (this.#sendFn(this.#handle, bytes) !== 0) {
        this.#io.discardOutput();
        this.#depth++;
        this.#fail(new SshError(SSH_ERR.SEND_FAILED, 'link', 'the transport could not send'));
        this.#depth--;
      }
    }
    if (this.#closeRequested && !this.#closeCalled) {
      this.#closeCalled = true;
      this.#io.discardOutput();
      this.#closeFn(this.#handle);
    }
  }

  // ---- ending -----------------------------------------------------------------------------

  /** Ends the session with an error: DISCONNECT where one is owed, close once, then inert. */
  #fail(err: SshError): void {
    if (this.#state === 'closed') return;
    this.#error = err;
    // Every error that carries a reason is told to the peer, unless the link itself failed.
    if (err.origin !== 'link' && err.disconnectReason !== undefined) {
      this.#sendDisconnect(err.disconnectReason, err.message);
    }
    this.#end(err);
  }

  /** Marks the session ended; layers above hear it first, then the application's events. */
  #end(err?: SshError, peerDisconnect?: { reason: number; description: string }): void {
    this.#state = 'closed';
    this.#kx.reset();
    this.#closeRequested = true;
    this.callOut(() => this.upper?.onSessionEnded?.());
    if (peerDisconnect) this.emit({ type: 'disconnected', ...peerDisconnect });
    if (err) this.emit({ type: 'error', error: err });
    this.emit({ type: 'closed' });
  }

  #sendDisconnect(reason: number, description: string): void {
    if (this.#closeCalled) return;
    this.#sendPacket(encodeDisconnect({ reason, description }));
  }

  // ---- input ------------------------------------------------------------------------------

  #readIdentification(bytes: Uint8Array, offset: number): number {
    const scan = scanIdentificationLine(bytes, offset, this.role === 'client');
    switch (scan.kind) {
      case 'need-more':
        return 0;
      case 'other-line':
        if (++this.#preIdLines > LIMITS.PRE_IDENTIFICATION_LINES_MAX) {
          throw peerError(
            SSH_ERR.LIMIT_EXCEEDED,
            'too many lines before the identification',
            DISCONNECT_REASON.PROTOCOL_VERSION_NOT_SUPPORTED,
          );
        }
        return scan.consumed;
      case 'identification':
        this.#peerId = scan.id;
        this.#state = 'key-exchange';
        this.emit({ type: 'identification', peer: scan.id });
        return scan.consumed;
    }
  }

  #readPacket(bytes: Uint8Array, offset: number): number {
    const packet = this.#io.open(bytes, offset);
    if (!packet) return 0;
    const kx = this.#kx;
    if (kx.current) kx.countTraffic(packet.consumed);
    this.#dispatch(packet.payload, packet.seq);
    if (this.#state === 'established') kx.maybeRekey();
    return packet.consumed;
  }

  #dispatch(payload: Uint8Array, seq: number): void {
    const type = payload[0]!;
    const phase = this.#kx.peerPhase();
    switch (classify(phase, type)) {
      case 'forbidden':
        if (phase === 'initial-kex-strict') {
          throw peerError(
            SSH_ERR.STRICT_KEX_VIOLATION,
            `strict key exchange: message ${type} during the initial key exchange`,
          );
        }
        throw peerError(SSH_ERR.UNEXPECTED_MESSAGE, `message ${type} is not allowed now`);
      case 'kex':
        return this.#kx.onMessage(type, payload, seq);
      case 'transport':
        return this.#onGenericMessage(type, payload);
      case 'service':
        return this.#service.onMessage(type, payload);
      case 'upper':
        if (!this.#service.started)
          throw peerError(
            SSH_ERR.UNEXPECTED_MESSAGE,
            `message ${type} before the ssh-userauth service started`,
          );
        if (this.upper?.handleMessage(type, payload)) return;
        return this.#sendUnimplemented(seq);
      case 'unimplemented':
        return this.#sendUnimplemented(seq);
    }
  }

  #sendUnimplemented(seq: number): void {
    this.#sendPacket(encodeUnimplemented(seq));
  }

  #onGenericMessage(type: number, payload: Uint8Array): void {
    switch (type) {
      case SSH_MSG.DISCONNECT: {
        const { reason, description } = decodeDisconnect(payload);
        const error = new SshError(
          SSH_ERR.PEER_DISCONNECTED,
          'remote-disconnect',
          `peer disconnected (reason ${reason}): ${description}`,
          reason,
        );
        this.#error = error;
        this.#end(error, { reason, description });
        return;
      }
      case SSH_MSG.IGNORE:
        return;
      case SSH_MSG.UNIMPLEMENTED: {
        const sequence = decodeUnimplemented(payload);
        if (this.#kx.isUnansweredKexInit(sequence)) {
          // A peer that refuses our KEXINIT (sshd does before authentication) would leave
          // the exchange, and our upper-layer traffic, paused forever.
          throw peerError(
            SSH_ERR.KEX_FAILED,
            'the peer refused the key re-exchange (UNIMPLEMENTED for our KEXINIT)',
            DISCONNECT_REASON.KEY_EXCHANGE_FAILED,
          );
        }
        this.emit({ type: 'unimplemented', sequence });
        return;
      }
      case SSH_MSG.DEBUG:
        this.emit({ type: 'debug', ...decodeDebug(payload) });
        return;
    }
  }

  // ---- key exchange -----------------------------------------------------------------------

  /**
   * Runs the application's answer to a request, now or later: inside a running call it joins
   * that call, otherwise it is its own call. A protocol failure it causes ends the session
   * and is never thrown at the application; usage errors are.
   */
  answer(fn: () => void): void {
    if (this.#state === 'closed') return;
    const body = () => {
      try {
        fn();
      } catch (e) {
        if (e instanceof SshError && e.code === SSH_ERR.USAGE) throw e;
        this.#fail(toSshError(e));
        return;
      }
      this.#kx.finishIfDone();
    };
    if (this.#depth > 0) body();
    else this.#run(body);
  }

  /** The initial key exchange finished (called by the coordinator). */
  #onEstablished(algorithms: NegotiatedAlgorithms): void {
    this.#state = 'established';
    this.emit({ type: 'handshake-complete', algorithms });
    if (this.role === 'client' && this.#state === 'established') this.#service.request();
  }

  // ---- output -----------------------------------------------------------------------------

  /** Frames, pads, seals and queues one message (RFC 4253 §6). */
  #sendPacket(payload: Uint8Array): void {
    if (this.#closeCalled) return;
    this.#io.seal(payload);
  }
}

function toSshError(e: unknown): SshError {
  if (e instanceof SshError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new SshError(
    SSH_ERR.INTERNAL,
    'local',
    `internal error: ${message}`,
    DISCONNECT_REASON.PROTOCOL_ERROR,
    { cause: e },
  );
}
