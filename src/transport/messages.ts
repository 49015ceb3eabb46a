/**
 * @module
 * The transport layer's own messages (RFC 4253 §10–§11, RFC 8308 §2.3): each a type with
 * encode/decode functions under its wire layout.
 */

import { SSH_MSG } from '../constants.js';
import { SERVER_SIG_ALGS } from '../crypto/algorithms.js';
import { peerError, SSH_ERR } from '../errors.js';
import { LIMITS } from '../limits.js';
import { SshReader } from '../wire/reader.js';
import { SshWriter } from '../wire/writer.js';

const lenient = new TextDecoder('utf-8');

/** Text from the peer: invalid UTF-8 replaced, cut to LIMITS.TEXT_MESSAGE_MAX. */
function peerText(bytes: Uint8Array): string {
  return lenient.decode(bytes).slice(0, LIMITS.TEXT_MESSAGE_MAX);
}

/*
 * byte      SSH_MSG_DISCONNECT
 * uint32    reason code
 * string    description in ISO-10646 UTF-8 encoding
 * string    language tag
 */
export interface Disconnect {
  readonly reason: number;
  readonly description: string;
}
/** Encodes DISCONNECT; our description is cut to LIMITS.DISCONNECT_DESCRIPTION_SENT_MAX. */
export function encodeDisconnect(m: Disconnect): Uint8Array {
  return new SshWriter(64 + m.description.length)
    .byte(SSH_MSG.DISCONNECT)
    .uint32(m.reason)
    .string(m.description.slice(0, LIMITS.DISCONNECT_DESCRIPTION_SENT_MAX))
    .string('')
    .finish();
}
/** Decodes DISCONNECT leniently (language tag and trailing bytes ignored). */
export function decodeDisconnect(payload: Uint8Array): Disconnect {
  const r = new SshReader(payload);
  r.byte();
  return { reason: r.uint32(), description: peerText(r.string()) };
}

/*
 * byte      SSH_MSG_DEBUG
 * boolean   always_display
 * string    message in ISO-10646 UTF-8 encoding
 * string    language tag
 */
export interface Debug {
  readonly alwaysDisplay: boolean;
  readonly message: string;
}
/** Decodes DEBUG leniently. */
export function decodeDebug(payload: Uint8Array): Debug {
  const r = new SshReader(payload);
  r.byte();
  return { alwaysDisplay: r.bool(), message: peerText(r.string()) };
}

/*
 * byte      SSH_MSG_UNIMPLEMENTED
 * uint32    packet sequence number of rejected message
 */
/** Encodes UNIMPLEMENTED. */
export function encodeUnimplemented(sequence: number): Uint8Array {
  return new SshWriter(8).byte(SSH_MSG.UNIMPLEMENTED).uint32(sequence).finish();
}
/** Decodes UNIMPLEMENTED. */
export function decodeUnimplemented(payload: Uint8Array): number {
  const r = new SshReader(payload);
  r.byte();
  const sequence = r.uint32();
  r.finish();
  return sequence;
}

/*
 * byte      SSH_MSG_SERVICE_REQUEST / SSH_MSG_SERVICE_ACCEPT
 * string    service name
 */
/** Encodes SERVICE_REQUEST or SERVICE_ACCEPT. */
export function encodeService(
  type: typeof SSH_MSG.SERVICE_REQUEST | typeof SSH_MSG.SERVICE_ACCEPT,
  service: string,
): Uint8Array {
  return new SshWriter(32).byte(type).string(service).finish();
}
/** Decodes SERVICE_REQUEST or SERVICE_ACCEPT. */
export function decodeService(payload: Uint8Array): string {
  const r = new SshReader(payload);
  r.byte();
  const service = r.ascii(LIMITS.SERVICE_NAME_MAX);
  r.finish();
  return service;
}

/*
 * byte      SSH_MSG_EXT_INFO (RFC 8308 §2.3)
 * uint32    nr-extensions
 * repeat "nr-extensions" times:
 *   string  extension-name
 *   string  extension-value (binary)
 */
/** Encodes our EXT_INFO: server-sig-algs (RFC 8308 §3.1). */
export function encodeServerExtInfo(): Uint8Array {
  const w = new SshWriter(256).byte(SSH_MSG.EXT_INFO).uint32(1);
  w.string('server-sig-algs').nameList(SERVER_SIG_ALGS);
  return w.finish();
}
/** Decodes EXT_INFO, bounded by LIMITS.EXT_INFO_ENTRIES_MAX. */
export function decodeExtInfo(payload: Uint8Array): Map<string, Uint8Array> {
  const r = new SshReader(payload);
  r.byte();
  const count = r.uint32();
  if (count > LIMITS.EXT_INFO_ENTRIES_MAX) {
    throw peerError(SSH_ERR.LIMIT_EXCEEDED, `EXT_INFO with ${count} extensions`);
  }
  const extensions = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++)
    extensions.set(
      r.ascii(LIMITS.EXT_INFO_NAME_MAX),
      r.string(LIMITS.EXT_INFO_VALUE_BYTES_MAX).slice(),
    );
  r.finish();
  return extensions;
}
