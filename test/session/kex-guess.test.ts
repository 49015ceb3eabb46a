/**
 * RFC 4253 §7.1 guessed key exchange packets, as our server receives them: a client may send
 * its first kex packet right after its KEXINIT (first_kex_packet_follows). The guess is right
 * only when both sides prefer the same kex and host-key algorithms; a wrong guess is dropped
 * and the real packet follows. OpenSSH and dropbear clients apply the same rule, so a server
 * that answered a guess they consider wrong would answer twice.
 */

import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SSH_MSG, sessionLastError, sessionReceive, sessionState } from '../../src/index.js';
import { encodeKexInit, type KexInitLists } from '../../src/transport/kexinit.js';
import { SshWriter } from '../../src/wire/writer.js';
import {
  concatBytes,
  enc,
  hostKey,
  parsePlainPackets,
  plainPacket,
  rawSession,
} from '../helpers.js';

const CLIENT_ID = enc('SSH-2.0-Guesser_1.0\r\n');

function guessingKexInit(kex: string[], hostKeyAlgs: string[]): Uint8Array {
  const lists: KexInitLists = {
    kex,
    hostKey: hostKeyAlgs,
    cipherClientToServer: ['aes128-ctr'],
    cipherServerToClient: ['aes128-ctr'],
    macClientToServer: ['hmac-sha2-256'],
    macServerToClient: ['hmac-sha2-256'],
    compressionClientToServer: ['none'],
    compressionServerToClient: ['none'],
  };
  const payload = encodeKexInit(new Uint8Array(16), lists);
  // boolean first_kex_packet_follows, then uint32 0: the flag is the fifth byte from the end.
  payload[payload.length - 5] = 1;
  return payload;
}

/** A KEX_ECDH_INIT with a fresh X25519 public key. */
function ecdhInit(): Uint8Array {
  const x = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x!;
  return new SshWriter(64)
    .byte(SSH_MSG.KEX_ECDH_INIT)
    .string(new Uint8Array(Buffer.from(x, 'base64url')))
    .finish();
}

function replies(sent: Uint8Array[]): number {
  return sent.flatMap((b) => parsePlainPackets(b)).filter((p) => p[0] === SSH_MSG.KEX_ECDH_REPLY)
    .length;
}

/** Our server (ed25519 host key, default lists: curve25519-sha256 first) after a guess. */
function afterGuess(kex: string[], hostKeyAlgs: string[]) {
  const { session, rec } = rawSession({ role: 'server', hostKeys: [hostKey('ed25519')] });
  const input = concatBytes(
    CLIENT_ID,
    plainPacket(guessingKexInit(kex, hostKeyAlgs)),
    plainPacket(ecdhInit()),
  );
  expect(sessionReceive(session, input)).toBe(input.length);
  return { session, rec };
}

describe('a client guessing its first key exchange packet (RFC 4253 §7.1)', () => {
  it('answers a right guess: both sides prefer the same kex and host-key algorithms', () => {
    const { session, rec } = afterGuess(['curve25519-sha256'], ['ssh-ed25519']);
    expect(replies(rec.sent)).toBe(1);
    expect(sessionState(session)).toBe('key-exchange');
  });

  it('drops the guess when the client prefers another kex, even one the server supports', () => {
    // Negotiation picks the client's first choice, curve25519-sha256@libssh.org, but the server
    // prefers curve25519-sha256: by RFC 4253 §7.1 (and OpenSSH's proposals_match) a wrong guess.
    const { session, rec } = afterGuess(
      ['curve25519-sha256@libssh.org', 'curve25519-sha256'],
      ['ssh-ed25519'],
    );
    expect(replies(rec.sent)).toBe(0);
    const real = plainPacket(ecdhInit());
    expect(sessionReceive(session, real)).toBe(real.length);
    expect(replies(rec.sent)).toBe(1);
    expect(sessionLastError(session)).toBeUndefined();
  });

  it('drops the guess when the client prefers another host-key algorithm', () => {
    const { session, rec } = afterGuess(
      ['curve25519-sha256'],
      ['ecdsa-sha2-nistp256', 'ssh-ed25519'],
    );
    expect(replies(rec.sent)).toBe(0);
    const real = plainPacket(ecdhInit());
    expect(sessionReceive(session, real)).toBe(real.length);
    expect(replies(rec.sent)).toBe(1);
    expect(sessionLastError(session)).toBeUndefined();
  });
});
