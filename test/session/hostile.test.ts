import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KEX_MARKERS } from '../../src/crypto/algorithms.js';
import {
  DISCONNECT_REASON,
  generatePrivateKey,
  type Session,
  type SessionEvent,
  SSH_ERR,
  SSH_MSG,
  sessionClose,
  sessionCreate,
  sessionDisconnect,
  sessionLastError,
  sessionReceive,
  sessionRekey,
  sessionState,
} from '../../src/index.js';
import { engineOf } from '../../src/session.js';
import { SshReader } from '../../src/wire/reader.js';
import { InputBuffer } from '../../transports/input-buffer.js';
import {
  clientKexInitPayload,
  concatBytes,
  enc,
  hostKey,
  makePair,
  parsePlainPackets,
  plainPacket,
  rawSession,
} from '../helpers.js';

const CLIENT_ID = enc('SSH-2.0-Attacker_1.0\r\n');

function clientKexInit(strict: boolean): Uint8Array {
  return clientKexInitPayload({
    kex: ['curve25519-sha256', 'ext-info-c', ...(strict ? [KEX_MARKERS.STRICT_CLIENT] : [])],
  });
}

function server() {
  return rawSession({ role: 'server', hostKeys: [hostKey('ed25519')] });
}

/** The DISCONNECT the session sent in plaintext, decoded. */
function lastPlainDisconnect(
  sent: Uint8Array[],
): { reason: number; description: string } | undefined {
  const packets = sent.flatMap((b) => parsePlainPackets(b));
  const d = packets.filter((p) => p[0] === SSH_MSG.DISCONNECT);
  if (d.length !== 1) return undefined;
  const r = new SshReader(d[0]!);
  r.byte();
  return { reason: r.uint32(), description: r.utf8() };
}

/** Asserts the end of a session by a peer fault: -1, one DISCONNECT, one close, a typed error. */
function expectPeerFault(
  session: Session,
  rec: { sent: Uint8Array[]; closes: number; events: SessionEvent[] },
  code: string,
  reason: number,
) {
  expect(sessionState(session)).toBe('closed');
  expect(sessionLastError(session)?.code).toBe(code);
  expect(sessionLastError(session)?.origin).toBe('peer');
  expect(lastPlainDisconnect(rec.sent)?.reason).toBe(reason);
  expect(rec.closes).toBe(1);
  expect(rec.events.map((e) => e.type).slice(-2)).toEqual(['error', 'closed']);
  // After the end every call is inert.
  const sends = rec.sent.length;
  const events = rec.events.length;
  expect(sessionReceive(session, plainPacket(new Uint8Array([SSH_MSG.IGNORE, 0, 0, 0, 0])))).toBe(
    -1,
  );
  expect(sessionRekey(session)).toBe(false);
  sessionDisconnect(session);
  sessionClose(session);
  expect(rec.sent.length).toBe(sends);
  expect(rec.events.length).toBe(events);
  expect(rec.closes).toBe(1);
}

