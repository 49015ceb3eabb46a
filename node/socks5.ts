/**
 * @module
 * The server half of SOCKS version 5 (RFC 1928) for `ssh -D`: the method negotiation (only
 * "no authentication required" is offered) and the CONNECT request with an IPv4, IPv6 or
 * domain-name address. Pure functions on bytes, every field bounded by the RFC's own sizes.
 */

/** SOCKS5 reply codes (RFC 1928 §6). */
export const SOCKS_REPLY = {
  SUCCEEDED: 0x00,
  GENERAL_FAILURE: 0x01,
  NOT_ALLOWED: 0x02,
  NETWORK_UNREACHABLE: 0x03,
  HOST_UNREACHABLE: 0x04,
  CONNECTION_REFUSED: 0x05,
  TTL_EXPIRED: 0x06,
  COMMAND_NOT_SUPPORTED: 0x07,
  ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
} as const;

/** The largest greeting: VER, NMETHODS, 255 methods (RFC 1928 §3). */
export const SOCKS_GREETING_MAX = 2 + 255;

/** The largest request: VER CMD RSV ATYP, a 1+255-byte domain name, the port (RFC 1928 §4). */
export const SOCKS_REQUEST_MAX = 4 + 1 + 255 + 2;

/** The outcome of parsing a greeting or request from the bytes received so far. */
export type SocksParse<T> =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'error'; readonly reply: number | undefined; readonly message: string }
  | { readonly kind: 'done'; readonly value: T; readonly length: number };

const incomplete = { kind: 'incomplete' } as const;

/**
 * Parses the client's greeting (RFC 1928 §3: VER=5, NMETHODS, METHODS) and says whether it
 * offers method 0, "no authentication required".
 */
export function parseSocksGreeting(bytes: Uint8Array): SocksParse<{ noAuth: boolean }> {
  if (bytes.length < 2) return incomplete;
  if (bytes[0] !== 5) {
    return { kind: 'error', reply: undefined, message: `not SOCKS5 (version ${bytes[0]})` };
  }
  const n = bytes[1]!;
  if (bytes.length < 2 + n) return incomplete;
  const methods = bytes.subarray(2, 2 + n);
  return { kind: 'done', value: { noAuth: methods.includes(0) }, length: 2 + n };
}

/** A CONNECT request's destination. */
export interface SocksTarget {
  /** A dotted IPv4 address, a full IPv6 address, or the domain name as sent. */
  readonly host: string;
  readonly port: number;
}

/**
 * Parses a request (RFC 1928 §4: VER=5, CMD, RSV, ATYP, DST.ADDR, DST.PORT). Only CONNECT
 * (1) is accepted; BIND and UDP ASSOCIATE get "command not supported".
 */
export function parseSocksRequest(bytes: Uint8Array): SocksParse<SocksTarget> {
  if (bytes.length < 5) return incomplete;
  if (bytes[0] !== 5) {
    return { kind: 'error', reply: SOCKS_REPLY.GENERAL_FAILURE, message: 'not SOCKS5' };
  }
  const atyp = bytes[3]!;
  let addressLength: number;
  let start = 4;
  if (atyp === 1) addressLength = 4;
  else if (atyp === 4) addressLength = 16;
  else if (atyp === 3) {
    addressLength = bytes[4]!;
    start = 5;
    if (addressLength === 0) {
      return { kind: 'error', reply: SOCKS_REPLY.GENERAL_FAILURE, message: 'empty domain name' };
    }
  } else {
    return {
      kind: 'error',
      reply: SOCKS_REPLY.ADDRESS_TYPE_NOT_SUPPORTED,
      message: `address type ${atyp}`,
    };
  }
  const length = start + addressLength + 2;
  if (bytes.length < length) return incomplete;
  if (bytes[1] !== 1) {
    return {
      kind: 'error',
      reply: SOCKS_REPLY.COMMAND_NOT_SUPPORTED,
      message: `command ${bytes[1]} not supported`,
    };
  }
  const address = bytes.subarray(start, start + addressLength);
  const port = (bytes[start + addressLength]! << 8) | bytes[start + addressLength + 1]!;
  let host: string;
  if (atyp === 1) host = Array.from(address).join('.');
  else if (atyp === 4) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2)
      groups.push(((address[i]! << 8) | address[i + 1]!).toString(16));
    host = groups.join(':');
  } else {
    host = Buffer.from(address).toString('latin1');
    // A host name is printable ASCII; anything else cannot be a name we should resolve.
    if (!/^[\x21-\x7e]+$/.test(host)) {
      return { kind: 'error', reply: SOCKS_REPLY.GENERAL_FAILURE, message: 'bad domain name' };
    }
  }
  return { kind: 'done', value: { host, port }, length };
}

/** A reply (RFC 1928 §6) with BND.ADDR 0.0.0.0 and BND.PORT 0: the relay has no local address. */
export function socksReply(code: number): Uint8Array {
  return Uint8Array.of(5, code, 0, 1, 0, 0, 0, 0, 0, 0);
}
