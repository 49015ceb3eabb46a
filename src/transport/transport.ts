/**
 * @module
 * The session engine behind the three calls: version exchange, the binary packet protocol
 * (RFC 4253 §6) with no input buffering, message dispatch through the phase table, key
 * exchange and rekey, and the one way a session ends (DESIGN.md contract §1–§6).
 */

import { DISCONNECT_REASON, SSH_MSG } from '../constants.js';
import type { PacketOpener, PacketSealer } from '../crypto/types.js';
import { peerError, SSH_ERR, SshError } from '../errors.js';
import type { UpperLayer } from '../layer.js';
import { LIMITS } from '../limits.js';
import type {
  CloseFn,
  HostKeyRequest,
  SendFn,
  SessionConfig,
  SessionEvent,
  SessionState,
} from '../types.js';
import { scanIdentificationLine } from './identification.js';
import type { NegotiatedAlgorithms } from './kexinit.js';
import { type HostKeyInfo, type KexHost, KeyExchange } from './key-exchange.js';
import { classify, type PeerPhase } from './message-table.js';
import {
  decodeDebug,
  decodeDisconnect,
  decodeExtInfo,
  decodeService,
  decodeUnimplemented,
  encodeDisconnect,
  encodeServerExtInfo,
  encodeService,
  encodeUnimplemented,
} from './messages.js';
import { PacketIO } from './packet-io.js';
import { resolveSettings, type TransportSettings } from './preferences.js';

const USERAUTH_SERVICE = 'ssh-userauth';

/** The engine behind one opaque session handle. */
export class Transport<H = unknown> {
  readonly role: 'client' | 'server';
  readonly #handle: H;
  readonly #sendFn: SendFn<H>;
  readonly #closeFn: CloseFn<H>;
  readonly #config: SessionConfig<unknown>;
  readonly #settings: TransportSettings;
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

  #kex: KeyExchange | undefined;
  #strict = false;
  #peerFinishedInitialKex = false;
  #sessionId: Uint8Array | undefined;
  #hostKeyBlob: Uint8Array | undefined;
  #algorithms: NegotiatedAlgorithms | undefined;
  #peerExtensions = new Map<string, Uint8Array>();
  /** Bytes of names and values in #peerExtensions (LIMITS.EXT_INFO_RETAINED_BYTES_MAX). */
  #peerExtensionBytes = 0;
  #serviceStarted = false;
  #serviceRequested = false;
  #controlQueue: Uint8Array[] = [];
  #kexInitSeq = -1;
  /** Packets and bytes received since the running key exchange started (LIMITS.KEX_GRACE_*). */
  #kexRecvPackets = 0;
  #kexRecvBytes = 0;
  readonly #kexGracePackets: number;
  readonly #kexGraceBytes: number;
  upper: UpperLayer | undefined;

  constructor(handle: H, send: SendFn<H>, close: CloseFn<H>, config: SessionConfig<unknown>) {
    this.#handle = handle;
    this.#sendFn = send;
    this.#closeFn = close;
    this.#config = config;
    this.role = config.role;
    this.#settings = resolveSettings(config);
    this.ourId = this.#settings.ourId;
    this.#io = new PacketIO(this.#settings.random);
    this.#kexGracePackets = Math.max(this.#settings.rekeyPackets, LIMITS.KEX_GRACE_PACKETS_MIN);
    this.#kexGraceBytes = Math.max(this.#settings.rekeyBytes, LIMITS.KEX_GRACE_BYTES_MIN);
  }

