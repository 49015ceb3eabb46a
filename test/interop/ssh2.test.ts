/**
 * The npm `ssh2` package (1.17) in both roles, over loopback TCP (real sockets, so delivery
 * is never synchronous inside a write): ssh2's Client against our server, and our client
 * against ssh2's Server, for every key exchange, host-key algorithm, cipher and MAC both
 * implement. Both sides must report the same negotiated algorithms.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Algorithms, Connection, NegotiatedAlgorithms as Ssh2Negotiated } from 'ssh2';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AlgorithmPreferences,
  DEFAULT_HOST_KEY,
  DEFAULT_MACS,
  type NegotiatedAlgorithms,
  SUPPORTED_CIPHERS,
  SUPPORTED_HOST_KEY,
  SUPPORTED_KEX,
  SUPPORTED_MACS,
  sessionRekey,
  sessionStrictKex,
} from '../../src/index.js';
import {
  cipherCases,
  connectOurClient,
  eventually,
  fingerprintFor,
  forceCipher,
  generateOpenSshKeys,
  type KeyFile,
  loadPrivateKeys,
  makeTempDir,
  type OurTcpServer,
  removeDir,
  type ServerConnection,
  STRICT_KEX_SERVER,
  startOurTcpServer,
  tcpConnect,
} from './peers.js';

const { Client, Server } = ssh2;

/** ssh2 1.17's lists (lib/protocol/constants.js), read at run time. */
const SSH2 = createRequire(import.meta.url)('ssh2/lib/protocol/constants') as {
  SUPPORTED_KEX: string[];
  SUPPORTED_CIPHER: string[];
  SUPPORTED_MAC: string[];
  SUPPORTED_SERVER_HOST_KEY: string[];
};

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
const CIPHERS = cipherCases(SUPPORTED_CIPHERS, SUPPORTED_MACS);
const DEFAULT_MAC_SET: ReadonlySet<string> = new Set(DEFAULT_MACS);

let dir: string;
let keys: KeyFile[];
let ours: OurTcpServer;
/** Our server with every MAC listed (HMAC-SHA1 is used only when listed explicitly). */
let oursAllMacs: OurTcpServer;
let theirs: InstanceType<typeof Server>;
let theirsPort: number;

/** What ssh2's Server saw of one connection, by the client's port. */
interface Ssh2ServerSide {
  readonly conn: Connection;
  readonly handshakes: Ssh2Negotiated[];
  closed: boolean;
}
const ssh2Connections = new Map<number, Ssh2ServerSide>();

beforeAll(async () => {
  dir = makeTempDir('ssh2');
  keys = await generateOpenSshKeys(dir);
  const hostKeys = loadPrivateKeys(keys);
  ours = await startOurTcpServer({ hostKeys });
  oursAllMacs = await startOurTcpServer({ hostKeys, algorithms: { mac: [...SUPPORTED_MACS] } });
  theirs = new Server({ hostKeys: keys.map((k) => readFileSync(k.path)) }, (conn, info) => {
    const side: Ssh2ServerSide = { conn, handshakes: [], closed: false };
    ssh2Connections.set(info.port, side);
    conn.on('handshake', (n) => side.handshakes.push(n));
    conn.on('authentication', (ctx) => ctx.reject());
    conn.on('error', () => {});
    conn.on('close', () => {
      side.closed = true;
    });
  });
  await new Promise<void>((resolve) => theirs.listen(0, '127.0.0.1', () => resolve()));
  theirsPort = (theirs.address() as AddressInfo).port;
});

afterAll(async () => {
  await Promise.all([ours?.stop(), oursAllMacs?.stop()]);
  await new Promise<void>((resolve) => (theirs ? theirs.close(() => resolve()) : resolve()));
  if (dir) removeDir(dir);
});

/** ssh2's view of the negotiation in our vocabulary. */
function fromSsh2(n: Ssh2Negotiated): NegotiatedAlgorithms {
  return {
    kex: n.kex,
    hostKey: n.serverHostKey,
    cipherClientToServer: n.cs.cipher,
    cipherServerToClient: n.sc.cipher,
    macClientToServer: n.cs.mac === '' ? undefined : n.cs.mac,
    macServerToClient: n.sc.mac === '' ? undefined : n.sc.mac,
    compressionClientToServer: n.cs.compress,
    compressionServerToClient: n.sc.compress,
  };
}

/** ssh2 algorithm options forcing what `prefs` forces. */
function toSsh2(prefs: AlgorithmPreferences): Algorithms {
  return {
    ...(prefs.kex ? { kex: prefs.kex as Algorithms['kex'] } : {}),
    ...(prefs.hostKey ? { serverHostKey: prefs.hostKey as Algorithms['serverHostKey'] } : {}),
    ...(prefs.cipher ? { cipher: prefs.cipher as Algorithms['cipher'] } : {}),
    ...(prefs.mac ? { hmac: prefs.mac as Algorithms['hmac'] } : {}),
  } as Algorithms;
}

function sha256Fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

