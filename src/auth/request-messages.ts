/**
 * @module
 * The ssh-userauth messages a client sends: SSH_MSG_USERAUTH_REQUEST for each method
 * (RFC 4252 §5, §7, §8, RFC 4256 §3.1), the data a publickey signature covers (RFC 4252 §7)
 * and SSH_MSG_USERAUTH_INFO_RESPONSE (RFC 4256 §3.4).
 */

import { DISCONNECT_REASON } from '../constants.js';
import { peerError, SSH_ERR } from '../errors.js';
import { SshReader } from '../wire/reader.js';
import { SshWriter } from '../wire/writer.js';
import { AUTH_LIMITS } from './limits.js';
import { bounded, CONNECTION_SERVICE, strictText, USERAUTH_MSG } from './messages.js';

// ---- SSH_MSG_USERAUTH_REQUEST (client → server) -----------------------------------------------

/*
 * byte      SSH_MSG_USERAUTH_REQUEST
 * string    user name in ISO-10646 UTF-8 encoding [RFC3629]
 * string    service name in US-ASCII
 * string    method name in US-ASCII
 * ....      method specific fields
 */
function requestHeader(username: string, method: string): SshWriter {
  return new SshWriter(128)
    .byte(USERAUTH_MSG.REQUEST)
    .string(username)
    .string(CONNECTION_SERVICE)
    .string(method);
}

/** The fields every USERAUTH_REQUEST starts with, and a reader on the method's fields. */
export interface RequestHeader {
  /** The user name exactly as sent (signatures cover these bytes). */
  readonly usernameBytes: Uint8Array;
  readonly username: string;
  readonly service: string;
  readonly method: string;
  /** Positioned on the method-specific fields. */
  readonly reader: SshReader;
}

/** Decodes the common header of a USERAUTH_REQUEST (server side). */
export function decodeRequestHeader(payload: Uint8Array): RequestHeader {
  const reader = new SshReader(payload);
  reader.byte();
  const usernameBytes = bounded(
    reader,
    AUTH_LIMITS.USERNAME_BYTES_MAX,
    'user name',
    DISCONNECT_REASON.ILLEGAL_USER_NAME,
  ).slice();
  const username = strictText(usernameBytes, 'user name');
  const service = reader.ascii(AUTH_LIMITS.METHOD_NAME_MAX);
  const method = reader.ascii(AUTH_LIMITS.METHOD_NAME_MAX);
  return { usernameBytes, username, service, method, reader };
}

/* method "none" (RFC 4252 §5.2): no further fields. */
export function encodeNoneRequest(username: string): Uint8Array {
  return requestHeader(username, 'none').finish();
}

/*
 * RFC 4252 §8:
 * string    "password"
 * boolean   FALSE
 * string    plaintext password in ISO-10646 UTF-8 encoding [RFC3629]
 *
 * string    "password"
 * boolean   TRUE
 * string    plaintext old password in ISO-10646 UTF-8 encoding [RFC3629]
 * string    plaintext new password in ISO-10646 UTF-8 encoding [RFC3629]
 */
export function encodePasswordRequest(
  username: string,
  password: string,
  newPassword?: string,
): Uint8Array {
  const w = requestHeader(username, 'password')
    .bool(newPassword !== undefined)
    .string(password);
  if (newPassword !== undefined) w.string(newPassword);
  return w.finish();
}

/** The password fields; `password` is undefined when over AUTH_LIMITS.PASSWORD_BYTES_MAX. */
export interface PasswordFields {
  readonly password: string | undefined;
  readonly isChange: boolean;
}

/** Decodes the password method's fields (server side). */
export function decodePasswordFields(r: SshReader): PasswordFields {
  const isChange = r.bool();
  const old = r.string();
  if (isChange) r.string();
  r.finish();
  const password =
    old.length > AUTH_LIMITS.PASSWORD_BYTES_MAX ? undefined : strictText(old, 'password');
  return { password, isChange };
}

/*
 * RFC 4252 §7:
 * string    "publickey"
 * boolean   FALSE / TRUE
 * string    public key algorithm name
 * string    public key blob
 * string    signature                  (only when TRUE)
 */
