/**
 * @module
 * The SSH agent protocol messages a client sends and the replies it reads
 * (draft-ietf-sshm-ssh-agent §3, the former draft-miller-ssh-agent): request encoders, the
 * frame-length check, and reply decoders whose every length is bounded (./limits.ts).
 */

import { SSH_ERR, SshError } from '../errors.js';
import { SshReader } from '../wire/reader.js';
import { SshWriter } from '../wire/writer.js';
import { AGENT_LIMITS } from './limits.js';

/** Agent message numbers (draft-ietf-sshm-ssh-agent §6.1), with the draft's spelling. */
export const SSH_AGENT = {
  FAILURE: 5,
  SUCCESS: 6,
  REQUEST_IDENTITIES: 11,
  IDENTITIES_ANSWER: 12,
  SIGN_REQUEST: 13,
  SIGN_RESPONSE: 14,
  EXTENSION_FAILURE: 28,
} as const;

/**
 * Failure numbers OpenSSH also treats as SSH_AGENT_FAILURE (authfd.c `agent_failed`):
 * 30 (the old SSH2_AGENT_FAILURE) and 102 (ssh.com's agent).
 */
const LEGACY_FAILURES: ReadonlySet<number> = new Set([30, 102]);

/** Signature flags of SSH_AGENTC_SIGN_REQUEST (draft-ietf-sshm-ssh-agent §3.6.1). */
export const SSH_AGENT_SIGN_FLAGS = {
  RSA_SHA2_256: 0x02,
  RSA_SHA2_512: 0x04,
} as const;

/** The suffix of OpenSSH certificate key types (PROTOCOL.certkeys). */
const CERT_SUFFIX = '-cert-v01@openssh.com';

/** One key an agent holds (certificates included here; the client filters them). */
export interface DecodedIdentity {
  readonly keyType: string;
  readonly keyBlob: Uint8Array;
  readonly comment: string;
  readonly certificate: boolean;
}

/** A decoded reply: the answer, or the agent's refusal (SSH_AGENT_FAILURE). */
export type AgentReply<T> =
  | { readonly kind: 'answer'; readonly value: T }
  | { readonly kind: 'failure'; readonly type: number };

const commentText = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

// Agent errors carry no disconnect reason: there is no SSH session to disconnect.
function malformed(what: string): SshError {
  return new SshError(SSH_ERR.MALFORMED_MESSAGE, 'peer', `malformed agent reply: ${what}`);
}

function overLimit(what: string): SshError {
  return new SshError(SSH_ERR.LIMIT_EXCEEDED, 'peer', `agent reply: ${what}`);
}

/** Frames a message body: uint32 length ‖ body (draft-ietf-sshm-ssh-agent §3). */
function frame(build: (w: SshWriter) => void): Uint8Array {
  const w = new SshWriter(64);
  w.uint32(0);
  build(w);
  const out = w.finish();
  new DataView(out.buffer, out.byteOffset, 4).setUint32(0, out.length - 4);
  return out;
}

/**
 * `uint32 length ‖ byte SSH_AGENTC_REQUEST_IDENTITIES` (§3.4).
 *
 * @example
 * ```ts
 * const request = encodeRequestIdentities(); // length 1, then SSH_AGENTC_REQUEST_IDENTITIES
 * console.log(Buffer.from(request).toString('hex')); // prints: 000000010b
 * ```
 */
export function encodeRequestIdentities(): Uint8Array {
  return frame((w) => w.byte(SSH_AGENT.REQUEST_IDENTITIES));
}

/**
 * `uint32 length ‖ byte SSH_AGENTC_SIGN_REQUEST ‖ string key blob ‖ string data ‖ uint32 flags`
 * (§3.6).
 */
export function encodeSignRequest(
  keyBlob: Uint8Array,
  data: Uint8Array,
  flags: number,
): Uint8Array {
  return frame((w) => w.byte(SSH_AGENT.SIGN_REQUEST).string(keyBlob).string(data).uint32(flags));
}

/** The sign flags for a signature algorithm: the RSA SHA-2 flags (§3.6.1), else 0. */
export function signFlagsFor(algorithm: string): number {
  if (algorithm === 'rsa-sha2-256') return SSH_AGENT_SIGN_FLAGS.RSA_SHA2_256;
  if (algorithm === 'rsa-sha2-512') return SSH_AGENT_SIGN_FLAGS.RSA_SHA2_512;
  return 0;
}

/**
 * The length of the first whole message in `bytes` (prefix included), 0 when it is not
 * complete yet. Throws `LIMIT_EXCEEDED` for a declared length over
 * `AGENT_LIMITS.MESSAGE_BYTES_MAX`, before any body is buffered, and `MALFORMED_MESSAGE` for an
 * empty message (every message has a type byte).
 */
