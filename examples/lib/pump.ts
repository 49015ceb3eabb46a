/**
 * A stream written into an SSH channel with backpressure, shared by the examples: the core
 * queues no application data (`channelWrite` returns how much it took), so the stream pauses
 * until the channel's `writable` event.
 */

import type { Readable } from 'node:stream';

/**
 * Writes a stream into a channel: pauses it when the channel accepts less than a chunk and
 * writes the rest on {@link OutputPump.retry} (call it on every `writable` event).
 */
export class OutputPump {
  #pending: Uint8Array | undefined;
  readonly #stream: Readable;
  readonly #write: (data: Uint8Array) => number;

  constructor(stream: Readable, write: (data: Uint8Array) => number) {
    this.#stream = stream;
    this.#write = write;
    stream.on('data', (chunk: Buffer) => this.#offer(chunk));
  }

  get idle(): boolean {
    return this.#pending === undefined;
  }

  #offer(chunk: Uint8Array): void {
    this.#pending = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.retry();
  }

  /** Writes what waits; resumes the stream once everything left. */
  retry(): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    const n = this.#write(pending);
    if (n === pending.length) {
      this.#pending = undefined;
      this.#stream.resume();
    } else {
      this.#pending = pending.subarray(n);
      this.#stream.pause();
    }
  }
}