interface Ssh2ClientRun {
  readonly handshakes: Ssh2Negotiated[];
  readonly hostKeyFingerprint: string | undefined;
  readonly error: (Error & { level?: string }) | undefined;
  readonly server: ServerConnection;
}

/**
 * Connects ssh2's Client to our server and waits for its authentication failure. `beforeAuth`
 * runs once ssh2 is ready to authenticate (after SERVICE_ACCEPT), before it sends anything.
 */
async function ssh2ClientRun(
  prefs: AlgorithmPreferences,
  beforeAuth?: (server: ServerConnection, handshakes: Ssh2Negotiated[]) => Promise<void>,
): Promise<Ssh2ClientRun> {
  const target = prefs.mac?.some((m) => !DEFAULT_MAC_SET.has(m)) ? oursAllMacs : ours;
  const sock = await tcpConnect(target.port);
  const server = await target.connectionFrom(sock.localPort!);
  const client = new Client();
  const handshakes: Ssh2Negotiated[] = [];
  let hostKeyFingerprint: string | undefined;
  client.on('handshake', (n) => handshakes.push(n));
  const error = await new Promise<(Error & { level?: string }) | undefined>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ssh2 client timed out')), 30_000);
    client.on('error', (e) => {
      clearTimeout(timer);
      resolve(e);
    });
    client.on('ready', () => {
      clearTimeout(timer);
      reject(new Error('ssh2 authenticated against a server without authentication?'));
    });
    client.on('close', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    let asked = false;
    client.connect({
      sock,
      username: 'someone',
      algorithms: toSsh2(prefs),
      readyTimeout: 30_000,
      hostVerifier: (key: Buffer) => {
        hostKeyFingerprint = sha256Fingerprint(key);
        return true;
      },
      authHandler: (_left, _partial, next) => {
        if (asked) return next(false as never);
        asked = true;
        if (!beforeAuth) return next('none');
        beforeAuth(server, handshakes).then(
          () => next('none'),
          (e: unknown) => {
            clearTimeout(timer);
            reject(e);
            client.end();
          },
        );
      },
    });
  });
  client.end();
  return { handshakes, hostKeyFingerprint, error, server };
}

function expectSsh2ClientReachedAuth(run: Ssh2ClientRun): NegotiatedAlgorithms {
  const types = run.server.events.map((e) => e.type);
  const context = `our server's events: ${types.join(', ')}; ssh2 error: ${run.error?.message}`;
  expect(run.error?.level, context).toBe('client-authentication');
  expect(run.error?.message).toBe('All configured authentication methods failed');
  expect(types.slice(0, 3), context).toEqual([
    'identification',
    'handshake-complete',
    'service-accepted',
  ]);
  const hs = run.server.events[1];
  if (hs?.type !== 'handshake-complete') throw new Error('no handshake-complete');
  expect(run.handshakes.length).toBeGreaterThanOrEqual(1);
  expect(fromSsh2(run.handshakes[0]!)).toEqual(hs.algorithms);
  expect(sessionStrictKex(run.server.session)).toBe(true);
  expect(run.hostKeyFingerprint).toBe(fingerprintFor(keys, hs.algorithms.hostKey));
  return hs.algorithms;
}

async function ourClientRun(prefs: AlgorithmPreferences) {
  const sock = await tcpConnect(theirsPort);
  const client = await connectOurClient(sock, { algorithms: prefs });
  const side = ssh2Connections.get(sock.localPort!);
  if (!side) throw new Error('ssh2 did not report the connection');
  await eventually(() => expect(side.handshakes.length).toBeGreaterThanOrEqual(1));
  expect(fromSsh2(side.handshakes[0]!)).toEqual(client.algorithms);
  expect(client.peerKexInit?.kex).toContain(STRICT_KEX_SERVER);
  expect(client.strictKex).toBe(true);
  expect(client.hostKey.fingerprint).toBe(fingerprintFor(keys, client.algorithms.hostKey));
  const id = client.events[0];
  expect(id?.type === 'identification' && id.peer).toBe('SSH-2.0-ssh2js1.17.0');
  return { client, side };
}

it('the matrix covers every algorithm ssh2 and we share', () => {
  const shared = (a: readonly string[], b: readonly string[]) =>
    new Set(a.filter((x) => b.includes(x)));
  const c = SSH2;
  expect(new Set(KEX)).toEqual(shared(SUPPORTED_KEX, c.SUPPORTED_KEX));
  expect(new Set([...HOST_KEY, 'ssh-rsa'])).toEqual(
    shared(SUPPORTED_HOST_KEY, c.SUPPORTED_SERVER_HOST_KEY),
  );
  expect(new Set(CIPHERS.map((x) => x.cipher))).toEqual(
    shared(SUPPORTED_CIPHERS, c.SUPPORTED_CIPHER),
  );
  expect(new Set(CIPHERS.flatMap((x) => (x.mac ? [x.mac] : [])))).toEqual(
    shared(SUPPORTED_MACS, c.SUPPORTED_MAC),
  );
});

