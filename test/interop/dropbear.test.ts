/**
 * dropbear 2022.83 (Debian bookworm's dropbear-bin): our client against the dropbear server
 * (TCP, and `dropbear -i` behind socat), and dropbear's `dbclient` against our server over
 * `-J` (a proxy program on stdio). dropbear has no AES-GCM, no EtM MACs, no aes192-ctr, no
 * diffie-hellman-group16-sha512 and no rsa-sha2-512, and loads at most four host keys.
 */

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AlgorithmPreferences,
  SSH_ERR,
  SshError,
  SUPPORTED_CIPHERS,
  SUPPORTED_HOST_KEY,
  SUPPORTED_KEX,
  SUPPORTED_MACS,
  sessionRekey,
  sessionState,
} from '../../src/index.js';
import {
  BIN,
  binaryMentions,
  type CipherCase,
  cipherCases,
  connectOurClient,
  type DropbearHandle,
  eventually,
  fingerprintFor,
  forceCipher,
  generateOpenSshKeys,
  type KeyFile,
  knownHostsLine,
  type LoggedEvent,
  makeTempDir,
  type OurClient,
  readEventLog,
  removeDir,
  requireBinary,
  runProcess,
  STRICT_KEX_CLIENT,
  STRICT_KEX_SERVER,
  splitEventLog,
  startDropbear,
  stdioServerCommand,
  tcpConnect,
  type WireKexInit,
} from './peers.js';

const KEX = [
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'ecdh-sha2-nistp256',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
  'diffie-hellman-group14-sha256',
];
const HOST_KEY = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-256',
];
const CIPHERS = cipherCases(
  ['chacha20-poly1305@openssh.com', 'aes128-ctr', 'aes256-ctr'],
  ['hmac-sha2-256', 'hmac-sha1'],
);

const ALIAS = 'ourserver';

/** dropbear with ed25519, ECDSA P-256/P-384 and RSA keys (its limit is four). */
let dropbear: DropbearHandle;
/** A second dropbear for the ECDSA P-521 key. */
let dropbear521: DropbearHandle;
let dir: string;
let ourKeys: KeyFile[];
let home: string;
let runCounter = 0;

beforeAll(async () => {
  requireBinary(BIN.dbclient);
  dir = makeTempDir('dropbear-test');
  home = join(dir, 'home');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  [dropbear, dropbear521, ourKeys] = await Promise.all([
    startDropbear(['ed25519', 'ecdsa256', 'ecdsa384', 'rsa']),
    startDropbear(['ecdsa521']),
    generateOpenSshKeys(dir),
  ]);
  // dbclient reads $HOME/.ssh/known_hosts; lines without comments (it cannot parse them).
  writeFileSync(
    join(home, '.ssh', 'known_hosts'),
    `${ourKeys.map((k) => knownHostsLine(ALIAS, k.publicKeyLine)).join('\n')}\n`,
  );
});

afterAll(async () => {
  await Promise.all([dropbear?.stop(), dropbear521?.stop()]);
  if (dir) removeDir(dir);
});

function serverFor(algorithms: AlgorithmPreferences): DropbearHandle {
  return algorithms.hostKey?.[0] === 'ecdsa-sha2-nistp521' ? dropbear521 : dropbear;
}

async function connectToDropbear(algorithms: AlgorithmPreferences): Promise<OurClient> {
  const server = serverFor(algorithms);
  const client = await connectOurClient(await tcpConnect(server.port), {
    algorithms,
    peerLogs: () => server.logs(),
  });
  expectDropbearFacts(client, server);
  return client;
}

function expectDropbearFacts(client: OurClient, server: DropbearHandle): void {
  const id = client.events[0];
  expect(id?.type === 'identification' && id.peer).toBe('SSH-2.0-dropbear_2022.83');
  // Strict kex is on exactly when dropbear offers it; Debian's 2022.83-1+deb12u3 backports
  // the Terrapin fix, so its binary (and KEXINIT) carries the marker.
  const offered = client.peerKexInit?.kex.includes(STRICT_KEX_SERVER);
  expect(offered).toBe(binaryMentions(BIN.dropbear, STRICT_KEX_SERVER));
  expect(client.strictKex).toBe(offered);
  expect(client.hostKey.fingerprint).toBe(
    server.hostKeyFingerprints.get(client.algorithms.hostKey),
  );
  expect(client.events.map((e) => e.type)).toContain('service-accepted');
}

