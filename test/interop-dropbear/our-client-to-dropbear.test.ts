/**
 * Our client's connection layer against dropbear 2022.83 over TCP: key login (dropbear reads
 * the local user's `~/.ssh/authorized_keys`) and password login (dropbear without `-s`), exec
 * with stdout/stderr/exit status, 16 MiB through `cat` inside dropbear's small windows, a
 * local forward (direct-tcpip) to a TCP echo server, and exec under each cipher dropbear and
 * we share.
 */

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AlgorithmPreferences,
  type ClientAuthMethod,
  channelOpenDirectTcpip,
  channelOpenSession,
  channelRequestExec,
  parsePrivateKey,
  sessionState,
} from '../../src/index.js';
import {
  BIN,
  binaryMentions,
  type DropbearHandle,
  eventually,
  generateOpenSshKeys,
  type KeyFile,
  makeTempDir,
  removeDir,
  STRICT_KEX_SERVER,
  startDropbear,
} from '../interop/peers.js';
import {
  ChannelProbe,
  pipeThrough,
  seededBytes,
  sha256,
} from '../interop-connection/channel-tools.js';
import { type EchoServer, startEchoServer, until } from '../interop-connection/helpers.js';
import {
  connectToDropbear,
  createDbUser,
  type DbOurClient,
  type DbUser,
  type DropbearServer,
  startPasswordDropbear,
} from './helpers.js';

const MiB = 1024 * 1024;

let dir: string;
let userKey: KeyFile;
let user: DbUser;
/** `dropbear -s` (from ../interop/peers.ts): public-key logins only. */
let keyOnly: DropbearHandle;
/** dropbear without `-s`: password logins too. */
let withPassword: DropbearServer;
let echo: EchoServer;

beforeAll(async () => {
  dir = makeTempDir('dropbear-conn');
  userKey = (await generateOpenSshKeys(dir, ['ed25519']))[0]!;
  user = createDbUser([userKey.publicKeyLine]);
  [keyOnly, withPassword, echo] = await Promise.all([
    startDropbear(['ed25519']),
    startPasswordDropbear(),
    startEchoServer(),
  ]);
});

afterAll(async () => {
  await Promise.all([keyOnly?.stop(), withPassword?.stop(), echo?.close()]);
  user?.cleanup();
  if (dir) removeDir(dir);
});

const keyLogin = (): ClientAuthMethod[] => [
  { type: 'publickey', key: parsePrivateKey(readFileSync(userKey.path, 'utf8')) },
];

/** Our client logged in to `dropbear -s` with the user's ed25519 key. */
function connectWithKey(algorithms?: AlgorithmPreferences): Promise<DbOurClient> {
  return connectToDropbear({
    port: keyOnly.port,
    username: user.name,
    methods: keyLogin(),
    fingerprint: keyOnly.hostKeyFingerprints.get('ssh-ed25519')!,
    ...(algorithms ? { algorithms } : {}),
    logs: () => keyOnly.logs(),
  });
}

async function openSession(client: DbOurClient): Promise<ChannelProbe> {
  const probe = new ChannelProbe();
  channelOpenSession(client.session, probe.options);
  await probe.opened();
  return probe;
}

/** Runs the exit-status command and checks what comes back. */
async function expectExec(client: DbOurClient): Promise<void> {
  const probe = await openSession(client);
  channelRequestExec(probe.channel!, 'echo out; echo err >&2; id -un; exit 3');
  expect(await probe.requestResult('exec')).toBe(true);
  const r = await probe.done();
  expect(r.stdout.toString()).toBe(`out\n${user.name}\n`);
  expect(r.stderr.toString()).toBe('err\n');
  expect(r.exitStatus).toBe(3);
  expect(r.exitSignal).toBeUndefined();
  expect(r.eof).toBe(true);
  expect(r.trace.indexOf('request exit-status')).toBeLessThan(r.trace.indexOf('close'));
  expect(r.trace.at(-1)).toBe('close');
}

