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
