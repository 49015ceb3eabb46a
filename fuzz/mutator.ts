/**
 * @module
 * The mutator: byte-level mutations in the style of AFL and libFuzzer (bit and byte flips,
 * interesting integers as big-endian uint32, insert, delete, duplicate, splice) plus
 * SSH-aware ones that work on whole messages (a new message number, a string length pushed
 * to a limit, messages dropped, repeated or swapped) and keep the framing valid.
 * Deterministic: the same seed and corpus give the same inputs.
 */

import { LIMITS } from '../src/index.js';
import { decodePayloads, encodePayloads, type InputFormat } from './framing.js';
import type { Rng } from './random.js';

const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff] as const;

/** uint32 values that sit on edges: signedness, widths, and this library's limits. */
const INTERESTING_32 = [
  0,
  1,
  2,
  4,
  5,
  8,
  16,
  0x7f,
  0x80,
  0xff,
  0x100,
  0x7fff,
  0x8000,
  0xffff,
  0x10000,
  0x7fffffff,
  0x80000000,
  0xfffffffe,
  0xffffffff,
  LIMITS.IDENTIFICATION_LINE_MAX,
  LIMITS.PACKET_LENGTH_MAX - 1,
  LIMITS.PACKET_LENGTH_MAX,
  LIMITS.PACKET_LENGTH_MAX + 1,
  LIMITS.NAME_LIST_BYTES_MAX,
  LIMITS.NAME_LIST_BYTES_MAX + 1,
  LIMITS.TEXT_MESSAGE_MAX,
  LIMITS.TEXT_MESSAGE_MAX + 1,
  32768,
  35000,
  261632,
  261633,
  2 * 1024 * 1024,
] as const;

/** Message numbers worth trying first: every one the core knows, and edges of each range. */
const MESSAGE_NUMBERS = [
  1, 2, 3, 4, 5, 6, 7, 20, 21, 30, 31, 32, 33, 34, 49, 50, 51, 52, 53, 60, 61, 62, 79, 80, 81, 82,
  90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 127, 128, 191, 192, 255,
] as const;

/** One message of an input, decoded for the message-level mutations. */
interface Decoded {
  /** Bytes before the first message (identification lines in a stream). */
  prefix: Uint8Array;
  payloads: Uint8Array[];
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Frames a payload as a plaintext packet with 8-byte alignment (RFC 4253 §6). */
export function plainPacket(payload: Uint8Array, padding = 4): Uint8Array {
  let pad = 8 - ((payload.length + 5) % 8);
  if (pad < 4) pad += 8;
  pad += 8 * Math.floor(padding / 8);
  const out = new Uint8Array(5 + payload.length + pad);
  writeU32(out, 0, 1 + payload.length + pad);
  out[4] = pad;
  out.set(payload, 5);
  return out;
}

/** Splits an input into its messages; bytes that do not parse stay in the last payload. */
function decode(input: Uint8Array, format: InputFormat): Decoded {
  if (format === 'payloads')
    return { prefix: new Uint8Array(0), payloads: decodePayloads(input, 1024) };
  let o = 0;
  if (format === 'stream') {
    for (;;) {
      const lf = input.indexOf(0x0a, o);
      if (lf < 0) return { prefix: input, payloads: [] };
      const isId = input[o] === 0x53 && input[o + 1] === 0x53 && input[o + 2] === 0x48;
      o = lf + 1;
      if (isId) break;
    }
  }
  const prefix = input.subarray(0, o);
  const payloads: Uint8Array[] = [];
  while (o + 5 <= input.length && payloads.length < 1024) {
    const len = readU32(input, o);
    const end = Math.min(input.length, o + 4 + len);
    const pad = input[o + 4]!;
    const payloadEnd = Math.max(o + 5, Math.min(end, o + 4 + len - pad));
    payloads.push(input.subarray(o + 5, payloadEnd));
    o = Math.max(end, o + 5);
  }
  if (o < input.length) payloads.push(input.subarray(o));
  return { prefix, payloads };
}

function encode(d: Decoded, format: InputFormat): Uint8Array {
  if (format === 'payloads') return encodePayloads(d.payloads);
  return concat(d.prefix, ...d.payloads.map((p) => plainPacket(p)));
}

/** Offsets in `p` that hold a plausible SSH string or name-list length. */
function lengthFields(p: Uint8Array): number[] {
  const out: number[] = [];
  for (let o = 1; o + 4 <= p.length && out.length < 64; o++) {
    const v = readU32(p, o);
    if (v <= p.length - o - 4 && (v > 0 || p[o] === 0)) out.push(o);
  }
  return out;
}

/** A seeded mutator for one input format. */
export class Mutator {
  readonly #rng: Rng;
  readonly #format: InputFormat;
  readonly #maxLength: number;

