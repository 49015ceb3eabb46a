/**
 * @module
 * A sans-IO SSH agent client (draft-ietf-sshm-ssh-agent): bytes in through
 * {@link agentReceive}, bytes out through your `send`, like a session. Requests are
 * serialized: the next one is sent when the previous reply has arrived, since replies carry
 * no request id (§3). Every failure is a typed {@link SshError}; a malformed or unexpected
 * reply ends the client once, failing every pending request.
 */

import { SSH_ERR, SshError, usageError } from '../errors.js';
import type { CloseFn, SendFn } from '../types.js';
import { AGENT_LIMITS } from './limits.js';
import {
  type AgentReply,
  decodeIdentitiesReply,
  decodeSignReply,
  encodeRequestIdentities,
  encodeSignRequest,
  frameLength,
  signFlagsFor,
} from './messages.js';

/** One key the agent holds (certificates are never listed). */
export interface AgentIdentity {
  /** The key type named in the blob, e.g. `ssh-ed25519`, `ssh-rsa`. */
  readonly keyType: string;
  /** The public key blob (RFC 4253 §6.6). */
  readonly keyBlob: Uint8Array;
  /** The agent's comment (often the key file's path), cut to `AGENT_LIMITS.COMMENT_MAX`. */
  readonly comment: string;
}

/** The outcome of one agent request. */
export type AgentResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: SshError };

/** A request handle: `cancel()` means its callback is never called (a late reply is dropped). */
export interface AgentRequest {
  /** Drops the request: its callback is never called; a reply already on its way is discarded. */
  cancel(): void;
}

interface Pending {
  readonly bytes: Uint8Array;
  /** Decodes the reply body and calls the callback. */
  readonly settle: (body: Uint8Array) => () => void;
  readonly fail: (error: SshError) => void;
  cancelled: boolean;
}

declare const agentBrand: unique symbol;

/** An opaque agent connection. Only the `agent…` functions operate on it. */
export interface AgentClient {
  readonly [agentBrand]: true;
}

class AgentState<H> {
  readonly handle: H;
  readonly send: SendFn<H>;
  readonly close: CloseFn<H>;
  readonly queue: Pending[] = [];
  inFlight: Pending | undefined;
  error: SshError | undefined;
  receiving = false;

  constructor(handle: H, send: SendFn<H>, close: CloseFn<H>) {
    this.handle = handle;
    this.send = send;
    this.close = close;
  }
}

function stateOf(agent: AgentClient): AgentState<unknown> {
  if (!((agent as unknown) instanceof AgentState)) throw usageError('not an agent client');
  return agent as unknown as AgentState<unknown>;
}

/**
 * Creates an agent client over a link. `send` puts bytes on the link (0, or -1 when it is
 * dead); `close` asks the transport to close it (called at most once).
 *
 * @example
 * ```ts
 * import net from 'node:net';
 * import { InputBuffer } from 'pluggable-ssh/transports/input-buffer';
 *
 * const socket = net.connect(agentPath); // e.g. process.env.SSH_AUTH_SOCK
 * const agent = agentCreate(socket, (s, b) => (s.write(b), 0), (s) => s.end());
 * const input = new InputBuffer((bytes) => agentReceive(agent, bytes));
 * socket.on('data', (chunk) => input.push(chunk));
 * socket.on('close', () => agentClose(agent));
 * agentRequestIdentities(agent, (r) => {
 *   console.log(r.ok ? r.value.map((id) => id.keyType) : r.error.code); // prints: ssh-ed25519
 *   agentDisconnect(agent); // ends the socket
 * });
 * ```
 */
export function agentCreate<H>(handle: H, send: SendFn<H>, close: CloseFn<H>): AgentClient {
  if (typeof send !== 'function' || typeof close !== 'function')
    throw usageError('send and close must be functions');
  return new AgentState(handle, send, close) as unknown as AgentClient;
}

/**
 * Feeds bytes from the agent. Consumes whole replies only and returns how many bytes that
 * was (0: not a whole reply yet; keep the tail and prepend it next time), or -1 when the
 * client ended (a malformed, oversized or unexpected reply, or a callback that threw). Keeps
 * no reference to `bytes`. Never throws for anything the agent sends.
 */
