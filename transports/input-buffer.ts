/**
 * @module
 * The input buffer every transport shares: it keeps the unconsumed tail that
 * `sessionReceive` left, appends new bytes without quadratic copying, and never nests
 * `sessionReceive` for one session — bytes that arrive during a call are appended and the
 * buffer loops instead (DESIGN.md contract §1, §5).
 */

const NO_BYTES = new Uint8Array(0);

/** The receive function an input buffer drives: `sessionReceive` bound to one session. */
export type ReceiveFn = (bytes: Uint8Array) => number;

/**
 * Holds the bytes a session has not consumed yet.
 *
 * @example
 * ```ts
 * import net from 'node:net';
 *
 * const socket = net.connect(port, host);
 * const session = sessionCreate(socket, (s, b) => (s.write(b), 0), (s) => s.end(), {
 *   role: 'client',
 *   onHostKey,
 * });
 * const input = new InputBuffer((bytes) => sessionReceive(session, bytes));
 * socket.on('data', (chunk) => { if (input.push(chunk) < 0) socket.pause(); }); // -1: ended
 * socket.on('close', () => input.afterDrain(() => sessionClose(session)));
 * ```
 */
export class InputBuffer {
  #receive: ReceiveFn | undefined;
  #buf = NO_BYTES;
  #start = 0;
  #end = 0;
  #draining = false;
  #ended = false;
  #onDrained: (() => void) | undefined;

  /** `receive` may be given later with {@link InputBuffer.attach} (bytes are held until then). */
  constructor(receive?: ReceiveFn) {
    this.#receive = receive;
  }

  /** Bytes held, not yet consumed by the session. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** True once the session returned -1. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Sets the receive function and feeds it what arrived before. Returns as {@link InputBuffer.push}. */
  attach(receive: ReceiveFn): number {
    this.#receive = receive;
    return this.#drain();
  }

  /**
   * Appends a copy of `chunk` and feeds the session unless a feed is already running (then
   * the running loop picks the bytes up). Returns -1 once the session has ended, else 0.
   */
  push(chunk: Uint8Array): number {
    if (this.#ended) return -1;
    if (this.#end === this.#start && this.#receive !== undefined && !this.#draining) {
      // Nothing held: feed the chunk itself and copy only what the session leaves (the core
      // keeps no reference to its input after a call, SPEC §2.1).
      return this.#drain(chunk);
    }
    this.#append(chunk);
    return this.#drain();
  }

  /**
   * Runs `fn` once every byte held so far has been fed: at once when no feed is running,
   * else when the running feed finishes. A transport uses it to report a closed link only
   * after the bytes that arrived before the close were seen by the session.
   */
  afterDrain(fn: () => void): void {
    if (!this.#draining) {
      fn();
      return;
    }
    const previous = this.#onDrained;
    this.#onDrained = () => {
      previous?.();
      fn();
    };
  }

  #append(chunk: Uint8Array): void {
    const need = this.#end + chunk.length;
    if (need > this.#buf.length) {
      const live = this.#end - this.#start;
      // Never move bytes in place while a feed runs: the session may be reading them.
      if (!this.#draining && live + chunk.length <= this.#buf.length / 2) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        const next = new Uint8Array(Math.max(4096, (live + chunk.length) * 2));
        next.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = next;
      }
      this.#start = 0;
      this.#end = live;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** Puts `tail` in front of the bytes held (those that arrived while it was being fed). */
  #prepend(tail: Uint8Array): void {
    const live = this.#end - this.#start;
    if (live === 0 && tail.length <= this.#buf.length) {
      this.#buf.set(tail);
    } else {
      const next = new Uint8Array(Math.max(4096, (live + tail.length) * 2));
      next.set(tail);
      next.set(this.#buf.subarray(this.#start, this.#end), tail.length);
      this.#buf = next;
    }
    this.#start = 0;
    this.#end = live + tail.length;
  }

  /** Feeds `first` (a chunk not copied in), then the bytes held, while the session consumes. */
  #drain(first?: Uint8Array): number {
    if (this.#ended) return -1;
    const receive = this.#receive;
    if (!receive || this.#draining) return 0;
    this.#draining = true;
    try {
      if (first !== undefined) {
        let at = 0;
        while (at < first.length) {
          const n = receive(at === 0 ? first : first.subarray(at));
          if (n < 0) return this.#endInput();
          if (n === 0) break;
          at += n;
        }
        if (at < first.length) this.#prepend(first.subarray(at));
        else if (this.#end === this.#start) this.#buf = NO_BYTES; // idle: hold no memory
      }
      while (this.#end > this.#start) {
        const n = receive(this.#buf.subarray(this.#start, this.#end));
        if (n < 0) return this.#endInput();
        if (n === 0) break;
        this.#start += n;
      }
      if (this.#start === this.#end) {
        // Everything held was consumed: hold no memory while idle.
        this.#start = this.#end = 0;
        this.#buf = NO_BYTES;
      }
    } finally {
      this.#draining = false;
      const after = this.#onDrained;
      this.#onDrained = undefined;
      after?.();
    }
    return this.#ended ? -1 : 0;
  }

  /** The session returned -1: drop everything held. */
  #endInput(): -1 {
    this.#ended = true;
    this.#start = this.#end = 0;
    this.#buf = NO_BYTES;
    return -1;
  }
}
