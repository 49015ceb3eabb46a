/**
 * RFC 4253 §7.1 guessed key exchange packets, as our server receives them: a client may send
 * its first kex packet right after its KEXINIT (first_kex_packet_follows). The guess is right
 * only when both sides prefer the same kex and host-key algorithms; a wrong guess is dropped
 * and the real packet follows. OpenSSH and dropbear clients apply the same rule, so a server
 * that answered a guess they consider wrong would answer twice.
 */

import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CIPHERS,
  DEFAULT_COMPRESSION,
  DEFAULT_HOST_KEY,
  DEFAULT_KEX,
  DEFAULT_MACS,
} from '../../src/crypto/algorithms.js';
import { systemRandom } from '../../src/crypto/random.js';
import {
  type ClientConfig,
  type ServerConfig,
  type Session,
  SSH_MSG,
  sessionCreate,
  sessionLastError,
  sessionReceive,
  sessionState,
} from '../../src/index.js';
import { dropsEveryGuess } from '../../src/transport/kexinit.js';
import { type KexHost, KeyExchange } from '../../src/transport/key-exchange.js';
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

const CLIENT_ID = enc('SSH-2.0-Guesser_1.0\r\n');

function guessingKexInit(kex: string[], hostKeyAlgs: string[]): Uint8Array {
  return clientKexInitPayload({ kex, hostKey: hostKeyAlgs }, true);
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

interface Run {
  /** Client sends (flights) until authenticated. */
  flights: number;
  /** The client's first send: KEXINIT and, when guessing, the ECDH_INIT behind it. */
  firstPackets: Uint8Array[];
  kex: string | undefined;
}

/** Our client and server over a link that delivers each send whole on a later macrotask. */
async function handshake(
  client: Partial<ClientConfig<Session>>,
  server: Partial<ServerConfig<Session>> = {},
): Promise<Run> {
  const out: Run = { flights: 0, firstPackets: [], kex: undefined };
  let done = false;
  let c: Session | undefined;
  let s: Session | undefined;
  const later = (to: () => Session | undefined, bytes: Uint8Array) =>
    setImmediate(() => {
      const session = to();
      if (session !== undefined) sessionReceive(session, bytes);
    });
  s = sessionCreate(
    null,
    (_h, b) => {
      later(() => c, b.slice());
      return 0;
    },
    () => {},
    {
      role: 'server',
      hostKeys: [hostKey('ed25519')],
      authMethods: ['password'],
      onAuth: (r) => r.accept(),
      ...server,
    } as ServerConfig<Session>,
  );
  await new Promise<void>((resolve, reject) => {
    c = sessionCreate(
      null,
      (_h, b) => {
        if (out.flights === 0) out.firstPackets = parsePlainPackets(b.slice());
        if (!done) out.flights++;
        later(() => s, b.slice());
        return 0;
      },
      () => {},
      {
        role: 'client',
        onHostKey: (r) => r.accept(),
        auth: { username: 'u', methods: [{ type: 'password', password: 'p' }] },
        onEvent: (e) => {
          if (e.type === 'handshake-complete') out.kex = e.algorithms.kex;
          if (e.type === 'authenticated') {
            done = true;
            resolve();
          } else if (e.type === 'error') reject(e.error);
        },
        ...client,
      } as ClientConfig<Session>,
    );
  });
  return out;
}

describe('our client guessing (ClientConfig.kexGuess)', () => {
  it('sends KEXINIT with first_kex_packet_follows and the ECDH_INIT in its first flight', async () => {
    const run = await handshake({ kexGuess: true });
    const [kexinit, init] = run.firstPackets;
    expect(kexinit?.[0]).toBe(SSH_MSG.KEXINIT);
    expect(kexinit?.[kexinit.length - 5]).toBe(1);
    expect(init?.[0]).toBe(SSH_MSG.KEX_ECDH_INIT);
  });

  it('saves a flight when our server prefers the same algorithms', async () => {
    const guessing = await handshake({ kexGuess: true });
    const plain = await handshake({});
    expect(plain.firstPackets.map((p) => p[0])).toEqual([SSH_MSG.KEXINIT]);
    expect(guessing.flights).toBe(plain.flights - 1);
  });

  it.each([
    ['kex', { algorithms: { kex: ['curve25519-sha256@libssh.org', 'curve25519-sha256'] } }],
    ['host key', { algorithms: { hostKey: ['ecdsa-sha2-nistp256', 'ssh-ed25519'] } }],
  ] as const)(
    'recovers from a wrong guess (server prefers another %s): the real packet follows',
    async (_what, server) => {
      const keys = { hostKeys: [hostKey('ed25519'), hostKey('ecdsa-p256')] };
      const plain = await handshake({}, { ...keys, ...server });
      const guessing = await handshake({ kexGuess: true }, { ...keys, ...server });
      expect(guessing.kex).toBe(plain.kex);
      expect(guessing.flights).toBe(plain.flights);
    },
  );

  it('rejects a kexGuess that is not a boolean', async () => {
    await expect(handshake({ kexGuess: 1 as unknown as boolean })).rejects.toMatchObject({
      code: 'SSH_ERR_USAGE',
    });
  });
});

describe('when our client guesses', () => {
  const host = (kex: readonly string[]): KexHost => ({
    role: 'client',
    random: systemRandom,
    clientId: 'SSH-2.0-a',
    serverId: 'SSH-2.0-b',
    lists: {
      kex,
      hostKey: DEFAULT_HOST_KEY,
      cipherClientToServer: DEFAULT_CIPHERS,
      cipherServerToClient: DEFAULT_CIPHERS,
      macClientToServer: DEFAULT_MACS,
      macServerToClient: DEFAULT_MACS,
      compressionClientToServer: DEFAULT_COMPRESSION,
      compressionServerToClient: DEFAULT_COMPRESSION,
    },
    kexGuess: true,
    hostKeys: [],
    sessionId: undefined,
    sendMessage: () => {},
    installSealer: () => {},
    installOpener: () => {},
    requestHostKeyVerdict: () => {},
  });
  const flag = (kexinit: Uint8Array) => kexinit[kexinit.length - 5];

  it('guesses in the initial exchange only, never in a re-exchange', () => {
    const initial = new KeyExchange(host(DEFAULT_KEX), true);
    expect(flag(initial.ourKexInit)).toBe(1);
    expect(initial.guessPacket()?.[0]).toBe(SSH_MSG.KEX_ECDH_INIT);
    const rekey = new KeyExchange(host(DEFAULT_KEX), false);
    expect(flag(rekey.ourKexInit)).toBe(0);
    expect(rekey.guessPacket()).toBeUndefined();
  });

  it('sends KEXDH_INIT (mpint e) when a DH group is its first kex', () => {
    const kex = new KeyExchange(host(['diffie-hellman-group14-sha256']), true);
    const packet = kex.guessPacket()!;
    expect(packet[0]).toBe(SSH_MSG.KEX_ECDH_INIT); // 30 is KEXDH_INIT too
    expect(new DataView(packet.buffer, packet.byteOffset).getUint32(1)).toBeGreaterThan(200);
  });

  it('treats ssh2 up to 1.17 as dropping every guess, and nothing else', () => {
    expect(dropsEveryGuess('SSH-2.0-ssh2js1.17.0')).toBe(true);
    expect(dropsEveryGuess('SSH-2.0-ssh2js0.8.9')).toBe(true);
    expect(dropsEveryGuess('SSH-2.0-ssh2js1.18.0')).toBe(false);
    expect(dropsEveryGuess('SSH-2.0-ssh2js2.0.0')).toBe(false);
    expect(dropsEveryGuess('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3')).toBe(false);
  });
});
