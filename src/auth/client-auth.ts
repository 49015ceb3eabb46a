/**
 * @module
 * The client side of ssh-userauth (RFC 4252): tries the configured methods in order —
 * none, password (with change requests, §8), publickey (query, then signature, §7, with the
 * rsa-sha2 choice of RFC 8332 §3.3 and RFC 8308 server-sig-algs) and keyboard-interactive
 * (RFC 4256) — until the server answers SUCCESS or no method is left.
 */

import { DISCONNECT_REASON } from '../constants.js';
import { peerError, SSH_ERR, SshError, usageError } from '../errors.js';
import type { LayerHost } from '../layer.js';
import { answerOnce, signerOfKey, validateClientConfig } from './client-config.js';
import {
  decodeBanner,
  decodeFailure,
  decodeInfoRequest,
  decodePasswordChangeRequest,
  decodePkOk,
  decodeSuccess,
  sameBytes,
  USERAUTH_MSG,
} from './messages.js';
import {
  chooseSignatureAlgorithm,
  keyTypeOfBlob,
  serverSigAlgs,
  signatureBlobAlgorithm,
} from './publickey.js';
import {
  encodeInfoResponse,
  encodeKeyboardInteractiveRequest,
  encodeNoneRequest,
  encodePasswordRequest,
  encodePublicKeyRequest,
  publicKeySignedData,
} from './request-messages.js';
import type {
  AuthEvent,
  ClientAuthConfig,
  ClientAuthMethod,
  KeyboardInteractiveRequest,
  PasswordRequest,
  Signer,
  SignRequest,
} from './types.js';

/** The request the server owes a reply to, which also says how to read message 60. */
type Outstanding =
  | { readonly method: 'none' }
  /** `password` is the current password, sent again as the old one in a change request. */
  | { readonly method: 'password'; readonly password: string }
  | {
      readonly method: 'publickey-query';
      readonly algorithm: string;
      readonly blob: Uint8Array;
      readonly signer: Signer;
    }
  | { readonly method: 'publickey-signed' }
  | { readonly method: 'keyboard-interactive' };

/**
 * Where the client is, named after what it waits for. The `awaiting-…` states other than
 * `awaiting-reply` wait for the application; their `token` makes older answers stale.
 */
type ClientState =
  | { readonly kind: 'not-started' }
  | { readonly kind: 'awaiting-reply'; readonly request: Outstanding }
  | { readonly kind: 'awaiting-password'; readonly token: number; readonly old?: string }
  | {
      readonly kind: 'awaiting-signature';
      readonly token: number;
      readonly algorithm: string;
      readonly blob: Uint8Array;
    }
  | { readonly kind: 'awaiting-responses'; readonly token: number }
  | { readonly kind: 'choosing' }
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'failed' };

type AppWait = 'awaiting-password' | 'awaiting-signature' | 'awaiting-responses';
type PasswordMethod = Extract<ClientAuthMethod, { type: 'password' }>;
type PasswordPromptMethod = Extract<ClientAuthMethod, { onPassword: unknown }>;
type KbdMethod = Extract<ClientAuthMethod, { type: 'keyboard-interactive' }>;

/**
 * ssh-userauth for a client. Constructed by the upper layers with the application's
 * {@link ClientAuthConfig}; `start` runs once the server accepted the ssh-userauth service.
 */
export class ClientAuth {
  readonly #host: LayerHost;
  readonly #username: string;
  readonly #methods: readonly ClientAuthMethod[];
  readonly #onSuccess: () => void;
  #state: ClientState = { kind: 'not-started' };
  #token = 0;
  /** Index of the method being tried. */
  #current = -1;
  /** Methods tried since the last partial success. */
  readonly #attempted = new Set<number>();
  /** Methods that succeeded partially (RFC 4252 §5.1); never tried again. */
  readonly #succeeded = new Set<number>();
  /** Config `pipeline`: the first request may go before SERVICE_ACCEPT. */
  readonly #pipeline: boolean;
  /** The server's last "authentications that can continue", once known. */
  #serverMethods: readonly string[] | undefined;

