/**
 * @module
 * Checks of a server's authentication configuration and of the application's answers
 * (partial-success method lists, keyboard-interactive prompts, RFC 4252 §5.1, RFC 4256 §3.2).
 */

import { usageError } from '../errors.js';
import { AUTH_LIMITS } from './limits.js';
import { utf8Length } from './messages.js';
import type {
  KeyboardInteractivePrompt,
  KeyboardInteractivePromptInfo,
  ServerAuthConfig,
  ServerAuthMethodName,
} from './types.js';

/** The methods a server can offer. */
export const SERVER_METHODS: readonly ServerAuthMethodName[] = [
  'publickey',
  'password',
  'keyboard-interactive',
];

function isServerMethod(m: unknown): m is ServerAuthMethodName {
  return SERVER_METHODS.includes(m as ServerAuthMethodName);
}

export function validateServerConfig(config: ServerAuthConfig): void {
  if (config.onAuth !== undefined && typeof config.onAuth !== 'function')
    throw usageError('onAuth must be a function');
  const methods = config.authMethods as readonly unknown[] | undefined;
  if (methods !== undefined && (!Array.isArray(methods) || !methods.every(isServerMethod)))
    throw usageError(`authMethods may only name ${SERVER_METHODS.join(', ')}`);
  const max = config.maxAuthAttempts;
  if (max !== undefined && !(Number.isInteger(max) && max >= 1))
    throw usageError('maxAuthAttempts must be a positive integer');
  const banner = config.banner;
  if (banner !== undefined) {
    if (typeof banner !== 'string') throw usageError('banner must be a string');
    if (utf8Length(banner) > AUTH_LIMITS.BANNER_BYTES_MAX)
      throw usageError(`banner is longer than ${AUTH_LIMITS.BANNER_BYTES_MAX} bytes`);
  }
}

export function validateNextMethods(next: readonly unknown[]): readonly ServerAuthMethodName[] {
  if (!Array.isArray(next) || next.length === 0 || !next.every(isServerMethod))
    throw usageError(`nextMethods must list one or more of ${SERVER_METHODS.join(', ')}`);
  return [...next];
}

/** Checks prompts against the limits a client applies, so that ours are never refused. */
export function validatePromptInfo(
  info: KeyboardInteractivePromptInfo,
): KeyboardInteractivePrompt[] {
  if (typeof info !== 'object' || info === null || !Array.isArray(info.prompts))
    throw usageError('prompt info must have a prompts array');
  if (info.prompts.length > AUTH_LIMITS.KBD_PROMPTS_MAX)
    throw usageError(`at most ${AUTH_LIMITS.KBD_PROMPTS_MAX} prompts`);
  const textOk = (s: unknown) =>
    s === undefined || (typeof s === 'string' && utf8Length(s) <= AUTH_LIMITS.KBD_TEXT_BYTES_MAX);
  if (!textOk(info.name) || !textOk(info.instruction))
    throw usageError(
      `name and instruction must be strings of at most ${AUTH_LIMITS.KBD_TEXT_BYTES_MAX} bytes`,
    );
  return info.prompts.map((p) => {
    if (typeof p?.prompt !== 'string' || !textOk(p.prompt) || typeof p.echo !== 'boolean')
      throw usageError('each prompt needs prompt (a string) and echo (a boolean)');
    return { prompt: p.prompt, echo: p.echo };
  });
}
