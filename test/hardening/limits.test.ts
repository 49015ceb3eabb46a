/**
 * Each bound of src/limits.ts, exceeded by a peer: the session ends once, cleanly, with the
 * documented code and DISCONNECT reason (or the documented refusal), and where the quantity
 * could pile up, what the session keeps stays bounded. Bounds already proven elsewhere are
 * listed with their tests in SPEC.md §11 and not repeated here.
 */

import { describe, expect, it } from 'vitest';
import {
  agentCreate,
  agentReceive,
  agentRequestIdentities,
  agentSign,
} from '../../src/agent/client.js';
import { USERAUTH_MSG } from '../../src/auth/messages.js';
import { channelWrite } from '../../src/connection/api.js';
import {
  decodeChannelOpen,
  decodeData,
  encodeChannelOpen,
  encodeChannelRequest,
  encodeGlobalRequest,
  encodeOpenConfirmation,
} from '../../src/connection/messages.js';
import {
  DISCONNECT_REASON,
  SSH_ERR,
  SSH_MSG,
  sessionDisconnect,
  sessionLastError,
  sessionRekey,
  sessionState,
} from '../../src/index.js';
import { AGENT_LIMITS, AUTH_LIMITS, CONNECTION_LIMITS, LIMITS } from '../../src/limits.js';
import { SshWriter } from '../../src/wire/writer.js';
import { concatBytes, enc, plainPacket } from '../helpers.js';
import {
  attachConnection,
  expectCleanFault,
  expectEstablished,
  expectRawFault,
  ignore,
  kexInit,
  type LinkedPair,
  type LinkedPairOptions,
  linkedPair,
  muteUpper,
  raw,
} from './harness.js';

const R = DISCONNECT_REASON;
const CLIENT_ID = enc('SSH-2.0-Hostile_1.0\r\n');
const SERVER_ID = enc('SSH-2.0-HostileServer_1.0\r\n');

/** An established pair; the attacker's upper layer is muted so the test speaks for it. */
function established(
  attackerRole: 'client' | 'server',
  options: LinkedPairOptions = {},
): LinkedPair {
  const pair = linkedPair(options);
  expectEstablished(pair);
  muteUpper(attackerRole === 'client' ? pair.client : pair.server);
  return pair;
}

describe('LIMITS: identification and packets', () => {
  it('IDENTIFICATION_LINE_MAX: accepts a 255-byte line and refuses 256, fed one byte at a time', () => {
    const line = (n: number) => enc(`SSH-2.0-${'x'.repeat(n - 10)}\r\n`);
    expect(line(255).length).toBe(LIMITS.IDENTIFICATION_LINE_MAX);
    const ok = raw('server');
    const good = line(255);
    for (let n = 1; n < good.length; n++) expect(ok.feed(good.subarray(0, n))).toBe(0);
    expect(ok.feed(good)).toBe(good.length);
    const bad = raw('server');
    const long = line(256);
    let ret = 0;
    for (let n = 1; n <= long.length && ret === 0; n++) ret = bad.feed(long.subarray(0, n));
    expectRawFault(bad, ret, SSH_ERR.PROTOCOL_VERSION, R.PROTOCOL_VERSION_NOT_SUPPORTED);
  });

  it('PRE_IDENTIFICATION_LINES_MAX: a server may send 1024 lines first, not 1025 (reason 8)', () => {
    const ok = raw('client');
    const lines = enc('banner line\r\n'.repeat(LIMITS.PRE_IDENTIFICATION_LINES_MAX));
    const input = concatBytes(lines, SERVER_ID);
    expect(ok.feed(input)).toBe(input.length);
    expect(sessionState(ok.session)).toBe('key-exchange');
    const bad = raw('client');
    const ret = bad.feed(enc('banner line\r\n'.repeat(LIMITS.PRE_IDENTIFICATION_LINES_MAX + 1)));
    expectRawFault(bad, ret, SSH_ERR.LIMIT_EXCEEDED, R.PROTOCOL_VERSION_NOT_SUPPORTED);
  });

  it('PACKET_LENGTH_MAX: accepts the largest aligned plaintext packet, refuses the next from its length alone', () => {
    const ok = raw('server');
    // IGNORE before a non-strict KEXINIT is allowed (8.3). In plaintext packet_length + 4 is a
    // multiple of 8, so the largest is 256 KiB - 4; the next aligned one, 256 KiB + 4, is over.
    const big = plainPacket(ignore(LIMITS.PACKET_LENGTH_MAX - 4 - 1 - 5 - 4));
    expect(big.length - 4).toBe(LIMITS.PACKET_LENGTH_MAX - 4);
    const input = concatBytes(CLIENT_ID, big);
    expect(ok.feed(input)).toBe(input.length);
    const bad = raw('server');
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, LIMITS.PACKET_LENGTH_MAX + 4);
    expectRawFault(
      bad,
      bad.feed(concatBytes(CLIENT_ID, header)),
      SSH_ERR.BAD_PACKET_LENGTH,
      R.PROTOCOL_ERROR,
    );
  });

  it('PACKET_LENGTH_MIN: refuses a packet_length of 4', () => {
    const bad = raw('server');
    const packet = new Uint8Array([0, 0, 0, 4, 4, 0, 0, 0]);
    expectRawFault(
      bad,
      bad.feed(concatBytes(CLIENT_ID, packet)),
      SSH_ERR.BAD_PACKET_LENGTH,
      R.PROTOCOL_ERROR,
    );
  });
});

