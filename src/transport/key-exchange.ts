/**
 * @module
 * One key exchange, initial or later (RFC 4253 §7–§8, RFC 5656 §4, RFC 8731): the states are
 * named after what they wait for, and each holds only the data valid then. The transport owns
 * the packet I/O; this file decides what to send and which keys to install.
 */

import { DISCONNECT_REASON, SSH_MSG } from '../constants.js';
import { KEX_MARKERS } from '../crypto/algorithms.js';
import {
  fingerprintSha256,
  keyTypeOfAlgorithm,
  parsePublicKeyBlob,
  verifySignature,
} from '../crypto/host-key.js';
import { deriveKey } from '../crypto/kdf.js';
import { kexAlgorithm } from '../crypto/kex.js';
import type { PrivateKey } from '../crypto/keys.js';
import { cipherInfo, createOpener, createSealer, macInfo } from '../crypto/packet-protection.js';
import type {
  KexAlgorithm,
  KexExchange,
  KexHash,
  PacketOpener,
  PacketSealer,
  RandomFn,
} from '../crypto/types.js';
import { peerError, SSH_ERR, SshError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { SshReader } from '../wire/reader.js';
import { SshWriter } from '../wire/writer.js';
import { exchangeHash } from './exchange-hash.js';
import {
  decodeKexInit,
  dropsEveryGuess,
  encodeKexInit,
  guessWasWrong,
  type KexInit,
  type KexInitLists,
  type NegotiatedAlgorithms,
  negotiate,
} from './kexinit.js';

/** What the key exchange needs from the transport that runs it. */
export interface KexHost {
  readonly role: 'client' | 'server';
  readonly random: RandomFn;
  readonly clientId: string;
  readonly serverId: string;
  /** Our algorithm lists (without pseudo-algorithms). */
  readonly lists: KexInitLists;
  /** Client: guess the initial exchange's first kex packet (ClientConfig.kexGuess). */
  readonly kexGuess: boolean;
  readonly hostKeys: readonly PrivateKey[];
  /** H of the first exchange, once known (RFC 4253 §7.2). */
  readonly sessionId: Uint8Array | undefined;
  /** Sends a transport message with the current outgoing keys. */
  sendMessage(payload: Uint8Array): void;
  /** Called after our NEWKEYS went out: later packets use `sealer`. */
  installSealer(sealer: PacketSealer): void;
  /** Called after the peer's NEWKEYS came in: later packets use `opener`. */
  installOpener(opener: PacketOpener): void;
  /** Client: hand the verified host key to the application. */
  requestHostKeyVerdict(info: HostKeyInfo, answer: (ok: boolean, reason?: string) => void): void;
}

/** The server's host key as the client saw it in the exchange. */
export interface HostKeyInfo {
  readonly algorithm: string;
  readonly keyType: string;
  readonly publicKey: Uint8Array;
  readonly fingerprint: string;
}

/** Keys computed by an exchange, waiting for the NEWKEYS in each direction. */
interface PendingKeys {
  readonly sealer: PacketSealer;
  readonly opener: PacketOpener;
}

type Step =
  | { readonly name: 'expect-peer-kexinit' }
  | { readonly name: 'expect-ecdh-init'; readonly alg: KexAlgorithm } // server
  | {
      readonly name: 'expect-ecdh-reply';
      readonly alg: KexAlgorithm;
      readonly exchange: KexExchange;
    } // client
  | { readonly name: 'expect-host-key-verdict'; readonly keys: PendingKeys } // client
  | { readonly name: 'expect-newkeys'; readonly keys: PendingKeys }
  | { readonly name: 'done' };

/** One key exchange, from our KEXINIT to both NEWKEYS. */
export class KeyExchange {
  readonly #host: KexHost;
  readonly initial: boolean;
  readonly ourKexInit: Uint8Array;
  /** What `ourKexInit` says, kept so the peer's KEXINIT is the only one decoded. */
  readonly #ours: KexInit;
  #peerKexInit: Uint8Array | undefined;
  #step: Step = { name: 'expect-peer-kexinit' };
  #algorithms: NegotiatedAlgorithms | undefined;
  #ignoreNextKexPacket = false;
  /** Client: the exchange we guessed and sent with our KEXINIT, until the server's arrives. */
  #guess: { readonly alg: KexAlgorithm; readonly exchange: KexExchange } | undefined;
  #sentNewKeys = false;
  #receivedNewKeys = false;
  #hash: Uint8Array | undefined;
  #hostKeyBlob: Uint8Array | undefined;
  /** Whether the peer asked for strict kex in this (initial) exchange's KEXINIT. */
  peerOffersStrict = false;
  /** Whether the peer's KEXINIT offers ext-info (client: ext-info-s; server: ext-info-c). */
  peerOffersExtInfo = false;
  /** Packets received from the peer since its KEXINIT. */
  packetsSincePeerKexInit = 0;

  /** Starts an exchange by building our KEXINIT; the caller sends it. */
  constructor(host: KexHost, initial: boolean) {
    this.#host = host;
    this.initial = initial;
    const markers: string[] = [];
    if (initial) {
      markers.push(
        host.role === 'client' ? KEX_MARKERS.EXT_INFO_CLIENT : KEX_MARKERS.EXT_INFO_SERVER,
      );
      markers.push(host.role === 'client' ? KEX_MARKERS.STRICT_CLIENT : KEX_MARKERS.STRICT_SERVER);
    }
    const lists = { ...host.lists, kex: [...host.lists.kex, ...markers] };
    // host.kexGuess is only ever true for a client (resolveSettings).
    const guessed = initial && host.kexGuess ? kexAlgorithm(lists.kex[0]!) : undefined;
    this.ourKexInit = encodeKexInit(host.random(16), lists, guessed !== undefined);
    this.#ours = { ...lists, firstKexPacketFollows: guessed !== undefined };
    if (guessed) this.#guess = { alg: guessed, exchange: guessed.start(host.random) };
  }

  /**
   * Client with `kexGuess`: the guessed first kex packet (RFC 4253 §7.1), to send right
   * after `ourKexInit`; undefined otherwise.
   */
  guessPacket(): Uint8Array | undefined {
    const guess = this.#guess;
    if (!guess) return undefined;
    const w = new SshWriter(128).byte(SSH_MSG.KEX_ECDH_INIT);
    writePublic(w, guess.alg, guess.exchange.publicValue);
    return w.finish();
  }

  /** The negotiated algorithms, once both KEXINITs are known. */
  get algorithms(): NegotiatedAlgorithms | undefined {
    return this.#algorithms;
  }
  /** True once we sent NEWKEYS: upper-layer messages may flow again. */
  get sentNewKeys(): boolean {
    return this.#sentNewKeys;
  }
  /** True once the peer's NEWKEYS arrived. */
  get receivedNewKeys(): boolean {
    return this.#receivedNewKeys;
  }
  /** True once the peer's KEXINIT arrived. */
  get receivedPeerKexInit(): boolean {
    return this.#peerKexInit !== undefined;
  }
  /** True when both NEWKEYS have passed. */
  get done(): boolean {
    return this.#sentNewKeys && this.#receivedNewKeys;
  }
  /** The exchange hash H, once computed. */
  get exchangeHash(): Uint8Array | undefined {
    return this.#hash;
  }
  /** The host key blob the server presented (client) or used (server). */
  get hostKeyBlob(): Uint8Array | undefined {
    return this.#hostKeyBlob;
  }

  /** Feeds one kex-range message (20, 21, 30–49) from the peer. */
  receive(type: number, payload: Uint8Array): void {
    if (type === SSH_MSG.KEXINIT) return this.#onPeerKexInit(payload);
    if (type === SSH_MSG.NEWKEYS) return this.#onNewKeys(payload);
    if (this.#ignoreNextKexPacket) {
      // RFC 4253 §7.1: the peer guessed wrong; its first kex packet is discarded.
      this.#ignoreNextKexPacket = false;
      return;
    }
    const step = this.#step;
    if (step.name === 'expect-ecdh-init' && type === SSH_MSG.KEX_ECDH_INIT)
      return this.#onInit(step.alg, payload);
    if (step.name === 'expect-ecdh-reply' && type === SSH_MSG.KEX_ECDH_REPLY) {
      return this.#onReply(step.alg, step.exchange, payload);
    }
    throw unexpected(`key exchange message ${type} while ${step.name}`);
  }

  #onPeerKexInit(payload: Uint8Array): void {
    if (this.#peerKexInit !== undefined) throw unexpected('second KEXINIT in one key exchange');
    const peer = decodeKexInit(payload);
    const ours = this.#ours;
    this.#peerKexInit = payload.slice();
    if (this.initial) {
      const strictMarker =
        this.#host.role === 'client' ? KEX_MARKERS.STRICT_SERVER : KEX_MARKERS.STRICT_CLIENT;
      const extMarker =
        this.#host.role === 'client' ? KEX_MARKERS.EXT_INFO_SERVER : KEX_MARKERS.EXT_INFO_CLIENT;
      this.peerOffersStrict = peer.kex.includes(strictMarker);
      this.peerOffersExtInfo = peer.kex.includes(extMarker);
    }
    const [client, server] = this.#host.role === 'client' ? [ours, peer] : [peer, ours];
    const agreed = negotiate(client, server);
    this.#algorithms = agreed;
    if (peer.firstKexPacketFollows && guessWasWrong(peer, ours)) this.#ignoreNextKexPacket = true;
    const alg = kexAlgorithm(agreed.kex);
    if (!alg) throw new Error(`negotiated unknown kex ${agreed.kex}`);
    if (this.#host.role === 'server') {
      this.#step = { name: 'expect-ecdh-init', alg };
      return;
    }
    const guess = this.#guess;
    this.#guess = undefined;
    if (guess) {
      // Right by RFC 4253 §7.1 when both sides prefer the same kex and host-key algorithms:
      // the server answers the packet already sent. Wrong: the server drops it and the real
      // one follows. ssh2 servers drop every guess.
      const right = !dropsEveryGuess(this.#host.serverId) && !guessWasWrong(ours, peer);
      if (right) {
        this.#step = { name: 'expect-ecdh-reply', alg: guess.alg, exchange: guess.exchange };
        return;
      }
    }
    const exchange = alg.start(this.#host.random);
    this.#step = { name: 'expect-ecdh-reply', alg, exchange };
    const w = new SshWriter(128).byte(SSH_MSG.KEX_ECDH_INIT);
    writePublic(w, alg, exchange.publicValue);
    this.#host.sendMessage(w.finish());
  }

  /*
   * byte      SSH_MSG_KEX_ECDH_INIT / SSH_MSG_KEXDH_INIT (30)
   * string    Q_C, client's ephemeral public key octet string   | mpint e
   */
  #onInit(alg: KexAlgorithm, payload: Uint8Array): void {
    const r = new SshReader(payload);
    r.byte();
    const clientPublic = readPublic(r, alg);
    r.finish();
    const agreed = this.#algorithms!;
    const hostKey = this.#host.hostKeys.find((k) => k.signatureAlgorithms.includes(agreed.hostKey));
    if (!hostKey) throw new Error(`no host key for negotiated ${agreed.hostKey}`);
    const exchange = alg.start(this.#host.random);
    const secret = exchange.computeSecret(clientPublic);
    const h = exchangeHash(alg.hash, {
      clientId: this.#host.clientId,
      serverId: this.#host.serverId,
      clientKexinit: this.#peerKexInit!,
      serverKexinit: this.ourKexInit,
      hostKeyBlob: hostKey.publicKeyBlob,
      clientPublic,
      serverPublic: exchange.publicValue,
      encoding: alg.encoding,
      sharedSecret: secret,
    });
    this.#hash = h;
    this.#hostKeyBlob = hostKey.publicKeyBlob;
    const keys = this.#deriveKeys(alg.hash, secret, h);
    /*
     * byte      SSH_MSG_KEX_ECDH_REPLY / SSH_MSG_KEXDH_REPLY (31)
     * string    K_S, server's public host key
     * string    Q_S                                       | mpint f
     * string    signature on the exchange hash
     */
    const w = new SshWriter(1024).byte(SSH_MSG.KEX_ECDH_REPLY).string(hostKey.publicKeyBlob);
    writePublic(w, alg, exchange.publicValue);
    w.string(hostKey.sign(agreed.hostKey, h));
    this.#host.sendMessage(w.finish());
    this.#sendNewKeys(keys);
  }

  #onReply(alg: KexAlgorithm, exchange: KexExchange, payload: Uint8Array): void {
    const r = new SshReader(payload);
    r.byte();
    const hostKeyBlob = r.string(LIMITS.KEX_HOST_KEY_BYTES_MAX).slice();
    const serverPublic = readPublic(r, alg);
    const signature = r.string(LIMITS.KEX_SIGNATURE_BYTES_MAX);
    r.finish();
    const agreed = this.#algorithms!;
    const info = parsePublicKeyBlob(hostKeyBlob);
    const keyType = keyTypeOfAlgorithm(agreed.hostKey);
    if (!info || info.type !== keyType) {
      throw peerError(
        SSH_ERR.HOST_KEY_SIGNATURE_INVALID,
        `server host key is not a valid ${keyType ?? agreed.hostKey} key`,
        DISCONNECT_REASON.KEY_EXCHANGE_FAILED,
      );
    }
    const secret = exchange.computeSecret(serverPublic);
    const h = exchangeHash(alg.hash, {
      clientId: this.#host.clientId,
      serverId: this.#host.serverId,
      clientKexinit: this.ourKexInit,
      serverKexinit: this.#peerKexInit!,
      hostKeyBlob,
      clientPublic: exchange.publicValue,
      serverPublic,
      encoding: alg.encoding,
      sharedSecret: secret,
    });
    if (!verifySignature(agreed.hostKey, hostKeyBlob, signature, h)) {
      throw peerError(
        SSH_ERR.HOST_KEY_SIGNATURE_INVALID,
        `server's ${agreed.hostKey} signature over the exchange hash does not verify`,
        DISCONNECT_REASON.KEY_EXCHANGE_FAILED,
      );
    }
    this.#hash = h;
    this.#hostKeyBlob = hostKeyBlob;
    const keys = this.#deriveKeys(alg.hash, secret, h);
    this.#step = { name: 'expect-host-key-verdict', keys };
    const hostInfo: HostKeyInfo = {
      algorithm: agreed.hostKey,
      keyType: info.type,
      publicKey: hostKeyBlob,
      fingerprint: fingerprintSha256(hostKeyBlob),
    };
    let answered = false;
    this.#host.requestHostKeyVerdict(hostInfo, (ok, reason) => {
      if (answered) throw new SshError(SSH_ERR.USAGE, 'local', 'host key request already answered');
      answered = true;
      if (this.#step.name !== 'expect-host-key-verdict') return;
      if (!ok) {
        throw new SshError(
          SSH_ERR.HOST_KEY_REJECTED,
          'negotiation',
          `host key ${hostInfo.fingerprint} rejected${reason ? `: ${reason}` : ''}`,
          DISCONNECT_REASON.HOST_KEY_NOT_VERIFIABLE,
        );
      }
      this.#sendNewKeys(keys);
    });
  }

  #sendNewKeys(keys: PendingKeys): void {
    this.#step = { name: 'expect-newkeys', keys };
    this.#host.sendMessage(new Uint8Array([SSH_MSG.NEWKEYS]));
    this.#sentNewKeys = true;
    this.#host.installSealer(keys.sealer);
    if (this.done) this.#step = { name: 'done' };
  }

  /*
   * byte      SSH_MSG_NEWKEYS
   */
  #onNewKeys(payload: Uint8Array): void {
    if (payload.length !== 1) throw malformed('NEWKEYS carries extra bytes');
    if (this.#receivedNewKeys) throw unexpected('second NEWKEYS');
    const step = this.#step;
    let opener: PacketOpener;
    if (step.name === 'expect-newkeys') opener = step.keys.opener;
    else if (step.name === 'expect-host-key-verdict') opener = step.keys.opener;
    else throw unexpected(`NEWKEYS while ${step.name}`);
    this.#receivedNewKeys = true;
    this.#host.installOpener(opener);
    if (this.done) this.#step = { name: 'done' };
  }

  #deriveKeys(hash: KexHash, secret: Uint8Array, h: Uint8Array): PendingKeys {
    const agreed = this.#algorithms!;
    const sessionId = this.#host.sessionId ?? h;
    const derive = (letter: 'A' | 'B' | 'C' | 'D' | 'E' | 'F', length: number) =>
      length === 0 ? new Uint8Array(0) : deriveKey(hash, secret, h, letter, sessionId, length);
    const c2s = cipherInfo(agreed.cipherClientToServer)!;
    const s2c = cipherInfo(agreed.cipherServerToClient)!;
    const macC2s = agreed.macClientToServer ? macInfo(agreed.macClientToServer)!.keyLength : 0;
    const macS2c = agreed.macServerToClient ? macInfo(agreed.macServerToClient)!.keyLength : 0;
    const clientKeys = {
      iv: derive('A', c2s.ivLength),
      key: derive('C', c2s.keyLength),
      macKey: derive('E', macC2s),
    };
    const serverKeys = {
      iv: derive('B', s2c.ivLength),
      key: derive('D', s2c.keyLength),
      macKey: derive('F', macS2c),
    };
    const toServer = () =>
      createSealer(agreed.cipherClientToServer, agreed.macClientToServer, clientKeys);
    const fromClient = () =>
      createOpener(agreed.cipherClientToServer, agreed.macClientToServer, clientKeys);
    const toClient = () =>
      createSealer(agreed.cipherServerToClient, agreed.macServerToClient, serverKeys);
    const fromServer = () =>
      createOpener(agreed.cipherServerToClient, agreed.macServerToClient, serverKeys);
    return this.#host.role === 'client'
      ? { sealer: toServer(), opener: fromServer() }
      : { sealer: toClient(), opener: fromClient() };
  }
}

function writePublic(w: SshWriter, alg: KexAlgorithm, value: Uint8Array): void {
  if (alg.encoding === 'mpint') w.mpintUnsigned(value);
  else w.string(value);
}

function readPublic(r: SshReader, alg: KexAlgorithm): Uint8Array {
  return alg.encoding === 'mpint'
    ? r.mpintPositive(LIMITS.DH_VALUE_BYTES_MAX).slice()
    : r.string(LIMITS.ECDH_VALUE_BYTES_MAX).slice();
}

function unexpected(message: string): SshError {
  return peerError(SSH_ERR.UNEXPECTED_MESSAGE, message);
}

function malformed(message: string): SshError {
  return peerError(SSH_ERR.MALFORMED_MESSAGE, message);
}

/** Decodes a KEXINIT for inspection (used by the transport for strict-kex checks). */
export function peekKexInit(payload: Uint8Array): KexInit {
  return decodeKexInit(payload);
}