  /** Sends our identification and first KEXINIT (RFC 4253 §4.2, §7.1). */
  start(): void {
    this.#run(() => {
      this.#io.queueRaw(new TextEncoder().encode(`${this.ourId}\r\n`));
      this.#startKex(true);
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
    return this.#algorithms;
  }
  get sessionId(): Uint8Array | undefined {
    return this.#sessionId;
  }
  get hostKeyBlob(): Uint8Array | undefined {
    return this.#hostKeyBlob;
  }
  get strictKex(): boolean {
    return this.#strict;
  }
  get peerExtensions(): ReadonlyMap<string, Uint8Array> {
    return this.#peerExtensions;
  }
  /** True when upper-layer messages may be sent now (established, not paused by a kex). */
  get canSendUpper(): boolean {
    return this.#state === 'established' && (this.#kex === undefined || this.#kex.sentNewKeys);
  }
  /** True while a key exchange is running (initial or later). */
  get kexInProgress(): boolean {
    return this.#kex !== undefined;
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
    if (this.#state !== 'established' || this.#kex) return false;
    this.#run(() => this.#startKex(false, 'local'));
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
      this.#maybeRekey();
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
    if (this.canSendUpper && this.#controlQueue.length === 0) {
      this.#run(() => {
        this.#sendPacket(payload);
        this.#maybeRekey();
      });
      return;
    }
    if (this.#controlQueue.length >= LIMITS.PENDING_CONTROL_MESSAGES_MAX) {
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
    this.#controlQueue.push(payload);
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
    this.#kex = undefined;
    this.#closeRequested = true;
    this.#controlQueue = [];
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
    if (this.#kex) this.#countKexTraffic(packet.consumed);
    this.#dispatch(packet.payload, packet.seq);
    if (this.#state !== 'closed') this.#maybeRekey();
    return packet.consumed;
  }

  /**
   * Bounds what the peer sends while a key exchange runs (LIMITS.KEX_GRACE_*): a peer that
   * neither answers nor finishes an exchange cannot go on using the old keys without end.
   */
  #countKexTraffic(bytes: number): void {
    this.#kexRecvPackets++;
    this.#kexRecvBytes += bytes;
    if (this.#kexRecvPackets > this.#kexGracePackets || this.#kexRecvBytes > this.#kexGraceBytes) {
      throw peerError(
        SSH_ERR.LIMIT_EXCEEDED,
        `the peer sent ${this.#kexRecvPackets} packets (${this.#kexRecvBytes} bytes) during one key exchange`,
      );
    }
  }

  #peerPhase(): PeerPhase {
    if (!this.#peerFinishedInitialKex) return this.#strict ? 'initial-kex-strict' : 'initial-kex';
    const kex = this.#kex;
    return kex?.receivedPeerKexInit && !kex.receivedNewKeys ? 'rekey' : 'open';
  }

  #dispatch(payload: Uint8Array, seq: number): void {
    const type = payload[0]!;
    const phase = this.#peerPhase();
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
        return this.#onKexMessage(type, payload, seq);
      case 'transport':
        return this.#onGenericMessage(type, payload);
      case 'service':
        return this.#onServiceMessage(type, payload);
      case 'upper':
        if (!this.#serviceStarted)
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
        if (this.#kex && !this.#kex.receivedPeerKexInit && sequence === this.#kexInitSeq) {
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

  #onServiceMessage(type: number, payload: Uint8Array): void {
    if (type === SSH_MSG.EXT_INFO) {
      const extensions = decodeExtInfo(payload);
      this.#retainExtensions(extensions);
      this.emit({ type: 'ext-info', extensions });
      return;
    }
    const service = decodeService(payload);
    if (type === SSH_MSG.SERVICE_REQUEST) {
      if (this.role !== 'server' || this.#serviceStarted) {
        throw peerError(SSH_ERR.UNEXPECTED_MESSAGE, 'unexpected SERVICE_REQUEST');
      }
      if (service !== USERAUTH_SERVICE) {
        throw peerError(
          SSH_ERR.SERVICE_NOT_AVAILABLE,
          `service ${service} is not available`,
          DISCONNECT_REASON.SERVICE_NOT_AVAILABLE,
        );
      }
      this.#sendPacket(encodeService(SSH_MSG.SERVICE_ACCEPT, service));
    } else if (
      this.role !== 'client' ||
      !this.#serviceRequested ||
      this.#serviceStarted ||
      service !== USERAUTH_SERVICE
    ) {
      throw peerError(SSH_ERR.UNEXPECTED_MESSAGE, `unexpected SERVICE_ACCEPT for ${service}`);
    }
    this.#serviceStarted = true;
    this.emit({ type: 'service-accepted', service });
    this.upper?.onServiceStarted?.();
  }

  /**
   * Merges the entries of one EXT_INFO into those kept, bounded across messages by
   * LIMITS.EXT_INFO_ENTRIES_MAX and LIMITS.EXT_INFO_RETAINED_BYTES_MAX.
   */
  #retainExtensions(extensions: ReadonlyMap<string, Uint8Array>): void {
    const kept = this.#peerExtensions;
    let count = kept.size;
    let bytes = this.#peerExtensionBytes;
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
    this.#peerExtensionBytes = bytes;
  }

  // ---- key exchange -----------------------------------------------------------------------

  #kexHost(): KexHost {
    const self = this;
    const isClient = this.role === 'client';
    return {
      role: this.role,
      random: this.#settings.random,
      get clientId() {
        return isClient ? self.ourId : self.#peerId!;
      },
      get serverId() {
        return isClient ? self.#peerId! : self.ourId;
      },
      lists: this.#settings.lists,
      hostKeys: this.#settings.hostKeys,
      get sessionId() {
        return self.#sessionId;
      },
      sendMessage: (payload) => this.#sendPacket(payload),
      installSealer: (sealer) => this.#installSealer(sealer),
      installOpener: (opener) => this.#installOpener(opener),
      requestHostKeyVerdict: (info, answer) => this.#requestHostKeyVerdict(info, answer),
    };
  }

