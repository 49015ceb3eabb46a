/**
 * @module
 * A bounds-checked reader for the SSH data types of RFC 4251 §5: byte, boolean, uint32,
 * uint64, string, mpint, name-list. Every read checks the remaining length; `finish()` rejects
 * trailing bytes. Failures throw {@link SshError} with code `SSH_ERR_MALFORMED_MESSAGE`.
 */

import { peerError, SSH_ERR, type SshError } from '../errors.js';
import { LIMITS } from '../limits.js';

// ignoreBOM: a leading U+FEFF is data (a user name must reach the application unaltered).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function malformed(what: string): SshError {
  return peerError(SSH_ERR.MALFORMED_MESSAGE, `malformed message: ${what}`);
}

/**
 * Reads SSH wire types from a byte range. Holds a view on the bytes it was given; strings
 * it returns are sub-views of the same memory (callers that keep them past the message copy).
 */
export class SshReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #pos = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#bytes.length - this.#pos;
  }

  #need(n: number, what: string): void {
    if (n > this.#bytes.length - this.#pos) throw malformed(`truncated ${what}`);
  }

  /** byte (RFC 4251 §5). */
  byte(): number {
    this.#need(1, 'byte');
    return this.#bytes[this.#pos++]!;
  }

  /** boolean: any non-zero value is true (RFC 4251 §5). */
  bool(): boolean {
    return this.byte() !== 0;
  }

  /** uint32, big-endian. */
  uint32(): number {
    this.#need(4, 'uint32');
    const v = this.#view.getUint32(this.#pos);
    this.#pos += 4;
    return v;
  }

  /** uint64, big-endian. */
  uint64(): bigint {
    this.#need(8, 'uint64');
    const v = this.#view.getBigUint64(this.#pos);
    this.#pos += 8;
    return v;
  }

  /** `n` raw bytes (a view, not a copy). */
  raw(n: number): Uint8Array {
    this.#need(n, 'bytes');
    const v = this.#bytes.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return v;
  }

  /** string: uint32 length then bytes (a view, not a copy). `max` bounds the length. */
  string(max: number = LIMITS.PACKET_LENGTH_MAX): Uint8Array {
    const n = this.uint32();
    if (n > max) throw malformed(`string of ${n} bytes over the limit of ${max}`);
    return this.raw(n);
  }

  /** A string holding UTF-8 text (RFC 4251 §5, ISO-10646 UTF-8). */
  utf8(max?: number): string {
    const b = this.string(max);
    try {
      return utf8.decode(b);
    } catch {
      throw malformed('invalid UTF-8');
    }
  }

  /** A string holding US-ASCII text, as used for algorithm and method names. */
  ascii(max?: number): string {
    const b = this.string(max);
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (c < 0x20 || c > 0x7e) throw malformed('non-printable ASCII in a name');
    }
    // Printable ASCII only, so one UTF-8 decode gives it exactly (not a string per byte; the
    // utf-8 label, unlike latin1, exists in every build of node, with or without ICU).
    return utf8.decode(b);
  }

  /** name-list: comma-separated ASCII names, none empty (RFC 4251 §5). */
  nameList(): string[] {
    const s = this.ascii(LIMITS.NAME_LIST_BYTES_MAX);
    if (s.length === 0) return [];
    const names = s.split(',');
    if (names.length > LIMITS.NAME_LIST_ENTRIES_MAX)
      throw malformed('name-list has too many names');
    for (const n of names) {
      if (n.length === 0 || n.length > LIMITS.NAME_MAX)
        throw malformed('name-list has an empty or overlong name');
    }
    return names;
  }

  /**
   * mpint (RFC 4251 §5), returned as its two's-complement bytes exactly as sent.
   * Rejects non-minimal encodings. Use {@link mpintPositive} for values that must be > 0.
   */
  mpint(max?: number): Uint8Array {
    const b = this.string(max);
    if (
      b.length >= 2 &&
      ((b[0] === 0 && (b[1]! & 0x80) === 0) || (b[0] === 0xff && (b[1]! & 0x80) !== 0))
    ) {
      throw malformed('non-minimal mpint');
    }
    return b;
  }

  /** A positive mpint, returned as unsigned big-endian magnitude without the sign byte. */
  mpintPositive(max?: number): Uint8Array {
    const b = this.mpint(max);
    if (b.length === 0 || (b[0]! & 0x80) !== 0) throw malformed('mpint is not positive');
    return b[0] === 0 ? b.subarray(1) : b;
  }

  /** Asserts every byte was read (no trailing data). */
  finish(): void {
    if (this.#pos !== this.#bytes.length) throw malformed(`${this.remaining} trailing bytes`);
  }

  /** Returns the bytes not read yet and marks them read (for fields that run to the end). */
  rest(): Uint8Array {
    const v = this.#bytes.subarray(this.#pos);
    this.#pos = this.#bytes.length;
    return v;
  }
}
