/**
 * Regression tests named after known SSH vulnerabilities, or after the class of bug where no
 * single CVE fits. Each drives a hostile peer or a man in the middle against a real session and
 * checks the clean, typed refusal. Related tests elsewhere: test/session/hostile.test.ts
 * (strict kex basics), test/auth/hostile.test.ts (out-of-phase authentication messages).
 */

import { describe, expect, it } from 'vitest';
import { USERAUTH_MSG } from '../../src/auth/messages.js';
import type { AuthRequest } from '../../src/auth/types.js';
import {
  decodeChannelOpen,
  encodeChannelOnly,
  encodeChannelOpen,
  encodeChannelRequest,
  encodeData,
  encodeGlobalRequest,
  encodeOpenConfirmation,
  encodeWindowAdjust,
} from '../../src/connection/messages.js';
import type { ChannelEvent } from '../../src/connection/types.js';
import { KEX_MARKERS } from '../../src/crypto/algorithms.js';
import {
  DISCONNECT_REASON,
  SSH_ERR,
  SSH_MSG,
  sessionLastError,
  sessionReceive,
  sessionRekey,
  sessionStrictKex,
} from '../../src/index.js';
import { decodeKexInit } from '../../src/transport/kexinit.js';
import { SshWriter } from '../../src/wire/writer.js';
import {
  clientKexInitPayload,
  concatBytes,
  enc,
  hostKey,
  parsePlainPackets,
  plainPacket,
  rawSession,
} from '../helpers.js';
import {
  attachConnection,
  expectCleanFault,
  expectEstablished,
  ignore,
  type LinkedPair,
  linkedPair,
  muteUpper,
  type Side,
} from './harness.js';

const R = DISCONNECT_REASON;

/** Byte offset just past the plaintext NEWKEYS packet in one `send`, or -1. */
function endOfNewKeys(bytes: Uint8Array): number {
  let o = 0;
  if (bytes[0] === 0x53) o = bytes.indexOf(0x0a) + 1; // an identification line first
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (o + 6 <= bytes.length) {
    const len = view.getUint32(o);
    const type = bytes[o + 5];
    o += 4 + len;
    if (type === SSH_MSG.NEWKEYS) return o;
  }
  return -1;
}

/**
 * The Terrapin man in the middle (Bäumer, Brinkmann, Schwenk 2023) against one direction:
 * appends `injected` to the sender's first plaintext send (after its KEXINIT), shifting the
 * receiver's sequence number by one, then deletes the sender's first encrypted packet to shift
 * it back. Without strict kex the receiver would never notice.
 */
function terrapin(direction: 'client' | 'server', injected: Uint8Array, cipher: string) {
  let sends = 0;
  let deleted = 0;
  const pair = linkedPair({
    client: { algorithms: { cipher: [cipher] } },
    server: { algorithms: { cipher: [cipher] } },
    tap: (from, bytes) => {
      if (from !== direction) return bytes;
      sends++;
      if (sends === 1) return concatBytes(bytes, plainPacket(injected));
      const end = endOfNewKeys(bytes);
      if (end > 0 && end < bytes.length && deleted === 0) {
        deleted = bytes.length - end;
        return bytes.subarray(0, end);
      }
      return bytes;
    },
  });
  return pair;
}