describe('hostile input ends the session once, cleanly, with a typed error', () => {
  it('rejects a declared packet length over the limit as soon as the length is visible', () => {
    const { session, rec } = server();
    const header = new Uint8Array([0x00, 0x10, 0x00, 0x00, 0x04]);
    expect(sessionReceive(session, concatBytes(CLIENT_ID, header))).toBe(-1);
    expectPeerFault(session, rec, SSH_ERR.BAD_PACKET_LENGTH, DISCONNECT_REASON.PROTOCOL_ERROR);
  });

  it('rejects a packet length that is not a multiple of the block size', () => {
    const { session, rec } = server();
    const bad = plainPacket(new Uint8Array([SSH_MSG.IGNORE, 0, 0, 0, 0]), 5);
    expect(sessionReceive(session, concatBytes(CLIENT_ID, bad))).toBe(-1);
    expectPeerFault(session, rec, SSH_ERR.BAD_PACKET_LENGTH, DISCONNECT_REASON.PROTOCOL_ERROR);
  });

  it('rejects padding shorter than four bytes', () => {
    const { session, rec } = server();
    const bad = plainPacket(new Uint8Array([SSH_MSG.IGNORE, 0, 0, 0, 4, 0, 0, 0, 0]), 2);
    expect(sessionReceive(session, concatBytes(CLIENT_ID, bad))).toBe(-1);
    expectPeerFault(session, rec, SSH_ERR.BAD_PADDING, DISCONNECT_REASON.PROTOCOL_ERROR);
  });

  it('rejects a service request during the initial key exchange', () => {
    const { session, rec } = server();
    const req = plainPacket(
      concatBytes(new Uint8Array([SSH_MSG.SERVICE_REQUEST, 0, 0, 0, 12]), enc('ssh-userauth')),
    );
    expect(sessionReceive(session, concatBytes(CLIENT_ID, req))).toBe(-1);
    expectPeerFault(session, rec, SSH_ERR.UNEXPECTED_MESSAGE, DISCONNECT_REASON.PROTOCOL_ERROR);
  });

  it('rejects NEWKEYS before any key exchange message', () => {
    const { session, rec } = server();
    const pkt = plainPacket(new Uint8Array([SSH_MSG.NEWKEYS]));
    expect(
      sessionReceive(session, concatBytes(CLIENT_ID, plainPacket(clientKexInit(false)), pkt)),
    ).toBe(-1);
    expectPeerFault(session, rec, SSH_ERR.UNEXPECTED_MESSAGE, DISCONNECT_REASON.PROTOCOL_ERROR);
  });

  it('rejects a second KEXINIT in one exchange', () => {
    const { session, rec } = server();
    const kexinit = plainPacket(clientKexInit(false));
    expect(sessionReceive(session, concatBytes(CLIENT_ID, kexinit, kexinit))).toBe(-1);
    expectPeerFault(session, rec, SSH_ERR.UNEXPECTED_MESSAGE, DISCONNECT_REASON.PROTOCOL_ERROR);
  });

  it('rejects an identification line longer than 255 bytes', () => {
    const { session, rec } = server();
    expect(sessionReceive(session, enc(`SSH-2.0-${'x'.repeat(300)}`))).toBe(-1);
    expectPeerFault(
      session,
      rec,
      SSH_ERR.PROTOCOL_VERSION,
      DISCONNECT_REASON.PROTOCOL_VERSION_NOT_SUPPORTED,
    );
  });

  it('rejects SSH protocol version 1', () => {
    const { session, rec } = server();
    expect(sessionReceive(session, enc('SSH-1.5-old\r\n'))).toBe(-1);
    expectPeerFault(
      session,
      rec,
      SSH_ERR.PROTOCOL_VERSION,
      DISCONNECT_REASON.PROTOCOL_VERSION_NOT_SUPPORTED,
    );
  });

  it('rejects a client that sends other text before its identification', () => {
    const { session, rec } = server();
    expect(sessionReceive(session, enc('GET / HTTP/1.1\r\n'))).toBe(-1);
    expectPeerFault(
      session,
      rec,
      SSH_ERR.PROTOCOL_VERSION,
      DISCONNECT_REASON.PROTOCOL_VERSION_NOT_SUPPORTED,
    );
  });

  it('accepts lines before a server identification, up to the limit', () => {
    const ok = rawSession({ role: 'client', onHostKey: (r) => r.accept() });
    const lines = enc('Welcome\r\nto the server\r\nSSH-2.0-Server_1\r\n');
    expect(sessionReceive(ok.session, lines)).toBe(lines.length);
    expect(sessionState(ok.session)).toBe('key-exchange');
    const flood = rawSession({ role: 'client', onHostKey: (r) => r.accept() });
    expect(sessionReceive(flood.session, enc('hello\r\n'.repeat(1025)))).toBe(-1);
    expect(sessionLastError(flood.session)?.code).toBe(SSH_ERR.LIMIT_EXCEEDED);
    expect(flood.rec.closes).toBe(1);
  });

  it('consumes nothing until a whole identification line or packet is present', () => {
    const { session } = server();
    const input = concatBytes(CLIENT_ID, plainPacket(clientKexInit(false)));
    for (let n = 0; n < CLIENT_ID.length; n++)
      expect(sessionReceive(session, input.subarray(0, n))).toBe(0);
    expect(sessionReceive(session, input.subarray(0, CLIENT_ID.length + 10))).toBe(
      CLIENT_ID.length,
    );
    const rest = input.subarray(CLIENT_ID.length);
    for (let n = 0; n < rest.length; n++)
      expect(sessionReceive(session, rest.subarray(0, n))).toBe(0);
    expect(sessionReceive(session, rest)).toBe(rest.length);
    expect(sessionState(session)).toBe('key-exchange');
  });

  it('processes a peer DISCONNECT: typed error, close once, no DISCONNECT back', () => {
    const { session, rec } = server();
    const sends = rec.sent.length;
    const d = plainPacket(
      concatBytes(
        new Uint8Array([SSH_MSG.DISCONNECT, 0, 0, 0, 11, 0, 0, 0, 3]),
        enc('bye'),
        new Uint8Array(4),
      ),
    );
    expect(sessionReceive(session, concatBytes(CLIENT_ID, d))).toBe(-1);
    expect(sessionLastError(session)?.code).toBe(SSH_ERR.PEER_DISCONNECTED);
    expect(sessionLastError(session)?.disconnectReason).toBe(11);
    expect(rec.sent.length).toBe(sends);
    expect(rec.closes).toBe(1);
    expect(rec.events.find((e) => e.type === 'disconnected')).toEqual({
      type: 'disconnected',
      reason: 11,
      description: 'bye',
    });
  });

  it('never throws for arbitrary bytes after a valid identification, split anywhere', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        fc.array(fc.nat(2048), { maxLength: 8 }),
        (junk, cuts) => {
          const { session, rec } = server();
          const input = concatBytes(CLIENT_ID, junk);
          const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort(
            (a, b) => a - b,
          );
          let pending: Uint8Array = new Uint8Array(0);
          let last = 0;
          for (const p of [...points, input.length]) {
            pending = concatBytes(pending, input.subarray(last, p));
            last = p;
            const n = sessionReceive(session, pending);
            if (n < 0) break;
            expect(n).toBeLessThanOrEqual(pending.length);
            pending = pending.subarray(n);
          }
          expect(rec.closes).toBeLessThanOrEqual(1);
          if (sessionState(session) === 'closed') expect(rec.closes).toBe(1);
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });
});

