/**
 * @module
 * Key-exchange coordination for one session (RFC 4253 §7–§9, PROTOCOL §1.10): starting the
 * initial exchange and rekeys, routing KEX messages to the running {@link KeyExchange},
 * installing new keys, the host-key verdict, the rekey thresholds (RFC 4344), the grace
 * bounds on peer traffic during an exchange, and the control messages held while it pauses
 * upper-layer traffic. The transport engine owns the session state and the packet I/O.
 */

import { DISCONNECT_REASON, SSH_MSG } from '../constants.js';
import type { PacketOpener, PacketSealer } from '../crypto/types.js';
import { peerError, SSH_ERR, SshError } from '../errors.js';
import type { UpperLayer } from '../layer.js';
import { LIMITS } from '../limits.js';
import type { HostKeyRequest, SessionConfig, SessionEvent } from '../types.js';
import type { NegotiatedAlgorithms } from './kexinit.js';
import { type HostKeyInfo, type KexHost, KeyExchange } from './key-exchange.js';
import type { PeerPhase } from './message-table.js';
import { encodeServerExtInfo } from './messages.js';
import type { PacketIO } from './packet-io.js';
import type { TransportSettings } from './preferences.js';

/** The transport engine's public members that key-exchange coordination uses. */
export interface KexEngine {
  readonly role: 'client' | 'server';
  readonly ourId: string;
  readonly publicHandle: unknown;
  readonly upper: UpperLayer | undefined;
  emit(event: SessionEvent): void;
  callOut(fn: () => void): void;
  answer(fn: () => void): void;
}

/** The transport engine's private parts that key-exchange coordination uses. */
export interface KexHooks {
  readonly config: SessionConfig<unknown>;
  readonly peerId: string | undefined;
  sendPacket(payload: Uint8Array): void;
  /** The initial exchange finished: the session is established with `algorithms`. */
  onEstablished(algorithms: NegotiatedAlgorithms): void;
}

/** Runs one session's key exchanges, initial and later. */
export class KexCoordinator {
  readonly #engine: KexEngine;
  readonly #hooks: KexHooks;
  readonly #io: PacketIO;
  readonly #settings: TransportSettings;

  /** The running key exchange, if any (read on the hot path; set only here). */
  current: KeyExchange | undefined;
  strict = false;
  sessionId: Uint8Array | undefined;
  hostKeyBlob: Uint8Array | undefined;
  algorithms: NegotiatedAlgorithms | undefined;
  #peerFinishedInitialKex = false;
  #controlQueue: Uint8Array[] = [];
  #kexInitSeq = -1;
  /** Packets and bytes received since the running key exchange started (LIMITS.KEX_GRACE_*). */
  #recvPackets = 0;
  #recvBytes = 0;
  readonly #gracePackets: number;
  readonly #graceBytes: number;

  constructor(engine: KexEngine, hooks: KexHooks, io: PacketIO, settings: TransportSettings) {
    this.#engine = engine;
    this.#hooks = hooks;
    this.#io = io;
    this.#settings = settings;
    this.#gracePackets = Math.max(settings.rekeyPackets, LIMITS.KEX_GRACE_PACKETS_MIN);
    this.#graceBytes = Math.max(settings.rekeyBytes, LIMITS.KEX_GRACE_BYTES_MIN);
  }

  /** Control messages waiting for our NEWKEYS. */
  get pendingControl(): number {
    return this.#controlQueue.length;
  }

  /** Holds one control message until our NEWKEYS (the caller enforces the bound). */
  queueControl(payload: Uint8Array): void {
    this.#controlQueue.push(payload);
  }

  /** The session ended: drops the running exchange and the held control messages. */
  reset(): void {
    this.current = undefined;
    this.#controlQueue = [];
  }

  /** Which messages the peer may send now (see message-table.ts). */
  peerPhase(): PeerPhase {
    if (!this.#peerFinishedInitialKex) return this.strict ? 'initial-kex-strict' : 'initial-kex';
    const kex = this.current;
    return kex?.receivedPeerKexInit && !kex.receivedNewKeys ? 'rekey' : 'open';
  }

  /** True when `sequence` is our KEXINIT of a running exchange the peer has not answered. */
  isUnansweredKexInit(sequence: number): boolean {
    const kex = this.current;
    return kex !== undefined && !kex.receivedPeerKexInit && sequence === this.#kexInitSeq;
  }

  /**
   * Bounds what the peer sends while a key exchange runs (LIMITS.KEX_GRACE_*): a peer that
   * neither answers nor finishes an exchange cannot go on using the old keys without end.
   */
  countTraffic(bytes: number): void {
    this.#recvPackets++;
    this.#recvBytes += bytes;
    if (this.#recvPackets > this.#gracePackets || this.#recvBytes > this.#graceBytes) {
      throw peerError(
        SSH_ERR.LIMIT_EXCEEDED,
        `the peer sent ${this.#recvPackets} packets (${this.#recvBytes} bytes) during one key exchange`,
      );
    }
  }

  #kexHost(): KexHost {
    const self = this;
    const engine = this.#engine;
    const hooks = this.#hooks;
    const isClient = engine.role === 'client';
    return {
      role: engine.role,
      random: this.#settings.random,
      get clientId() {
        return isClient ? engine.ourId : hooks.peerId!;
      },
      get serverId() {
        return isClient ? hooks.peerId! : engine.ourId;
      },
      lists: this.#settings.lists,
      kexGuess: this.#settings.kexGuess,
      hostKeys: this.#settings.hostKeys,
      get sessionId() {
        return self.sessionId;
      },
      sendMessage: (payload) => hooks.sendPacket(payload),
      installSealer: (sealer) => this.#installSealer(sealer),
      installOpener: (opener) => this.#installOpener(opener),
      requestHostKeyVerdict: (info, answer) => this.#requestHostKeyVerdict(info, answer),
    };
  }

