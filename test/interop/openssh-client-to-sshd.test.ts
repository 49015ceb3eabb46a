/**
 * Our client against OpenSSH's sshd (9.2p1 as Debian ships it): every key exchange, host-key
 * algorithm, cipher and MAC we share, forced from our side, over TCP, over `sshd -i` pipes
 * and fed one byte at a time. The success point is SERVICE_ACCEPT for ssh-userauth.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AlgorithmPreferences,
  DEFAULT_HOST_KEY,
  SSH_ERR,
  SUPPORTED_CIPHERS,
  SUPPORTED_HOST_KEY,
  SUPPORTED_KEX,
  SUPPORTED_MACS,
  sessionAlgorithms,
  sessionRekey,
  sessionState,
  sessionStrictKex,
} from '../../src/index.js';
import {
  cipherCases,
  connectOurClient,
  eventually,
  forceCipher,
  type OurClient,
  openSshQuery,
  type SshdHandle,
  STRICT_KEX_SERVER,
  startSshd,
  tcpConnect,
} from './peers.js';

/** What sshd 9.2 and we both implement. */
const KEX = [
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'ecdh-sha2-nistp256',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
  'diffie-hellman-group14-sha256',
  'diffie-hellman-group16-sha512',
];
const HOST_KEY = [...DEFAULT_HOST_KEY];
/** Every cipher; CTR with every MAC (the SHA-1 ones too: listed explicitly, they are allowed). */
const CIPHERS = cipherCases(SUPPORTED_CIPHERS, SUPPORTED_MACS);

let sshd: SshdHandle;

beforeAll(async () => {
  sshd = await startSshd();
});

afterAll(async () => {
  await sshd?.stop();
});

/** Connects over TCP, checks what every handshake must show, and returns the client. */
async function handshake(algorithms: AlgorithmPreferences): Promise<OurClient> {
  const client = await connectOurClient(await tcpConnect(sshd.port), {
    algorithms,
    peerLogs: () => sshd.logs(),
  });
  expectCommonFacts(client);
  return client;
}

function expectCommonFacts(client: OurClient): void {
  const algorithms = sessionAlgorithms(client.session);
  expect(algorithms).toEqual(client.algorithms);
  // Strict kex: sshd offered its marker and we sent ours.
  expect(client.peerKexInit?.kex).toContain(STRICT_KEX_SERVER);
  expect(sessionStrictKex(client.session)).toBe(true);
  // The key our onHostKey saw is the one ssh-keygen fingerprints.
  expect(client.hostKey.algorithm).toBe(client.algorithms.hostKey);
  expect(client.hostKey.fingerprint).toBe(sshd.hostKeyFingerprints.get(client.algorithms.hostKey));
  expect(client.events.map((e) => e.type)).toEqual([
    'identification',
    'handshake-complete',
    'ext-info',
    'service-accepted',
  ]);
  const id = client.events[0];
  expect(id?.type === 'identification' && id.peer).toMatch(/^SSH-2\.0-OpenSSH_9\.2/);
}

