/**
 * @module
 * The receive side of one channel's flow control (RFC 4254 §5.2): the window we granted, the
 * largest packet we accept, and when to grant more. Automatic mode counts data as consumed
 * when it is delivered; manual mode when the application says so. More is granted, in one
 * WINDOW_ADJUST, once at least half the window was consumed.
 */

import { peerError, SSH_ERR, usageError } from '../errors.js';

/** Our receive window for one channel. */
export class ReceiveWindow {
  readonly #size: number;
  readonly #maxPacket: number;
  readonly #manual: boolean;
  /** Bytes the peer may still send. */
  #available: number;
  /** Consumed and not yet granted back. */
  #unacked = 0;
  /** Manual mode: delivered and not yet consumed. */
  #held = 0;

  constructor(size: number, maxPacket: number, manual: boolean) {
    this.#size = size;
    this.#available = size;
    this.#maxPacket = maxPacket;
    this.#manual = manual;
  }

  /** Bytes the peer may still send. */
  get available(): number {
    return this.#available;
  }
  /** The largest data per packet we accept. */
  get maxPacket(): number {
    return this.#maxPacket;
  }

  /** Accounts for `n` bytes from the peer; more than one packet or the window ends the session. */
  receive(n: number): void {
    if (n > this.#maxPacket) {
      throw peerError(
        SSH_ERR.LIMIT_EXCEEDED,
        `channel data of ${n} bytes exceeds the maximum packet size ${this.#maxPacket}`,
      );
    }
    if (n > this.#available) {
      throw peerError(
        SSH_ERR.LIMIT_EXCEEDED,
        `channel data of ${n} bytes exceeds the window of ${this.#available}`,
      );
    }
    this.#available -= n;
  }

  /** `n` received bytes go to the application: consumed now (automatic) or held (manual). */
  delivered(n: number): void {
    if (this.#manual) this.#held += n;
    else this.#unacked += n;
  }

  /** channelConsume: the application processed `n` held bytes (manual mode only). */
  consume(n: number): void {
    if (!this.#manual) throw usageError('channelConsume needs a channel with manualWindow');
    if (!Number.isInteger(n) || n < 0 || n > this.#held) {
      throw usageError(`cannot consume ${n} bytes: ${this.#held} delivered and unconsumed`);
    }
    this.#held -= n;
    this.#unacked += n;
  }

  /** The bytes to grant now with WINDOW_ADJUST (counted as granted), or 0 for not yet. */
  takeAdjustment(): number {
    if (this.#unacked === 0 || this.#unacked < Math.ceil(this.#size / 2)) return 0;
    const bytes = this.#unacked;
    this.#unacked = 0;
    this.#available += bytes;
    return bytes;
  }
}