describe('LIMITS: KEXINIT name-lists', () => {
  const names = (n: number, len = 8) =>
    Array.from({ length: n }, (_, i) => `k${String(i).padStart(len - 1, '0')}`);

  it('NAME_LIST_ENTRIES_MAX: 256 names are read, 257 are malformed', () => {
    const ok = raw('server');
    const list = ['curve25519-sha256', ...names(LIMITS.NAME_LIST_ENTRIES_MAX - 1)].join(',');
    const input = concatBytes(CLIENT_ID, plainPacket(kexInit(list)));
    expect(ok.feed(input)).toBe(input.length);
    const bad = raw('server');
    const over = ['curve25519-sha256', ...names(LIMITS.NAME_LIST_ENTRIES_MAX)].join(',');
    expectRawFault(
      bad,
      bad.feed(concatBytes(CLIENT_ID, plainPacket(kexInit(over)))),
      SSH_ERR.MALFORMED_MESSAGE,
      R.PROTOCOL_ERROR,
    );
  });

  it('NAME_MAX: a 64-character name is read, 65 is malformed', () => {
    const ok = raw('server');
    const at = `curve25519-sha256,${'n'.repeat(LIMITS.NAME_MAX)}`;
    const input = concatBytes(CLIENT_ID, plainPacket(kexInit(at)));
    expect(ok.feed(input)).toBe(input.length);
    const bad = raw('server');
    const over = `curve25519-sha256,${'n'.repeat(LIMITS.NAME_MAX + 1)}`;
    expectRawFault(
      bad,
      bad.feed(concatBytes(CLIENT_ID, plainPacket(kexInit(over)))),
      SSH_ERR.MALFORMED_MESSAGE,
      R.PROTOCOL_ERROR,
    );
  });

  it('NAME_LIST_BYTES_MAX: a name-list over 64 KiB is malformed', () => {
    const bad = raw('server');
    // Under the entry count, over the byte count: a list of long names past 64 KiB.
    const list = names(1100, 60).join(',');
    expect(list.length).toBeGreaterThan(LIMITS.NAME_LIST_BYTES_MAX);
    expectRawFault(
      bad,
      bad.feed(concatBytes(CLIENT_ID, plainPacket(kexInit(list)))),
      SSH_ERR.MALFORMED_MESSAGE,
      R.PROTOCOL_ERROR,
    );
  });
});

