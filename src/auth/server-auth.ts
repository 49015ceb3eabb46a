/**
 * @module
 * The server side of ssh-userauth (RFC 4252): decodes each USERAUTH_REQUEST, refuses what
 * policy refuses, verifies publickey signatures itself (RFC 4252 §7, RFC 8332), and hands every
 * remaining attempt to the application as an {@link AuthRequest} answered now or later;
 * keyboard-interactive prompts follow RFC 4256.
 */

import { DISCONNECT_REASON } from '../constants.js';
import { SERVER_SIG_ALGS } from '../crypto/algorithms.js';
import {
  fingerprintSha256,
  keyTypeOfAlgorithm,
  parsePublicKeyBlob,
  verifySignature,
} from '../crypto/host-key.js';
import { peerError, SSH_ERR, SshError, usageError } from '../errors.js';
import type { LayerHost } from '../layer.js';
import { AUTH_LIMITS } from '../limits.js';
import {
  CONNECTION_SERVICE,
  encodeBanner,
  encodeFailure,
  encodeInfoRequest,
  encodePkOk,
  encodeSuccess,
  sameBytes,
  USERAUTH_MSG,
} from './messages.js';
import {
  decodeInfoResponse,
  decodeKeyboardInteractiveFields,
  decodePasswordFields,
  decodePublicKeyFields,
  decodeRequestHeader,
  type PublicKeyFields,
  publicKeySignedData,
  type RequestHeader,
} from './request-messages.js';
import { validateNextMethods, validatePromptInfo, validateServerConfig } from './server-config.js';
import type {
  AuthEvent,
  AuthRequest,
  KeyboardInteractivePromptInfo,
  ServerAuthConfig,
  ServerAuthMethodName,
} from './types.js';

const DEFAULT_METHODS: readonly ServerAuthMethodName[] = ['publickey', 'password'];

/** A request decoded down to what policy and the application need. */
type Attempt =
  | { readonly method: 'none' }
  | { readonly method: 'password'; readonly password: string | undefined; readonly change: boolean }
  | { readonly method: 'publickey'; readonly fields: PublicKeyFields }
  | { readonly method: 'keyboard-interactive' }
  | { readonly method: 'unknown' };

/** One attempt handed to the application. */
interface Pending {
  readonly username: string;
  readonly method: ServerAuthMethodName;
  /** A publickey query (no signature): accept answers PK_OK with these. */
  readonly query: { readonly algorithm: string; readonly blob: Uint8Array } | undefined;
  /** `prompting`: waiting for the client's INFO_RESPONSE; `answered`: decided. */
  phase: 'open' | 'prompting' | 'answered';
}

/** Where the server is, named after what it waits for. */
type ServerState =
  | { readonly kind: 'awaiting-request' }
  | { readonly kind: 'awaiting-decision'; readonly pending: Pending }
  | {
      readonly kind: 'awaiting-info-response';
      readonly pending: Pending;
      readonly promptCount: number;
      readonly onResponses: (responses: readonly string[]) => void;
    }
  | { readonly kind: 'authenticated' };

/**
 * ssh-userauth for a server. Constructed by the upper layers with the server configuration
 * (its {@link ServerAuthConfig} fields).
 */
export class ServerAuth {
  readonly #host: LayerHost;
  readonly #onAuth: ServerAuthConfig['onAuth'];
  readonly #initialMethods: readonly ServerAuthMethodName[];
  readonly #maxAttempts: number;
  readonly #banner: string | undefined;
  readonly #onSuccess: (username: string) => void;
  #state: ServerState = { kind: 'awaiting-request' };
  #failures = 0;
  #bannerSent = false;
  #noneTried = false;
  /** Methods that can continue (RFC 4252 §5.1). */
  #allowed: readonly ServerAuthMethodName[];
  /** Methods that succeeded partially, in order. */
  #completed: ServerAuthMethodName[] = [];
  /** The user name of the first request, as sent. */
  #user: Uint8Array | undefined;

  constructor(host: LayerHost, config: ServerAuthConfig, onSuccess: (username: string) => void) {
    validateServerConfig(config);
    this.#host = host;
    this.#onAuth = config.onAuth;
    // Without an application to decide, no method can succeed: say so with an empty list.
    this.#initialMethods = config.onAuth ? [...(config.authMethods ?? DEFAULT_METHODS)] : [];
    this.#allowed = this.#initialMethods;
    this.#maxAttempts = config.maxAuthAttempts ?? AUTH_LIMITS.ATTEMPTS_DEFAULT;
    this.#banner = config.banner;
    this.#onSuccess = onSuccess;
  }

  /** The ssh-userauth service started; the server waits for the client's first request. */
  start(): void {}

