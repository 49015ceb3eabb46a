/**
 * The SOCKS5 parser (RFC 1928) of the -D helper: greetings and CONNECT requests split at every
 * byte, each address type, bounded sizes, and the reply code for each refusal.
 */

import { describe, expect, it } from 'vitest';
import {
  parseSocksGreeting,
  parseSocksRequest,
  SOCKS_REPLY,
  SOCKS_REQUEST_MAX,
  socksReply,
} from '../../node/index.js';

const request = (atyp: number, address: number[], port: number, cmd = 1) =>
  Uint8Array.of(5, cmd, 0, atyp, ...address, port >> 8, port & 0xff);

describe('SOCKS5 greeting', () => {
  it('needs every method byte and says whether no-auth is offered', () => {
    const greeting = Uint8Array.of(5, 3, 2, 1, 0);
    for (let i = 0; i < greeting.length; i++) {
      expect(parseSocksGreeting(greeting.subarray(0, i)).kind).toBe('incomplete');
    }
    expect(parseSocksGreeting(greeting)).toEqual({
      kind: 'done',
      value: { noAuth: true },
      length: 5,
    });
    expect(parseSocksGreeting(Uint8Array.of(5, 1, 2))).toMatchObject({ value: { noAuth: false } });
  });

  it('refuses another version at once', () => {
    expect(parseSocksGreeting(Uint8Array.of(4, 1))).toMatchObject({ kind: 'error' });
  });
});

describe('SOCKS5 CONNECT request', () => {
  const cases = [
    { bytes: request(1, [10, 0, 0, 7], 80), host: '10.0.0.7', port: 80 },
    {
      bytes: request(4, [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1], 443),
      host: '2001:db8:0:0:0:0:0:1',
      port: 443,
    },
    {
      bytes: request(3, [11, ...Buffer.from('example.org')], 8080),
      host: 'example.org',
      port: 8080,
    },
  ];

  it.each(cases)('reads $host:$port whole and not a byte earlier', ({ bytes, host, port }) => {
    for (let i = 0; i < bytes.length; i++) {
      expect(parseSocksRequest(bytes.subarray(0, i)).kind).toBe('incomplete');
    }
    const withData = Uint8Array.of(...bytes, 0xaa, 0xbb);
    expect(parseSocksRequest(withData)).toEqual({
      kind: 'done',
      value: { host, port },
      length: bytes.length,
    });
  });

  it('answers each refusal with its reply code', () => {
    expect(parseSocksRequest(request(1, [1, 2, 3, 4], 1, 2))).toMatchObject({
      kind: 'error',
      reply: SOCKS_REPLY.COMMAND_NOT_SUPPORTED,
    });
    expect(parseSocksRequest(request(1, [1, 2, 3, 4], 1, 3))).toMatchObject({
      reply: SOCKS_REPLY.COMMAND_NOT_SUPPORTED,
    });
    expect(parseSocksRequest(Uint8Array.of(5, 1, 0, 9, 0, 0, 0, 0, 0, 0))).toMatchObject({
      reply: SOCKS_REPLY.ADDRESS_TYPE_NOT_SUPPORTED,
    });
    expect(parseSocksRequest(request(3, [0], 80))).toMatchObject({
      reply: SOCKS_REPLY.GENERAL_FAILURE,
    });
    expect(parseSocksRequest(request(3, [3, 0x61, 0x0a, 0x62], 80))).toMatchObject({
      reply: SOCKS_REPLY.GENERAL_FAILURE,
    });
  });

  it('never needs more than SOCKS_REQUEST_MAX bytes', () => {
    const longest = request(3, [255, ...Buffer.alloc(255, 0x61)], 1);
    expect(longest.length).toBe(SOCKS_REQUEST_MAX);
    expect(parseSocksRequest(longest)).toMatchObject({ kind: 'done', length: SOCKS_REQUEST_MAX });
  });

  it('formats a reply with an IPv4 zero bound address', () => {
    expect(Array.from(socksReply(SOCKS_REPLY.CONNECTION_REFUSED))).toEqual([
      5, 5, 0, 1, 0, 0, 0, 0, 0, 0,
    ]);
  });
});