describe('LIMITS: key exchange values', () => {
  const dh = { algorithms: { kex: ['diffie-hellman-group14-sha256'] } };

  it('DH_VALUE_BYTES_MAX: a KEXDH_INIT e of 1026 bytes is malformed', () => {
    const bad = raw('server', dh);
    const e = new Uint8Array(LIMITS.DH_VALUE_BYTES_MAX + 1).fill(0x11);
    const init = new SshWriter().byte(30).string(e).finish();
    const input = concatBytes(
      CLIENT_ID,
      plainPacket(kexInit('diffie-hellman-group14-sha256')),
      plainPacket(init),
    );
    expectRawFault(bad, bad.feed(input), SSH_ERR.MALFORMED_MESSAGE, R.PROTOCOL_ERROR);
  });

  it('ECDH_VALUE_BYTES_MAX: a KEX_ECDH_INIT public value of 1025 bytes is malformed', () => {
    const bad = raw('server');
    const init = new SshWriter()
      .byte(30)
      .string(new Uint8Array(LIMITS.ECDH_VALUE_BYTES_MAX + 1))
      .finish();
    const input = concatBytes(
      CLIENT_ID,
      plainPacket(kexInit('curve25519-sha256')),
      plainPacket(init),
    );
    expectRawFault(bad, bad.feed(input), SSH_ERR.MALFORMED_MESSAGE, R.PROTOCOL_ERROR);
  });

  for (const [what, blob, sig] of [
    ['KEX_HOST_KEY_BYTES_MAX: a host-key blob', LIMITS.KEX_HOST_KEY_BYTES_MAX + 1, 64],
    ['KEX_SIGNATURE_BYTES_MAX: a signature', 64, LIMITS.KEX_SIGNATURE_BYTES_MAX + 1],
  ] as const) {
    it(`${what} over 16 KiB in KEX_ECDH_REPLY is malformed`, () => {
      const bad = raw('client');
      const reply = new SshWriter()
        .byte(31)
        .string(new Uint8Array(blob))
        .string(new Uint8Array(32).fill(9))
        .string(new Uint8Array(sig))
        .finish();
      const input = concatBytes(
        SERVER_ID,
        plainPacket(kexInit('curve25519-sha256')),
        plainPacket(reply),
      );
      expectRawFault(bad, bad.feed(input), SSH_ERR.MALFORMED_MESSAGE, R.PROTOCOL_ERROR);
    });
  }
});

describe('LIMITS: traffic during a key exchange (KEX_GRACE_*)', () => {
  it('KEX_GRACE_PACKETS_MIN: during the first exchange a client may send 65536 packets, not more', () => {
    // The grace is the larger of rekeyAfterPackets and the minimum: lower the former to see it.
    const s = raw('server', { rekeyAfterPackets: 10 });
    const one = plainPacket(ignore(4));
    const flood = new Uint8Array(one.length * LIMITS.KEX_GRACE_PACKETS_MIN);
    for (let i = 0; i < LIMITS.KEX_GRACE_PACKETS_MIN; i++) flood.set(one, i * one.length);
    const input = concatBytes(CLIENT_ID, flood);
    expect(s.feed(input)).toBe(input.length);
    expect(sessionState(s.session)).toBe('key-exchange');
    expectRawFault(s, s.feed(one), SSH_ERR.LIMIT_EXCEEDED, R.PROTOCOL_ERROR);
  });

  it('KEX_GRACE_BYTES_MIN: a peer that ignores our KEXINIT and sends 64 MiB more is disconnected', () => {
    const pair = established('client', { server: { rekeyAfterBytes: 1024 * 1024 } });
    const victim = pair.server;
    const attacker = pair.client;
    victim.hold = true; // the attacker never sees our KEXINIT
    expect(sessionRekey(victim.session)).toBe(true);
    const big = ignore(CONNECTION_LIMITS.MAX_PACKET_MAX);
    const count = Math.ceil(LIMITS.KEX_GRACE_BYTES_MIN / big.length);
    for (let i = 0; i < count - 1; i++) attacker.inject(big);
    expect(victim.engine.state).toBe('established');
    attacker.inject(big);
    attacker.inject(big);
    victim.release();
    expectCleanFault(victim, attacker, SSH_ERR.LIMIT_EXCEEDED, R.PROTOCOL_ERROR);
  });
});

