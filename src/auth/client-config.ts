/**
 * @module
 * Checks of a client's authentication configuration (RFC 4252 method names), and the small
 * helpers its request handles share: answer-once guards and in-memory keys as signers.
 */

import { usageError } from '../errors.js';
import { keyTypeOfBlob } from './publickey.js';
import type { ClientAuthConfig, ClientAuthMethod, Signer } from './types.js';

/** A guard that lets a request handle be answered once. */
export function answerOnce(what: string): () => void {
  let answered = false;
  return () => {
    if (answered) throw usageError(`this ${what} was already answered`);
    answered = true;
  };
}

/** A private key in memory as a synchronous signer. */
export function signerOfKey(key: {
  readonly publicKeyBlob: Uint8Array;
  readonly signatureAlgorithms: readonly string[];
  sign(algorithm: string, data: Uint8Array): Uint8Array;
}): Signer {
  return {
    publicKeyBlob: key.publicKeyBlob,
    signatureAlgorithms: key.signatureAlgorithms,
    sign: (request) => request.complete(key.sign(request.algorithm, request.data)),
  };
}

/** Rejects a malformed configuration with a usage error, before anything is sent. */
export function validateClientConfig(config: ClientAuthConfig): void {
  if (typeof config !== 'object' || config === null) throw usageError('auth must be an object');
  if (typeof config.username !== 'string') throw usageError('auth.username must be a string');
  if (!Array.isArray(config.methods) || config.methods.length === 0)
    throw usageError('auth.methods must list at least one method');
  if (config.pipeline !== undefined && typeof config.pipeline !== 'boolean')
    throw usageError('auth.pipeline must be a boolean');
  for (const m of config.methods as readonly unknown[]) validateMethod(m as ClientAuthMethod);
}

function validateMethod(m: ClientAuthMethod): void {
  const bad = (what: string) => usageError(`auth method ${String(m?.type)}: ${what}`);
  switch (m?.type) {
    case 'none':
      return;
    case 'password':
      if ('password' in m ? typeof m.password !== 'string' : typeof m.onPassword !== 'function')
        throw bad('needs password (a string) or onPassword (a function)');
      return;
    case 'keyboard-interactive':
      if (typeof m.onPrompt !== 'function') throw bad('needs onPrompt (a function)');
      return;
    case 'publickey': {
      const k = 'signer' in m ? m.signer : m.key;
      if (typeof k !== 'object' || k === null) throw bad('needs key or signer');
      if (!(k.publicKeyBlob instanceof Uint8Array) || keyTypeOfBlob(k.publicKeyBlob) === undefined)
        throw bad('publicKeyBlob is not an SSH public key blob');
      if (!Array.isArray(k.signatureAlgorithms) || k.signatureAlgorithms.length === 0)
        throw bad('signatureAlgorithms must list at least one algorithm');
      if (typeof k.sign !== 'function') throw bad('sign must be a function');
      return;
    }
    default:
      throw bad("type must be 'none', 'password', 'publickey' or 'keyboard-interactive'");
  }
}
