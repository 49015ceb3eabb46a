/**
 * @module
 * SSH_MSG_KEXINIT encoding, decoding and algorithm negotiation (RFC 4253 §7.1), with the
 * pseudo-algorithms of RFC 8308 §2.1 (ext-info) and OpenSSH PROTOCOL §1.10 (strict kex).
 */

import { DISCONNECT_REASON, SSH_MSG } from '../constants.js';
import { KEX_MARKERS } from '../crypto/algorithms.js';
import { cipherInfo } from '../crypto/packet-protection.js';
import { SSH_ERR, SshError } from '../errors.js';
import { SshReader } from '../wire/reader.js';
import { SshWriter } from '../wire/writer.js';

/** The ten name-lists of a KEXINIT. */
export interface KexInitLists {
  readonly kex: readonly string[];
  readonly hostKey: readonly string[];
  readonly cipherClientToServer: readonly string[];
  readonly cipherServerToClient: readonly string[];
  readonly macClientToServer: readonly string[];
  readonly macServerToClient: readonly string[];
  readonly compressionClientToServer: readonly string[];
  readonly compressionServerToClient: readonly string[];
}

/** A decoded KEXINIT. */
export interface KexInit extends KexInitLists {
  readonly firstKexPacketFollows: boolean;
}

/** What both sides agreed on. MACs are `undefined` when the cipher is AEAD. */
export interface NegotiatedAlgorithms {
  readonly kex: string;
  readonly hostKey: string;
  readonly cipherClientToServer: string;
  readonly cipherServerToClient: string;
  readonly macClientToServer: string | undefined;
  readonly macServerToClient: string | undefined;
  readonly compressionClientToServer: string;
  readonly compressionServerToClient: string;
}

/*
 * byte         SSH_MSG_KEXINIT
 * byte[16]     cookie (random bytes)
 * name-list    kex_algorithms
 * name-list    server_host_key_algorithms
 * name-list    encryption_algorithms_client_to_server
 * name-list    encryption_algorithms_server_to_client
 * name-list    mac_algorithms_client_to_server
 * name-list    mac_algorithms_server_to_client
 * name-list    compression_algorithms_client_to_server
 * name-list    compression_algorithms_server_to_client
 * name-list    languages_client_to_server
 * name-list    languages_server_to_client
 * boolean      first_kex_packet_follows
 * uint32       0 (reserved for future extension)
 */

/** Encodes a KEXINIT payload with the given 16-byte cookie. */
export function encodeKexInit(
  cookie: Uint8Array,
  lists: KexInitLists,
  firstKexPacketFollows = false,
): Uint8Array {
  const w = new SshWriter(512);
  w.byte(SSH_MSG.KEXINIT).raw(cookie.subarray(0, 16));
  w.nameList(lists.kex).nameList(lists.hostKey);
  w.nameList(lists.cipherClientToServer).nameList(lists.cipherServerToClient);
  w.nameList(lists.macClientToServer).nameList(lists.macServerToClient);
  w.nameList(lists.compressionClientToServer).nameList(lists.compressionServerToClient);
  w.nameList([]).nameList([]);
  w.bool(firstKexPacketFollows).uint32(0);
  return w.finish();
}

/**
 * ssh2 (the npm package) up to 1.17 drops every guessed kex packet, even one that RFC 4253
 * §7.1 counts right, and waits for another (measured with 1.17.0:
 * test/interop-connection/ssh2.test.ts). Recognised by its default identification,
 * `SSH-2.0-ssh2js<major>.<minor>.<patch>`; later versions are not assumed to behave alike.
 */
export function dropsEveryGuess(peerId: string): boolean {
  const m = /^SSH-2\.0-ssh2js(\d+)\.(\d+)\./.exec(peerId);
  return m !== null && (Number(m[1]) < 1 || (Number(m[1]) === 1 && Number(m[2]) <= 17));
}

/** Decodes a KEXINIT payload (starting with the message number). */
export function decodeKexInit(payload: Uint8Array): KexInit {
  const r = new SshReader(payload);
  r.byte();
  r.raw(16);
  const kex = r.nameList();
  const hostKey = r.nameList();
  const cipherClientToServer = r.nameList();
  const cipherServerToClient = r.nameList();
  const macClientToServer = r.nameList();
  const macServerToClient = r.nameList();
  const compressionClientToServer = r.nameList();
  const compressionServerToClient = r.nameList();
  r.nameList();
  r.nameList();
  const firstKexPacketFollows = r.bool();
  r.uint32();
  r.finish();
  return {
    kex,
    hostKey,
    cipherClientToServer,
    cipherServerToClient,
    macClientToServer,
    macServerToClient,
    compressionClientToServer,
    compressionServerToClient,
    firstKexPacketFollows,
  };
}

const PSEUDO = new Set<string>(Object.values(KEX_MARKERS));

function choose(category: string, client: readonly string[], server: readonly string[]): string {
  for (const name of client) {
    if (!PSEUDO.has(name) && server.includes(name)) return name;
  }
  throw new SshError(
    SSH_ERR.NO_COMMON_ALGORITHM,
    'negotiation',
    `no common ${category} algorithm; client offered [${client.join(',')}], server offered [${server.join(',')}]`,
    DISCONNECT_REASON.KEY_EXCHANGE_FAILED,
  );
}

function chooseMac(
  cipher: string,
  client: readonly string[],
  server: readonly string[],
): string | undefined {
  // AEAD ciphers ignore the MAC lists (RFC 5647 §5.1; PROTOCOL.chacha20poly1305).
  if (cipherInfo(cipher)?.aead) return undefined;
  return choose('MAC', client, server);
}

/** Negotiates per RFC 4253 §7.1: the first client algorithm the server also supports. */
export function negotiate(client: KexInit, server: KexInit): NegotiatedAlgorithms {
  const cipherClientToServer = choose(
    'cipher (client to server)',
    client.cipherClientToServer,
    server.cipherClientToServer,
  );
  const cipherServerToClient = choose(
    'cipher (server to client)',
    client.cipherServerToClient,
    server.cipherServerToClient,
  );
  return {
    kex: choose('key exchange', client.kex, server.kex),
    hostKey: choose('host key', client.hostKey, server.hostKey),
    cipherClientToServer,
    cipherServerToClient,
    macClientToServer: chooseMac(
      cipherClientToServer,
      client.macClientToServer,
      server.macClientToServer,
    ),
    macServerToClient: chooseMac(
      cipherServerToClient,
      client.macServerToClient,
      server.macServerToClient,
    ),
    compressionClientToServer: choose(
      'compression',
      client.compressionClientToServer,
      server.compressionClientToServer,
    ),
    compressionServerToClient: choose(
      'compression',
      client.compressionServerToClient,
      server.compressionServerToClient,
    ),
  };
}

/**
 * RFC 4253 §7.1: a guessed first kex packet is right only when both sides prefer the same
 * kex and host-key algorithms (the first name of each list); otherwise the receiver ignores
 * it. OpenSSH (`proposals_match`) and dropbear (without kexguess2) apply the same rule; the
 * negotiated algorithm being the guesser's first choice is not enough.
 */
export function guessWasWrong(guesser: KexInitLists, receiver: KexInitLists): boolean {
  return guesser.kex[0] !== receiver.kex[0] || guesser.hostKey[0] !== receiver.hostKey[0];
}
