/**
 * @module
 * The public types of user authentication (RFC 4252, RFC 4256 keyboard-interactive, RFC 8332
 * rsa-sha2 signatures): client methods, server request handles, events and error codes.
 */

import type { PrivateKey } from '../crypto/keys.js';

/**
 * Events the authentication layer reports through the session's `onEvent`:
 * - `auth-banner` (client): the server's USERAUTH_BANNER (RFC 4252 §5.4). The text is the
 *   server's: filter terminal control characters before displaying it (RFC 4252 §5.4).
 * - `auth-failure` (client): a method failed, was refused or was cancelled; `partialSuccess`
 *   says it succeeded as one factor of several; `methodsLeft` is the server's last list.
 * - `authenticated` (both): authentication succeeded with `method`.
 */
export type AuthEvent =
  | { readonly type: 'auth-banner'; readonly message: string }
  | {
      readonly type: 'auth-failure';
      readonly method: string;
      readonly partialSuccess: boolean;
      readonly methodsLeft: readonly string[];
    }
  | { readonly type: 'authenticated'; readonly username: string; readonly method: string };

/** The authentication method names this library implements (RFC 4252 §5, RFC 4256). */
export type AuthMethodName = 'none' | 'password' | 'publickey' | 'keyboard-interactive';

/** The methods a server can offer (`none` always fails, RFC 4252 §5.2). */
export type ServerAuthMethodName = Exclude<AuthMethodName, 'none'>;

// ---- client ---------------------------------------------------------------------------------

/**
 * What a client authenticates with: a user name and methods tried in order.
 *
 * A method is skipped when the server's list of methods that can continue does not name it.
 * After a partial success (one factor of several) the methods not yet successful become
 * candidates again. When no method is left the session ends with `SSH_ERR_AUTH_FAILED`.
 *
 * @example
 * ```ts
 * const auth: ClientAuthConfig = {
 *   username: 'alice',
 *   methods: [{ type: 'publickey', key }, { type: 'password', password: 'secret' }],
 * };
 * ```
 */
export interface ClientAuthConfig {
  readonly username: string;
  readonly methods: readonly ClientAuthMethod[];
  /**
   * Send the first request right behind SERVICE_REQUEST instead of waiting for SERVICE_ACCEPT:
   * one round trip less per login (default `true`). Servers handle the two in order, so the
   * request is read after the service started. Not done when the first method is a publickey
   * with an RSA key, whose signature algorithm waits for the server's EXT_INFO
   * (server-sig-algs). `false` waits for SERVICE_ACCEPT, as OpenSSH's client does.
   */
  readonly pipeline?: boolean;
}

/**
 * One way to authenticate:
 * - `none`: asks the server whether no authentication is needed (RFC 4252 §5.2);
 * - `password` with a fixed `password`, or `onPassword` asked when needed (also asked, with
 *   a `prompt`, when the server requests a password change, RFC 4252 §8);
 * - `publickey` with a `key` in memory or a `signer` (an agent, a token): a query first, then
 *   the signed request once the server accepts the key (RFC 4252 §7);
 * - `keyboard-interactive` with `onPrompt` answering the server's prompts (RFC 4256).
 */
export type ClientAuthMethod =
  | { readonly type: 'none' }
  | { readonly type: 'password'; readonly password: string }
  | {
      readonly type: 'password';
      /** Asked for the password when it is needed; answer now or later. */
      readonly onPassword: (request: PasswordRequest, session: unknown) => void;
    }
  | { readonly type: 'publickey'; readonly key: PrivateKey }
  | { readonly type: 'publickey'; readonly signer: Signer }
  | {
      readonly type: 'keyboard-interactive';
      /** Asked for each round of the server's prompts; answer now or later. */
      readonly onPrompt: (request: KeyboardInteractiveRequest, session: unknown) => void;
    };

/**
 * A key whose private half is elsewhere (an SSH agent, a hardware token). Signing is a
 * request answered now or later.
 *
 * @example
 * ```ts
 * // Something that signs asynchronously, as an agent does; here a key behind a promise.
 * const agentSign = async (data: Uint8Array, algorithm: string) => key.sign(algorithm, data);
 * const signer: Signer = {
 *   publicKeyBlob: key.publicKeyBlob,
 *   signatureAlgorithms: key.signatureAlgorithms,
 *   sign: (req) => void agentSign(req.data, req.algorithm).then(req.complete, () => req.fail()),
 * };
 * ```
 */
export interface Signer {
  /** The SSH public key blob (RFC 4253 §6.6). */
  readonly publicKeyBlob: Uint8Array;
  /** The signature algorithms the signer can use, most preferred first. */
  readonly signatureAlgorithms: readonly string[];
  /** Signs `request.data` with `request.algorithm`; answer with complete or fail. */
  sign(request: SignRequest): void;
}

/** A request to sign, answered exactly once, now or later. */
export interface SignRequest {
  /** The signature algorithm to use, e.g. `rsa-sha2-512` or `ssh-ed25519`. */
  readonly algorithm: string;
  /** The data to sign (RFC 4252 §7). */
  readonly data: Uint8Array;
  /** Gives the SSH signature blob: `string algorithm ‖ string signature` (RFC 4253 §6.6). */
  complete(signatureBlob: Uint8Array): void;
  /** The signer could not sign: this method fails and the next one is tried. */
  fail(reason?: string): void;
}