describe('LIMITS: EXT_INFO', () => {
  function extInfo(entries: [string, Uint8Array | string][]): Uint8Array {
    const w = new SshWriter().byte(SSH_MSG.EXT_INFO).uint32(entries.length);
    for (const [k, v] of entries) w.string(k).string(v);
    return w.finish();
  }
  const named = (n: number, prefix: string) =>
    Array.from({ length: n }, (_, i): [string, string] => [`${prefix}${i}@example.com`, 'v']);

  it('EXT_INFO_ENTRIES_MAX: 65 entries in one message exceed the limit', () => {
    const pair = established('server');
    pair.server.inject(extInfo(named(LIMITS.EXT_INFO_ENTRIES_MAX + 1, 'x')));
    expectCleanFault(pair.client, pair.server, SSH_ERR.LIMIT_EXCEEDED, R.PROTOCOL_ERROR);
  });

  it('EXT_INFO_ENTRIES_MAX: entries kept across messages are bounded too', () => {
    const pair = established('server');
    pair.server.inject(extInfo(named(40, 'a')));
    expect(pair.client.engine.peerExtensions.size).toBe(41); // + server-sig-algs
    pair.server.inject(extInfo(named(40, 'b')));
    expectCleanFault(pair.client, pair.server, SSH_ERR.LIMIT_EXCEEDED, R.PROTOCOL_ERROR);
  });

  it('EXT_INFO_RETAINED_BYTES_MAX: values kept across messages are bounded', () => {
    const pair = established('server');
    const big = new Uint8Array(60 * 1024);
    for (let i = 0; i < 4; i++) pair.server.inject(extInfo([[`big${i}`, big]]));
    expect(pair.client.engine.state).toBe('established');
    pair.server.inject(extInfo([['big4', big]]));
    expectCleanFault(pair.client, pair.server, SSH_ERR.LIMIT_EXCEEDED, R.PROTOCOL_ERROR);
  });

  it('keeps the same entries flat over 2,000 EXT_INFO messages that repeat them', () => {
    const pair = established('server');
    const same = extInfo(named(8, 's'));
    pair.server.injectAll(Array.from({ length: 2000 }, () => same));
    expect(pair.client.engine.state).toBe('established');
    expect(pair.client.engine.peerExtensions.size).toBe(9);
  });

  it('EXT_INFO_NAME_MAX and EXT_INFO_VALUE_BYTES_MAX: a longer name or value is malformed', () => {
    const a = established('server');
    a.server.inject(extInfo([['n'.repeat(LIMITS.EXT_INFO_NAME_MAX + 1), 'v']]));
    expectCleanFault(a.client, a.server, SSH_ERR.MALFORMED_MESSAGE, R.PROTOCOL_ERROR);
    const b = established('server');
    b.server.inject(extInfo([['v', new Uint8Array(LIMITS.EXT_INFO_VALUE_BYTES_MAX + 1)]]));
    expectCleanFault(b.client, b.server, SSH_ERR.MALFORMED_MESSAGE, R.PROTOCOL_ERROR);
  });
});

describe('LIMITS: service names, text and the control queue', () => {
  it('SERVICE_NAME_MAX: a SERVICE_REQUEST naming 257 characters is malformed', () => {
    const pair = established('client');
    pair.client.inject(
      new SshWriter()
        .byte(SSH_MSG.SERVICE_REQUEST)
        .string('s'.repeat(LIMITS.SERVICE_NAME_MAX + 1))
        .finish(),
    );
    expectCleanFault(pair.server, pair.client, SSH_ERR.MALFORMED_MESSAGE, R.PROTOCOL_ERROR);
  });

  it('TEXT_MESSAGE_MAX: DEBUG and DISCONNECT text is cut to 8192 code units, not fatal', () => {
    const pair = established('server');
    const long = 'd'.repeat(200 * 1024);
    pair.server.inject(
      new SshWriter().byte(SSH_MSG.DEBUG).bool(true).string(long).string('').finish(),
    );
    const debug = pair.client.events.find((e) => e.type === 'debug') as { message: string };
    expect(debug.message.length).toBe(LIMITS.TEXT_MESSAGE_MAX);
    pair.server.inject(
      new SshWriter().byte(SSH_MSG.DISCONNECT).uint32(11).string(long).string('').finish(),
    );
    const d = pair.client.events.find((e) => e.type === 'disconnected') as { description: string };
    expect(d.description.length).toBe(LIMITS.TEXT_MESSAGE_MAX);
    expect(pair.client.closes).toBe(1);
  });

  it('DISCONNECT_DESCRIPTION_SENT_MAX: our DISCONNECT text is cut to 512 characters', () => {
    const pair = established('server');
    sessionDisconnect(pair.client.session, R.BY_APPLICATION, 'x'.repeat(10_000));
    const d = pair.server.events.find((e) => e.type === 'disconnected') as { description: string };
    expect(d.description).toBe('x'.repeat(LIMITS.DISCONNECT_DESCRIPTION_SENT_MAX));
  });

  it('PENDING_CONTROL_MESSAGES_MAX: 4096 control messages wait for a key exchange, one more ends it (local, reason 11)', () => {
    const pair = established('client');
    const victim = pair.server;
    victim.hold = true;
    sessionRekey(victim.session);
    for (let i = 0; i < LIMITS.PENDING_CONTROL_MESSAGES_MAX; i++)
      victim.engine.sendControl(ignore());
    expect(victim.engine.state).toBe('established');
    victim.engine.sendControl(ignore());
    const err = sessionLastError(victim.session);
    expect(err?.code).toBe(SSH_ERR.LIMIT_EXCEEDED);
    expect(err?.origin).toBe('local');
    expect(victim.closes).toBe(1);
    victim.release();
    const got = pair.client.events.filter((e) => e.type === 'disconnected');
    expect(got.map((e) => (e as { reason: number }).reason)).toEqual([R.BY_APPLICATION]);
  });
});