describe('CVE-2023-48795 (Terrapin): prefix truncation is refused by strict key exchange', () => {
  const injections: [string, Uint8Array][] = [
    ['IGNORE', ignore(0)],
    ['DEBUG', new SshWriter().byte(SSH_MSG.DEBUG).bool(false).string('').string('').finish()],
    ['UNIMPLEMENTED', new SshWriter().byte(SSH_MSG.UNIMPLEMENTED).uint32(0).finish()],
    ['an unassigned number (25)', new Uint8Array([25])],
  ];
  for (const cipher of ['chacha20-poly1305@openssh.com', 'aes128-ctr']) {
    for (const [what, payload] of injections) {
      it(`CVE-2023-48795: a client refuses ${what} injected before NEWKEYS (${cipher})`, () => {
        const { client, server } = terrapin('server', payload, cipher);
        expectCleanFault(client, server, SSH_ERR.STRICT_KEX_VIOLATION, R.PROTOCOL_ERROR);
        expect(client.events.some((e) => e.type === 'handshake-complete')).toBe(false);
      });

      it(`CVE-2023-48795: a server refuses ${what} injected before NEWKEYS (${cipher})`, () => {
        const { client, server } = terrapin('client', payload, cipher);
        expectCleanFault(server, client, SSH_ERR.STRICT_KEX_VIOLATION, R.PROTOCOL_ERROR);
        expect(server.events.some((e) => e.type === 'handshake-complete')).toBe(false);
      });
    }
  }

  it('CVE-2023-48795: both roles offer strict kex in their first KEXINIT and agree on it', () => {
    const firsts: Record<string, readonly string[]> = {};
    const pair = linkedPair({
      tap: (from, bytes) => {
        if (!firsts[from]) {
          const packets = parsePlainPackets(bytes).filter((p) => p[0] === SSH_MSG.KEXINIT);
          firsts[from] = decodeKexInit(packets[0]!).kex;
        }
        return bytes;
      },
    });
    expectEstablished(pair);
    expect(firsts.client).toContain(KEX_MARKERS.STRICT_CLIENT);
    expect(firsts.server).toContain(KEX_MARKERS.STRICT_SERVER);
    expect(sessionStrictKex(pair.client.session)).toBe(true);
    expect(sessionStrictKex(pair.server.session)).toBe(true);
  });

  for (const [victimRole, cipher] of [
    ['client', 'chacha20-poly1305@openssh.com'],
    ['server', 'chacha20-poly1305@openssh.com'],
    ['client', 'aes256-gcm@openssh.com'],
  ] as const) {
    it(`CVE-2023-48795: the ${victimRole} detects the first packet after a rekey's NEWKEYS being deleted (${cipher})`, () => {
      // Strict kex restarts sequence numbers at every NEWKEYS, so the receiver of the shortened
      // stream authenticates the next packet with the wrong number.
      let armed = false;
      let deleted = false;
      const sender = victimRole === 'client' ? 'server' : 'client';
      const pair = linkedPair({
        client: { algorithms: { cipher: [cipher] } },
        server: { algorithms: { cipher: [cipher] } },
        tap: (from, bytes) => {
          if (!armed || deleted || from !== sender) return bytes;
          deleted = true;
          return new Uint8Array(0);
        },
      });
      expectEstablished(pair);
      const victim = pair[victimRole];
      const other = pair[sender];
      sessionRekey(victim.session); // the sender answers with KEXINIT … NEWKEYS
      expect(victim.events.filter((e) => e.type === 'rekey-complete')).toHaveLength(1);
      armed = true;
      other.inject(ignore(3)); // deleted in transit
      other.inject(ignore(3)); // authenticated with a sequence number one too high
      expect(deleted).toBe(true);
      // chacha20-poly1305 decrypts the length with the sequence number first: a wrong number
      // usually gives an impossible length before the tag is checked.
      const code = victim.engine.lastError?.code;
      if (code === SSH_ERR.BAD_PACKET_LENGTH) {
        expect(cipher).toBe('chacha20-poly1305@openssh.com');
        expectCleanFault(victim, undefined, SSH_ERR.BAD_PACKET_LENGTH, R.PROTOCOL_ERROR);
      } else expectCleanFault(victim, undefined, SSH_ERR.MAC_INVALID, R.MAC_ERROR);
    });
  }
});

describe('CVE-2016-8858 (OpenSSH: memory from repeated KEXINIT): one KEXINIT per exchange', () => {
  it('CVE-2016-8858: a flood of KEXINITs ends the session at the second, after one reply', () => {
    const pair = linkedPair();
    expectEstablished(pair);
    const victim = pair.server;
    const attacker = pair.client;
    muteUpper(attacker);
    let victimKexInits = 0;
    const kexinit = clientKexInitPayload();
    victim.events.length = 0;
    const before = victim.sentBytes;
    attacker.injectAll(Array.from({ length: 1000 }, () => kexinit));
    for (const e of victim.events) if (e.type === 'rekey-started') victimKexInits++;
    expect(victimKexInits).toBe(1);
    expect(victim.sentBytes - before).toBeLessThan(4096); // one KEXINIT and a DISCONNECT
    expectCleanFault(victim, attacker, SSH_ERR.UNEXPECTED_MESSAGE, R.PROTOCOL_ERROR);
  });
});