export function frameLength(bytes: Uint8Array): number {
  if (bytes.length < 4) return 0;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
  if (n === 0) throw malformed('empty message');
  if (n > AGENT_LIMITS.MESSAGE_BYTES_MAX)
    throw overLimit(`message of ${n} bytes over the limit of ${AGENT_LIMITS.MESSAGE_BYTES_MAX}`);
  return bytes.length >= 4 + n ? 4 + n : 0;
}

/** A failure reply, or undefined when `type` is not one; rejects a failure with a body. */
function failureOf(type: number, r: SshReader): AgentReply<never> | undefined {
  if (type !== SSH_AGENT.FAILURE && !LEGACY_FAILURES.has(type)) return undefined;
  r.finish();
  return { kind: 'failure', type };
}

function unexpected(type: number, wanted: string): SshError {
  return new SshError(
    SSH_ERR.UNEXPECTED_MESSAGE,
    'peer',
    `agent sent message ${type}, expected ${wanted}`,
  );
}

/**
 * Decodes the reply to SSH_AGENTC_REQUEST_IDENTITIES (`body` without the length prefix):
 * `byte SSH_AGENT_IDENTITIES_ANSWER ‖ uint32 nkeys ‖ nkeys × (string key blob ‖ string comment)`
 * (§3.4). Key blobs are copied; comments are decoded leniently and cut to
 * `AGENT_LIMITS.COMMENT_MAX`.
 */
export function decodeIdentitiesReply(body: Uint8Array): AgentReply<DecodedIdentity[]> {
  const r = new SshReader(body);
  const type = r.byte();
  const failure = failureOf(type, r);
  if (failure) return failure;
  if (type !== SSH_AGENT.IDENTITIES_ANSWER) throw unexpected(type, 'IDENTITIES_ANSWER');
  const count = r.uint32();
  if (count > AGENT_LIMITS.IDENTITIES_MAX)
    throw overLimit(`${count} identities over the limit of ${AGENT_LIMITS.IDENTITIES_MAX}`);
  // Each identity needs at least 8 bytes: a count larger than the body allows is a lie.
  if (count > r.remaining / 8) throw malformed(`${count} identities cannot fit`);
  const identities: DecodedIdentity[] = [];
  for (let i = 0; i < count; i++) {
    const n = r.uint32();
    if (n > AGENT_LIMITS.KEY_BLOB_BYTES_MAX)
      throw overLimit(`key blob of ${n} bytes over ${AGENT_LIMITS.KEY_BLOB_BYTES_MAX}`);
    const keyBlob = r.raw(n).slice();
    const keyType = keyTypeOf(keyBlob);
    const comment = commentText.decode(r.string(AGENT_LIMITS.MESSAGE_BYTES_MAX));
    identities.push({
      keyType,
      keyBlob,
      comment: comment.slice(0, AGENT_LIMITS.COMMENT_MAX),
      certificate: keyType.endsWith(CERT_SUFFIX),
    });
  }
  r.finish();
  return { kind: 'answer', value: identities };
}

/** The key type at the start of a key blob (RFC 4253 §6.6): printable ASCII, 1–64 bytes. */
function keyTypeOf(keyBlob: Uint8Array): string {
  const r = new SshReader(keyBlob);
  let name: string;
  try {
    name = r.ascii(64);
  } catch {
    throw malformed('a key blob does not start with a key type name');
  }
  if (name.length === 0) throw malformed('a key blob has an empty key type');
  return name;
}

/**
 * Decodes the reply to SSH_AGENTC_SIGN_REQUEST: `byte SSH_AGENT_SIGN_RESPONSE ‖ string
 * signature` (§3.6), where the signature is itself `string algorithm ‖ string blob` (RFC 4253
 * §6.6). Returns the signature (a copy) and the algorithm it names; the caller compares that
 * with the one it asked for.
 */
export function decodeSignReply(
  body: Uint8Array,
): AgentReply<{ readonly signature: Uint8Array; readonly algorithm: string }> {
  const r = new SshReader(body);
  const type = r.byte();
  const failure = failureOf(type, r);
  if (failure) return failure;
  if (type !== SSH_AGENT.SIGN_RESPONSE) throw unexpected(type, 'SIGN_RESPONSE');
  const n = r.uint32();
  if (n > AGENT_LIMITS.SIGNATURE_BYTES_MAX)
    throw overLimit(`signature of ${n} bytes over ${AGENT_LIMITS.SIGNATURE_BYTES_MAX}`);
  const signature = r.raw(n).slice();
  r.finish();
  const inner = new SshReader(signature);
  let algorithm: string;
  try {
    algorithm = inner.ascii(64);
    inner.string(AGENT_LIMITS.SIGNATURE_BYTES_MAX);
    inner.finish();
  } catch {
    throw malformed('the signature is not `string algorithm ‖ string signature`');
  }
  return { kind: 'answer', value: { signature, algorithm } };
}