describe('AUTH_LIMITS', () => {
  /** A server asking the application, and a client whose requests the test writes. */
  function authServer(extra: object = {}) {
    let asked = 0;
    const pair = linkedPair({
      server: {
        onAuth: (r) => {
          asked++;
          r.reject();
        },
        authMethods: ['password', 'keyboard-interactive'],
        ...extra,
      },
    });
    expectEstablished(pair);
    muteUpper(pair.client);
    return { pair, asked: () => asked };
  }
  const req = (user: string, service: string, method: string) =>
    new SshWriter().byte(USERAUTH_MSG.REQUEST).string(user).string(service).string(method);

  it('METHOD_NAME_MAX: a 65-character method or service name is malformed', () => {
    for (const [service, method] of [
      ['ssh-connection', 'm'.repeat(AUTH_LIMITS.METHOD_NAME_MAX + 1)],
      ['s'.repeat(AUTH_LIMITS.METHOD_NAME_MAX + 1), 'password'],
    ]) {
      const { pair, asked } = authServer();
      pair.client.inject(req('alice', service!, method!).finish());
      expectCleanFault(pair.server, pair.client, SSH_ERR.MALFORMED_MESSAGE, R.PROTOCOL_ERROR);
      expect(asked()).toBe(0);
    }
  });

  it('LANGUAGE_TAG_BYTES_MAX and SUBMETHODS_BYTES_MAX: longer keyboard-interactive fields exceed the limit', () => {
    for (const [language, submethods] of [
      ['l'.repeat(AUTH_LIMITS.LANGUAGE_TAG_BYTES_MAX + 1), ''],
      ['', 's'.repeat(AUTH_LIMITS.SUBMETHODS_BYTES_MAX + 1)],
    ]) {
      const { pair, asked } = authServer();
      pair.client.inject(
        req('alice', 'ssh-connection', 'keyboard-interactive')
          .string(language!)
          .string(submethods!)
          .finish(),
      );
      expectCleanFault(pair.server, pair.client, SSH_ERR.LIMIT_EXCEEDED, R.PROTOCOL_ERROR);
      expect(asked()).toBe(0);
    }
  });

  it('METHOD_LIST_BYTES_MAX: a client refuses a USERAUTH_FAILURE method list over 2080 bytes', () => {
    const pair = linkedPair({
      client: { auth: { username: 'alice', methods: [{ type: 'password', password: 'x' }] } },
      server: { onAuth: () => {} },
    });
    expectEstablished(pair);
    muteUpper(pair.server);
    const list = 'm'.repeat(AUTH_LIMITS.METHOD_LIST_BYTES_MAX + 1);
    pair.server.inject(
      new SshWriter().byte(USERAUTH_MSG.FAILURE).string(list).bool(false).finish(),
    );
    expectCleanFault(pair.client, pair.server, SSH_ERR.MALFORMED_MESSAGE, R.PROTOCOL_ERROR);
  });

  it('ATTEMPTS_DEFAULT: the sixth failed password ends the session (reason 14)', () => {
    const { pair, asked } = authServer();
    const attempt = req('alice', 'ssh-connection', 'password').bool(false).string('x').finish();
    for (let i = 0; i < AUTH_LIMITS.ATTEMPTS_DEFAULT - 1; i++) pair.client.inject(attempt);
    expect(pair.server.engine.state).toBe('established');
    pair.client.inject(attempt);
    expect(asked()).toBe(AUTH_LIMITS.ATTEMPTS_DEFAULT);
    expectCleanFault(
      pair.server,
      pair.client,
      SSH_ERR.AUTH_ATTEMPTS_EXCEEDED,
      R.NO_MORE_AUTH_METHODS_AVAILABLE,
    );
  });
});