  constructor(rng: Rng, format: InputFormat, maxLength: number) {
    this.#rng = rng;
    this.#format = format;
    this.#maxLength = maxLength;
  }

  /** A new input derived from `input` by 1–8 stacked mutations, some using `corpus`. */
  mutate(input: Uint8Array, corpus: readonly Uint8Array[]): Uint8Array {
    let out = input;
    const rounds = 1 + this.#rng.below(this.#rng.oneIn(2) ? 2 : 8);
    for (let i = 0; i < rounds; i++) {
      out = this.#rng.oneIn(2) ? this.#messageLevel(out, corpus) : this.#byteLevel(out, corpus);
      if (out.length > this.#maxLength) out = out.subarray(0, this.#maxLength);
    }
    return out.length === 0 ? this.#rng.bytes(1 + this.#rng.below(8)) : out;
  }

  // ---- byte level ---------------------------------------------------------------------------

  #byteLevel(input: Uint8Array, corpus: readonly Uint8Array[]): Uint8Array {
    const rng = this.#rng;
    const b = input.slice();
    const pos = () => rng.below(b.length);
    switch (rng.below(12)) {
      case 0:
        if (b.length > 0) b[pos()]! ^= 1 << rng.below(8);
        return b;
      case 1:
        if (b.length > 0) b[pos()] = rng.next() & 0xff;
        return b;
      case 2:
        if (b.length > 0) b[pos()] = rng.pick(INTERESTING_8);
        return b;
      case 3:
        if (b.length > 0) {
          const p = pos();
          b[p] = (b[p]! + (rng.oneIn(2) ? 1 : 255) * (1 + rng.below(4))) & 0xff;
        }
        return b;
      case 4:
        if (b.length >= 4) writeU32(b, rng.below(b.length - 3), this.#interesting32(b));
        return b;
      case 5:
        return this.#insert(b, rng.oneIn(4) ? this.#run() : rng.bytes(1 + rng.below(16)));
      case 6:
        return this.#delete(b);
      case 7:
        return this.#duplicate(b);
      case 8: {
        // Overwrite a range with a copy of another range.
        if (b.length < 2) return b;
        const len = 1 + rng.below(Math.min(64, b.length - 1));
        const from = rng.below(b.length - len + 1);
        const to = rng.below(b.length - len + 1);
        b.copyWithin(to, from, from + len);
        return b;
      }
      case 9: {
        // Splice: our head, another entry's tail.
        const other = corpus.length > 0 ? rng.pick(corpus) : b;
        return concat(
          b.subarray(0, rng.below(b.length + 1)),
          other.subarray(rng.below(other.length + 1)),
        );
      }
      case 10: {
        // Truncate: the peer stops mid-unit.
        return b.subarray(0, rng.below(b.length + 1));
      }
      default: {
        // A uint32 near its current value: lengths off by a little.
        if (b.length < 4) return b;
        const o = rng.below(b.length - 3);
        writeU32(b, o, readU32(b, o) + (rng.below(17) - 8));
        return b;
      }
    }
  }

  #interesting32(b: Uint8Array): number {
    const rng = this.#rng;
    if (rng.oneIn(4)) return b.length + rng.below(9) - 4;
    return rng.pick(INTERESTING_32) + (rng.oneIn(4) ? rng.below(3) - 1 : 0);
  }