export function agentReceive(agent: AgentClient, bytes: Uint8Array): number {
  const s = stateOf(agent);
  if (!(bytes instanceof Uint8Array)) throw usageError('bytes must be a Uint8Array');
  if (s.receiving) throw usageError('agentReceive called from inside agentReceive');
  if (s.error) return -1;
  s.receiving = true;
  let consumed = 0;
  try {
    for (;;) {
      const rest = bytes.subarray(consumed);
      let n: number;
      try {
        n = frameLength(rest);
      } catch (e) {
        fail(s, asAgentError(e));
        return -1;
      }
      if (n === 0) return consumed;
      const pending = s.inFlight;
      if (!pending) {
        fail(s, new SshError(SSH_ERR.UNEXPECTED_MESSAGE, 'peer', 'agent reply with no request'));
        return -1;
      }
      let deliver: () => void;
      try {
        deliver = pending.settle(rest.subarray(4, n));
      } catch (e) {
        fail(s, asAgentError(e));
        return -1;
      }
      consumed += n;
      s.inFlight = undefined;
      try {
        if (!pending.cancelled) deliver();
      } catch (e) {
        fail(
          s,
          new SshError(SSH_ERR.CALLBACK_FAILED, 'local', 'an agent callback threw', undefined, {
            cause: e,
          }),
        );
        return -1;
      }
      if (s.error) return -1;
      pump(s);
      if (s.error) return -1;
    }
  } finally {
    s.receiving = false;
  }
}

/** The link closed under the client: every pending request fails with `CONNECTION_LOST`. */
export function agentClose(agent: AgentClient): void {
  const s = stateOf(agent);
  if (s.error) return;
  end(s, new SshError(SSH_ERR.CONNECTION_LOST, 'link', 'the agent connection closed'), false);
}

/**
 * Ends the client from this side: pending requests fail with `CONNECTION_LOST` and `close` is
 * called (once). Later requests fail at once.
 */
export function agentDisconnect(agent: AgentClient): void {
  const s = stateOf(agent);
  if (s.error) return;
  end(s, new SshError(SSH_ERR.CONNECTION_LOST, 'local', 'the agent client was closed'), true);
}

/** The error that ended the client, or undefined while it is open. */
export function agentLastError(agent: AgentClient): SshError | undefined {
  return stateOf(agent).error;
}

/**
 * Lists the agent's keys (SSH_AGENTC_REQUEST_IDENTITIES). Certificates are left out: this
 * library does not do OpenSSH certificates. The callback runs once, from inside
 * {@link agentReceive}, or at once when the client has already ended.
 */
export function agentRequestIdentities(
  agent: AgentClient,
  done: (result: AgentResult<AgentIdentity[]>) => void,
): AgentRequest {
  return enqueue(stateOf(agent), encodeRequestIdentities(), done, (body) => {
    const reply = decodeIdentitiesReply(body);
    if (reply.kind === 'failure') return refused(reply, 'list its keys');
    const value = reply.value
      .filter((i) => !i.certificate)
      .map(({ keyType, keyBlob, comment }) => ({ keyType, keyBlob, comment }));
    return { ok: true, value };
  });
}

/**
 * Asks the agent to sign `data` with the key `keyBlob` using `algorithm`
 * (SSH_AGENTC_SIGN_REQUEST; `rsa-sha2-256` and `rsa-sha2-512` set the SHA-2 flags, §3.6.1).
 * The result is the signature blob, `string algorithm ‖ string signature`, checked to name
 * `algorithm`: an agent that signs with another algorithm (an old agent answering ssh-rsa)
 * gives `AGENT_REFUSED`, like an SSH_AGENT_FAILURE reply. Neither ends the client.
 */