export function encodePublicKeyRequest(
  username: string,
  algorithm: string,
  blob: Uint8Array,
  signature?: Uint8Array,
): Uint8Array {
  const w = requestHeader(username, 'publickey')
    .bool(signature !== undefined)
    .string(algorithm)
    .string(blob);
  if (signature !== undefined) w.string(signature);
  return w.finish();
}

/** The publickey method's fields. */
export interface PublicKeyFields {
  readonly algorithm: string;
  readonly blob: Uint8Array;
  readonly signature: Uint8Array | undefined;
}

/** Decodes the publickey method's fields (server side). */
export function decodePublicKeyFields(r: SshReader): PublicKeyFields {
  const hasSignature = r.bool();
  const algorithm = r.ascii(AUTH_LIMITS.METHOD_NAME_MAX);
  const blob = bounded(r, AUTH_LIMITS.PUBLIC_KEY_BLOB_BYTES_MAX, 'public key blob').slice();
  const signature = hasSignature
    ? bounded(r, AUTH_LIMITS.SIGNATURE_BYTES_MAX, 'signature').slice()
    : undefined;
  r.finish();
  return { algorithm, blob, signature };
}

/*
 * The data a publickey signature covers (RFC 4252 §7):
 * string    session identifier
 * byte      SSH_MSG_USERAUTH_REQUEST
 * string    user name
 * string    service name
 * string    "publickey"
 * boolean   TRUE
 * string    public key algorithm name
 * string    public key to be used for authentication
 */
export function publicKeySignedData(
  sessionId: Uint8Array,
  username: Uint8Array | string,
  algorithm: string,
  blob: Uint8Array,
): Uint8Array {
  return new SshWriter(256 + blob.length)
    .string(sessionId)
    .byte(USERAUTH_MSG.REQUEST)
    .string(username)
    .string(CONNECTION_SERVICE)
    .string('publickey')
    .bool(true)
    .string(algorithm)
    .string(blob)
    .finish();
}

/*
 * RFC 4256 §3.1:
 * string    "keyboard-interactive"
 * string    language tag (as defined in [RFC-3066])
 * string    submethods (ISO-10646 UTF-8)
 */
export function encodeKeyboardInteractiveRequest(username: string): Uint8Array {
  return requestHeader(username, 'keyboard-interactive').string('').string('').finish();
}

/** Decodes (and drops) the keyboard-interactive method's fields (server side). */
export function decodeKeyboardInteractiveFields(r: SshReader): void {
  bounded(r, AUTH_LIMITS.LANGUAGE_TAG_BYTES_MAX, 'language tag');
  bounded(r, AUTH_LIMITS.SUBMETHODS_BYTES_MAX, 'submethods');
  r.finish();
}

/*
 * RFC 4256 §3.4:
 * byte      SSH_MSG_USERAUTH_INFO_RESPONSE
 * int       num-responses
 * string    response[1] (ISO-10646 UTF-8)
 * ...
 */
export function encodeInfoResponse(responses: readonly string[]): Uint8Array {
  const w = new SshWriter(64).byte(USERAUTH_MSG.INFO_RESPONSE).uint32(responses.length);
  for (const s of responses) w.string(s);
  return w.finish();
}

/** The responses; undefined when one is over AUTH_LIMITS.KBD_RESPONSE_BYTES_MAX. */
export function decodeInfoResponse(payload: Uint8Array): readonly string[] | undefined {
  const r = new SshReader(payload);
  r.byte();
  const count = r.uint32();
  if (count > AUTH_LIMITS.KBD_PROMPTS_MAX)
    throw peerError(SSH_ERR.LIMIT_EXCEEDED, `INFO_RESPONSE with ${count} responses`);
  const raw: Uint8Array[] = [];
  for (let i = 0; i < count; i++) raw.push(r.string());
  r.finish();
  if (raw.some((b) => b.length > AUTH_LIMITS.KBD_RESPONSE_BYTES_MAX)) return undefined;
  return raw.map((b) => strictText(b, 'response'));
}