  #startKex(initial: boolean, initiator: 'local' | 'peer' = 'local'): void {
    const kex = new KeyExchange(this.#kexHost(), initial);
    this.#kex = kex;
    this.#kexRecvPackets = 0;
    this.#kexRecvBytes = 0;
    this.#kexInitSeq = this.#io.sendSeq;
    this.#sendPacket(kex.ourKexInit);
    if (!initial) this.emit({ type: 'rekey-started', initiator });
  }

  #onKexMessage(type: number, payload: Uint8Array, seq: number): void {
    if (type === SSH_MSG.KEXINIT && this.#kex === undefined) {
      this.#startKex(false, 'peer');
    }
    const kex = this.#kex;
    if (!kex)
      throw peerError(
        SSH_ERR.UNEXPECTED_MESSAGE,
        `key exchange message ${type} outside a key exchange`,
      );
    kex.receive(type, payload);
    if (type === SSH_MSG.KEXINIT && kex.initial) {
      this.#strict = kex.peerOffersStrict;
      // PROTOCOL §1.10: in strict mode the peer's KEXINIT must be its very first packet.
      if (this.#strict && seq !== 0) {
        throw peerError(
          SSH_ERR.STRICT_KEX_VIOLATION,
          'strict key exchange: KEXINIT was not the first packet',
        );
      }
    }
    if (kex.done && this.#kex === kex) this.#finishKex(kex);
  }

  #installSealer(sealer: PacketSealer): void {
    this.#io.useSealer(sealer, this.#strict);
    const kex = this.#kex;
    if (kex?.initial && this.role === 'server' && kex.peerOffersExtInfo)
      this.#sendPacket(encodeServerExtInfo());
    if (kex && !kex.initial) {
      const queued = this.#controlQueue;
      this.#controlQueue = [];
      for (const payload of queued) this.#sendPacket(payload);
      this.emit({ type: 'writable' });
      this.upper?.onWritable?.();
    }
  }

  #installOpener(opener: PacketOpener): void {
    this.#io.useOpener(opener, this.#strict);
    if (this.#kex?.initial) this.#peerFinishedInitialKex = true;
  }

  #requestHostKeyVerdict(info: HostKeyInfo, answer: (ok: boolean, reason?: string) => void): void {
    if (this.#kex && !this.#kex.initial) {
      // A later exchange must present the key the application accepted (RFC 4253 §9).
      if (!sameBytes(info.publicKey, this.#hostKeyBlob!)) {
        throw new SshError(
          SSH_ERR.HOST_KEY_CHANGED,
          'peer',
          `the server's host key changed during a re-exchange to ${info.fingerprint}`,
          DISCONNECT_REASON.HOST_KEY_NOT_VERIFIABLE,
        );
      }
      answer(true);
      return;
    }
    if (this.#config.role !== 'client') throw new Error('host key verdict on a server');
    const onHostKey = this.#config.onHostKey;
    const request: HostKeyRequest = {
      algorithm: info.algorithm,
      keyType: info.keyType,
      publicKey: info.publicKey.slice(),
      fingerprint: info.fingerprint,
      accept: () => this.answer(() => answer(true)),
      reject: (reason?: string) => this.answer(() => answer(false, reason)),
    };
    this.callOut(() => onHostKey(request, this.publicHandle));
  }

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
      const kex = this.#kex;
      if (kex?.done) this.#finishKex(kex);
    };
    if (this.#depth > 0) body();
    else this.#run(body);
  }

  #finishKex(kex: KeyExchange): void {
    this.#kex = undefined;
    const algorithms = kex.algorithms!;
    this.#algorithms = algorithms;
    if (kex.initial) {
      this.#sessionId = kex.exchangeHash;
      this.#hostKeyBlob = kex.hostKeyBlob;
      this.#state = 'established';
      this.emit({ type: 'handshake-complete', algorithms });
      if (this.role === 'client' && this.#state === 'established') {
        this.#serviceRequested = true;
        this.#sendPacket(encodeService(SSH_MSG.SERVICE_REQUEST, USERAUTH_SERVICE));
      }
    } else {
      this.emit({ type: 'rekey-complete', algorithms });
    }
  }

  #maybeRekey(): void {
    if (this.#state !== 'established' || this.#kex) return;
    const io = this.#io;
    const s = this.#settings;
    if (
      io.sentBytes >= s.rekeyBytes ||
      io.recvBytes >= s.rekeyBytes ||
      io.sentPackets >= s.rekeyPackets ||
      io.recvPackets >= s.rekeyPackets
    ) {
      this.#startKex(false, 'local');
    }
  }

  // ---- output -----------------------------------------------------------------------------

  /** Frames, pads, seals and queues one message (RFC 4253 §6). */
  #sendPacket(payload: Uint8Array): void {
    if (this.#closeCalled) return;
    this.#io.seal(payload);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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