  /** Starts a key exchange: sends our KEXINIT (RFC 4253 §7.1). */
  start(initial: boolean, initiator: 'local' | 'peer' = 'local'): void {
    const kex = new KeyExchange(this.#kexHost(), initial);
    this.current = kex;
    this.#recvPackets = 0;
    this.#recvBytes = 0;
    this.#kexInitSeq = this.#io.sendSeq;
    this.#hooks.sendPacket(kex.ourKexInit);
    const guess = kex.guessPacket();
    if (guess) this.#hooks.sendPacket(guess);
    if (!initial) this.#engine.emit({ type: 'rekey-started', initiator });
  }

  /** Handles one key-exchange message (KEXINIT, NEWKEYS, 30–49). */
  onMessage(type: number, payload: Uint8Array, seq: number): void {
    if (type === SSH_MSG.KEXINIT && this.current === undefined) {
      this.start(false, 'peer');
    }
    const kex = this.current;
    if (!kex)
      throw peerError(
        SSH_ERR.UNEXPECTED_MESSAGE,
        `key exchange message ${type} outside a key exchange`,
      );
    kex.receive(type, payload);
    if (type === SSH_MSG.KEXINIT && kex.initial) {
      this.strict = kex.peerOffersStrict;
      // PROTOCOL §1.10: in strict mode the peer's KEXINIT must be its very first packet.
      if (this.strict && seq !== 0) {
        throw peerError(
          SSH_ERR.STRICT_KEX_VIOLATION,
          'strict key exchange: KEXINIT was not the first packet',
        );
      }
    }
    if (kex.done && this.current === kex) this.#finish(kex);
  }

  #installSealer(sealer: PacketSealer): void {
    const engine = this.#engine;
    const send = this.#hooks.sendPacket;
    this.#io.useSealer(sealer, this.strict);
    const kex = this.current;
    if (kex?.initial && engine.role === 'server' && kex.peerOffersExtInfo)
      send(encodeServerExtInfo());
    if (kex && !kex.initial) {
      const queued = this.#controlQueue;
      this.#controlQueue = [];
      for (const payload of queued) send(payload);
      engine.emit({ type: 'writable' });
      engine.upper?.onWritable?.();
    }
  }

  #installOpener(opener: PacketOpener): void {
    this.#io.useOpener(opener, this.strict);
    if (this.current?.initial) this.#peerFinishedInitialKex = true;
  }

  #requestHostKeyVerdict(info: HostKeyInfo, answer: (ok: boolean, reason?: string) => void): void {
    if (this.current && !this.current.initial) {
      // A later exchange must present the key the application accepted (RFC 4253 §9).
      if (!sameBytes(info.publicKey, this.hostKeyBlob!)) {
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
    const engine = this.#engine;
    const config = this.#hooks.config;
    if (config.role !== 'client') throw new Error('host key verdict on a server');
    const onHostKey = config.onHostKey;
    const request: HostKeyRequest = {
      algorithm: info.algorithm,
      keyType: info.keyType,
      publicKey: info.publicKey.slice(),
      fingerprint: info.fingerprint,
      accept: () => engine.answer(() => answer(true)),
      reject: (reason?: string) => engine.answer(() => answer(false, reason)),
    };
    engine.callOut(() => onHostKey(request, engine.publicHandle));
  }

  /** Finishes the running exchange if the application's answer completed it. */
  finishIfDone(): void {
    const kex = this.current;
    if (kex?.done) this.#finish(kex);
  }

  #finish(kex: KeyExchange): void {
    this.current = undefined;
    const algorithms = kex.algorithms!;
    this.algorithms = algorithms;
    if (kex.initial) {
      this.sessionId = kex.exchangeHash;
      this.hostKeyBlob = kex.hostKeyBlob;
      this.#hooks.onEstablished(algorithms);
    } else {
      this.#engine.emit({ type: 'rekey-complete', algorithms });
    }
  }

  /** Starts a rekey when a volume threshold is reached (call only while established). */
  maybeRekey(): void {
    if (this.current) return;
    const io = this.#io;
    const s = this.#settings;
    if (
      io.sentBytes >= s.rekeyBytes ||
      io.recvBytes >= s.rekeyBytes ||
      io.sentPackets >= s.rekeyPackets ||
      io.recvPackets >= s.rekeyPackets
    ) {
      this.start(false, 'local');
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
