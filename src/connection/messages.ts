/**
 * @module
 * Encoders and decoders of the connection protocol messages (RFC 4254 §4, §5; OpenSSH
 * PROTOCOL §2.4), each under its RFC layout. Decoders bound every string and reject trailing
 * bytes; CHANNEL_DATA is built with a single copy of the application's bytes.
 */

import { SSH_MSG } from '../constants.js';
import { peerError, SSH_ERR, type SshError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { SshReader } from '../wire/reader.js';
import { SshWriter } from '../wire/writer.js';
import { CHANNEL_TYPE } from './constants.js';
import { CONNECTION_LIMITS } from './limits.js';
import type { ChannelOpenTarget } from './types.js';

/** A decoding failure: the session ends with SSH_ERR_MALFORMED_MESSAGE. */
export function malformed(what: string): SshError {
  return peerError(SSH_ERR.MALFORMED_MESSAGE, `malformed message: ${what}`);
}

/** Reads a US-ASCII name of at most 64 characters (RFC 4250 §4.6.1). */
export function readName(r: SshReader): string {
  return r.ascii(CONNECTION_LIMITS.NAME_MAX);
}

const lenient = new TextDecoder('utf-8');
/** Reads a string of text, decoding invalid UTF-8 leniently (the raw bytes stay available). */
export function readText(r: SshReader, max: number): string {
  return lenient.decode(r.string(max));
}

/*
 * byte      SSH_MSG_CHANNEL_OPEN
 * string    channel type in US-ASCII only
 * uint32    sender channel
 * uint32    initial window size
 * uint32    maximum packet size
 * ....      channel type specific data follows
 *
 * direct-tcpip / forwarded-tcpip (RFC 4254 §7.2):
 * string    host to connect / address that was connected
 * uint32    port to connect / port that was connected
 * string    originator IP address
 * uint32    originator port
 *
 * direct-streamlocal@openssh.com (OpenSSH PROTOCOL §2.4):
 * string    socket path, string reserved, uint32 reserved
 * forwarded-streamlocal@openssh.com:
 * string    socket path, string reserved for future use
 */
export interface ChannelOpenMessage {
  readonly channelType: string;
  readonly sender: number;
  readonly window: number;
  readonly maxPacket: number;
  /** The decoded target for the types we know; undefined for others. */
  readonly target: ChannelOpenTarget | undefined;
}

export function encodeChannelOpen(
  target: ChannelOpenTarget,
  sender: number,
  window: number,
  maxPacket: number,
): Uint8Array {
  const w = new SshWriter(64).byte(SSH_MSG.CHANNEL_OPEN).string(target.type);
  w.uint32(sender).uint32(window).uint32(maxPacket);
  switch (target.type) {
    case 'session':
      break;
    case 'direct-tcpip':
      w.string(target.host).uint32(target.port);
      w.string(target.originatorHost).uint32(target.originatorPort);
      break;
    case 'forwarded-tcpip':
      w.string(target.address).uint32(target.port);
      w.string(target.originatorHost).uint32(target.originatorPort);
      break;
    case 'direct-streamlocal@openssh.com':
      w.string(target.socketPath).string('').uint32(0);
      break;
    case 'forwarded-streamlocal@openssh.com':
      w.string(target.socketPath).string('');
      break;
  }
  return w.finish();
}

export function decodeChannelOpen(payload: Uint8Array): ChannelOpenMessage {
  const r = new SshReader(payload);
  r.byte();
  const channelType = readName(r);
  const sender = r.uint32();
  const window = r.uint32();
  const maxPacket = r.uint32();
  let target: ChannelOpenTarget | undefined;
  switch (channelType) {
    case CHANNEL_TYPE.SESSION:
      target = { type: channelType };
      r.finish();
      break;
    case CHANNEL_TYPE.DIRECT_TCPIP:
    case CHANNEL_TYPE.FORWARDED_TCPIP: {
      const host = readText(r, CONNECTION_LIMITS.HOST_MAX);
      const port = r.uint32();
      const originatorHost = readText(r, CONNECTION_LIMITS.HOST_MAX);
      const originatorPort = r.uint32();
      r.finish();
      target =
        channelType === CHANNEL_TYPE.DIRECT_TCPIP
          ? { type: channelType, host, port, originatorHost, originatorPort }
          : { type: channelType, address: host, port, originatorHost, originatorPort };
      break;
    }
    case CHANNEL_TYPE.DIRECT_STREAMLOCAL:
    case CHANNEL_TYPE.FORWARDED_STREAMLOCAL:
      // The reserved fields that follow are ignored by their definition (PROTOCOL §2.4).
      target = { type: channelType, socketPath: readText(r, CONNECTION_LIMITS.SOCKET_PATH_MAX) };
      r.rest();
      break;
    default:
      r.rest();
  }
  return { channelType, sender, window, maxPacket, target };
}

/*
 * byte      SSH_MSG_CHANNEL_OPEN_CONFIRMATION
 * uint32    recipient channel
 * uint32    sender channel
 * uint32    initial window size
 * uint32    maximum packet size
 * ....      channel type specific data follows
 */
export function encodeOpenConfirmation(
  recipient: number,
  sender: number,
  window: number,
  maxPacket: number,
): Uint8Array {
  return new SshWriter(17)
    .byte(SSH_MSG.CHANNEL_OPEN_CONFIRMATION)
    .uint32(recipient)
    .uint32(sender)
    .uint32(window)
    .uint32(maxPacket)
    .finish();
}

export function decodeOpenConfirmation(payload: Uint8Array): {
  sender: number;
  window: number;
  maxPacket: number;
} {
  const r = new SshReader(payload);
  r.byte();
  r.uint32();
  const sender = r.uint32();
  const window = r.uint32();
  const maxPacket = r.uint32();
  r.rest(); // no channel type we open defines specific data; ignore any
  return { sender, window, maxPacket };
}

/*
 * byte      SSH_MSG_CHANNEL_OPEN_FAILURE
 * uint32    recipient channel
 * uint32    reason code
 * string    description in ISO-10646 UTF-8 encoding [RFC3629]
 * string    language tag [RFC3066]
 */
export function encodeOpenFailure(recipient: number, reason: number, description: string) {
  return new SshWriter(32 + description.length)
    .byte(SSH_MSG.CHANNEL_OPEN_FAILURE)
    .uint32(recipient)
    .uint32(reason)
    .string(description)
    .string('')
    .finish();
}

export function decodeOpenFailure(payload: Uint8Array): { reason: number; description: string } {
  const r = new SshReader(payload);
  r.byte();
  r.uint32();
  const reason = r.uint32();
  const description = readText(r, LIMITS.PACKET_LENGTH_MAX).slice(0, LIMITS.TEXT_MESSAGE_MAX);
  r.string(); // language tag, unused
  r.finish();
  return { reason, description };
}

/*
 * byte      SSH_MSG_CHANNEL_WINDOW_ADJUST
 * uint32    recipient channel
 * uint32    bytes to add
 */
export function encodeWindowAdjust(recipient: number, bytes: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = SSH_MSG.CHANNEL_WINDOW_ADJUST;
  putUint32(out, 1, recipient);
  putUint32(out, 5, bytes);
  return out;
}

export function decodeWindowAdjust(payload: Uint8Array): number {
  if (payload.length !== 9) throw malformed('CHANNEL_WINDOW_ADJUST of the wrong length');
  return getUint32(payload, 5);
}

/*
 * byte      SSH_MSG_CHANNEL_DATA
 * uint32    recipient channel
 * string    data
 *
 * byte      SSH_MSG_CHANNEL_EXTENDED_DATA
 * uint32    recipient channel
 * uint32    data_type_code
 * string    data
 */
/** Builds CHANNEL_DATA (no `dataType`) or CHANNEL_EXTENDED_DATA with one copy of the bytes. */
export function encodeData(
  recipient: number,
  data: Uint8Array,
  offset: number,
  length: number,
  dataType?: number,
): Uint8Array {
  const header = dataType === undefined ? 9 : 13;
  const out = new Uint8Array(header + length);
  out[0] = dataType === undefined ? SSH_MSG.CHANNEL_DATA : SSH_MSG.CHANNEL_EXTENDED_DATA;
  putUint32(out, 1, recipient);
  if (dataType !== undefined) putUint32(out, 5, dataType);
  putUint32(out, header - 4, length);
  out.set(data.subarray(offset, offset + length), header);
  return out;
}

/**
 * The part of CHANNEL_DATA or CHANNEL_EXTENDED_DATA before the data (9 or 13 bytes), for
 * sending the data itself as a separate piece without copying it.
 */
export function encodeDataHeader(recipient: number, length: number, dataType?: number): Uint8Array {
  const header = dataType === undefined ? 9 : 13;
  const out = new Uint8Array(header);
  out[0] = dataType === undefined ? SSH_MSG.CHANNEL_DATA : SSH_MSG.CHANNEL_EXTENDED_DATA;
  putUint32(out, 1, recipient);
  if (dataType !== undefined) putUint32(out, 5, dataType);
  putUint32(out, header - 4, length);
  return out;
}

/** Decodes CHANNEL_DATA / CHANNEL_EXTENDED_DATA; `data` is a view of `payload`. */
export function decodeData(payload: Uint8Array): {
  dataType: number | undefined;
  data: Uint8Array;
} {
  const extended = payload[0] === SSH_MSG.CHANNEL_EXTENDED_DATA;
  const header = extended ? 13 : 9;
  if (payload.length < header) throw malformed('truncated channel data');
  const length = getUint32(payload, header - 4);
  if (length !== payload.length - header) throw malformed('channel data length mismatch');
  return {
    dataType: extended ? getUint32(payload, 5) : undefined,
    data: payload.subarray(header),
  };
}

/*
 * byte      SSH_MSG_CHANNEL_EOF / SSH_MSG_CHANNEL_CLOSE / SSH_MSG_CHANNEL_SUCCESS /
 *           SSH_MSG_CHANNEL_FAILURE
 * uint32    recipient channel
 */
export function encodeChannelOnly(type: number, recipient: number): Uint8Array {
  const out = new Uint8Array(5);
  out[0] = type;
  putUint32(out, 1, recipient);
  return out;
}

export function checkChannelOnly(payload: Uint8Array): void {
  if (payload.length !== 5) throw malformed(`message ${payload[0]} of the wrong length`);
}

/** The recipient channel that every message from 91 to 100 starts with. */
export function recipientOf(payload: Uint8Array): number {
  if (payload.length < 5) throw malformed(`message ${payload[0]} without a recipient channel`);
  return getUint32(payload, 1);
}

/*
 * byte      SSH_MSG_CHANNEL_REQUEST
 * uint32    recipient channel
 * string    request type in US-ASCII characters only
 * boolean   want reply
 * ....      type-specific data follows
 */
export function encodeChannelRequest(
  recipient: number,
  name: string,
  wantReply: boolean,
  data: Uint8Array,
): Uint8Array {
  return new SshWriter(16 + name.length + data.length)
    .byte(SSH_MSG.CHANNEL_REQUEST)
    .uint32(recipient)
    .string(name)
    .bool(wantReply)
    .raw(data)
    .finish();
}

export function decodeChannelRequest(payload: Uint8Array): {
  name: string;
  wantReply: boolean;
  data: Uint8Array;
} {
  const r = new SshReader(payload);
  r.byte();
  r.uint32();
  const name = readName(r);
  const wantReply = r.bool();
  return { name, wantReply, data: r.rest() };
}

/*
 * byte      SSH_MSG_GLOBAL_REQUEST
 * string    request name in US-ASCII only
 * boolean   want reply
 * ....      request-specific data follows
 */
export function encodeGlobalRequest(name: string, wantReply: boolean, data: Uint8Array) {
  return new SshWriter(16 + name.length + data.length)
    .byte(SSH_MSG.GLOBAL_REQUEST)
    .string(name)
    .bool(wantReply)
    .raw(data)
    .finish();
}

export function decodeGlobalRequest(payload: Uint8Array): {
  name: string;
  wantReply: boolean;
  data: Uint8Array;
} {
  const r = new SshReader(payload);
  r.byte();
  const name = readName(r);
  const wantReply = r.bool();
  return { name, wantReply, data: r.rest() };
}

/*
 * byte      SSH_MSG_REQUEST_SUCCESS
 * ....      response specific data
 *
 * byte      SSH_MSG_REQUEST_FAILURE
 */
export function encodeGlobalReply(success: boolean, data?: Uint8Array): Uint8Array {
  const body = success && data ? data : new Uint8Array(0);
  const out = new Uint8Array(1 + body.length);
  out[0] = success ? SSH_MSG.REQUEST_SUCCESS : SSH_MSG.REQUEST_FAILURE;
  out.set(body, 1);
  return out;
}

function putUint32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = v >>> 16;
  out[at + 2] = v >>> 8;
  out[at + 3] = v;
}

function getUint32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}
