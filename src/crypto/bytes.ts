/**
 * @module
 * Byte-buffer helpers for the packet protections: output buffers that skip zero-filling when
 * every byte will be overwritten, and plain Uint8Array views of node Buffers.
 */

/**
 * A buffer of `n` bytes the caller will overwrite completely: small ones zeroed, large ones
 * not (zero-filling 32 KiB costs ~5 µs per packet) and never from node's shared pool.
 */
export function allocBytes(n: number): Uint8Array {
  if (n < 1024) return new Uint8Array(n);
  const b = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

/** A plain Uint8Array view of a node Buffer, so `slice()` copies as callers expect. */
export function asBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Copies `parts` one after another into `out` from `offset`; returns the offset after them. */
export function putParts(parts: readonly Uint8Array[], out: Uint8Array, offset: number): number {
  let pos = offset;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return pos;
}

/** The total length of `parts`. */
export function partsLength(parts: readonly Uint8Array[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

/** What {@link sealWhole} needs of a sealer. */
interface SealsInto {
  readonly macLength: number;
  sealInto(seq: number, parts: readonly Uint8Array[], out: Uint8Array, offset: number): number;
}

/** `seal(seq, packet)` on top of `sealInto`: the wire bytes in a new buffer. */
export function sealWhole(sealer: SealsInto, seq: number, packet: Uint8Array): Uint8Array {
  const out = allocBytes(packet.length + sealer.macLength);
  sealer.sealInto(seq, [packet], out, 0);
  return out;
}