describe('CVE-2018-10933 (libssh: a server accepting USERAUTH_SUCCESS from a client)', () => {
  /** A server with a real authentication layer and an application that counts its calls. */
  function authServer(onAuth?: (r: AuthRequest) => void) {
    const calls = { auth: 0, opens: 0 };
    const pair = linkedPair({
      server: {
        onAuth: (r) => {
          calls.auth++;
          if (onAuth) onAuth(r);
          else r.reject();
        },
        onChannelOpen: () => {
          calls.opens++;
        },
      },
    });
    expectEstablished(pair);
    muteUpper(pair.client);
    return { pair, calls };
  }
  const password = (pw: string) =>
    new SshWriter()
      .byte(USERAUTH_MSG.REQUEST)
      .string('alice')
      .string('ssh-connection')
      .string('password')
      .bool(false)
      .string(pw)
      .finish();
  const success = new Uint8Array([USERAUTH_MSG.SUCCESS]);

  it('CVE-2018-10933: USERAUTH_SUCCESS from a client before any request ends the session', () => {
    const { pair, calls } = authServer();
    pair.client.inject(success);
    expectCleanFault(pair.server, pair.client, SSH_ERR.UNEXPECTED_MESSAGE, R.PROTOCOL_ERROR);
    expect(pair.server.events.some((e) => e.type === 'authenticated')).toBe(false);
    expect(calls.auth).toBe(0);
  });

  it('CVE-2018-10933: USERAUTH_SUCCESS while the application is still deciding ends the session, and a later accept does nothing', () => {
    let pending: AuthRequest | undefined;
    const { pair } = authServer((r) => {
      pending = r;
    });
    pair.client.inject(password('guess'));
    expect(pending).toBeDefined();
    pair.client.inject(success);
    expectCleanFault(pair.server, pair.client, SSH_ERR.UNEXPECTED_MESSAGE, R.PROTOCOL_ERROR);
    pending!.accept();
    expect(pair.server.events.some((e) => e.type === 'authenticated')).toBe(false);
    expect(pair.server.closes).toBe(1);
  });

  it('CVE-2018-10933: USERAUTH_SUCCESS after a failed attempt ends the session', () => {
    const { pair } = authServer();
    pair.client.inject(password('wrong'));
    expect(pair.server.engine.state).toBe('established');
    pair.client.inject(success);
    expectCleanFault(pair.server, pair.client, SSH_ERR.UNEXPECTED_MESSAGE, R.PROTOCOL_ERROR);
  });

  it('CVE-2018-10933, client side: a client that sent no request refuses USERAUTH_SUCCESS', () => {
    const pair = linkedPair({
      client: { auth: { username: 'alice', methods: [{ type: 'password', password: 'x' }] } },
      server: { onAuth: () => {} }, // never answers
    });
    expectEstablished(pair);
    muteUpper(pair.server);
    // The client's request is outstanding; a second SUCCESS-type bypass: send it twice.
    pair.server.inject(success);
    expect(pair.client.events.filter((e) => e.type === 'authenticated')).toHaveLength(1);
    pair.server.inject(success);
    expectCleanFault(pair.client, pair.server, SSH_ERR.UNEXPECTED_MESSAGE, R.PROTOCOL_ERROR);
  });

  describe('CVE-2025-32433 (Erlang/OTP SSH: connection messages before authentication)', () => {
    const open = encodeChannelOpen({ type: 'session' }, 0, 1 << 20, 32768);
    const exec = encodeChannelRequest(
      0,
      'exec',
      false,
      new SshWriter().string('touch /tmp/pwned').finish(),
    );
    const global = encodeGlobalRequest(
      'tcpip-forward',
      true,
      new SshWriter().string('').uint32(0).finish(),
    );
    for (const [what, messages] of [
      ['CHANNEL_OPEN then an exec request', [open, exec]],
      ['an exec request on a channel never opened', [exec]],
      ['GLOBAL_REQUEST tcpip-forward', [global]],
      ['CHANNEL_DATA', [encodeData(0, new Uint8Array(4), 0, 4)]],
    ] as const) {
      it(`CVE-2025-32433: a server refuses ${what} before authentication`, () => {
        const { pair, calls } = authServer();
        for (const m of messages) pair.client.inject(m);
        expectCleanFault(pair.server, pair.client, SSH_ERR.UNEXPECTED_MESSAGE, R.PROTOCOL_ERROR);
        expect(calls.opens).toBe(0);
      });
    }

    it('CVE-2025-32433: a server refuses CHANNEL_OPEN after a failed attempt too', () => {
      const { pair, calls } = authServer();
      pair.client.inject(password('wrong'));
      pair.client.inject(open);
      expectCleanFault(pair.server, pair.client, SSH_ERR.UNEXPECTED_MESSAGE, R.PROTOCOL_ERROR);
      expect(calls.opens).toBe(0);
    });

    for (const [what, message] of [
      ['CHANNEL_OPEN', encodeChannelOpen({ type: 'session' }, 0, 1 << 20, 32768)],
      ['GLOBAL_REQUEST', encodeGlobalRequest('hostkeys-00@openssh.com', false, new Uint8Array(0))],
      ['CHANNEL_DATA', encodeData(0, new Uint8Array(4), 0, 4)],
    ] as const) {
      it(`CVE-2025-32433, client side: a client refuses ${what} before its authentication succeeded`, () => {
        const pair = linkedPair({
          client: { auth: { username: 'alice', methods: [{ type: 'password', password: 'x' }] } },
          server: { onAuth: () => {} },
        });
        expectEstablished(pair);
        muteUpper(pair.server);
        pair.server.inject(message);
        expectCleanFault(pair.client, pair.server, SSH_ERR.UNEXPECTED_MESSAGE, R.PROTOCOL_ERROR);
      });
    }
  });
});