  /** Handles messages 50–79. Throws SshError for anything out of place. */
  handleMessage(type: number, payload: Uint8Array): boolean {
    if (type < 50 || type > 79) return false;
    if (this.#state.kind === 'authenticated') throw unexpected(type, this.#state);
    if (type === USERAUTH_MSG.REQUEST) {
      this.#onRequest(payload);
      return true;
    }
    if (type === USERAUTH_MSG.INFO_RESPONSE && this.#state.kind === 'awaiting-info-response') {
      this.#onInfoResponse(payload, this.#state);
      return true;
    }
    // 51–53 and 60 are the server's own messages; a client sending them (SUCCESS above all,
    // cf. CVE-2018-10933) is attacking or broken.
    throw unexpected(type, this.#state);
  }

  // ---- requests ---------------------------------------------------------------------------

  #onRequest(payload: Uint8Array): void {
    const header = decodeRequestHeader(payload);
    if (header.service !== CONNECTION_SERVICE) {
      // RFC 4252 §5: the server may disconnect at once when the service is not available.
      throw peerError(
        SSH_ERR.SERVICE_NOT_AVAILABLE,
        `service ${header.service} is not available`,
        DISCONNECT_REASON.SERVICE_NOT_AVAILABLE,
      );
    }
    const attempt = decodeAttempt(header);
    // RFC 4252 §5: a new request aborts one in progress; an unanswered attempt counts as failed.
    if (this.#state.kind !== 'awaiting-request') {
      this.#state = { kind: 'awaiting-request' };
      this.#countFailure();
    }
    if (!this.#bannerSent) {
      this.#bannerSent = true;
      if (this.#banner) this.#host.sendControl(encodeBanner(this.#banner));
    }
    // RFC 4252 §5: a change of user name flushes the authentication state.
    if (this.#user !== undefined && !sameBytes(this.#user, header.usernameBytes)) {
      this.#allowed = this.#initialMethods;
      this.#completed = [];
    }
    this.#user = header.usernameBytes;

    if (attempt.method === 'none' || attempt.method === 'unknown') {
      // RFC 4252 §5.2: `none` fails with the list. Like sshd, only the first `none` is free:
      // later ones count, so a client cannot send them forever.
      const free = attempt.method === 'none' && !this.#noneTried;
      this.#noneTried = true;
      return this.#refuse(!free);
    }
    if (!this.#allowed.includes(attempt.method) || this.#onAuth === undefined) {
      return this.#refuse(true);
    }
    switch (attempt.method) {
      case 'password':
        // Password changes are not offered; an over-long password fails like in sshd.
        if (attempt.change || attempt.password === undefined) return this.#refuse(true);
        return this.#ask(header.username, 'password', undefined, { password: attempt.password });
      case 'publickey':
        return this.#onPublicKey(header, attempt.fields);
      case 'keyboard-interactive':
        return this.#ask(header.username, 'keyboard-interactive', undefined, {});
    }
  }

  /*
   * RFC 4252 §7: the key must be of a type we accept for the algorithm named, and a signature
   * must verify over the session identifier and the request, before the application is asked.
   */
  #onPublicKey(header: RequestHeader, fields: PublicKeyFields): void {
    const { algorithm, blob, signature } = fields;
    // SERVER_SIG_ALGS has no ssh-rsa: SHA-1 signatures are refused (RFC 8332 §3.3).
    if (!(SERVER_SIG_ALGS as readonly string[]).includes(algorithm)) return this.#refuse(true);
    const key = parsePublicKeyBlob(blob);
    if (key === undefined || keyTypeOfAlgorithm(algorithm) !== key.type) return this.#refuse(true);
    if (signature !== undefined) {
      const sessionId = this.#host.sessionId;
      if (sessionId === undefined) throw new Error('no session identifier after key exchange');
      const data = publicKeySignedData(sessionId, header.usernameBytes, algorithm, blob);
      if (!verifySignature(algorithm, blob, signature, data)) return this.#refuse(true);
    }
    const publicKey = { algorithm, blob: blob.slice(), fingerprint: fingerprintSha256(blob) };
    const query = signature === undefined ? { algorithm, blob } : undefined;
    this.#ask(header.username, 'publickey', query, {
      publicKey,
      hasSignature: signature !== undefined,
    });
  }

  /** Hands an attempt to the application. */
  #ask(
    username: string,
    method: ServerAuthMethodName,
    query: Pending['query'],
    fields: Pick<AuthRequest, 'password' | 'publicKey' | 'hasSignature'>,
  ): void {
    const onAuth = this.#onAuth!;
    const pending: Pending = { username, method, query, phase: 'open' };
    this.#state = { kind: 'awaiting-decision', pending };
    const request: AuthRequest = {
      username,
      service: CONNECTION_SERVICE,
      method,
      completedMethods: [...this.#completed],
      ...fields,
      accept: () => this.#decide(pending, () => this.#accept(pending)),
      acceptPartially: (nextMethods) => {
        const next = validateNextMethods(nextMethods);
        if (pending.query)
          throw usageError('a publickey query is accepted or rejected, not partially');
        this.#decide(pending, () => this.#acceptPartially(pending, next));
      },
      reject: () => this.#decide(pending, () => this.#refuse(true)),
      ...(method === 'keyboard-interactive'
        ? { prompt: (info, onResponses) => this.#prompt(pending, info, onResponses) }
        : {}),
    };
    this.#host.callOut(() => onAuth(request, this.#host.publicHandle));
  }

  // ---- the application's answers ----------------------------------------------------------

  #isCurrent(pending: Pending): boolean {
    const s = this.#state;
    return (
      (s.kind === 'awaiting-decision' || s.kind === 'awaiting-info-response') &&
      s.pending === pending
    );
  }

  /** Runs a final answer once; a stale request's answers are ignored. */
  #decide(pending: Pending, fn: () => void): void {
    if (pending.phase === 'answered')
      throw usageError('this authentication request was already answered');
    if (!this.#isCurrent(pending)) {
      pending.phase = 'answered';
      return;
    }
    if (pending.phase === 'prompting')
      throw usageError("waiting for the client's responses to the prompts");
    pending.phase = 'answered';
    this.#host.answer(() => {
      if (this.#isCurrent(pending)) fn();
    });
  }

  #accept(pending: Pending): void {
    if (pending.query) {
      this.#state = { kind: 'awaiting-request' };
      this.#host.sendControl(encodePkOk(pending.query.algorithm, pending.query.blob));
      return;
    }
    this.#state = { kind: 'authenticated' };
    this.#host.sendControl(encodeSuccess());
    this.#onSuccess(pending.username);
    this.#emit({ type: 'authenticated', username: pending.username, method: pending.method });
  }

  #acceptPartially(pending: Pending, next: readonly ServerAuthMethodName[]): void {
    this.#completed.push(pending.method);
    this.#allowed = next;
    this.#state = { kind: 'awaiting-request' };
    this.#host.sendControl(encodeFailure(next, true));
  }

  /** Replies FAILURE; a counted failure may end the session instead (MaxAuthTries). */
  #refuse(counted: boolean): void {
    this.#state = { kind: 'awaiting-request' };
    if (counted) this.#countFailure();
    this.#host.sendControl(encodeFailure(this.#allowed, false));
  }

  #countFailure(): void {
    this.#failures++;
    if (this.#failures >= this.#maxAttempts) {
      throw new SshError(
        SSH_ERR.AUTH_ATTEMPTS_EXCEEDED,
        'peer',
        `too many authentication failures (${this.#failures})`,
        DISCONNECT_REASON.NO_MORE_AUTH_METHODS_AVAILABLE,
      );
    }
  }

  // ---- keyboard-interactive (RFC 4256) ----------------------------------------------------

  #prompt(
    pending: Pending,
    info: KeyboardInteractivePromptInfo,
    onResponses: (responses: readonly string[]) => void,
  ): void {
    if (pending.phase === 'answered')
      throw usageError('this authentication request was already answered');
    if (!this.#isCurrent(pending)) return;
    if (pending.phase === 'prompting')
      throw usageError("waiting for the client's responses to the prompts");
    const prompts = validatePromptInfo(info);
    if (typeof onResponses !== 'function') throw usageError('onResponses must be a function');
    pending.phase = 'prompting';
    const name = info.name ?? '';
    const instruction = info.instruction ?? '';
    this.#host.answer(() => {
      if (!this.#isCurrent(pending)) return;
      this.#state = {
        kind: 'awaiting-info-response',
        pending,
        promptCount: prompts.length,
        onResponses,
      };
      this.#host.sendControl(encodeInfoRequest({ name, instruction, prompts }));
    });
  }

  #onInfoResponse(
    payload: Uint8Array,
    state: Extract<ServerState, { kind: 'awaiting-info-response' }>,
  ): void {
    const responses = decodeInfoResponse(payload);
    // RFC 4256 §3.4: a count that does not match the prompts gets a failure message.
    if (responses === undefined || responses.length !== state.promptCount)
      return this.#refuse(true);
    state.pending.phase = 'open';
    this.#state = { kind: 'awaiting-decision', pending: state.pending };
    this.#host.callOut(() => state.onResponses(responses));
  }

  #emit(event: AuthEvent): void {
    this.#host.emit(event);
  }
}

/** Decodes the method-specific fields (all of them, so malformed requests end the session). */
function decodeAttempt(header: RequestHeader): Attempt {
  const r = header.reader;
  switch (header.method) {
    case 'none':
      r.finish();
      return { method: 'none' };
    case 'password': {
      const { password, isChange } = decodePasswordFields(r);
      return { method: 'password', password, change: isChange };
    }
    case 'publickey':
      return { method: 'publickey', fields: decodePublicKeyFields(r) };
    case 'keyboard-interactive':
      decodeKeyboardInteractiveFields(r);
      return { method: 'keyboard-interactive' };
    default:
      // hostbased, gssapi-with-mic, publickey-hostbound-v00@openssh.com…: not offered.
      return { method: 'unknown' };
  }
}

function unexpected(type: number, state: ServerState): SshError {
  return peerError(
    SSH_ERR.UNEXPECTED_MESSAGE,
    `authentication message ${type} is not expected (server ${state.kind})`,
  );
}