describe('our client against sshd', () => {
  it('covers every algorithm of ours that OpenSSH implements', async () => {
    const [kex, cipher, mac, hostKey] = await Promise.all([
      openSshQuery('kex'),
      openSshQuery('cipher'),
      openSshQuery('mac'),
      openSshQuery('HostKeyAlgorithms'),
    ]);
    const shared = (ours: readonly string[], theirs: readonly string[]) =>
      new Set(ours.filter((a) => theirs.includes(a)));
    expect(new Set(KEX)).toEqual(shared(SUPPORTED_KEX, kex));
    // ssh-rsa (SHA-1) is off by default in both; it is not part of this matrix.
    expect(new Set([...HOST_KEY, 'ssh-rsa'])).toEqual(shared(SUPPORTED_HOST_KEY, hostKey));
    expect(new Set(CIPHERS.map((c) => c.cipher))).toEqual(shared(SUPPORTED_CIPHERS, cipher));
    expect(new Set(CIPHERS.flatMap((c) => (c.mac ? [c.mac] : [])))).toEqual(
      shared(SUPPORTED_MACS, mac),
    );
  });

  describe.concurrent('key exchange', () => {
    it.each(KEX)('agrees on %s with sshd and reaches SERVICE_ACCEPT', async (kex) => {
      const client = await handshake({ kex: [kex] });
      expect(client.algorithms.kex).toBe(kex);
      await client.disconnect();
    });
  });

  describe.concurrent('host key', () => {
    it.each(HOST_KEY)(
      'verifies an %s host key whose fingerprint equals ssh-keygen -l',
      async (alg) => {
        const client = await handshake({ hostKey: [alg] });
        expect(client.algorithms.hostKey).toBe(alg);
        expect(client.hostKey.keyType).toBe(alg.startsWith('rsa-') ? 'ssh-rsa' : alg);
        await client.disconnect();
      },
    );
  });

  describe.concurrent('cipher and MAC', () => {
    it.each(CIPHERS)('talks $label in both directions', async (c) => {
      const client = await handshake(forceCipher(c));
      const a = client.algorithms;
      expect([a.cipherClientToServer, a.cipherServerToClient]).toEqual([c.cipher, c.cipher]);
      expect([a.macClientToServer, a.macServerToClient]).toEqual([c.mac, c.mac]);
      await client.disconnect();
    });
  });

  it('runs over the pipes of sshd -i (no TCP)', async () => {
    const inetd = sshd.spawnInetd();
    try {
      const client = await connectOurClient(inetd.child, { peerLogs: () => inetd.logs() });
      expectCommonFacts(client);
      await client.disconnect('inetd done');
      expect(inetd.logs()).toContain('Received disconnect');
    } finally {
      await inetd.stop();
    }
  });

  it('completes the handshake when fed one byte at a time', async () => {
    const client = await connectOurClient(await tcpConnect(sshd.port), {
      split: 'bytes',
      algorithms: { cipher: ['aes256-ctr'], mac: ['hmac-sha2-512-etm@openssh.com'] },
      peerLogs: () => sshd.logs(),
    });
    expectCommonFacts(client);
    expect(client.algorithms.cipherServerToClient).toBe('aes256-ctr');
    await client.disconnect();
  });

  it('reaches SERVICE_ACCEPT with the default preferences (curve25519-sha256, ssh-ed25519, chacha20-poly1305)', async () => {
    const client = await handshake({});
    expect(client.algorithms).toMatchObject({
      kex: 'curve25519-sha256',
      hostKey: 'ssh-ed25519',
      cipherClientToServer: 'chacha20-poly1305@openssh.com',
      cipherServerToClient: 'chacha20-poly1305@openssh.com',
      macClientToServer: undefined,
    });
    await client.disconnect();
  });

  it('ends the session with KEX_FAILED when sshd refuses a rekey before authentication', async () => {
    // sshd 9.2 resets its dispatch table for the userauth phase (auth2.c), so a KEXINIT
    // before authentication gets UNIMPLEMENTED. Its sequence number shows strict kex
    // restarted our numbering at NEWKEYS: SERVICE_REQUEST was 0, the KEXINIT 1. Waiting
    // forever would pause upper-layer traffic for good, so the session ends at once.
    const client = await handshake({
      kex: ['ecdh-sha2-nistp256'],
      cipher: ['aes128-gcm@openssh.com'],
    });
    const from = client.events.length;
    expect(sessionRekey(client.session)).toBe(true);
    const error = await client.waitFor('error', from);
    expect(error.type === 'error' && error.error.code).toBe(SSH_ERR.KEX_FAILED);
    expect(sessionState(client.session)).toBe('closed');
    await eventually(() =>
      expect(sshd.logs()).toMatch(
        /Received disconnect from .*:3: the peer refused the key re-exchange/,
      ),
    );
    expect(sshd.logs()).toContain('dispatch_protocol_error: type 20 seq 1');
  });
});
