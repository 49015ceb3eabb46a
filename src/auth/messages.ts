/**
 * @module
 * The ssh-userauth messages a server sends (RFC 4252 §5–§8, RFC 4256 §3.2), one encode and
 * decode function per message under its wire layout, and the field readers both directions
 * share. Decoders bound every peer-controlled size (AUTH_LIMITS).
 */

import { SSH_MSG } from '../constants.js';
import { peerError, SSH_ERR } from '../errors.js';
import { SshReader } from '../wire/reader.js';
import { SshWriter } from '../wire/writer.js';
import { AUTH_LIMITS } from './limits.js';
import type { KeyboardInteractivePrompt } from './types.js';

/** Message numbers of ssh-userauth, with the ones RFC 4252 §8 and RFC 4256 §5 share with 60. */
export const USERAUTH_MSG = {
  REQUEST: SSH_MSG.USERAUTH_REQUEST,
  FAILURE: SSH_MSG.USERAUTH_FAILURE,
  SUCCESS: SSH_MSG.USERAUTH_SUCCESS,
  BANNER: SSH_MSG.USERAUTH_BANNER,
  /** 60 in reply to a publickey query (RFC 4252 §7). */
  PK_OK: 60,
  /** 60 in reply to a password request (RFC 4252 §8). */
  PASSWD_CHANGEREQ: 60,
  /** 60 during keyboard-interactive (RFC 4256 §3.2). */
  INFO_REQUEST: 60,
  INFO_RESPONSE: 61,
} as const;

/** The one service ssh-userauth starts in this library (RFC 4252 §5). */
export const CONNECTION_SERVICE = 'ssh-connection';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const utf8 = new TextEncoder();

/** A string field of at most `max` bytes; longer → SSH_ERR_LIMIT_EXCEEDED. */
export function bounded(r: SshReader, max: number, what: string, reason?: number): Uint8Array {
  const bytes = r.string();
  if (bytes.length > max) {
    throw peerError(SSH_ERR.LIMIT_EXCEEDED, `${what} of ${bytes.length} bytes over ${max}`, reason);
  }
  return bytes;
}

/** Strict UTF-8 for text that identifies or authenticates (a leading BOM is kept, not eaten). */
export function strictText(bytes: Uint8Array, what: string): string {
  let s: string;
  try {
    s = strictUtf8.decode(bytes);
  } catch {
    throw peerError(SSH_ERR.MALFORMED_MESSAGE, `malformed message: ${what} is not UTF-8`);
  }
  // A NUL would truncate the value in any C API the application hands it to (OpenSSH
  // refuses it too: sshbuf_get_cstring).
  if (s.includes('\0')) {
    throw peerError(SSH_ERR.MALFORMED_MESSAGE, `malformed message: ${what} contains NUL`);
  }
  return s;
}

/** Lenient UTF-8 for text that is only displayed. */
export function displayText(bytes: Uint8Array): string {
  return lenientUtf8.decode(bytes);
}

/** A name-list of method names, bounded by AUTH_LIMITS (RFC 4251 §5). */
function methodList(r: SshReader): string[] {
  const text = r.ascii(AUTH_LIMITS.METHOD_LIST_BYTES_MAX);
  if (text.length === 0) return [];
  const names = text.split(',');
  if (names.length > AUTH_LIMITS.METHOD_NAMES_MAX) {
    throw peerError(SSH_ERR.LIMIT_EXCEEDED, `a list of ${names.length} authentication methods`);
  }
  for (const n of names) {
    if (n.length === 0 || n.length > AUTH_LIMITS.METHOD_NAME_MAX)
      throw peerError(SSH_ERR.MALFORMED_MESSAGE, 'malformed message: bad method name-list');
  }
  return names;
}

// ---- server → client ------------------------------------------------------------------------

/*
 * byte         SSH_MSG_USERAUTH_FAILURE
 * name-list    authentications that can continue
 * boolean      partial success
 */
export function encodeFailure(methods: readonly string[], partialSuccess: boolean): Uint8Array {
  return new SshWriter(64)
    .byte(USERAUTH_MSG.FAILURE)
    .nameList(methods)
    .bool(partialSuccess)
    .finish();
}

/** A decoded USERAUTH_FAILURE. */
export interface Failure {
  readonly methods: readonly string[];
  readonly partialSuccess: boolean;
}

export function decodeFailure(payload: Uint8Array): Failure {
  const r = new SshReader(payload);
  r.byte();
  const methods = methodList(r);
  const partialSuccess = r.bool();
  r.finish();
  return { methods, partialSuccess };
}

/* byte      SSH_MSG_USERAUTH_SUCCESS */
export function encodeSuccess(): Uint8Array {
  return Uint8Array.of(USERAUTH_MSG.SUCCESS);
}

export function decodeSuccess(payload: Uint8Array): void {
  const r = new SshReader(payload);
  r.byte();
  r.finish();
}