  constructor(host: LayerHost, config: ClientAuthConfig, onSuccess: () => void) {
    validateClientConfig(config);
    this.#host = host;
    this.#username = config.username;
    this.#methods = [...config.methods];
    this.#pipeline = config.pipeline !== false;
    this.#onSuccess = onSuccess;
  }

  /** True once the first request was chosen (start ran). */
  get started(): boolean {
    return this.#state.kind !== 'not-started';
  }

  /**
   * Whether the first request may leave right behind SERVICE_REQUEST (config `pipeline`): not
   * when it is an RSA key's, whose signature algorithm depends on the server's EXT_INFO.
   */
  canStartEarly(): boolean {
    if (!this.#pipeline || this.started) return false;
    const i = this.#nextCandidate();
    if (i === undefined) return false;
    const m = this.#methods[i]!;
    if (m.type !== 'publickey') return true;
    const blob = 'signer' in m ? m.signer.publicKeyBlob : m.key.publicKeyBlob;
    return keyTypeOfBlob(blob) !== 'ssh-rsa';
  }

  /** Sends the first request: once the ssh-userauth service started, or was asked for. */
  start(): void {
    if (this.#state.kind !== 'not-started') throw usageError('authentication already started');
    this.#tryNext();
  }

  /** Handles messages 50–79. Throws SshError for anything out of place. */
  handleMessage(type: number, payload: Uint8Array): boolean {
    if (type < 50 || type > 79) return false;
    const state = this.#state;
    if (state.kind === 'authenticated' || state.kind === 'failed') throw unexpected(type, state);
    if (type === USERAUTH_MSG.BANNER) {
      // RFC 4252 §5.4: at any time before authentication succeeded.
      this.#emit({ type: 'auth-banner', message: decodeBanner(payload) });
      return true;
    }
    // Every other message answers our outstanding request: none outstanding, none legal.
    if (state.kind !== 'awaiting-reply') throw unexpected(type, state);
    switch (type) {
      case USERAUTH_MSG.SUCCESS:
        decodeSuccess(payload);
        this.#succeed();
        return true;
      case USERAUTH_MSG.FAILURE:
        this.#onFailure(payload);
        return true;
      case 60:
        // 60 means PK_OK, PASSWD_CHANGEREQ or INFO_REQUEST after the request it answers.
        switch (state.request.method) {
          case 'publickey-query':
            this.#onPkOk(payload, state.request);
            return true;
          case 'password':
            this.#onPasswordChangeRequest(payload, state.request.password);
            return true;
          case 'keyboard-interactive':
            this.#onInfoRequest(payload);
            return true;
          default:
            throw unexpected(type, state);
        }
      default:
        throw unexpected(type, state);
    }
  }

  // ---- choosing a method ----------------------------------------------------------------------

  #nextCandidate(): number | undefined {
    for (let i = 0; i < this.#methods.length; i++) {
      if (this.#attempted.has(i) || this.#succeeded.has(i)) continue;
      const type = this.#methods[i]!.type;
      if (this.#serverMethods !== undefined && !this.#serverMethods.includes(type)) continue;
      return i;
    }
    return undefined;
  }

  #tryNext(): void {
    const i = this.#nextCandidate();
    if (i === undefined) {
      this.#state = { kind: 'failed' };
      const left = this.#serverMethods?.join(',') || 'none';
      throw new SshError(
        SSH_ERR.AUTH_FAILED,
        'negotiation',
        `authentication failed: no configured method is left (the server accepts: ${left})`,
        DISCONNECT_REASON.NO_MORE_AUTH_METHODS_AVAILABLE,
      );
    }
    this.#current = i;
    this.#attempted.add(i);
    const m = this.#methods[i]!;
    switch (m.type) {
      case 'none':
        this.#send({ method: 'none' }, encodeNoneRequest(this.#username));
        return;
      case 'password':
        if ('password' in m) {
          this.#send(
            { method: 'password', password: m.password },
            encodePasswordRequest(this.#username, m.password),
          );
        } else {
          this.#askPassword(m);
        }
        return;
      case 'publickey':
        return this.#offerKey('signer' in m ? m.signer : signerOfKey(m.key));
      case 'keyboard-interactive':
        this.#send(
          { method: 'keyboard-interactive' },
          encodeKeyboardInteractiveRequest(this.#username),
        );
        return;
    }
  }

  /** Records the outstanding request, then sends it. */
  #send(request: Outstanding, payload: Uint8Array): void {
    this.#state = { kind: 'awaiting-reply', request };
    this.#host.sendControl(payload);
  }

  /** The current method failed on our side (cancelled, no algorithm, cannot change password). */
  #localFailure(): void {
    this.#state = { kind: 'choosing' };
    this.#emit({
      type: 'auth-failure',
      method: this.#methods[this.#current]!.type,
      partialSuccess: false,
      methodsLeft: this.#serverMethods ?? [],
    });
    this.#continue(() => this.#tryNext());
  }

  /*
   * RFC 4252 §5.1: the methods that can continue, and whether the last one succeeded as one
   * factor of several.
   */
  #onFailure(payload: Uint8Array): void {
    const failure = decodeFailure(payload);
    this.#serverMethods = failure.methods;
    if (failure.partialSuccess) {
      this.#succeeded.add(this.#current);
      this.#attempted.clear();
    }
    this.#state = { kind: 'choosing' };
    this.#emit({
      type: 'auth-failure',
      method: this.#methods[this.#current]!.type,
      partialSuccess: failure.partialSuccess,
      methodsLeft: failure.methods,
    });
    this.#continue(() => this.#tryNext());
  }

  #succeed(): void {
    this.#state = { kind: 'authenticated' };
    this.#onSuccess();
    this.#emit({
      type: 'authenticated',
      username: this.#username,
      method: this.#methods[this.#current]!.type,
    });
  }

  // ---- password (RFC 4252 §8) -------------------------------------------------------------

  #askPassword(m: PasswordPromptMethod, old?: string, prompt?: string): void {
    const token = ++this.#token;
    this.#state =
      old === undefined
        ? { kind: 'awaiting-password', token }
        : { kind: 'awaiting-password', token, old };
    const once = answerOnce('password request');
    const request: PasswordRequest = {
      ...(prompt === undefined ? {} : { prompt }),
      answer: (password: string) => {
        if (typeof password !== 'string') throw usageError('the password must be a string');
        once();
        this.#host.answer(() => this.#onPassword(token, password));
      },
      cancel: () => {
        once();
        this.#host.answer(() => this.#cancelled('awaiting-password', token));
      },
    };
    this.#host.callOut(() => m.onPassword(request, this.#host.publicHandle));
  }

  #onPassword(token: number, password: string): void {
    const state = this.#state;
    if (state.kind !== 'awaiting-password' || state.token !== token) return;
    if (state.old === undefined) {
      this.#send({ method: 'password', password }, encodePasswordRequest(this.#username, password));
    } else {
      // The server may ask again if it refuses the new password: keep the old one.
      this.#send(
        { method: 'password', password: state.old },
        encodePasswordRequest(this.#username, state.old, password),
      );
    }
  }

  #onPasswordChangeRequest(payload: Uint8Array, current: string): void {
    const prompt = decodePasswordChangeRequest(payload);
    const m = this.#methods[this.#current] as PasswordMethod;
    // A fixed password cannot be changed: this method fails.
    if ('password' in m) return this.#localFailure();
    this.#askPassword(m, current, prompt);
  }

  // ---- publickey (RFC 4252 §7) ------------------------------------------------------------

  #offerKey(signer: Signer): void {
    const keyType = keyTypeOfBlob(signer.publicKeyBlob)!;
    const algorithm = chooseSignatureAlgorithm(
      keyType,
      signer.signatureAlgorithms,
      serverSigAlgs(this.#host.peerExtensions),
    );
    if (algorithm === undefined) return this.#localFailure();
    const blob = signer.publicKeyBlob.slice();
    this.#send(
      { method: 'publickey-query', algorithm, blob, signer },
      encodePublicKeyRequest(this.#username, algorithm, blob),
    );
  }

  #onPkOk(payload: Uint8Array, query: Extract<Outstanding, { method: 'publickey-query' }>): void {
    const { algorithm, blob, signer } = query;
    const ok = decodePkOk(payload);
    if (ok.algorithm !== algorithm || !sameBytes(ok.blob, blob)) {
      throw peerError(SSH_ERR.UNEXPECTED_MESSAGE, 'USERAUTH_PK_OK for a key we did not offer');
    }
    const sessionId = this.#host.sessionId;
    if (sessionId === undefined) throw new Error('no session identifier after key exchange');
    const data = publicKeySignedData(sessionId, this.#username, algorithm, blob);
    const token = ++this.#token;
    this.#state = { kind: 'awaiting-signature', token, algorithm, blob };
    const once = answerOnce('sign request');
    const request: SignRequest = {
      algorithm,
      data,
      complete: (signatureBlob: Uint8Array) => {
        if (!(signatureBlob instanceof Uint8Array))
          throw usageError('the signature must be a Uint8Array');
        const named = signatureBlobAlgorithm(signatureBlob);
        if (named !== algorithm) {
          throw usageError(
            `the signature blob must be "string ${algorithm} ‖ string signature" (got ${named ?? 'no valid blob'})`,
          );
        }
        once();
        const copy = signatureBlob.slice();
        this.#host.answer(() => this.#onSigned(token, copy));
      },
      fail: () => {
        once();
        this.#host.answer(() => this.#cancelled('awaiting-signature', token));
      },
    };
    this.#host.callOut(() => signer.sign(request));
  }

  #onSigned(token: number, signature: Uint8Array): void {
    const state = this.#state;
    if (state.kind !== 'awaiting-signature' || state.token !== token) return;
    this.#send(
      { method: 'publickey-signed' },
      encodePublicKeyRequest(this.#username, state.algorithm, state.blob, signature),
    );
  }

  // ---- keyboard-interactive (RFC 4256) ----------------------------------------------------

  #onInfoRequest(payload: Uint8Array): void {
    const info = decodeInfoRequest(payload);
    const token = ++this.#token;
    this.#state = { kind: 'awaiting-responses', token };
    const count = info.prompts.length;
    // RFC 4256 §3.2: nothing to show and nothing to ask: answer with no responses at once.
    if (count === 0 && info.name === '' && info.instruction === '') {
      return this.#onResponses(token, []);
    }
    const m = this.#methods[this.#current] as KbdMethod;
    const once = answerOnce('keyboard-interactive request');
    const request: KeyboardInteractiveRequest = {
      name: info.name,
      instruction: info.instruction,
      prompts: info.prompts,
      answer: (responses: readonly string[]) => {
        if (!Array.isArray(responses) || responses.some((s) => typeof s !== 'string'))
          throw usageError('responses must be an array of strings');
        if (responses.length !== count)
          throw usageError(`expected ${count} responses, got ${responses.length}`);
        once();
        const copy = [...responses];
        this.#host.answer(() => this.#onResponses(token, copy));
      },
      cancel: () => {
        once();
        this.#host.answer(() => this.#cancelled('awaiting-responses', token));
      },
    };
    this.#host.callOut(() => m.onPrompt(request, this.#host.publicHandle));
  }

  #onResponses(token: number, responses: readonly string[]): void {
    if (!this.#isCurrent('awaiting-responses', token)) return;
    this.#send({ method: 'keyboard-interactive' }, encodeInfoResponse(responses));
  }

  // ---- plumbing ---------------------------------------------------------------------------

  #isCurrent(kind: AppWait, token: number): boolean {
    const state = this.#state;
    return state.kind === kind && state.token === token;
  }

  /** The application gave up the current method (cancel, or a signer's fail). */
  #cancelled(kind: AppWait, token: number): void {
    if (this.#isCurrent(kind, token)) this.#localFailure();
  }

  #emit(event: AuthEvent): void {
    this.#host.emit(event);
  }

  /** Runs `fn` unless the session ended meanwhile (e.g. in an event handler). */
  #continue(fn: () => void): void {
    this.#host.answer(fn);
  }
}

function unexpected(type: number, state: ClientState): SshError {
  return peerError(
    SSH_ERR.UNEXPECTED_MESSAGE,
    `authentication message ${type} is not expected (client ${state.kind})`,
  );
}
