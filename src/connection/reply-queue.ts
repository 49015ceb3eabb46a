/**
 * @module
 * An ordered, bounded queue of replies owed to the peer: requests may be answered in any
 * order, but replies leave in the order the requests arrived (RFC 4254 §4, §5.4).
 */

import { peerError, SSH_ERR } from '../errors.js';

interface Slot {
  answered: boolean;
  success: boolean;
  data: Uint8Array | undefined;
}

/** Settles one reserved slot: `success` and optional response data. */
export type SettleFn = (success: boolean, data?: Uint8Array) => void;

/** Replies owed to the peer, in arrival order. */
export class ReplyQueue {
  readonly #limit: number;
  readonly #what: string;
  readonly #send: (success: boolean, data: Uint8Array | undefined) => void;
  #slots: Slot[] = [];

  /** `send` puts one reply on the wire; `what` names the requests in error messages. */
  constructor(
    limit: number,
    what: string,
    send: (success: boolean, data: Uint8Array | undefined) => void,
  ) {
    this.#limit = limit;
    this.#what = what;
    this.#send = send;
  }

  /** Replies not sent yet. */
  get size(): number {
    return this.#slots.length;
  }

  /**
   * Reserves the next reply. A peer with more than `limit` unanswered requests ends the
   * session with SSH_ERR_LIMIT_EXCEEDED.
   */
  reserve(): SettleFn {
    if (this.#slots.length >= this.#limit) {
      throw peerError(SSH_ERR.LIMIT_EXCEEDED, `more than ${this.#limit} ${this.#what} unanswered`);
    }
    const slot: Slot = { answered: false, success: false, data: undefined };
    const slots = this.#slots;
    slots.push(slot);
    return (success, data) => {
      slot.answered = true;
      slot.success = success;
      slot.data = data;
      if (slots === this.#slots) this.#drain();
    };
  }

  /** Forgets every owed reply (the channel closed): later answers send nothing. */
  clear(): void {
    this.#slots = [];
  }

  #drain(): void {
    const slots = this.#slots;
    while (slots.length > 0 && slots[0]!.answered) {
      const slot = slots.shift()!;
      this.#send(slot.success, slot.data);
    }
  }
}
