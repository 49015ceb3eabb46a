/**
 * @module
 * The protocol version exchange (RFC 4253 §4.2): `SSH-protoversion-softwareversion SP
 * comments CR LF`, at most 255 bytes, with lines of other text allowed from a server first.
 */

import { DISCONNECT_REASON } from '../constants.js';
import { peerError, SSH_ERR, usageError } from '../errors.js';
import { LIMITS } from '../limits.js';

/** The outcome of looking for one line at the front of the input. */
export type IdentificationScan =
  | { readonly kind: 'need-more' }
  | { readonly kind: 'other-line'; readonly consumed: number }
  | { readonly kind: 'identification'; readonly consumed: number; readonly id: string };

const LF = 0x0a;
const CR = 0x0d;

/**
 * Looks for one whole line in `bytes` from `offset`. Throws an SshError for lines that are
 * too long, for non-identification lines from a client, and for unsupported versions.
 */
export function scanIdentificationLine(
  bytes: Uint8Array,
  offset: number,
  peerIsServer: boolean,
): IdentificationScan {
  const limit = Math.min(bytes.length, offset + LIMITS.IDENTIFICATION_LINE_MAX);
  let end = -1;
  for (let i = offset; i < limit; i++) {
    if (bytes[i] === LF) {
      end = i;
      break;
    }
  }
  const startsWithSsh =
    bytes.length - offset < 4
      ? isPrefixOfSsh(bytes, offset)
      : bytes[offset] === 0x53 &&
        bytes[offset + 1] === 0x53 &&
        bytes[offset + 2] === 0x48 &&
        bytes[offset + 3] === 0x2d;
  if (end < 0) {
    if (limit - offset >= LIMITS.IDENTIFICATION_LINE_MAX) {
      throw versionError('identification line longer than 255 bytes');
    }
    if (!peerIsServer && !startsWithSsh)
      throw versionError('client sent text before its identification');
    return { kind: 'need-more' };
  }
  const consumed = end + 1 - offset;
  let lineEnd = end;
  if (lineEnd > offset && bytes[lineEnd - 1] === CR) lineEnd--;
  if (!startsWithSsh) {
    if (!peerIsServer) throw versionError('client sent text before its identification');
    return { kind: 'other-line', consumed };
  }
  let id = '';
  for (let i = offset; i < lineEnd; i++) {
    const c = bytes[i]!;
    if (c < 0x20 || c > 0x7e)
      throw versionError('identification line holds a control or non-ASCII byte');
    id += String.fromCharCode(c);
  }
  const match = /^SSH-([^-\s]+)-(\S+)(?: .*)?$/.exec(id);
  if (!match) throw versionError(`malformed identification ${JSON.stringify(id)}`);
  if (match[1] !== '2.0' && !(peerIsServer && match[1] === '1.99')) {
    throw versionError(`unsupported protocol version ${match[1]}`);
  }
  return { kind: 'identification', consumed, id };
}

function isPrefixOfSsh(bytes: Uint8Array, offset: number): boolean {
  const want = [0x53, 0x53, 0x48, 0x2d];
  for (let i = offset; i < bytes.length; i++) if (bytes[i] !== want[i - offset]) return false;
  return true;
}

function versionError(message: string) {
  return peerError(
    SSH_ERR.PROTOCOL_VERSION,
    message,
    DISCONNECT_REASON.PROTOCOL_VERSION_NOT_SUPPORTED,
  );
}

/** Builds our identification line (without CR LF), checking RFC 4253 §4.2's rules. */
export function buildIdentification(software: string, comments?: string): string {
  if (!/^[\x21-\x2c\x2e-\x7e]+$/.test(software)) {
    throw usageError('softwareVersion must be printable US-ASCII without spaces or minus signs');
  }
  const id = `SSH-2.0-${software}${comments ? ` ${comments}` : ''}`;
  if (id.length + 2 > LIMITS.IDENTIFICATION_LINE_MAX || /[\r\n]/.test(id)) {
    throw usageError('identification is longer than 255 bytes or holds CR/LF');
  }
  return id;
}