describe('strict key exchange (CVE-2023-48795, Terrapin)', () => {
  it('rejects a peer KEXINIT that was not the first packet when strict kex is on', () => {
    const { session, rec } = server();
    const ignore = plainPacket(new Uint8Array([SSH_MSG.IGNORE, 0, 0, 0, 0]));
    expect(
      sessionReceive(session, concatBytes(CLIENT_ID, ignore, plainPacket(clientKexInit(true)))),
    ).toBe(-1);
    expectPeerFault(session, rec, SSH_ERR.STRICT_KEX_VIOLATION, DISCONNECT_REASON.PROTOCOL_ERROR);
  });

  it('allows IGNORE before KEXINIT from a peer without strict kex', () => {
    const { session } = server();
    const ignore = plainPacket(new Uint8Array([SSH_MSG.IGNORE, 0, 0, 0, 0]));
    const input = concatBytes(CLIENT_ID, ignore, plainPacket(clientKexInit(false)));
    expect(sessionReceive(session, input)).toBe(input.length);
    expect(sessionState(session)).toBe('key-exchange');
  });

  it('rejects IGNORE, DEBUG and UNIMPLEMENTED during a strict initial key exchange', () => {
    for (const msg of [
      new Uint8Array([SSH_MSG.IGNORE, 0, 0, 0, 0]),
      new Uint8Array([SSH_MSG.DEBUG, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
      new Uint8Array([SSH_MSG.UNIMPLEMENTED, 0, 0, 0, 0]),
    ]) {
      const { session, rec } = server();
      expect(
        sessionReceive(
          session,
          concatBytes(CLIENT_ID, plainPacket(clientKexInit(true)), plainPacket(msg)),
        ),
      ).toBe(-1);
      expectPeerFault(session, rec, SSH_ERR.STRICT_KEX_VIOLATION, DISCONNECT_REASON.PROTOCOL_ERROR);
    }
  });

  it('detects a man in the middle who injects a packet before the server KEXINIT', () => {
    // The prefix truncation attack shifts sequence numbers by injecting an IGNORE during the
    // plaintext phase; with strict kex the client refuses at once.
    let injected = false;
    const { clientLog, client } = relayPair((dir, bytes) => {
      if (dir === 's2c' && !injected) {
        injected = true;
        const text = new TextDecoder().decode(bytes.subarray(0, 64));
        const idEnd = text.indexOf('\n') + 1;
        return concatBytes(
          bytes.subarray(0, idEnd),
          plainPacket(new Uint8Array([SSH_MSG.IGNORE, 0, 0, 0, 0])),
          bytes.subarray(idEnd),
        );
      }
      return bytes;
    });
    expect(sessionLastError(client)?.code).toBe(SSH_ERR.STRICT_KEX_VIOLATION);
    expect(clientLog.at(-1)).toBe('closed');
  });

  it('detects a man in the middle who deletes the first encrypted packet (EXT_INFO)', () => {
    // Sequence numbers restart at 0 after NEWKEYS, so a deleted packet breaks the MAC check.
    let s2cSends = 0;
    const { client, server: srv } = relayPair(
      (dir, bytes) => {
        if (dir !== 's2c') return bytes;
        s2cSends++;
        return bytes;
      },
      { dropFirstEncryptedServerPacket: true, algorithms: { cipher: ['aes128-gcm@openssh.com'] } },
    );
    expect(sessionLastError(client)?.code).toBe(SSH_ERR.MAC_INVALID);
    expect(sessionLastError(srv)?.code).toBe(SSH_ERR.PEER_DISCONNECTED);
    expect(sessionLastError(srv)?.disconnectReason).toBe(DISCONNECT_REASON.MAC_ERROR);
    expect(s2cSends).toBeGreaterThan(0);
  });
});

describe('packet authentication', () => {
  it('ends the session with MAC_ERROR when a bit flips in an encrypted packet', () => {
    for (const cipher of [
      'chacha20-poly1305@openssh.com',
      'aes128-gcm@openssh.com',
      'aes128-ctr',
    ]) {
      let armed = false;
      const pair = relayPair(
        (dir, bytes) => {
          if (armed && dir === 'c2s') {
            armed = false;
            const copy = bytes.slice();
            copy[copy.length - 1]! ^= 0x01;
            return copy;
          }
          return bytes;
        },
        { algorithms: { cipher: [cipher], mac: ['hmac-sha2-256-etm@openssh.com'] } },
      );
      expect(sessionState(pair.client)).toBe('established');
      armed = true;
      sessionRekey(pair.client);
      expect(sessionLastError(pair.server)?.code).toBe(SSH_ERR.MAC_INVALID);
      expect(sessionLastError(pair.client)?.code).toBe(SSH_ERR.PEER_DISCONNECTED);
      expect(sessionLastError(pair.client)?.disconnectReason).toBe(DISCONNECT_REASON.MAC_ERROR);
    }
  });
});

describe('host-key verification', () => {
  it('does not finish the handshake until the application answers', async () => {
    let pending: { accept(): void } | undefined;
    const pair = makePair({ client: { onHostKey: (r) => (pending = r) } });
    expect(sessionState(pair.client)).toBe('key-exchange');
    expect(pair.serverLog).not.toContain('service-accepted');
    await new Promise((r) => setTimeout(r, 5));
    pending!.accept();
    expect(sessionState(pair.client)).toBe('established');
    expect(pair.serverLog).toContain('service-accepted');
    expect(() => pending!.accept()).toThrow(/already answered/);
  });

  it('disconnects with HOST_KEY_NOT_VERIFIABLE when the application rejects the key', () => {
    const pair = makePair({ client: { onHostKey: (r) => r.reject('not in known_hosts') } });
    expect(sessionLastError(pair.client)?.code).toBe(SSH_ERR.HOST_KEY_REJECTED);
    expect(sessionLastError(pair.client)?.origin).toBe('negotiation');
    expect(sessionLastError(pair.server)?.disconnectReason).toBe(
      DISCONNECT_REASON.HOST_KEY_NOT_VERIFIABLE,
    );
  });

  it('refuses to create a client without a host-key callback', () => {
    expect(() =>
      sessionCreate(
        null,
        () => 0,
        () => {},
        { role: 'client' } as unknown as Parameters<typeof sessionCreate>[3],
      ),
    ).toThrow(/onHostKey/);
  });

  it('ends the session when the server presents another host key in a rekey', () => {
    const keys = [hostKey('ed25519')];
    const pair = makePair({ server: { hostKeys: keys } });
    expect(sessionState(pair.client)).toBe('established');
    // A server that signs a re-exchange with another key of the same type.
    keys[0] = generatePrivateKey('ed25519');
    sessionRekey(pair.client);
    expect(sessionLastError(pair.client)?.code).toBe(SSH_ERR.HOST_KEY_CHANGED);
    expect(sessionLastError(pair.server)?.code).toBe(SSH_ERR.PEER_DISCONNECTED);
    expect(sessionLastError(pair.server)?.disconnectReason).toBe(
      DISCONNECT_REASON.HOST_KEY_NOT_VERIFIABLE,
    );
  });

  it('ends the session when the application rejects the key and catches nothing', () => {
    let thrown: unknown;
    const pair = makePair({
      client: {
        onHostKey: (r) => {
          try {
            r.reject('unknown host');
          } catch (e) {
            thrown = e;
          }
        },
      },
    });
    expect(thrown).toBeUndefined();
    expect(sessionLastError(pair.client)?.code).toBe(SSH_ERR.HOST_KEY_REJECTED);
    expect(sessionState(pair.client)).toBe('closed');
  });
});

describe('API misuse and link failures', () => {
  it('throws a usage error for a nested sessionReceive on the same session', () => {
    let nestedError: unknown;
    const holder: { s?: Session } = {};
    const { session } = rawSession({
      role: 'server',
      hostKeys: [hostKey('ed25519')],
      onEvent: (e) => {
        if (e.type === 'identification') {
          try {
            sessionReceive(holder.s!, new Uint8Array(0));
          } catch (err) {
            nestedError = err;
          }
        }
      },
    });
    holder.s = session;
    sessionReceive(session, CLIENT_ID);
    expect((nestedError as { code?: string }).code).toBe(SSH_ERR.USAGE);
  });

  it('throws a usage error for something that is not a session', () => {
    expect(() => sessionReceive({} as Session, new Uint8Array(1))).toThrow(/not a session/);
  });

  it('ends the session with CALLBACK_FAILED when a callback throws, and tells the peer', () => {
    const pair = makePair({
      client: {
        onEvent: (e) => {
          if (e.type === 'handshake-complete') throw new Error('boom');
        },
      },
    });
    expect(sessionLastError(pair.client)?.code).toBe(SSH_ERR.CALLBACK_FAILED);
    expect(sessionLastError(pair.server)?.disconnectReason).toBe(DISCONNECT_REASON.BY_APPLICATION);
  });

  it('ends with SEND_FAILED and calls close once when send returns -1', () => {
    let closes = 0;
    const events: string[] = [];
    const s = sessionCreate(
      null,
      () => -1,
      () => closes++,
      {
        role: 'server',
        hostKeys: [hostKey('ed25519')],
        onEvent: (e) => events.push(e.type),
      },
    );
    expect(sessionLastError(s)?.code).toBe(SSH_ERR.SEND_FAILED);
    expect(closes).toBe(1);
    expect(events).toEqual(['error', 'closed']);
  });

  it('reports CONNECTION_LOST when the link closes, without calling close back', () => {
    const { session, rec } = server();
    sessionClose(session);
    expect(sessionLastError(session)?.code).toBe(SSH_ERR.CONNECTION_LOST);
    expect(rec.closes).toBe(0);
    expect(sessionReceive(session, CLIENT_ID)).toBe(-1);
  });

  it('sends UNIMPLEMENTED for an unknown message number after the handshake', () => {
    const pair = makePair();
    expect(engineOf(pair.client).sendUpper(new Uint8Array([200, 1, 2, 3]))).toBe(true);
    expect(pair.clientLog).toContain('unimplemented');
    expect(sessionState(pair.server)).toBe('established');
  });

  it('disconnects gracefully on request', () => {
    const pair = makePair();
    sessionDisconnect(pair.client);
    expect(sessionState(pair.client)).toBe('closed');
    expect(sessionLastError(pair.client)).toBeUndefined();
    expect(sessionLastError(pair.server)?.code).toBe(SSH_ERR.PEER_DISCONNECTED);
    expect(pair.serverLog).toContain(`disconnected ${DISCONNECT_REASON.BY_APPLICATION}`);
  });
});

/**
 * A client and server joined by synchronous relays through `filter`, which may alter, drop or
 * inject bytes in either direction: a man in the middle.
 */
function relayPair(
  filter: (dir: 'c2s' | 's2c', bytes: Uint8Array) => Uint8Array,
  opts: {
    algorithms?: { cipher: string[]; mac?: string[] };
    dropFirstEncryptedServerPacket?: boolean;
  } = {},
) {
  const clientLog: string[] = [];
  const cIn = new InputBuffer();
  const sIn = new InputBuffer();
  let serverNewKeysSeen = false;
  let dropped = false;
  const srv = sessionCreate(
    null,
    (_h, bytes) => {
      let out = filter('s2c', bytes);
      if (opts.dropFirstEncryptedServerPacket && !dropped) {
        // Plaintext packets: find NEWKEYS, drop what follows it in the same or the next send.
        if (serverNewKeysSeen) {
          dropped = true;
          out = new Uint8Array(0);
        } else if (parsePlainPacketsSafe(out).some((p) => p[0] === SSH_MSG.NEWKEYS)) {
          serverNewKeysSeen = true;
          const end = endOfNewKeys(out);
          if (end < out.length) {
            dropped = true;
            out = out.subarray(0, end);
          }
        }
      }
      cIn.push(out);
      return 0;
    },
    () => {},
    {
      role: 'server',
      hostKeys: [hostKey('ed25519')],
      ...(opts.algorithms ? { algorithms: opts.algorithms } : {}),
    },
  );
  sIn.attach((b) => sessionReceive(srv, b));
  const client = sessionCreate(
    null,
    (_h, bytes) => {
      sIn.push(filter('c2s', bytes));
      return 0;
    },
    () => {},
    {
      role: 'client',
      onHostKey: (r) => r.accept(),
      onEvent: (e) => clientLog.push(e.type),
      ...(opts.algorithms ? { algorithms: opts.algorithms } : {}),
    },
  );
  cIn.attach((b) => sessionReceive(client, b));
  return { client, server: srv, clientLog };
}

function parsePlainPacketsSafe(bytes: Uint8Array): Uint8Array[] {
  try {
    return parsePlainPackets(bytes).filter((p) => p.length > 0);
  } catch {
    return [];
  }
}

/** Byte offset just past a plaintext NEWKEYS packet in `bytes`. */
function endOfNewKeys(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  while (o + 5 <= bytes.length) {
    const len = view.getUint32(o);
    const type = bytes[o + 5];
    o += 4 + len;
    if (type === SSH_MSG.NEWKEYS) return o;
  }
  return bytes.length;
}
