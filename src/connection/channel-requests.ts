/**
 * @module
 * Channel requests of one channel, both directions (RFC 4254 §5.4): the peer's requests
 * become handles whose replies leave in arrival order, and our requests that want a reply
 * wait, bounded, for the peer's CHANNEL_SUCCESS/FAILURE in order.
 */

import { SSH_MSG } from '../constants.js';
import { peerError, SSH_ERR, usageError } from '../errors.js';
import { CONNECTION_LIMITS } from './limits.js';
import { checkChannelOnly, decodeChannelRequest } from './messages.js';
import { ReplyQueue } from './reply-queue.js';
import { decodeRequestFields } from './requests.js';
import type { ChannelRequest } from './types.js';

/** The request bookkeeping of one channel. */
export class ChannelRequests {
  readonly #replies: ReplyQueue;
  readonly #answer: (fn: () => void) => void;
  /** Names of our requests awaiting a reply, oldest first. */
  #awaiting: string[] = [];

  /**
   * `sendReply` puts CHANNEL_SUCCESS/FAILURE on the wire (when the channel still may);
   * `answer` runs an application's answer as a session call (LayerHost.answer).
   */
  constructor(sendReply: (success: boolean) => void, answer: (fn: () => void) => void) {
    this.#replies = new ReplyQueue(
      CONNECTION_LIMITS.PENDING_CHANNEL_REQUESTS_MAX,
      'channel requests',
      (success) => sendReply(success),
    );
    this.#answer = answer;
  }

  /**
   * A CHANNEL_REQUEST from the peer, decoded and checked. Returns the handle to deliver, or
   * undefined when there is nothing to deliver: `deliver` is false (we sent CLOSE, so not even
   * a reply may follow) or the request is answered here.
   */
  received(payload: Uint8Array, deliver: boolean): ChannelRequest | undefined {
    const { name, wantReply, data } = decodeChannelRequest(payload);
    const parsed = decodeRequestFields(name, data);
    if (!deliver) return undefined;
    // OpenSSH's server probes a client with this request; any reply will do.
    if (name === 'keepalive@openssh.com') {
      if (wantReply) this.#replies.reserve()(false);
      return undefined;
    }
    const settle = wantReply ? this.#replies.reserve() : undefined;
    let answered = false;
    const answer = (success: boolean) => {
      if (answered) throw usageError(`channel request ${name} was already answered`);
      answered = true;
      if (settle) this.#answer(() => settle(success));
    };
    return {
      name,
      wantReply,
      data,
      parsed,
      accept: () => answer(true),
      reject: () => answer(false),
    };
  }

  /** CHANNEL_SUCCESS/FAILURE from the peer: the name of our oldest request wanting a reply. */
  replied(payload: Uint8Array): { request: string; success: boolean } {
    checkChannelOnly(payload);
    const request = this.#awaiting.shift();
    if (request === undefined) {
      throw peerError(
        SSH_ERR.UNEXPECTED_MESSAGE,
        'a channel request reply with no request outstanding',
      );
    }
    return { request, success: payload[0] === SSH_MSG.CHANNEL_SUCCESS };
  }

  /** Records one of our requests before it is sent; a usage error past the bound. */
  sending(name: string, wantReply: boolean): void {
    if (!wantReply) return;
    if (this.#awaiting.length >= CONNECTION_LIMITS.PENDING_CHANNEL_REQUESTS_MAX) {
      throw usageError('too many channel requests awaiting replies');
    }
    this.#awaiting.push(name);
  }

  /** We sent CLOSE: the replies we owe are never sent (the peer may still reply to ours). */
  dropOwedReplies(): void {
    this.#replies.clear();
  }

  /** The channel is closed: nothing more is owed or awaited. */
  clear(): void {
    this.#replies.clear();
    this.#awaiting = [];
  }
}