/*
 * byte      SSH_MSG_USERAUTH_BANNER
 * string    message in ISO-10646 UTF-8 encoding [RFC3629]
 * string    language tag [RFC3066]
 */
export function encodeBanner(message: string): Uint8Array {
  return new SshWriter(64 + message.length)
    .byte(USERAUTH_MSG.BANNER)
    .string(message)
    .string('')
    .finish();
}

/** Decodes a banner, truncated to AUTH_LIMITS.BANNER_BYTES_MAX bytes. */
export function decodeBanner(payload: Uint8Array): string {
  const r = new SshReader(payload);
  r.byte();
  const message = r.string();
  bounded(r, AUTH_LIMITS.LANGUAGE_TAG_BYTES_MAX, 'language tag');
  r.finish();
  return displayText(message.subarray(0, AUTH_LIMITS.BANNER_BYTES_MAX));
}

/*
 * byte      SSH_MSG_USERAUTH_PK_OK
 * string    public key algorithm name from the request
 * string    public key blob from the request
 */
export function encodePkOk(algorithm: string, blob: Uint8Array): Uint8Array {
  return new SshWriter(64 + blob.length)
    .byte(USERAUTH_MSG.PK_OK)
    .string(algorithm)
    .string(blob)
    .finish();
}

/** A decoded PK_OK. */
export interface PkOk {
  readonly algorithm: string;
  readonly blob: Uint8Array;
}

export function decodePkOk(payload: Uint8Array): PkOk {
  const r = new SshReader(payload);
  r.byte();
  const algorithm = r.ascii(AUTH_LIMITS.METHOD_NAME_MAX);
  const blob = bounded(r, AUTH_LIMITS.PUBLIC_KEY_BLOB_BYTES_MAX, 'public key blob');
  r.finish();
  return { algorithm, blob };
}

/*
 * byte      SSH_MSG_USERAUTH_PASSWD_CHANGEREQ
 * string    prompt in ISO-10646 UTF-8 encoding [RFC3629]
 * string    language tag [RFC3066]
 */
export function encodePasswordChangeRequest(prompt: string): Uint8Array {
  return new SshWriter(64 + prompt.length)
    .byte(USERAUTH_MSG.PASSWD_CHANGEREQ)
    .string(prompt)
    .string('')
    .finish();
}

export function decodePasswordChangeRequest(payload: Uint8Array): string {
  const r = new SshReader(payload);
  r.byte();
  const prompt = bounded(r, AUTH_LIMITS.KBD_TEXT_BYTES_MAX, 'password change prompt');
  bounded(r, AUTH_LIMITS.LANGUAGE_TAG_BYTES_MAX, 'language tag');
  r.finish();
  return displayText(prompt);
}

/*
 * RFC 4256 §3.2:
 * byte      SSH_MSG_USERAUTH_INFO_REQUEST
 * string    name (ISO-10646 UTF-8)
 * string    instruction (ISO-10646 UTF-8)
 * string    language tag (as defined in [RFC-3066])
 * int       num-prompts
 * string    prompt[1] (ISO-10646 UTF-8)
 * boolean   echo[1]
 * ...
 */
export interface InfoRequest {
  readonly name: string;
  readonly instruction: string;
  readonly prompts: readonly KeyboardInteractivePrompt[];
}

export function encodeInfoRequest(info: InfoRequest): Uint8Array {
  const w = new SshWriter(256)
    .byte(USERAUTH_MSG.INFO_REQUEST)
    .string(info.name)
    .string(info.instruction)
    .string('')
    .uint32(info.prompts.length);
  for (const p of info.prompts) w.string(p.prompt).bool(p.echo);
  return w.finish();
}

export function decodeInfoRequest(payload: Uint8Array): InfoRequest {
  const r = new SshReader(payload);
  r.byte();
  const text = (what: string) => displayText(bounded(r, AUTH_LIMITS.KBD_TEXT_BYTES_MAX, what));
  const name = text('name');
  const instruction = text('instruction');
  bounded(r, AUTH_LIMITS.LANGUAGE_TAG_BYTES_MAX, 'language tag');
  const count = r.uint32();
  if (count > AUTH_LIMITS.KBD_PROMPTS_MAX)
    throw peerError(SSH_ERR.LIMIT_EXCEEDED, `INFO_REQUEST with ${count} prompts`);
  const prompts: KeyboardInteractivePrompt[] = [];
  for (let i = 0; i < count; i++) prompts.push({ prompt: text('prompt'), echo: r.bool() });
  r.finish();
  return { name, instruction, prompts };
}

/** Whether two byte strings are equal (key blobs, user names; none of them secret). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The UTF-8 byte length of a string (for bounds on what we send). */
export function utf8Length(s: string): number {
  return utf8.encode(s).length;
}
