/**
 * @module
 * Server-side user authentication for the node layer: each attempt the core delivers (RFC 4252
 * password and publickey, RFC 4256 keyboard-interactive) as an {@link AuthContext}, decided by
 * an async callback or an event.
 */

import type { AuthRequest, KeyboardInteractivePrompt } from '../src/index.js';
import type { ServerConnection, ServerOptions } from './server.js';

/** One authentication attempt, as the server application sees it. */
export interface AuthContext {
  readonly username: string;
  readonly method: 'password' | 'publickey' | 'keyboard-interactive';
  /** Method `password`. */
  readonly password?: string;
  /** Method `publickey`: the key (its signature, if any, already verified). */
  readonly publicKey?: {
    readonly algorithm: string;
    readonly blob: Uint8Array;
    readonly fingerprint: string;
  };
  /**
   * Method `publickey`: `false` when the client only asks whether the key would do (answering
   * yes is not a login); `true` when it proved possession.
   */
  readonly signed?: boolean;
  /** Keyboard-interactive only: asks the client and resolves with one answer per prompt. */
  prompt?(
    prompts: readonly KeyboardInteractivePrompt[],
    text?: { readonly name?: string; readonly instruction?: string },
  ): Promise<readonly string[]>;
  /** Event style ({@link ServerConnection} `'authentication'`): let the user in. */
  accept(): void;
  /** Event style: refuse this attempt. */
  reject(): void;
}

/** Wraps the core's request for the application. */
function authContext(request: AuthRequest, answer: (ok: boolean) => void): AuthContext {
  const base = {
    username: request.username,
    method: request.method as AuthContext['method'],
    accept: () => answer(true),
    reject: () => answer(false),
  };
  const prompt = request.prompt?.bind(request);
  return {
    ...base,
    ...(request.password !== undefined ? { password: request.password } : {}),
    ...(request.publicKey ? { publicKey: request.publicKey } : {}),
    ...(request.hasSignature !== undefined ? { signed: request.hasSignature } : {}),
    ...(prompt
      ? {
          prompt: (prompts, text = {}) =>
            new Promise<readonly string[]>((resolve) =>
              prompt({ prompts, ...text }, (responses) => resolve(responses)),
            ),
        }
      : {}),
  };
}

/**
 * Answers one attempt: with `decide` when given (its result, a throw refuses), else through the
 * connection's `'authentication'` event, else refused (internal to the node layer).
 */
export function authenticate(
  connection: ServerConnection,
  request: AuthRequest,
  decide: ServerOptions['authenticate'],
): void {
  let answered = false;
  const answer = (ok: boolean) => {
    if (answered) return;
    answered = true;
    if (ok) request.accept();
    else request.reject();
  };
  const context = authContext(request, answer);
  if (decide) {
    Promise.resolve()
      .then(() => decide(context, connection))
      .then(
        (ok) => answer(ok === true),
        () => answer(false),
      );
  } else if (connection.listenerCount('authentication') > 0) {
    connection.emit('authentication', context);
  } else answer(false);
}