export function agentSign(
  agent: AgentClient,
  keyBlob: Uint8Array,
  data: Uint8Array,
  algorithm: string,
  done: (result: AgentResult<Uint8Array>) => void,
): AgentRequest {
  const s = stateOf(agent);
  if (!(keyBlob instanceof Uint8Array) || !(data instanceof Uint8Array))
    throw usageError('keyBlob and data must be Uint8Arrays');
  if (keyBlob.length > AGENT_LIMITS.KEY_BLOB_BYTES_MAX)
    throw usageError('keyBlob is over AGENT_LIMITS.KEY_BLOB_BYTES_MAX');
  if (data.length > AGENT_LIMITS.SIGN_DATA_BYTES_MAX)
    throw usageError('data is over AGENT_LIMITS.SIGN_DATA_BYTES_MAX');
  const bytes = encodeSignRequest(keyBlob, data, signFlagsFor(algorithm));
  return enqueue(s, bytes, done, (body) => {
    const reply = decodeSignReply(body);
    if (reply.kind === 'failure') return refused(reply, `sign with ${algorithm}`);
    if (reply.value.algorithm !== algorithm) {
      const error = new SshError(
        SSH_ERR.AGENT_REFUSED,
        'negotiation',
        `the agent signed with ${reply.value.algorithm}, not ${algorithm}`,
      );
      return { ok: false, error };
    }
    return { ok: true, value: reply.value.signature };
  });
}

function refused(reply: AgentReply<never>, what: string): AgentResult<never> {
  const type = reply.kind === 'failure' ? reply.type : 0;
  return {
    ok: false,
    error: new SshError(
      SSH_ERR.AGENT_REFUSED,
      'negotiation',
      `the agent refused to ${what} (message ${type})`,
    ),
  };
}

function enqueue<T>(
  s: AgentState<unknown>,
  bytes: Uint8Array,
  done: (result: AgentResult<T>) => void,
  decode: (body: Uint8Array) => AgentResult<T>,
): AgentRequest {
  if (typeof done !== 'function') throw usageError('the callback must be a function');
  if (s.error) {
    done({ ok: false, error: s.error });
    return { cancel: () => {} };
  }
  const held = s.queue.length + (s.inFlight ? 1 : 0);
  if (held >= AGENT_LIMITS.PENDING_REQUESTS_MAX)
    throw usageError(`more than ${AGENT_LIMITS.PENDING_REQUESTS_MAX} agent requests pending`);
  const pending: Pending = {
    bytes,
    settle: (body) => {
      const result = decode(body);
      return () => done(result);
    },
    fail: (error) => done({ ok: false, error }),
    cancelled: false,
  };
  s.queue.push(pending);
  if (!s.receiving) pump(s);
  return {
    cancel: () => {
      if (pending.cancelled) return;
      pending.cancelled = true;
      const i = s.queue.indexOf(pending);
      if (i >= 0) s.queue.splice(i, 1);
    },
  };
}

/** Sends the next request when none is in flight. */
function pump(s: AgentState<unknown>): void {
  if (s.inFlight || s.error) return;
  const next = s.queue.shift();
  if (!next) return;
  s.inFlight = next;
  let r: 0 | -1;
  try {
    r = s.send(s.handle, next.bytes);
  } catch (e) {
    const error = new SshError(SSH_ERR.CALLBACK_FAILED, 'local', 'send threw', undefined, {
      cause: e,
    });
    end(s, error, true);
    return;
  }
  if (r !== 0) {
    end(s, new SshError(SSH_ERR.SEND_FAILED, 'link', 'could not send to the agent'), true);
  }
}

function fail(s: AgentState<unknown>, error: SshError): void {
  end(s, error, true);
}

/** Ends the client once: state first, then `close`, then the callbacks. */
function end(s: AgentState<unknown>, error: SshError, callClose: boolean): void {
  if (s.error) return;
  s.error = error;
  const pending = [...(s.inFlight ? [s.inFlight] : []), ...s.queue];
  s.inFlight = undefined;
  s.queue.length = 0;
  if (callClose) {
    try {
      s.close(s.handle);
    } catch {
      // The link is being abandoned either way.
    }
  }
  for (const p of pending) {
    if (p.cancelled) continue;
    try {
      p.fail(error);
    } catch {
      // One callback's exception must not keep the others from learning the outcome.
    }
  }
}

/** Decoder failures are SshErrors; anything else is a bug reported as INTERNAL. */
function asAgentError(e: unknown): SshError {
  if (e instanceof SshError) return new SshError(e.code, e.origin, e.message);
  return new SshError(
    SSH_ERR.INTERNAL,
    'local',
    'unexpected exception decoding an agent reply',
    undefined,
    {
      cause: e,
    },
  );
}