  /** A run of one repeated byte, sometimes long enough to reach a limit. */
  #run(): Uint8Array {
    const rng = this.#rng;
    const len = rng.oneIn(8) ? 1 + rng.below(this.#maxLength) : 1 + rng.below(256);
    return new Uint8Array(len).fill(rng.pick([0, 0x20, 0x2c, 0x41, 0xff, rng.next() & 0xff]));
  }

  #insert(b: Uint8Array, what: Uint8Array): Uint8Array {
    const at = this.#rng.below(b.length + 1);
    return concat(b.subarray(0, at), what, b.subarray(at));
  }

  #delete(b: Uint8Array): Uint8Array {
    if (b.length === 0) return b;
    const len = 1 + this.#rng.below(Math.min(b.length, this.#rng.oneIn(4) ? 256 : 8));
    const at = this.#rng.below(b.length - len + 1);
    return concat(b.subarray(0, at), b.subarray(at + len));
  }

  #duplicate(b: Uint8Array): Uint8Array {
    if (b.length === 0) return b;
    const len = 1 + this.#rng.below(Math.min(b.length, 128));
    const from = this.#rng.below(b.length - len + 1);
    return this.#insert(b, b.slice(from, from + len));
  }

  // ---- message level ------------------------------------------------------------------------

  #messageLevel(input: Uint8Array, corpus: readonly Uint8Array[]): Uint8Array {
    const rng = this.#rng;
    const d = decode(input, this.#format);
    const n = d.payloads.length;
    if (n === 0) return this.#byteLevel(input, corpus);
    const i = rng.below(n);
    const p = d.payloads[i]!;
    switch (rng.below(9)) {
      case 0: {
        // Any message number in place of this one.
        const q = p.length > 0 ? p.slice() : new Uint8Array(1);
        q[0] = rng.oneIn(2) ? rng.pick(MESSAGE_NUMBERS) : 1 + rng.below(255);
        d.payloads[i] = q;
        break;
      }
      case 1: {
        // A string or name-list length pushed to an edge.
        const fields = lengthFields(p);
        if (fields.length === 0) return this.#byteLevel(input, corpus);
        const q = p.slice();
        const o = rng.pick(fields);
        const v = readU32(q, o);
        writeU32(q, o, rng.oneIn(2) ? this.#interesting32(q) : v + rng.below(9) - 4);
        d.payloads[i] = q;
        break;
      }
      case 2: {
        // Grow a string in place, keeping its length field right.
        const fields = lengthFields(p);
        if (fields.length === 0) return this.#byteLevel(input, corpus);
        const o = rng.pick(fields);
        const v = readU32(p, o);
        const extra = this.#run();
        const q = concat(p.subarray(0, o + 4 + v), extra, p.subarray(o + 4 + v));
        writeU32(q, o, v + extra.length);
        d.payloads[i] = q;
        break;
      }
      case 3:
        d.payloads.splice(i, 1);
        break;
      case 4: {
        const times = 1 + (rng.oneIn(4) ? rng.below(64) : rng.below(3));
        d.payloads.splice(i, 0, ...new Array<Uint8Array>(times).fill(p));
        break;
      }
      case 5: {
        const j = rng.below(n);
        d.payloads[i] = d.payloads[j]!;
        d.payloads[j] = p;
        break;
      }
      case 6: {
        // A message from another entry, inserted here.
        const other = corpus.length > 0 ? decode(rng.pick(corpus), this.#format).payloads : [];
        if (other.length === 0) return this.#byteLevel(input, corpus);
        d.payloads.splice(i, 0, rng.pick(other));
        break;
      }
      case 7:
        // Cut the conversation short, or drop its tail.
        d.payloads.length = i + 1;
        break;
      default:
        d.payloads[i] = this.#byteLevel(p, []);
        break;
    }
    return encode(d, this.#format);
  }
}