describe('CONNECTION_LIMITS', () => {
  /** A victim with a connection layer and a raw attacker, authentication skipped. */
  function connected(victimRole: 'client' | 'server', config = {}) {
    const pair = linkedPair();
    expectEstablished(pair);
    const victim = victimRole === 'client' ? pair.client : pair.server;
    const attacker = victimRole === 'client' ? pair.server : pair.client;
    const conn = attachConnection(victim, config);
    const received = muteUpper(attacker);
    return { pair, victim, attacker, conn, received };
  }

  it('CHANNELS: opens past maxChannels are refused with RESOURCE_SHORTAGE and nothing piles up', () => {
    const { victim, attacker, conn, received } = connected('server', {
      maxChannels: 16,
      onChannelOpen: (r: { accept(o: object): void }) => r.accept({ onEvent: () => {} }),
    });
    attacker.injectAll(
      Array.from({ length: 5000 }, (_, i) => encodeChannelOpen({ type: 'session' }, i, 1024, 1024)),
    );
    expect(victim.engine.state).toBe('established');
    expect(conn.channelCount).toBe(16);
    const failures = received.filter((p) => p[0] === SSH_MSG.CHANNEL_OPEN_FAILURE);
    expect(failures).toHaveLength(5000 - 16);
    expect(new DataView(failures[0]!.buffer).getUint32(5)).toBe(4); // RESOURCE_SHORTAGE
  });

  it('CHANNELS: 5,000 open/close cycles leave no channel behind', () => {
    const { victim, attacker, conn, received } = connected('server', {
      onChannelOpen: (r: { accept(o: object): void }) => r.accept({ onEvent: () => {} }),
    });
    const close = (id: number) => new SshWriter().byte(SSH_MSG.CHANNEL_CLOSE).uint32(id).finish();
    for (let i = 0; i < 5000; i++) {
      attacker.inject(encodeChannelOpen({ type: 'session' }, 7, 1024, 1024));
      const confirm = received.at(-1)!;
      const ours = new DataView(confirm.buffer).getUint32(5);
      attacker.inject(close(ours));
    }
    expect(victim.engine.state).toBe('established');
    expect(conn.channelCount).toBe(0);
  });

  it('PENDING_GLOBAL_REQUESTS_MAX: 64 unanswered global requests are held, the 65th exceeds the limit', () => {
    const { victim, attacker } = connected('server', { onGlobalRequest: () => {} });
    const request = encodeGlobalRequest('x@example.com', true, new Uint8Array(0));
    for (let i = 0; i < CONNECTION_LIMITS.PENDING_GLOBAL_REQUESTS_MAX; i++)
      attacker.inject(request);
    expect(victim.engine.state).toBe('established');
    attacker.inject(request);
    expectCleanFault(victim, attacker, SSH_ERR.LIMIT_EXCEEDED, R.PROTOCOL_ERROR);
  });

  it('MAX_PACKET_MAX: a peer announcing a 4 GiB maximum packet still gets packets of at most 261632 bytes', () => {
    const { victim, attacker, conn, received } = connected('client');
    const channel = conn.open({ type: 'session' }, { onEvent: () => {} });
    expect(victim.engine.state).toBe('established');
    const open = decodeChannelOpen(received.at(-1)!);
    attacker.inject(encodeOpenConfirmation(open.sender, 5, 0xffff_ffff, 0xffff_ffff));
    expect(channelWrite(channel, new Uint8Array(1024 * 1024))).toBe(1024 * 1024);
    const data = received.filter((p) => p[0] === SSH_MSG.CHANNEL_DATA).map(decodeData);
    expect(data.length).toBeGreaterThanOrEqual(5);
    for (const d of data)
      expect(d.data.length).toBeLessThanOrEqual(CONNECTION_LIMITS.MAX_PACKET_MAX);
  });

  const opens: [string, Uint8Array][] = [
    [
      'NAME_MAX: a 65-character channel type',
      encodeChannelOpen({ type: 't'.repeat(65) } as never, 1, 10, 10),
    ],
    [
      'HOST_MAX: a direct-tcpip host of 1025 bytes',
      new SshWriter()
        .byte(SSH_MSG.CHANNEL_OPEN)
        .string('direct-tcpip')
        .uint32(1)
        .uint32(10)
        .uint32(10)
        .string('h'.repeat(CONNECTION_LIMITS.HOST_MAX + 1))
        .uint32(22)
        .string('o')
        .uint32(1)
        .finish(),
    ],
    [
      'SOCKET_PATH_MAX: a direct-streamlocal path of 4097 bytes',
      new SshWriter()
        .byte(SSH_MSG.CHANNEL_OPEN)
        .string('direct-streamlocal@openssh.com')
        .uint32(1)
        .uint32(10)
        .uint32(10)
        .string('/'.repeat(CONNECTION_LIMITS.SOCKET_PATH_MAX + 1))
        .string('')
        .uint32(0)
        .finish(),
    ],
  ];
  for (const [what, payload] of opens) {
    it(`${what} in CHANNEL_OPEN is malformed`, () => {
      const { victim, attacker } = connected('server', { onChannelOpen: () => {} });
      attacker.inject(payload);
      expectCleanFault(victim, attacker, SSH_ERR.MALFORMED_MESSAGE, R.PROTOCOL_ERROR);
    });
  }

  it('HOST_KEYS_MAX: a hostkeys-00@openssh.com request with 257 keys exceeds the limit', () => {
    const { victim, attacker } = connected('client');
    const w = new SshWriter();
    for (let i = 0; i <= CONNECTION_LIMITS.HOST_KEYS_MAX; i++) w.string(new Uint8Array(8));
    attacker.inject(encodeGlobalRequest('hostkeys-00@openssh.com', false, w.finish()));
    expectCleanFault(victim, attacker, SSH_ERR.LIMIT_EXCEEDED, R.PROTOCOL_ERROR);
  });

  /** A server victim with one open session channel (ours 0, the attacker's 3). */
  function serverChannel() {
    const c = connected('server', {
      onChannelOpen: (r: { accept(o: object): void }) => r.accept({ onEvent: () => {} }),
    });
    c.attacker.inject(encodeChannelOpen({ type: 'session' }, 3, 1 << 20, 32768));
    expect(c.received.at(-1)![0]).toBe(SSH_MSG.CHANNEL_OPEN_CONFIRMATION);
    return c;
  }
  const pty = (term: number, modes: number) =>
    new SshWriter()
      .string('t'.repeat(term))
      .uint32(80)
      .uint32(24)
      .uint32(0)
      .uint32(0)
      .string(new Uint8Array(modes))
      .finish();
  const env = (name: number, value: number) =>
    new SshWriter().string('N'.repeat(name)).string('v'.repeat(value)).finish();
  const requests: [string, string, Uint8Array, Uint8Array][] = [
    [
      'TERM_MAX: a pty-req TERM',
      'pty-req',
      pty(CONNECTION_LIMITS.TERM_MAX, 1),
      pty(CONNECTION_LIMITS.TERM_MAX + 1, 1),
    ],
    [
      'PTY_MODES_BYTES_MAX: pty-req terminal modes',
      'pty-req',
      pty(5, CONNECTION_LIMITS.PTY_MODES_BYTES_MAX),
      pty(5, CONNECTION_LIMITS.PTY_MODES_BYTES_MAX + 1),
    ],
    [
      'ENV_NAME_MAX: an env name',
      'env',
      env(CONNECTION_LIMITS.ENV_NAME_MAX, 1),
      env(CONNECTION_LIMITS.ENV_NAME_MAX + 1, 1),
    ],
    [
      'ENV_VALUE_MAX: an env value',
      'env',
      env(1, CONNECTION_LIMITS.ENV_VALUE_MAX),
      env(1, CONNECTION_LIMITS.ENV_VALUE_MAX + 1),
    ],
    [
      'NAME_MAX: a signal name',
      'signal',
      new SshWriter().string('S'.repeat(CONNECTION_LIMITS.NAME_MAX)).finish(),
      new SshWriter().string('S'.repeat(CONNECTION_LIMITS.NAME_MAX + 1)).finish(),
    ],
  ];
  for (const [what, name, atLimit, over] of requests) {
    it(`${what} at the limit is delivered, one byte more is malformed`, () => {
      const { victim, attacker } = serverChannel();
      attacker.inject(encodeChannelRequest(0, name, false, atLimit));
      expect(victim.engine.state).toBe('established');
      attacker.inject(encodeChannelRequest(0, name, false, over));
      expectCleanFault(victim, attacker, SSH_ERR.MALFORMED_MESSAGE, R.PROTOCOL_ERROR);
    });
  }

  it('exit-signal: the message is cut to TEXT_MESSAGE_MAX and the language to 64 characters', () => {
    const { victim, attacker, conn, received } = connected('client');
    const seen: { message?: string; language?: string }[] = [];
    conn.open(
      { type: 'session' },
      {
        onEvent: (e) => {
          if (e.type === 'request') seen.push(e.request.parsed as never);
        },
      },
    );
    const open = decodeChannelOpen(received.at(-1)!);
    attacker.inject(encodeOpenConfirmation(open.sender, 5, 1000, 1000));
    const body = new SshWriter()
      .string('TERM')
      .bool(false)
      .string('m'.repeat(100_000))
      .string('l'.repeat(1000))
      .finish();
    attacker.inject(encodeChannelRequest(open.sender, 'exit-signal', false, body));
    expect(victim.engine.state).toBe('established');
    expect(seen[0]?.message?.length).toBe(LIMITS.TEXT_MESSAGE_MAX);
    expect(seen[0]?.language?.length).toBe(CONNECTION_LIMITS.NAME_MAX);
  });
});