describe('our client against dropbear', () => {
  it('covers every algorithm dropbear and we share (from the KEXINITs it sends)', async () => {
    const offered = await Promise.all(
      [dropbear, dropbear521].map(async (server) => {
        const client = await connectOurClient(await tcpConnect(server.port));
        await client.disconnect();
        return client.peerKexInit!;
      }),
    );
    const shared = (ours: readonly string[], pick: (k: WireKexInit) => readonly string[]) =>
      new Set(ours.filter((a) => offered.some((k) => pick(k).includes(a))));
    expect(new Set(KEX)).toEqual(shared(SUPPORTED_KEX, (k) => k.kex));
    // ssh-rsa (SHA-1) stays out of the matrix.
    expect(new Set([...HOST_KEY, 'ssh-rsa'])).toEqual(shared(SUPPORTED_HOST_KEY, (k) => k.hostKey));
    expect(new Set(CIPHERS.map((c) => c.cipher))).toEqual(
      shared(SUPPORTED_CIPHERS, (k) => k.cipherClientToServer),
    );
    expect(new Set(CIPHERS.flatMap((c) => (c.mac ? [c.mac] : [])))).toEqual(
      shared(SUPPORTED_MACS, (k) => k.macClientToServer),
    );
  });

  describe.concurrent('key exchange', () => {
    it.each(KEX)('agrees on %s with dropbear', async (kex) => {
      const client = await connectToDropbear({ kex: [kex] });
      expect(client.algorithms.kex).toBe(kex);
      await client.disconnect();
    });
  });

  describe.concurrent('host key', () => {
    it.each(HOST_KEY)(
      'verifies a dropbearkey %s host key (fingerprint as ssh-keygen -l)',
      async (hostKey) => {
        const client = await connectToDropbear({ hostKey: [hostKey] });
        expect(client.algorithms.hostKey).toBe(hostKey);
        expect(client.hostKey.algorithm).toBe(hostKey);
        await client.disconnect();
      },
    );
  });

  describe.concurrent('cipher and MAC', () => {
    it.each(CIPHERS)('talks $label in both directions', async (c: CipherCase) => {
      const client = await connectToDropbear(forceCipher(c));
      const a = client.algorithms;
      expect([a.cipherClientToServer, a.cipherServerToClient]).toEqual([c.cipher, c.cipher]);
      expect([a.macClientToServer, a.macServerToClient]).toEqual([c.mac, c.mac]);
      await client.disconnect();
    });
  });

  it.each([
    ['diffie-hellman-group16-sha512', { kex: ['diffie-hellman-group16-sha512'] }],
    ['aes256-gcm@openssh.com', { cipher: ['aes256-gcm@openssh.com'] }],
    [
      'hmac-sha2-512-etm@openssh.com',
      { cipher: ['aes128-ctr'], mac: ['hmac-sha2-512-etm@openssh.com'] },
    ],
    ['rsa-sha2-512', { hostKey: ['rsa-sha2-512'] }],
  ] as const)(
    'fails with SSH_ERR_NO_COMMON_ALGORITHM when forced to %s, which dropbear lacks',
    async (_name, algorithms) => {
      const failure = await connectOurClient(await tcpConnect(dropbear.port), { algorithms }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(SshError);
      expect((failure as SshError).code).toBe(SSH_ERR.NO_COMMON_ALGORITHM);
    },
  );

  it('rekeys twice after SERVICE_ACCEPT, and dropbear decrypts our DISCONNECT under the new keys', async () => {
    const sock = await tcpConnect(dropbear.port);
    const localPort = sock.localPort;
    const client = await connectOurClient(sock, {
      algorithms: { cipher: ['aes256-ctr'], mac: ['hmac-sha2-256'], kex: ['ecdh-sha2-nistp521'] },
      peerLogs: () => dropbear.logs(),
    });
    expectDropbearFacts(client, dropbear);
    for (let i = 0; i < 2; i++) {
      const from = client.events.length;
      expect(sessionRekey(client.session)).toBe(true);
      const done = await client.waitFor('rekey-complete', from);
      expect(done.type === 'rekey-complete' && done.algorithms).toEqual(client.algorithms);
      expect(client.events.slice(from).map((e) => e.type)).toEqual([
        'rekey-started',
        'writable',
        'rekey-complete',
      ]);
    }
    expect(sessionState(client.session)).toBe('established');
    await client.disconnect();
    await eventually(() =>
      expect(dropbear.logs()).toContain(
        `Exit before auth from <127.0.0.1:${localPort}>: Disconnect received`,
      ),
    );
  });

  it('rekeys by itself once rekeyAfterPackets is reached, and dropbear follows', async () => {
    const client = await connectOurClient(await tcpConnect(dropbear.port), {
      rekeyAfterPackets: 2,
      peerLogs: () => dropbear.logs(),
    });
    expectDropbearFacts(client, dropbear);
    // SERVICE_REQUEST out, EXT_INFO and SERVICE_ACCEPT in: the receive count reaches 2.
    await client.waitFor('rekey-complete');
    expect(client.events).toContainEqual({ type: 'rekey-started', initiator: 'local' });
    expect(sessionState(client.session)).toBe('established');
    await client.disconnect();
  });

  it('completes the handshake fed one byte at a time', async () => {
    const client = await connectOurClient(await tcpConnect(dropbear.port), {
      split: 'bytes',
      peerLogs: () => dropbear.logs(),
    });
    expectDropbearFacts(client, dropbear);
    expect(client.algorithms.cipherClientToServer).toBe('chacha20-poly1305@openssh.com');
    await client.disconnect();
  });

  it('runs over dropbear -i behind socat (pipes, no TCP)', async () => {
    requireBinary('/usr/bin/socat');
    const keyArgs = dropbear.keys.map((k) => `-r ${k.path}`).join(' ');
    const child = spawn('/usr/bin/socat', ['STDIO', `EXEC:${BIN.dropbear} -i -s ${keyArgs}`], {
      stdio: ['pipe', 'pipe', 'pipe'],
    }) as ReturnType<typeof spawn> & { stdin: Writable; stdout: Readable };
    const stderr: Buffer[] = [];
    child.stderr?.on('data', (c: Buffer) => stderr.push(c));
    try {
      const client = await connectOurClient(child, {
        peerLogs: () => Buffer.concat(stderr).toString(),
      });
      expectDropbearFacts(client, dropbear);
      await client.disconnect();
    } finally {
      child.kill();
    }
  });
});

// ---- dbclient → our server --------------------------------------------------------------

interface DbclientRun {
  readonly cipher?: CipherCase;
  readonly server?: AlgorithmPreferences;
  readonly keys?: readonly KeyFile[];
}

async function runDbclient(run: DbclientRun) {
  const log = join(dir, `dbclient-events-${++runCounter}.jsonl`);
  const proxy = stdioServerCommand({
    log,
    keyPaths: (run.keys ?? ourKeys).map((k) => k.path),
    ...(run.server ? { algorithms: run.server } : {}),
  });
  const args = ['-J', proxy];
  if (run.cipher) {
    args.push('-c', run.cipher.cipher);
    if (run.cipher.mac) args.push('-m', run.cipher.mac);
  }
  args.push(`someone@${ALIAS}`, 'true');
  const result = await runProcess(BIN.dbclient, args, {
    env: { ...process.env, HOME: home },
    timeoutMs: 40_000,
  });
  const { events, peerKexInit } = splitEventLog(readEventLog(log));
  return { result, log: events, peerKexInit };
}

/** dbclient got past SERVICE_ACCEPT and failed authentication (not the key exchange). */
function expectAuthFailureAfterServiceAccept(run: Awaited<ReturnType<typeof runDbclient>>) {
  const { result, log } = run;
  const context = `dbclient stderr:\n${result.stderr}\nserver log:\n${JSON.stringify(log, null, 1)}`;
  expect(result.code, context).toBe(1);
  expect(result.stderr, context).toContain('No auth methods could be used');
  expect(result.stderr, context).not.toMatch(/mismatch|[Bb]ad|MAC|[Ii]ntegrity|No matching/);
  expect(log.map((e) => e.type).slice(0, 3), context).toEqual([
    'identification',
    'handshake-complete',
    'service-accepted',
  ]);
  expect(log[0]?.peer).toBe('SSH-2.0-dropbear_2022.83');
  for (const e of log) {
    if (e.type === 'error') expect(e.error?.code, context).toBe('SSH_ERR_CONNECTION_LOST');
  }
  const hs = log[1] as LoggedEvent;
  expect(hs.strictKex).toBe(binaryMentions(BIN.dbclient, STRICT_KEX_CLIENT));
  expect(hs.fingerprint).toBe(fingerprintFor(ourKeys, hs.algorithms!.hostKey));
  return hs.algorithms!;
}

describe.concurrent('dbclient against our server (-J proxy program on stdio)', () => {
  it.each(CIPHERS)('gets past SERVICE_ACCEPT with -c/-m $label', async (c) => {
    // HMAC-SHA1 is off by default on our side: our server lists it explicitly then.
    const explicit = c.mac === 'hmac-sha1';
    const a = expectAuthFailureAfterServiceAccept(
      await runDbclient({ cipher: c, ...(explicit ? { server: forceCipher(c) } : {}) }),
    );
    expect([a.cipherClientToServer, a.cipherServerToClient]).toEqual([c.cipher, c.cipher]);
    expect([a.macClientToServer, a.macServerToClient]).toEqual([c.mac, c.mac]);
  });

  it.each(KEX)('agrees on %s when our server offers only that', async (kex) => {
    const run = await runDbclient({ server: { kex: [kex] } });
    const a = expectAuthFailureAfterServiceAccept(run);
    expect(a.kex).toBe(kex);
    // dbclient guesses (first_kex_packet_follows) with its first kex: unless that is `kex`,
    // our server had to drop the guessed packet (RFC 4253 §7).
    expect(run.peerKexInit?.firstKexPacketFollows).toBe(true);
  });

  it.each([
    ['kex', { kex: ['curve25519-sha256@libssh.org', 'curve25519-sha256'] }],
    ['host key', { hostKey: ['ecdsa-sha2-nistp256', 'ssh-ed25519'] }],
  ] as const)(
    "drops the guessed kex packet when our first %s choice differs from dbclient's but dbclient's is agreed",
    async (_what, server) => {
      // Negotiation picks dbclient's first choice, yet the guess counts as wrong (RFC 4253 §7.1:
      // the two sides' preferred algorithms differ), so dbclient sends its kex packet again.
      // A server that answered the guess would then fail on the second one.
      const run = await runDbclient({ server });
      const a = expectAuthFailureAfterServiceAccept(run);
      expect(run.peerKexInit?.firstKexPacketFollows).toBe(true);
      expect([a.kex, a.hostKey]).toEqual(['curve25519-sha256', 'ssh-ed25519']);
    },
  );

  it.each(HOST_KEY)('accepts our pinned %s host key', async (hostKey) => {
    const a = expectAuthFailureAfterServiceAccept(
      await runDbclient({ server: { hostKey: [hostKey] } }),
    );
    expect(a.hostKey).toBe(hostKey);
  });

  it('refuses our server when the pinned key differs (host key mismatch, no SERVICE_ACCEPT)', async () => {
    // known_hosts pins our ed25519 key for the alias; present a fresh one instead.
    const other = join(dir, 'other');
    mkdirSync(other, { recursive: true });
    const keys = await generateOpenSshKeys(other, ['ed25519']);
    const { result, log } = await runDbclient({ keys });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('host key mismatch');
    expect(log.map((e) => e.type)).not.toContain('service-accepted');
  });
});
