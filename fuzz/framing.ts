/**
 * @module
 * The shapes of fuzz inputs and the unit boundaries the oracle expects: identification
 * lines then plaintext binary packets (RFC 4253 §4.2, §6) for the plaintext phases, and a
 * list of length-prefixed payloads for the encrypted phases (the harness seals each one).
 */

const LF = 0x0a;

/** How a target reads its input. */
export type InputFormat =
  /** Identification lines, then plaintext packets, fed as they are. */
  | 'stream'
  /** Plaintext binary packets, fed as they are. */
  | 'packets'
  /** uint32 length ‖ payload, repeated; each payload is sealed by the real peer. */
  | 'payloads';

function u32(bytes: Uint8Array, o: number): number {
  return ((bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!) >>> 0;
}

/**
 * Where a whole unit may end in some input: a set of offsets, and past `unknownFrom` (the end
 * of a NEWKEYS packet, after which lengths travel encrypted) any offset.
 */
export interface Boundaries {
  readonly offsets: Set<number>;
  unknownFrom: number;
}

/** Whether a consumption count lands on a unit boundary. */
export function isBoundary(b: Boundaries, n: number): boolean {
  return b.offsets.has(n) || n >= b.unknownFrom;
}

/**
 * Offsets where a whole plaintext packet ends, walking packet_length fields from `start`
 * (each packet is 4 + packet_length bytes), up to the first NEWKEYS (message 21), after
 * which packets are encrypted. The result includes `start` itself.
 */
export function packetBoundaries(
  bytes: Uint8Array,
  start = 0,
  into: Boundaries = { offsets: new Set<number>(), unknownFrom: Number.POSITIVE_INFINITY },
): Boundaries {
  into.offsets.add(start);
  let o = start;
  while (o + 4 <= bytes.length) {
    const end = o + 4 + u32(bytes, o);
    if (end > bytes.length) break;
    into.offsets.add(end);
    if (bytes[o + 5] === 21 && end >= o + 6) {
      into.unknownFrom = end;
      break;
    }
    o = end;
  }
  return into;
}

/**
 * Offsets where a whole unit ends in a stream: after each LF up to and including the first
 * line that starts with `SSH-`, then after each plaintext packet.
 */
export function streamBoundaries(bytes: Uint8Array): Boundaries {
  const out: Boundaries = { offsets: new Set<number>([0]), unknownFrom: Number.POSITIVE_INFINITY };
  let o = 0;
  while (o < bytes.length) {
    const lf = bytes.indexOf(LF, o);
    if (lf < 0) return out;
    const isId =
      bytes[o] === 0x53 && bytes[o + 1] === 0x53 && bytes[o + 2] === 0x48 && bytes[o + 3] === 0x2d;
    o = lf + 1;
    out.offsets.add(o);
    if (isId) return packetBoundaries(bytes, o, out);
  }
  return out;
}

/** Splits a payload-list input; a length past the end takes what is left. */
export function decodePayloads(input: Uint8Array, maxPayloads = 256): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < input.length && out.length < maxPayloads) {
    if (o + 4 > input.length) {
      out.push(input.subarray(o));
      break;
    }
    const len = u32(input, o);
    const end = Math.min(input.length, o + 4 + len);
    out.push(input.subarray(o + 4, end));
    o = end;
  }
  return out;
}

/** Builds a payload-list input. */
export function encodePayloads(payloads: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of payloads) n += 4 + p.length;
  const out = new Uint8Array(n);
  const view = new DataView(out.buffer);
  let o = 0;
  for (const p of payloads) {
    view.setUint32(o, p.length);
    out.set(p, o + 4);
    o += 4 + p.length;
  }
  return out;
}

/** A framed message inside an input: where its length field and its message number are. */
export interface FramedMessage {
  /** Offset of the uint32 length field. */
  readonly lengthAt: number;
  /** Offset of the message number. */
  readonly typeAt: number;
  /** Offset just past the message (payload end, padding included for packets). */
  readonly end: number;
}

/** The messages of an input in its format, for the SSH-aware mutations. */
export function framedMessages(input: Uint8Array, format: InputFormat): FramedMessage[] {
  const out: FramedMessage[] = [];
  let o = 0;
  if (format === 'stream') {
    // Skip lines up to the identification line.
    for (;;) {
      const lf = input.indexOf(LF, o);
      if (lf < 0) return out;
      const isId = input[o] === 0x53 && input[o + 1] === 0x53 && input[o + 2] === 0x48;
      o = lf + 1;
      if (isId) break;
    }
  }
  const headerLength = format === 'payloads' ? 4 : 5;
  while (o + headerLength < input.length && out.length < 1024) {
    const end = Math.min(input.length, o + 4 + u32(input, o));
    out.push({ lengthAt: o, typeAt: o + headerLength, end });
    if (end <= o + headerLength) break;
    o = end;
  }
  return out;
}
