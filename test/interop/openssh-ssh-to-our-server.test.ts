/**
 * OpenSSH's `ssh` (9.2p1) against our server, which runs as a ProxyCommand over stdio
 * (test/interop/stdio-server.ts). Our server refuses every USERAUTH_REQUEST with an empty
 * method list, so each run ends in "Permission denied" right after SSH2_MSG_SERVICE_ACCEPT:
 * that is the success point. The host key is pinned in a known_hosts file.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AlgorithmPreferences,
  DEFAULT_HOST_KEY,
  DEFAULT_MACS,
  SUPPORTED_CIPHERS,
  SUPPORTED_MACS,
} from '../../src/index.js';
import {
  BIN,
  cipherCases,
  fingerprintFor,
  forceCipher,
  generateOpenSshKeys,
  type KeyFile,
  knownHostsLine,
  type LoggedEvent,
  makeTempDir,
  type ProcessResult,
  readEventLog,
  removeDir,
  requireBinary,
  runProcess,
  STRICT_KEX_CLIENT,
  splitEventLog,
  stdioServerCommand,
  type WireKexInit,
} from './peers.js';

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

const ALIAS = 'ourserver';

let dir: string;
let keys: KeyFile[];
let knownHosts: string;
let runCounter = 0;

beforeAll(async () => {
  requireBinary(BIN.ssh);
  dir = makeTempDir('ssh-to-ours');
  keys = await generateOpenSshKeys(dir);
  knownHosts = join(dir, 'known_hosts');
  writeFileSync(
    knownHosts,
    `${keys.map((k) => knownHostsLine(ALIAS, k.publicKeyLine)).join('\n')}\n`,
  );
});

afterAll(() => {
  if (dir) removeDir(dir);
});

/** What ssh forces with -o; what our server prefers via its argv. */
interface Run {
  readonly ssh?: {
    kex?: string;
    cipher?: string;
    mac?: string;
    hostKey?: string;
    compression?: boolean;
  };
  readonly server?: AlgorithmPreferences;
}

interface RunResult {
  readonly result: ProcessResult;
  readonly log: LoggedEvent[];
  readonly peerKexInit: WireKexInit | undefined;
  /** What ssh's -vvv log says it negotiated. */
  readonly sshSaw: {
    kex: string | undefined;
    hostKey: string | undefined;
    s2c: { cipher: string; mac: string } | undefined;
    c2s: { cipher: string; mac: string } | undefined;
  };
}

async function runSsh(run: Run): Promise<RunResult> {
  const log = join(dir, `events-${++runCounter}.jsonl`);
  const proxy = stdioServerCommand({
    log,
    keyPaths: keys.map((k) => k.path),
    ...(run.server ? { algorithms: run.server } : {}),
  });
  const args = [
    '-F',
    '/dev/null',
    '-vvv',
    '-o',
    `ProxyCommand=${proxy}`,
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityAgent=none',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `HostKeyAlias=${ALIAS}`,
  ];
  const s = run.ssh ?? {};
  if (s.kex) args.push('-o', `KexAlgorithms=${s.kex}`);
  if (s.cipher) args.push('-o', `Ciphers=${s.cipher}`);
  if (s.mac) args.push('-o', `MACs=${s.mac}`);
  if (s.hostKey) args.push('-o', `HostKeyAlgorithms=${s.hostKey}`);
  if (s.compression) args.push('-o', 'Compression=yes');
  args.push('anyhost', 'true');
  const result = await runProcess(BIN.ssh, args, { timeoutMs: 40_000 });
  const err = result.stderr;
  const dir2 = (d: string) => {
    const m = new RegExp(`kex: ${d} cipher: (\\S+) MAC: (\\S+)`).exec(err);
    return m ? { cipher: m[1]!, mac: m[2]! } : undefined;
  };
  return {
    result,
    ...(() => {
      const { events, peerKexInit } = splitEventLog(readEventLog(log));
      return { log: events, peerKexInit };
    })(),
    sshSaw: {
      kex: /kex: algorithm: (\S+)/.exec(err)?.[1],
      hostKey: /kex: host key algorithm: (\S+)/.exec(err)?.[1],
      s2c: dir2('server->client'),
      c2s: dir2('client->server'),
    },
  };
}