describe.concurrent("ssh2's Client against our server", () => {
  it.each(KEX)('agrees on %s', async (kex) => {
    const a = expectSsh2ClientReachedAuth(await ssh2ClientRun({ kex: [kex] }));
    expect(a.kex).toBe(kex);
  });

  it.each(HOST_KEY)('verifies our %s signature', async (hostKey) => {
    const a = expectSsh2ClientReachedAuth(await ssh2ClientRun({ hostKey: [hostKey] }));
    expect(a.hostKey).toBe(hostKey);
  });

  it.each(CIPHERS)('talks $label', async (c) => {
    const a = expectSsh2ClientReachedAuth(await ssh2ClientRun(forceCipher(c)));
    expect([a.cipherClientToServer, a.cipherServerToClient, a.macClientToServer]).toEqual([
      c.cipher,
      c.cipher,
      c.mac,
    ]);
  });

  it('follows two rekeys our server starts, then answers its USERAUTH_REQUEST under the new keys', async () => {
    const run = await ssh2ClientRun(
      { cipher: ['chacha20-poly1305@openssh.com'], kex: ['ecdh-sha2-nistp384'] },
      async (server, handshakes) => {
        for (let i = 0; i < 2; i++) {
          const from = server.events.length;
          expect(sessionRekey(server.session)).toBe(true);
          await eventually(() => {
            expect(server.events.slice(from).map((e) => e.type)).toContain('rekey-complete');
            expect(handshakes).toHaveLength(2 + i);
          }, 10_000);
        }
      },
    );
    expectSsh2ClientReachedAuth(run);
    const types = run.server.events.map((e) => e.type);
    expect(types.filter((t) => t === 'rekey-complete')).toHaveLength(2);
    expect(run.server.events.filter((e) => e.type === 'rekey-started')).toEqual([
      { type: 'rekey-started', initiator: 'local' },
      { type: 'rekey-started', initiator: 'local' },
    ]);
    for (const h of run.handshakes) expect(fromSsh2(h)).toEqual(fromSsh2(run.handshakes[0]!));
  });
});

describe.concurrent("our client against ssh2's Server", () => {
  it.each(KEX)('agrees on %s', async (kex) => {
    const { client } = await ourClientRun({ kex: [kex] });
    expect(client.algorithms.kex).toBe(kex);
    await client.disconnect();
  });

  it.each(HOST_KEY)('verifies an ssh2 %s host key', async (hostKey) => {
    const { client } = await ourClientRun({ hostKey: [hostKey] });
    expect(client.algorithms.hostKey).toBe(hostKey);
    await client.disconnect();
  });

  it.each(CIPHERS)('talks $label', async (c) => {
    const { client } = await ourClientRun(forceCipher(c));
    const a = client.algorithms;
    expect([a.cipherClientToServer, a.cipherServerToClient, a.macServerToClient]).toEqual([
      c.cipher,
      c.cipher,
      c.mac,
    ]);
    await client.disconnect();
  });

  it('rekeys on our request and on ssh2 server request, both sides agreeing each time', async () => {
    const { client, side } = await ourClientRun({
      cipher: ['aes128-ctr'],
      mac: ['hmac-sha2-512-etm@openssh.com'],
      kex: ['diffie-hellman-group14-sha256'],
    });
    // Ours first; wait until ssh2 has taken our NEWKEYS too before it may start its own.
    let from = client.events.length;
    expect(sessionRekey(client.session)).toBe(true);
    await client.waitFor('rekey-complete', from);
    await eventually(() => expect(side.handshakes).toHaveLength(2));
    // Then ssh2's: our session answers a peer-initiated exchange under the rekeyed keys.
    from = client.events.length;
    await new Promise<void>((resolve) => side.conn.rekey(() => resolve()));
    await client.waitFor('rekey-complete', from);
    expect(client.events.slice(from)).toContainEqual({ type: 'rekey-started', initiator: 'peer' });
    expect(side.handshakes).toHaveLength(3);
    for (const h of side.handshakes) expect(fromSsh2(h)).toEqual(client.algorithms);
    await client.disconnect();
    await eventually(() => expect(side.closed).toBe(true));
  });

  it('survives both sides starting a rekey at the same moment (crossing KEXINITs), five times', async () => {
    const { client, side } = await ourClientRun({ cipher: ['aes256-gcm@openssh.com'] });
    for (let i = 0; i < 5; i++) {
      const from = client.events.length;
      expect(sessionRekey(client.session)).toBe(true);
      side.conn.rekey();
      await client.waitFor('rekey-complete', from);
      await eventually(() => expect(side.handshakes).toHaveLength(2 + i));
      // Two KEXINITs crossed: one exchange, started (from our view) by us.
      expect(client.events.slice(from).map((e) => e.type)).toEqual([
        'rekey-started',
        'writable',
        'rekey-complete',
      ]);
    }
    await client.disconnect();
    await eventually(() => expect(side.closed).toBe(true));
  });
});