describe('AGENT_LIMITS (the agent client; the other entries are proved in test/agent/)', () => {
  function agent() {
    let closes = 0;
    const a = agentCreate(
      null,
      () => 0,
      () => {
        closes++;
      },
    );
    return { a, closes: () => closes };
  }
  const frame = (body: Uint8Array) => new SshWriter().uint32(body.length).raw(body).finish();

  it('COMMENT_MAX: an identity comment is cut to 1024 code units, not an error', () => {
    const { a, closes } = agent();
    let comment: string | undefined;
    agentRequestIdentities(a, (r) => {
      if (r.ok) comment = r.value[0]?.comment;
    });
    const blob = new SshWriter().string('ssh-ed25519').string(new Uint8Array(32)).finish();
    const answer = frame(
      new SshWriter().byte(12).uint32(1).string(blob).string('c'.repeat(100_000)).finish(),
    );
    expect(agentReceive(a, answer)).toBe(answer.length);
    expect(comment?.length).toBe(AGENT_LIMITS.COMMENT_MAX);
    expect(closes()).toBe(0);
  });

  it('SIGN_DATA_BYTES_MAX: signing more data than one message holds throws SSH_ERR_USAGE', () => {
    const { a } = agent();
    const blob = new Uint8Array(64);
    expect(() =>
      agentSign(a, blob, new Uint8Array(AGENT_LIMITS.SIGN_DATA_BYTES_MAX), 'ssh-ed25519', () => {}),
    ).not.toThrow();
    expect(() =>
      agentSign(
        a,
        blob,
        new Uint8Array(AGENT_LIMITS.SIGN_DATA_BYTES_MAX + 1),
        'ssh-ed25519',
        () => {},
      ),
    ).toThrow(expect.objectContaining({ code: SSH_ERR.USAGE }));
  });
});