/** The checks every run must pass; returns our server's handshake record. */
function expectServiceAcceptThenDenied(
  run: RunResult,
): LoggedEvent & { type: 'handshake-complete' } {
  const { result, log, sshSaw, peerKexInit } = run;
  const err = result.stderr;
  const context = `ssh stderr:\n${err}\nserver log:\n${JSON.stringify(log, null, 1)}`;
  // The known_hosts pin matched: no verification failure.
  expect(err, context).not.toContain('Host key verification failed');
  expect(err, context).toMatch(
    new RegExp(`Host '${ALIAS}' is known and matches the \\S+ host key`),
  );
  expect(err, context).toContain('will use strict KEX ordering');
  expect(err, context).toContain('SSH2_MSG_SERVICE_ACCEPT received');
  expect(err, context).toContain('Permission denied');
  expect(result.code, context).toBe(255);

  const types = log.map((e) => e.type);
  expect(types.slice(0, 3), context).toEqual([
    'identification',
    'handshake-complete',
    'service-accepted',
  ]);
  expect(log[0]?.peer).toMatch(/^SSH-2\.0-OpenSSH_9\.2/);
  // Nothing but the link going away may end our side.
  for (const e of log) {
    if (e.type === 'error') expect(e.error?.code, context).toBe('SSH_ERR_CONNECTION_LOST');
  }
  const hs = log[1] as LoggedEvent & { type: 'handshake-complete' };
  const a = hs.algorithms!;
  // Both sides report the same algorithms.
  expect(sshSaw.kex, context).toBe(a.kex);
  expect(sshSaw.hostKey, context).toBe(a.hostKey);
  expect(sshSaw.c2s, context).toEqual({
    cipher: a.cipherClientToServer,
    mac: a.macClientToServer ?? '<implicit>',
  });
  expect(sshSaw.s2c, context).toEqual({
    cipher: a.cipherServerToClient,
    mac: a.macServerToClient ?? '<implicit>',
  });
  expect(hs.strictKex).toBe(true);
  expect(peerKexInit?.kex).toContain(STRICT_KEX_CLIENT);
  expect(peerKexInit?.firstKexPacketFollows).toBe(false);
  // The key our server signed with is the pinned one ssh-keygen fingerprints.
  expect(hs.fingerprint).toBe(fingerprintFor(keys, a.hostKey));
  expect(err).toContain(`Server host key: ${keyTypeOf(a.hostKey)} ${hs.fingerprint}`);
  return hs;
}

function keyTypeOf(alg: string): string {
  return alg.startsWith('rsa-') ? 'ssh-rsa' : alg;
}

describe.concurrent('OpenSSH ssh against our server (ProxyCommand over stdio)', () => {
  it.each(KEX)(
    'negotiates %s, accepts the pinned key and gets to Permission denied',
    async (kex) => {
      const hs = expectServiceAcceptThenDenied(await runSsh({ ssh: { kex } }));
      expect(hs.algorithms?.kex).toBe(kex);
    },
  );

  it.each(HOST_KEY)('verifies our %s signature against the pinned key', async (hostKey) => {
    const hs = expectServiceAcceptThenDenied(await runSsh({ ssh: { hostKey } }));
    expect(hs.algorithms?.hostKey).toBe(hostKey);
  });

  it.each(CIPHERS)('decrypts $label both ways up to SERVICE_ACCEPT', async (c) => {
    // HMAC-SHA1 is off by default on our side: our server lists it explicitly then.
    const explicit = c.mac !== undefined && !DEFAULT_MAC_SET.has(c.mac);
    const hs = expectServiceAcceptThenDenied(
      await runSsh({
        ssh: { cipher: c.cipher, ...(c.mac ? { mac: c.mac } : {}) },
        ...(explicit ? { server: forceCipher(c) } : {}),
      }),
    );
    expect(hs.algorithms?.cipherClientToServer).toBe(c.cipher);
    expect(hs.algorithms?.cipherServerToClient).toBe(c.cipher);
    expect(hs.algorithms?.macClientToServer).toBe(c.mac);
    expect(hs.algorithms?.macServerToClient).toBe(c.mac);
  });

  it("lets our server's preference lists (argv) narrow what ssh's defaults offer", async () => {
    const hs = expectServiceAcceptThenDenied(
      await runSsh({
        server: {
          kex: ['ecdh-sha2-nistp384'],
          hostKey: ['ecdsa-sha2-nistp521'],
          cipher: ['aes192-ctr'],
          mac: ['hmac-sha2-512'],
        },
      }),
    );
    expect(hs.algorithms).toMatchObject({
      kex: 'ecdh-sha2-nistp384',
      hostKey: 'ecdsa-sha2-nistp521',
      cipherClientToServer: 'aes192-ctr',
      macServerToClient: 'hmac-sha2-512',
    });
  });

  it('settles on compression none when ssh asks for zlib first', async () => {
    const run = await runSsh({ ssh: { compression: true } });
    const hs = expectServiceAcceptThenDenied(run);
    expect(run.result.stderr).toContain('compression ctos: zlib@openssh.com,zlib,none');
    expect(hs.algorithms?.compressionClientToServer).toBe('none');
    expect(run.result.stderr).toMatch(/kex: server->client cipher: \S+ MAC: \S+ compression: none/);
  });

  it('fails host key verification when the pinned key is a different one', async () => {
    const wrong = join(dir, 'known_hosts_wrong');
    // Pin only the ed25519 key but make our server present the RSA one.
    const ed = keys.find((k) => k.kind === 'ed25519')!;
    writeFileSync(wrong, `${knownHostsLine(ALIAS, ed.publicKeyLine)}\n`);
    const log = join(dir, 'events-wrong.jsonl');
    const proxy = stdioServerCommand({
      log,
      keyPaths: keys.filter((k) => k.kind === 'rsa').map((k) => k.path),
    });
    const result = await runProcess(BIN.ssh, [
      '-F',
      '/dev/null',
      '-o',
      `ProxyCommand=${proxy}`,
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${wrong}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `HostKeyAlias=${ALIAS}`,
      '-o',
      'HostKeyAlgorithms=rsa-sha2-512',
      'anyhost',
      'true',
    ]);
    expect(result.code).toBe(255);
    expect(result.stderr).toContain('Host key verification failed');
    expect(readEventLog(log).map((e) => e.type)).not.toContain('service-accepted');
  });
});
