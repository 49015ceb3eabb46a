/**
 * @module
 * The node layer's errors, all the core's `SshError`: aborted operations, timeouts, refused
 * requests (internal helpers; the codes are in `SSH_ERR`).
 */

import { SSH_ERR, SshError } from '../src/index.js';
import type { TimeoutKind } from '../transports/timeouts.js';

/** `SSH_ERR_ABORTED` for an aborted signal; `cause` is the signal's reason. */
export function abortedError(signal: AbortSignal, what: string): SshError {
  return new SshError(SSH_ERR.ABORTED, 'local', `${what} aborted`, undefined, {
    cause: signal.reason,
  });
}

/** `SSH_ERR_TIMEOUT` for a clock of transports/timeouts that ran out. */
export function timeoutError(kind: TimeoutKind): SshError {
  return new SshError(SSH_ERR.TIMEOUT, 'link', `${kind} timeout`);
}

/** `SSH_ERR_REQUEST_FAILED`: the peer refused a request. */
export function requestFailed(what: string): SshError {
  return new SshError(SSH_ERR.REQUEST_FAILED, 'negotiation', `the peer refused ${what}`);
}

/**
 * Runs `start` unless `signal` is already aborted, and calls `onAbort` if it aborts later,
 * until the returned function is called.
 */
export function watchAbort(signal: AbortSignal | undefined, onAbort: () => void): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    onAbort();
    return () => {};
  }
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}
