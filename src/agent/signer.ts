/**
 * @module
 * Agent keys as the core's {@link Signer}s: publickey authentication (RFC 4252 §7) signed by
 * an SSH agent, with RSA keys asking for rsa-sha2-512 or rsa-sha2-256 (RFC 8332 through the
 * agent's SHA-2 flags, draft-ietf-sshm-ssh-agent §3.6.1).
 */

import type { Signer } from '../auth/types.js';
import { usageError } from '../errors.js';
import { type AgentClient, type AgentIdentity, agentSign } from './client.js';

/** The RSA signature algorithms an agent signer may offer. `ssh-rsa` is SHA-1. */
export type RsaSignatureAlgorithm = 'rsa-sha2-512' | 'rsa-sha2-256' | 'ssh-rsa';

/** Options of {@link agentSigner}. */
export interface AgentSignerOptions {
  /**
   * The algorithms an RSA key offers, most preferred first. Default `['rsa-sha2-512',
   * 'rsa-sha2-256']`. SHA-1 (`ssh-rsa`) only when listed here; the core signs with it only
   * when it is the only entry (SPEC 14.3).
   */
  readonly rsaAlgorithms?: readonly RsaSignatureAlgorithm[];
}

/** Key types whose agent signatures the core can use, each signing with its own name. */
const SIGNABLE_TYPES: ReadonlySet<string> = new Set([
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
]);

const DEFAULT_RSA: readonly RsaSignatureAlgorithm[] = ['rsa-sha2-512', 'rsa-sha2-256'];

/**
 * A {@link Signer} for one agent key, or undefined for a key type the core does not sign
 * user authentication with (ssh-dss, security keys, anything unknown). Each `sign` is one
 * SSH_AGENTC_SIGN_REQUEST on `agent`, answered with `complete` or, when the agent refuses,
 * the link fails or the algorithm is not one this signer offers, `fail` (the core then tries
 * the next method).
 *
 * @example
 * ```ts
 * import { connectTcp } from 'pluggable-ssh/transports/tcp';
 *
 * const session = connectTcp({ host, port }, {
 *   role: 'client',
 *   onHostKey,
 *   onEvent: (event) => {
 *     if (event.type !== 'authenticated') return;
 *     console.log('logged in with an agent key'); // prints: logged in with an agent key
 *     sessionDisconnect(session);
 *   },
 * });
 * agentRequestIdentities(agent, (r) => {
 *   if (!r.ok) return sessionDisconnect(session);
 *   const signers = r.value.flatMap((id) => agentSigner(agent, id) ?? []);
 *   sessionAuthenticate(session, {
 *     username,
 *     methods: signers.map((signer) => ({ type: 'publickey', signer })),
 *   });
 * });
 * ```
 */
export function agentSigner(
  agent: AgentClient,
  identity: AgentIdentity,
  options: AgentSignerOptions = {},
): Signer | undefined {
  if (!SIGNABLE_TYPES.has(identity.keyType)) return undefined;
  let algorithms: readonly string[] = [identity.keyType];
  if (identity.keyType === 'ssh-rsa') {
    const rsa = options.rsaAlgorithms ?? DEFAULT_RSA;
    if (rsa.length === 0 || rsa.some((a) => !DEFAULT_RSA.includes(a) && a !== 'ssh-rsa'))
      throw usageError('rsaAlgorithms must list rsa-sha2-512, rsa-sha2-256 or ssh-rsa');
    algorithms = [...rsa];
  }
  const keyBlob = identity.keyBlob.slice();
  return {
    publicKeyBlob: keyBlob,
    signatureAlgorithms: algorithms,
    sign: (request) => {
      if (!algorithms.includes(request.algorithm)) {
        request.fail(`this agent key does not sign with ${request.algorithm}`);
        return;
      }
      try {
        agentSign(agent, keyBlob, request.data, request.algorithm, (result) => {
          if (result.ok) request.complete(result.value);
          else request.fail(result.error.message);
        });
      } catch (e) {
        // Too many requests pending, data over the bound: this method fails, the session goes on.
        request.fail(e instanceof Error ? e.message : String(e));
      }
    },
  };
}