/**
 * The client needs a password. `prompt` is present when the server asks for a new password
 * (SSH_MSG_USERAUTH_PASSWD_CHANGEREQ, RFC 4252 §8): answer with the new one.
 */
export interface PasswordRequest {
  readonly prompt?: string;
  /** Sends the password (or the new password when `prompt` is set). */
  answer(password: string): void;
  /** Gives up this method; the next one is tried. */
  cancel(): void;
}

/** One keyboard-interactive prompt (RFC 4256 §3.2). */
export interface KeyboardInteractivePrompt {
  readonly prompt: string;
  /** Whether the response may be shown as it is typed. */
  readonly echo: boolean;
}

/**
 * The server's keyboard-interactive prompts (RFC 4256 §3.2). Answer with one response per
 * prompt, in order. The texts are the server's: filter control characters before display.
 */
export interface KeyboardInteractiveRequest {
  readonly name: string;
  readonly instruction: string;
  readonly prompts: readonly KeyboardInteractivePrompt[];
  /** Sends one response per prompt, in order. */
  answer(responses: readonly string[]): void;
  /** Gives up this method; the next one is tried. */
  cancel(): void;
}

// ---- server ---------------------------------------------------------------------------------

/**
 * The authentication fields of a server's configuration.
 *
 * @example
 * ```ts
 * const authorized = [Buffer.from(key.publicKeyBlob)]; // e.g. read from authorized_keys
 * const config: ServerAuthConfig = {
 *   authMethods: ['publickey'],
 *   onAuth: (req) => {
 *     const blob = req.publicKey?.blob;
 *     if (blob && authorized.some((k) => k.equals(blob))) req.accept();
 *     else req.reject();
 *   },
 * };
 * ```
 */
export interface ServerAuthConfig {
  /**
   * Decides each authentication attempt. Absent: every attempt is refused with an empty list
   * of methods that can continue.
   */
  readonly onAuth?: (request: AuthRequest, session: unknown) => void;
  /** The methods offered, in this order (default `['publickey', 'password']`). */
  readonly authMethods?: readonly ServerAuthMethodName[];
  /**
   * Failed attempts allowed per connection (default 6, like OpenSSH's MaxAuthTries). `none`
   * is not counted; an attempt the client abandons before the application answered is.
   * Reaching it ends the session with `SSH_ERR_AUTH_ATTEMPTS_EXCEEDED` (reason 14).
   */
  readonly maxAuthAttempts?: number;
  /** Text sent as SSH_MSG_USERAUTH_BANNER before the reply to the first request. */
  readonly banner?: string;
}

/** The keyboard-interactive prompts a server sends (RFC 4256 §3.2). */
export interface KeyboardInteractivePromptInfo {
  readonly name?: string;
  readonly instruction?: string;
  readonly prompts: readonly KeyboardInteractivePrompt[];
}

/**
 * One authentication attempt, awaiting the server application's decision. Answer once with
 * accept, acceptPartially or reject, inside `onAuth` or later. A keyboard-interactive attempt
 * may first call `prompt` any number of times.
 *
 * Publickey signatures are verified before the application is asked: `hasSignature: true`
 * means the client proved possession of the key. `hasSignature: false` is a query (RFC 4252
 * §7): accept answers "this key would do" (SSH_MSG_USERAUTH_PK_OK), not success.
 *
 * If the client sends a new request before this one is answered, this one goes stale: its
 * answers are ignored. Answers after the session ended are ignored too. Answering twice
 * throws `SSH_ERR_USAGE`.
 */
export interface AuthRequest {
  /** The user name, UTF-8 (RFC 4252 §5). */
  readonly username: string;
  /** The service to start; always `ssh-connection`. */
  readonly service: string;
  /** The method; `none` is never delivered (it always fails, RFC 4252 §5.2). */
  readonly method: AuthMethodName;
  /** Methods that already succeeded partially in this connection, in order. */
  readonly completedMethods: readonly string[];
  /** The password (method `password`). */
  readonly password?: string;
  /** The key (method `publickey`); `fingerprint` as `ssh-keygen -l` prints it. */
  readonly publicKey?: {
    readonly algorithm: string;
    readonly blob: Uint8Array;
    readonly fingerprint: string;
  };
  /** Method `publickey`: whether the request carried a signature (already verified). */
  readonly hasSignature?: boolean;
  /** Authentication succeeded (SSH_MSG_USERAUTH_SUCCESS); for a query, the key is acceptable. */
  accept(): void;
  /**
   * This method succeeded, but more are needed (RFC 4252 §5.1 partial success): the client
   * is told to continue with `nextMethods`, and only those are accepted from then on.
   */
  acceptPartially(nextMethods: readonly ServerAuthMethodName[]): void;
  /** The attempt failed (counted against maxAuthAttempts). */
  reject(): void;
  /**
   * Keyboard-interactive only: sends prompts (RFC 4256 §3.2); `onResponses` receives the
   * client's answers, one per prompt, after which accept, reject or prompt again.
   */
  prompt?(
    info: KeyboardInteractivePromptInfo,
    onResponses: (responses: readonly string[]) => void,
  ): void;
}
