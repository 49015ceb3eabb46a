/**
 * @module
 * A growable writer for the SSH data types of RFC 4251 §5. One writer per message; there is
 * no shared module-level writer.
 */

const utf8 = new TextEncoder();

/** Builds one SSH message or hash input. */
export class SshWriter {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;

  constructor(initialCapacity = 256) {
    this.#buf = new Uint8Array(initialCapacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#len;
  }

  #grow(n: number): void {
    const need = this.#len + n;
    if (need <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /** byte */
  byte(v: number): this {
    this.#grow(1);
    this.#buf[this.#len++] = v & 0xff;
    return this;
  }

  /** boolean as 0 or 1 */
  bool(v: boolean): this {
    return this.byte(v ? 1 : 0);
  }

  /** uint32, big-endian */
  uint32(v: number): this {
    this.#grow(4);
    this.#view.setUint32(this.#len, v >>> 0);
    this.#len += 4;
    return this;
  }

  /** uint64, big-endian */
  uint64(v: bigint): this {
    this.#grow(8);
    this.#view.setBigUint64(this.#len, v);
    this.#len += 8;
    return this;
  }

  /** Raw bytes, no length prefix. */
  raw(bytes: Uint8Array): this {
    this.#grow(bytes.length);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
    return this;
  }

  /** string: uint32 length then bytes; a JS string is encoded as UTF-8. */
  string(v: Uint8Array | string): this {
    if (typeof v !== 'string') {
      this.uint32(v.length);
      return this.raw(v);
    }
    // Encoded straight into the buffer behind a length written afterwards (TextEncoder.encode
    // would allocate a copy first). Room for one byte per UTF-16 unit suits ASCII, the common
    // case; what did not fit (at most 3 bytes per unit) gets room and follows.
    const at = this.#len;
    this.#grow(4 + v.length);
    this.#len = at + 4;
    const first = utf8.encodeInto(v, this.#buf.subarray(this.#len));
    this.#len += first.written;
    if (first.read < v.length) {
      const rest = v.slice(first.read); // encodeInto stops between code points
      this.#grow(rest.length * 3);
      this.#len += utf8.encodeInto(rest, this.#buf.subarray(this.#len)).written;
    }
    this.#view.setUint32(at, this.#len - at - 4);
    return this;
  }

  /** name-list: names joined with commas. */
  nameList(names: readonly string[]): this {
    return this.string(names.join(','));
  }

  /**
   * mpint from an unsigned big-endian magnitude: strips leading zeros and adds a zero byte
   * when the top bit is set, so the value stays positive (RFC 4251 §5).
   */
  mpintUnsigned(magnitude: Uint8Array): this {
    let i = 0;
    while (i < magnitude.length && magnitude[i] === 0) i++;
    const m = magnitude.subarray(i);
    if (m.length > 0 && (m[0]! & 0x80) !== 0) {
      this.uint32(m.length + 1);
      this.byte(0);
      return this.raw(m);
    }
    return this.string(m);
  }

  /** The bytes written (a copy sized exactly). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}