describe('CVE-2023-46445 / CVE-2023-46446 (AsyncSSH: rogue extension negotiation, rogue session)', () => {
  const CLIENT_ID = enc('SSH-2.0-Injector_1.0\r\n');
  function clientKexInit(strict: boolean): Uint8Array {
    return clientKexInitPayload({
      kex: ['curve25519-sha256', 'ext-info-c', ...(strict ? [KEX_MARKERS.STRICT_CLIENT] : [])],
    });
  }
  for (const [cve, what, payload] of [
    [
      'CVE-2023-46445',
      'an EXT_INFO',
      new SshWriter()
        .byte(SSH_MSG.EXT_INFO)
        .uint32(1)
        .string('server-sig-algs')
        .string('ssh-rsa')
        .finish(),
    ],
    [
      'CVE-2023-46446',
      'a USERAUTH_REQUEST',
      new SshWriter()
        .byte(USERAUTH_MSG.REQUEST)
        .string('attacker')
        .string('ssh-connection')
        .string('password')
        .bool(false)
        .string('attacker')
        .finish(),
    ],
  ] as const) {
    for (const strict of [true, false]) {
      it(`${cve}: ${what} sent in plaintext during the first key exchange is refused (strict kex ${strict ? 'on' : 'off'})`, () => {
        let authCalls = 0;
        const s = rawSession({
          role: 'server',
          hostKeys: [hostKey('ed25519')],
          onAuth: () => authCalls++,
        });
        const input = concatBytes(
          CLIENT_ID,
          plainPacket(clientKexInit(strict)),
          plainPacket(payload),
        );
        expect(sessionReceive(s.session, input)).toBe(-1);
        expect(sessionLastError(s.session)?.code).toBe(
          strict ? SSH_ERR.STRICT_KEX_VIOLATION : SSH_ERR.UNEXPECTED_MESSAGE,
        );
        expect(sessionLastError(s.session)?.disconnectReason).toBe(R.PROTOCOL_ERROR);
        expect(s.rec.closes).toBe(1);
        expect(authCalls).toBe(0);
      });
    }
  }
});