describe('our client → dropbear 2022.83 (TCP)', () => {
  it('logs in with an ed25519 key (~/.ssh/authorized_keys) and runs exec: stdout, stderr, exit 3', async () => {
    const client = await connectWithKey();
    try {
      expect(client.events.find((e) => e.type === 'identification')).toEqual({
        type: 'identification',
        peer: 'SSH-2.0-dropbear_2022.83',
      });
      expect(client.strictKex).toBe(binaryMentions(BIN.dropbear, STRICT_KEX_SERVER));
      expect(client.events.find((e) => e.type === 'authenticated')).toEqual({
        type: 'authenticated',
        username: user.name,
        method: 'publickey',
      });
      await expectExec(client);
      await eventually(() =>
        expect(keyOnly.logs()).toMatch(new RegExp(`Pubkey auth succeeded for '${user.name}'`)),
      );
    } finally {
      await client.disconnect();
    }
  });

  it('logs in with kexGuess (dropbear prefers curve25519-sha256 too) and runs exec', async () => {
    const client = await connectToDropbear({
      port: keyOnly.port,
      username: user.name,
      methods: keyLogin(),
      fingerprint: keyOnly.hostKeyFingerprints.get('ssh-ed25519')!,
      kexGuess: true,
      logs: () => keyOnly.logs(),
    });
    try {
      expect(client.algorithms.kex).toBe('curve25519-sha256');
      await expectExec(client);
    } finally {
      await client.disconnect();
    }
  });

  it('logs in with a password (dropbear without -s) and runs exec: stdout, stderr, exit 3', async () => {
    const client = await connectToDropbear({
      port: withPassword.port,
      username: user.name,
      methods: [{ type: 'password', password: user.password }],
      fingerprint: withPassword.hostKey.fingerprint,
      logs: () => withPassword.logs(),
    });
    try {
      expect(client.events.find((e) => e.type === 'authenticated')).toEqual({
        type: 'authenticated',
        username: user.name,
        method: 'password',
      });
      await expectExec(client);
      await eventually(() =>
        expect(withPassword.logs()).toMatch(
          new RegExp(`Password auth succeeded for '${user.name}'`),
        ),
      );
    } finally {
      await client.disconnect();
    }
  });

  it('is refused a password by dropbear -s (SSH_ERR_AUTH_FAILED)', async () => {
    await expect(
      connectToDropbear({
        port: keyOnly.port,
        username: user.name,
        methods: [{ type: 'password', password: user.password }],
        fingerprint: keyOnly.hostKeyFingerprints.get('ssh-ed25519')!,
      }),
    ).rejects.toMatchObject({ code: 'SSH_ERR_AUTH_FAILED' });
  });

  it('pipes 16 MiB of seeded random data through cat and back, inside dropbear’s windows', async () => {
    const data = seededBytes(16 * MiB, 21);
    const client = await connectWithKey();
    try {
      const probe = await openSession(client);
      channelRequestExec(probe.channel!, 'cat');
      expect(await probe.requestResult('exec')).toBe(true);
      const r = await pipeThrough(probe, data, 30_000);
      console.log(
        `[interop-dropbear] our client → dropbear 16 MiB through cat: ${r.ms.toFixed(0)} ms, ` +
          `${r.mibPerSecond.toFixed(1)} MiB/s each way (largest send window ${probe.maxRemoteWindow}, ` +
          `${probe.shortWrites} short writes, ${probe.writableEvents} writable events)`,
      );
      expect(r.bytes).toBe(data.length);
      expect(r.sha256).toBe(sha256(data));
      expect(r.result.exitStatus).toBe(0);
      // dropbear's receive window (24 KiB by default) is far below 16 MiB: writes were cut
      // short and resumed on 'writable', and every 'writable' answered a short write.
      expect(probe.maxRemoteWindow).toBeLessThan(MiB);
      expect(probe.shortWrites).toBeGreaterThan(0);
      expect(probe.writableEvents).toBe(probe.shortWrites);
      expect(sessionState(client.session)).toBe('established');
    } finally {
      await client.disconnect();
    }
  });

  it('forwards a local port: direct-tcpip through dropbear to a TCP echo server', async () => {
    const payload = seededBytes(2 * MiB + 13, 22);
    const client = await connectWithKey();
    try {
      const seenBefore = echo.connections;
      const probe = new ChannelProbe();
      channelOpenDirectTcpip(client.session, {
        host: '127.0.0.1',
        port: echo.port,
        originatorHost: '127.0.0.1',
        originatorPort: 40100,
        ...probe.options,
      });
      await probe.opened();
      await until(
        () => echo.connections === seenBefore + 1,
        () => `echo server saw ${echo.connections - seenBefore} connections`,
      );
      const r = await pipeThrough(probe, payload, 30_000);
      expect(r.bytes).toBe(payload.length);
      expect(r.sha256).toBe(sha256(payload));
      expect(r.result.eof).toBe(true);
      // A second channel on the same session still works after the first closed.
      const second = new ChannelProbe();
      channelOpenDirectTcpip(client.session, {
        host: '127.0.0.1',
        port: echo.port,
        originatorHost: '127.0.0.1',
        originatorPort: 40101,
        ...second.options,
      });
      await second.opened();
      const small = await pipeThrough(second, new TextEncoder().encode('hello through dropbear\n'));
      expect(small.sha256).toBe(sha256(new TextEncoder().encode('hello through dropbear\n')));
    } finally {
      await client.disconnect();
    }
  });

  it('refuses direct-tcpip to a closed port with CONNECT_FAILED (2)', async () => {
    const client = await connectWithKey();
    try {
      const probe = new ChannelProbe();
      channelOpenDirectTcpip(client.session, {
        host: '127.0.0.1',
        port: 1,
        originatorHost: '127.0.0.1',
        originatorPort: 40102,
        ...probe.options,
      });
      await expect(probe.opened()).rejects.toThrow(/channel open failed: 2 /);
      expect(sessionState(client.session)).toBe('established');
    } finally {
      await client.disconnect();
    }
  });

  describe.concurrent('each cipher dropbear supports', () => {
    it.each([
      { cipher: 'chacha20-poly1305@openssh.com', mac: undefined },
      { cipher: 'aes128-ctr', mac: 'hmac-sha2-256' },
      { cipher: 'aes256-ctr', mac: 'hmac-sha2-256' },
    ])('runs exec under $cipher $mac', async ({ cipher, mac }) => {
      const client = await connectWithKey(
        mac === undefined ? { cipher: [cipher] } : { cipher: [cipher], mac: [mac] },
      );
      try {
        const a = client.algorithms;
        expect([a.cipherClientToServer, a.cipherServerToClient]).toEqual([cipher, cipher]);
        if (mac !== undefined)
          expect([a.macClientToServer, a.macServerToClient]).toEqual([mac, mac]);
        await expectExec(client);
        // A little bulk both ways too (several packets per direction under these keys).
        const probe = await openSession(client);
        channelRequestExec(probe.channel!, 'cat');
        expect(await probe.requestResult('exec')).toBe(true);
        const data = seededBytes(256 * 1024 + 7, 23);
        const r = await pipeThrough(probe, data, 20_000);
        expect(r.sha256).toBe(sha256(data));
      } finally {
        await client.disconnect();
      }
    });
  });
});
