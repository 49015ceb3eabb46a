/**
 * @module
 * The interfaces between the protocol code and the crypto providers: packet protection
 * (RFC 4253 §6, RFC 5647, OpenSSH PROTOCOL.chacha20poly1305), key exchange methods and
 * host-key signatures. The protocol code only sees these; only provider files import
 * `node:crypto` or native libraries.
 */

/** A source of cryptographically strong random bytes; injectable for deterministic tests. */
export type RandomFn = (length: number) => Uint8Array;

/** Keys for one direction, derived per RFC 4253 §7.2. */
export interface DirectionKeys {
  /** Initial IV (letters A/B). Empty when the cipher takes none. */
  readonly iv: Uint8Array;
  /** Encryption key (letters C/D). */
  readonly key: Uint8Array;
  /** Integrity key (letters E/F). Empty for AEAD ciphers. */
  readonly macKey: Uint8Array;
}

/** What padding a protection needs (RFC 4253 §6, and the AEAD/EtM exception). */
export interface PacketFraming {
  /** Alignment for `packet_length || padding_length || payload || padding` (min 8). */
  readonly blockSize: number;
  /**
   * True when the 4-byte packet_length is *not* counted in the alignment: chacha20-poly1305,
   * AES-GCM and every EtM MAC (the length travels unencrypted or separately encrypted).
   */
  readonly lengthExcludedFromAlignment: boolean;
  /** Bytes of MAC or tag after the packet. */
  readonly macLength: number;
}

/** Seals outgoing packets for one direction. Holds the cipher state for that direction. */
export interface PacketSealer extends PacketFraming {
  /**
   * Encrypts and authenticates one packet given as pieces, writing the wire bytes straight
   * into the caller's output buffer: the payload is read once and written once (no framing
   * copy, no intermediate output buffer beyond what the cipher API itself returns).
   * @param seq - the packet sequence number (uint32).
   * @param parts - the plaintext packet as consecutive pieces: `parts[0]` starts with the
   *   uint32 packet_length and the padding_length byte (at least 5 bytes); the rest follow in
   *   order. Not modified, not retained.
   * @param out - where the packet and its MAC/tag go: at least
   *   `sum of part lengths + macLength` bytes from `offset`, not overlapping `parts`.
   * @returns the number of bytes written (packet then MAC/tag).
   */
  sealInto(seq: number, parts: readonly Uint8Array[], out: Uint8Array, offset: number): number;
  /**
   * Encrypts and authenticates one whole packet (a convenience over
   * {@link PacketSealer.sealInto} for tests and tools).
   * @param seq - the packet sequence number (uint32).
   * @param packet - the whole plaintext packet starting with its uint32 packet_length.
   * @returns the wire bytes (packet then MAC/tag), a buffer the caller owns.
   */
  seal(seq: number, packet: Uint8Array): Uint8Array;
}

/** Opens incoming packets for one direction. Holds the cipher state for that direction. */
export interface PacketOpener extends PacketFraming {
  /** How many leading bytes {@link PacketOpener.peekLength} needs (4, or one cipher block). */
  readonly lengthFieldBytes: number;
  /**
   * Learns packet_length from the first `lengthFieldBytes` bytes of a packet **without
   * advancing any cipher state** (DESIGN.md contract §1). Returns the uint32 packet_length.
   */
  peekLength(seq: number, head: Uint8Array): number;
  /**
   * Verifies and decrypts one whole packet.
   * @param wire - exactly `4 + packet_length + macLength` bytes; not modified, not retained.
   * @returns `padding_length || payload || padding` in a new buffer that does not alias
   *   `wire`, or `null` when the MAC/tag does not verify (compared in constant time).
   */
  open(seq: number, wire: Uint8Array): Uint8Array | null;
}

/** Static facts about a cipher, used to size key derivation. */
export interface CipherInfo {
  readonly name: string;
  readonly keyLength: number;
  readonly ivLength: number;
  readonly blockSize: number;
  /** AEAD ciphers ignore the negotiated MAC (RFC 5647 §5.1, PROTOCOL.chacha20poly1305). */
  readonly aead: boolean;
}

/** Static facts about a MAC. */
export interface MacInfo {
  readonly name: string;
  readonly keyLength: number;
  readonly digestLength: number;
  /** Encrypt-then-MAC (…-etm@openssh.com). */
  readonly etm: boolean;
}

/** Hash functions the kex methods name (RFC 4253 §8, RFC 5656 §6.2.1, RFC 8731). */
export type KexHash = 'sha256' | 'sha384' | 'sha512';

/** A key exchange method (RFC 4253 §8, RFC 5656 §4, RFC 8731, RFC 8268). */
export interface KexAlgorithm {
  readonly name: string;
  readonly hash: KexHash;
  /**
   * How public values travel in KEX*_INIT/REPLY and in the exchange hash: `string` for ECDH
   * (Q_C, Q_S), `mpint` for finite-field DH (e, f).
   */
  readonly encoding: 'string' | 'mpint';
  /** Makes an ephemeral key pair from `random`. */
  start(random: RandomFn): KexExchange;
}

/** One side's ephemeral state in a key exchange. */
export interface KexExchange {
  /**
   * Our public value: for ECDH the octet string Q; for DH the unsigned big-endian magnitude
   * of e or f (encode it as an mpint).
   */
  readonly publicValue: Uint8Array;
  /**
   * Computes the shared secret K from the peer's public value (as decoded from the wire: the
   * string contents for ECDH, the unsigned magnitude of the mpint for DH). Returns K as an
   * unsigned big-endian magnitude. Throws SshError `SSH_ERR_KEX_FAILED` on an invalid peer value
   * (off-curve point, all-zero X25519 result, DH value outside [2, p-2]).
   */
  computeSecret(peerPublic: Uint8Array): Uint8Array;
}