describe('channel-id confusion (class of bug: messages for ids that are not, or no longer, a live channel)', () => {
  /** A server victim with a connection layer; the attacker opens channel(s) with ids it picks. */
  function serverWithChannels() {
    const pair = linkedPair();
    expectEstablished(pair);
    const events: string[] = [];
    const conn = attachConnection(pair.server, {
      onChannelOpen: (r) => {
        r.accept({ onEvent: (e: ChannelEvent) => events.push(e.type) });
      },
    });
    const received = muteUpper(pair.client);
    /** Opens a channel as the attacker with sender id `theirs`; returns our id for it. */
    const open = (theirs: number, window = 1 << 20) => {
      pair.client.inject(encodeChannelOpen({ type: 'session' }, theirs, window, 32768));
      const confirm = received.at(-1)!;
      expect(confirm[0]).toBe(SSH_MSG.CHANNEL_OPEN_CONFIRMATION);
      return new DataView(confirm.buffer, confirm.byteOffset).getUint32(5); // sender channel
    };
    return { pair, victim: pair.server, attacker: pair.client, conn, events, open, received };
  }

  it('refuses data for a channel id that was closed (close handshake complete)', () => {
    const { victim, attacker, open, conn } = serverWithChannels();
    const ours = open(7);
    attacker.inject(encodeChannelOnly(SSH_MSG.CHANNEL_CLOSE, ours));
    expect(conn.channelCount).toBe(0);
    attacker.inject(encodeData(ours, new Uint8Array(4), 0, 4));
    expectCleanFault(victim, attacker, SSH_ERR.UNEXPECTED_MESSAGE, R.PROTOCOL_ERROR);
  });

  it("refuses a message addressed with the peer's own id instead of ours", () => {
    const { victim, attacker, open } = serverWithChannels();
    const ours = open(1000);
    expect(ours).not.toBe(1000);
    attacker.inject(encodeWindowAdjust(1000, 10));
    expectCleanFault(victim, attacker, SSH_ERR.UNEXPECTED_MESSAGE, R.PROTOCOL_ERROR);
  });

  it('after an id is reused, data for it reaches only the new channel', () => {
    const { victim, attacker, open, events } = serverWithChannels();
    const first = open(7);
    attacker.inject(encodeChannelOnly(SSH_MSG.CHANNEL_CLOSE, first));
    expect(events).toEqual(['close']);
    const second = open(8, 12345);
    expect(second).toBe(first); // the id is free again and reused
    attacker.inject(encodeData(second, new Uint8Array(4), 0, 4));
    expect(victim.engine.state).toBe('established');
    expect(events).toEqual(['close', 'data']);
  });

  it('refuses a peer that reuses its own id for a second open while the first is live', () => {
    const { victim, attacker, open } = serverWithChannels();
    open(7);
    attacker.inject(encodeChannelOpen({ type: 'session' }, 7, 100, 100));
    expectCleanFault(victim, attacker, SSH_ERR.UNEXPECTED_MESSAGE, R.PROTOCOL_ERROR);
  });

  it('refuses an open confirmation for a channel we never opened', () => {
    const pair = linkedPair();
    expectEstablished(pair);
    attachConnection(pair.client);
    muteUpper(pair.server);
    pair.server.inject(encodeOpenConfirmation(0, 3, 100, 100));
    expectCleanFault(pair.client, pair.server, SSH_ERR.UNEXPECTED_MESSAGE, R.PROTOCOL_ERROR);
  });
});

describe('window integer overflow (class of bug: uint32 window arithmetic, RFC 4254 §5.2)', () => {
  /** A client victim with one channel confirmed by the attacker with `window`. */
  function clientChannel(window: number, ourWindow?: number) {
    const pair: LinkedPair = linkedPair();
    expectEstablished(pair);
    const conn = attachConnection(pair.client);
    const received = muteUpper(pair.server);
    const ch = conn.open(
      { type: 'session' },
      { onEvent: () => {}, ...(ourWindow ? { window: ourWindow, manualWindow: true } : {}) },
    );
    const open = decodeChannelOpen(received.at(-1)!);
    pair.server.inject(encodeOpenConfirmation(open.sender, 9, window, 32768));
    return { victim: pair.client as Side, attacker: pair.server as Side, ch, ours: open.sender };
  }

  it('refuses a WINDOW_ADJUST of 1 on a window of 2^32-1', () => {
    const { victim, attacker, ours } = clientChannel(0xffff_ffff);
    expect(victim.engine.state).toBe('established');
    attacker.inject(encodeWindowAdjust(ours, 1));
    expectCleanFault(victim, attacker, SSH_ERR.LIMIT_EXCEEDED, R.PROTOCOL_ERROR);
  });

  it('refuses a WINDOW_ADJUST of 2^32-1 on a window of 1 (would wrap to 0)', () => {
    const { victim, attacker, ours } = clientChannel(1);
    attacker.inject(encodeWindowAdjust(ours, 0xffff_ffff));
    expectCleanFault(victim, attacker, SSH_ERR.LIMIT_EXCEEDED, R.PROTOCOL_ERROR);
  });

  it('refuses data one byte past our window instead of letting it go negative', () => {
    const { victim, attacker, ours } = clientChannel(1000, 100);
    attacker.inject(encodeData(ours, new Uint8Array(100), 0, 100));
    expect(victim.engine.state).toBe('established');
    attacker.inject(encodeData(ours, new Uint8Array(1), 0, 1));
    expectCleanFault(victim, attacker, SSH_ERR.LIMIT_EXCEEDED, R.PROTOCOL_ERROR);
  });

  it('refuses data whose length field says 2^32-1', () => {
    const { victim, attacker, ours } = clientChannel(1000);
    const lie = new SshWriter()
      .byte(SSH_MSG.CHANNEL_DATA)
      .uint32(ours)
      .uint32(0xffff_ffff)
      .raw(new Uint8Array(8))
      .finish();
    attacker.inject(lie);
    expectCleanFault(victim, attacker, SSH_ERR.MALFORMED_MESSAGE, R.PROTOCOL_ERROR);
  });
});
