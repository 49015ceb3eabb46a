/**
 * node/known-hosts.ts: which lines match a host, checked against `ssh-keygen -F` as the
 * oracle on hand-written patterns, negations, markers and ports and on files hashed by
 * `ssh-keygen -H`; the verdicts; lines written by `add` (found by ssh-keygen -F); bad lines
 * and bounds; and the TOFU verifier.
 */

import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendKnownHostsLine,
  type HostKeyInfo,
  KNOWN_HOSTS_LIMITS,
  knownHostsLine,
  knownHostsVerifier,
  loadKnownHosts,
  parseKnownHosts,
} from '../../node/known-hosts.js';
import { wildcardMatch } from '../../node/known-hosts-match.js';
import {
  fingerprintSha256,
  generatePrivateKey,
  publicKeyToOpenSSH,
  SSH_ERR,
} from '../../src/index.js';
import { BIN, makeTempDir, removeDir, requireBinary } from '../interop/peers.js';

const run = promisify(execFile);

let dir: string;
beforeAll(() => {
  dir = makeTempDir('known-hosts');
});
afterAll(() => removeDir(dir));

const keys = {
  a: generatePrivateKey('ed25519').publicKeyBlob,
  b: generatePrivateKey('ecdsa-p256').publicKeyBlob,
  c: generatePrivateKey('ed25519').publicKeyBlob,
  d: generatePrivateKey('ecdsa-p384').publicKeyBlob,
};
const pub = (blob: Uint8Array) => publicKeyToOpenSSH(blob);
const b64 = (blob: Uint8Array) => Buffer.from(blob).toString('base64');

/** The line numbers `ssh-keygen -F name -f file` reports. */
async function oracle(file: string, host: string, port: number): Promise<number[]> {
  const name = port === 22 ? host : `[${host}]:${port}`;
  const result = await run(requireBinary(BIN.sshKeygen), ['-F', name, '-f', file]).catch(
    (e: { stdout?: string; code?: number }) => {
      if (e.code === 1) return { stdout: '' };
      throw e;
    },
  );
  return [...result.stdout.matchAll(/^# Host .* found: line (\d+)/gm)].map((m) => Number(m[1]));
}

const handWritten = [
  '# a comment',
  '   # an indented comment',
  '',
  `host1,host2 ${pub(keys.a)}`,
  `*.example.com,!bad.example.com ${pub(keys.b)}`,
  `[host1]:2222 ${pub(keys.b)}`,
  `@revoked host1 ${pub(keys.c)}`,
  `@cert-authority *.ca.test ${pub(keys.a)}`,
  `h?st3 ${pub(keys.a)} a comment with words`,
  `[*.wild.test]:2200 ${pub(keys.a)}`,
  `!neg.only ${pub(keys.a)}`,
  `192.168.1.* ${pub(keys.b)}`,
  `[::1]:2022 ${pub(keys.a)}`,
  `::1 ${pub(keys.b)}`,
  `HOST6 ${pub(keys.a)}`,
  `\thost7\t${pub(keys.d)}`,
  `host1 ${pub(keys.d)}`,
  `[host1]:22 ${pub(keys.c)}`,
].join('\n');

/** The same with a catch-all line that excludes a domain. */
const withCatchAll = `${handWritten}\n*,!*.example.com ${pub(keys.d)}`;

const queries: [string, number][] = [
  ['host1', 22],
  ['host2', 22],
  ['host1', 2222],
  ['host1', 2200],
  ['a.example.com', 22],
  ['bad.example.com', 22],
  ['x.ca.test', 22],
  ['host3', 22],
  ['hast3', 22],
  ['hoost3', 22],
  ['a.wild.test', 2200],
  ['a.wild.test', 22],
  ['neg.only', 22],
  ['192.168.1.5', 22],
  ['192.168.10.5', 22],
  ['::1', 22],
  ['::1', 2022],
  ['host6', 22],
  ['host7', 22],
  ['nowhere', 22],
  ['nowhere', 2222],
];

describe('matching lines, with ssh-keygen -F as the oracle', () => {
  it('agrees on hand-written patterns, negations, markers and ports', async () => {
    let found = 0;
    for (const [i, text] of [handWritten, withCatchAll].entries()) {
      const file = join(dir, `hand-${i}`);
      writeFileSync(file, `${text}\n`);
      const kh = parseKnownHosts(text);
      expect(kh.problems).toEqual([]);
      for (const [host, port] of queries) {
        const ours = kh.lookup(host, port).map((e) => e.line);
        const theirs = await oracle(file, host, port);
        found += theirs.length;
        expect([i, host, port, ours]).toEqual([i, host, port, theirs]);
      }
    }
    // The oracle is not vacuous: ssh-keygen found lines for most queries.
    expect(found).toBeGreaterThan(30);
  });

  it('agrees on a file hashed by ssh-keygen -H', async () => {
    const file = join(dir, 'hashed');
    const plain = [
      `host1,host2 ${pub(keys.a)}`,
      `[host1]:2222 ${pub(keys.b)}`,
      `10.0.0.1 ${pub(keys.c)}`,
      `[::1]:2022 ${pub(keys.d)}`,
    ];
    writeFileSync(file, `${plain.join('\n')}\n`);
    await run(BIN.sshKeygen, ['-H', '-f', file]);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n').filter((l) => l.startsWith('|1|'))).toHaveLength(5);
    const kh = parseKnownHosts(text);
    expect(kh.problems).toEqual([]);
    const hashedQueries: [string, number][] = [
      ['host1', 22],
      ['host2', 22],
      ['host1', 2222],
      ['host2', 2222],
      ['10.0.0.1', 22],
      ['::1', 2022],
      ['::1', 22],
      ['host3', 22],
    ];
    for (const [host, port] of hashedQueries) {
      const ours = kh.lookup(host, port).map((e) => e.line);
      const theirs = await oracle(file, host, port);
      expect([host, port, ours]).toEqual([host, port, theirs]);
    }
    expect(kh.check('host2', 22, keys.a)).toBe('match');
    expect(kh.check('HOST2', 22, keys.a)).toBe('match');
    expect(kh.check('host1', 2222, keys.a)).toBe('mismatch');
  });

  it('writes lines ssh-keygen -F finds, hashed or not', async () => {
    const file = join(dir, 'written');
    const lines = [
      knownHostsLine('plain.test', 22, keys.a),
      knownHostsLine('hashed.test', 22, keys.b, { hash: true }),
      knownHostsLine('hashed.test', 2022, keys.c, { hash: true, comment: 'added by a test' }),
      knownHostsLine('fe80::1', 22, keys.d, { hash: true }),
    ];
    expect(lines[0]).toBe(`plain.test ${pub(keys.a)}`);
    expect(lines[1]).toMatch(/^\|1\|[A-Za-z0-9+/]{27}=\|[A-Za-z0-9+/]{27}= ecdsa-sha2-nistp256 /);
    writeFileSync(file, `${lines.join('\n')}\n`);
    expect(await oracle(file, 'plain.test', 22)).toEqual([1]);
    expect(await oracle(file, 'hashed.test', 22)).toEqual([2]);
    expect(await oracle(file, 'hashed.test', 2022)).toEqual([3]);
    expect(await oracle(file, 'fe80::1', 22)).toEqual([4]);
    const kh = await loadKnownHosts(file);
    expect(kh.check('hashed.test', 2022, keys.c)).toBe('match');
  });
});

describe('verdicts', () => {
  const kh = parseKnownHosts(handWritten);

  it('match, mismatch and unknown', () => {
    expect(kh.check('host2', 22, keys.a)).toBe('match');
    expect(kh.check('host2', 22, keys.b)).toBe('mismatch');
    expect(kh.check('a.example.com', 22, keys.b)).toBe('match');
    expect(kh.check('nowhere.test', 2222, keys.a)).toBe('unknown');
  });

  it('a negated pattern takes the line away from that host', () => {
    expect(kh.check('bad.example.com', 22, keys.b)).toBe('unknown');
    expect(kh.check('neg.only', 22, keys.a)).toBe('unknown');
  });

  it('a port other than 22 needs a [host]:port line; [host]:22 never matches port 22', () => {
    expect(kh.check('host1', 2222, keys.b)).toBe('match');
    expect(kh.check('host1', 2222, keys.a)).toBe('mismatch');
    expect(kh.check('host1', 22, keys.b)).toBe('mismatch');
    expect(kh.check('a.wild.test', 2200, keys.a)).toBe('match');
  });

  it('a revoked key is refused even when another line for the host holds it', () => {
    const both = parseKnownHosts(`host9 ${pub(keys.c)}\n@revoked host9 ${pub(keys.c)}\n`);
    expect(both.check('host9', 22, keys.c)).toBe('revoked');
    expect(kh.check('host1', 22, keys.c)).toBe('revoked');
    const everywhere = parseKnownHosts(`@revoked * ${pub(keys.a)}\nhost1 ${pub(keys.a)}\n`);
    expect(everywhere.check('host1', 22, keys.a)).toBe('revoked');
    expect(everywhere.check('other', 2022, keys.a)).toBe('revoked');
  });

  it('@cert-authority lines never match a plain key, nor make a host known', () => {
    expect(kh.check('x.ca.test', 22, keys.a)).toBe('unknown');
  });

  it('host names compare without case; hashed names are looked up lower-cased', () => {
    expect(kh.check('HOST6', 22, keys.a)).toBe('match');
    expect(kh.check('Host1', 2222, keys.b)).toBe('match');
  });

  it('add() makes the key known and returns the line', () => {
    const k = parseKnownHosts('');
    const line = k.add('new.test', 2200, keys.d, { hash: true });
    expect(line).toMatch(/^\|1\|/);
    expect(k.check('new.test', 2200, keys.d)).toBe('match');
    expect(k.check('new.test', 22, keys.d)).toBe('unknown');
    expect(parseKnownHosts(line).check('new.test', 2200, keys.d)).toBe('match');
  });
});

describe('bad input', () => {
  it('reports bad lines with their numbers and keeps the good ones', () => {
    const text = [
      `good ${pub(keys.a)}`,
      'bogus line',
      `@unknown-marker host ${pub(keys.a)}`,
      'host4 ssh-ed25519 AAAA!!!notbase64',
      `host5 ssh-rsa ${b64(keys.a)}`,
      `|1|c2FsdA==|aGFzaA== ${pub(keys.a)}`,
      `|2|${'A'.repeat(28)}|${'A'.repeat(28)} ${pub(keys.a)}`,
      `long ${pub(keys.a)} ${'x'.repeat(KNOWN_HOSTS_LIMITS.LINE_BYTES_MAX)}`,
      `also-good ${pub(keys.b)}\r`,
      `wide ${pub(keys.a)} ${'€'.repeat(6000)}`,
    ].join('\n');
    const kh = parseKnownHosts(text);
    expect(kh.problems.map((p) => p.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 10]);
    expect(kh.entries.map((e) => e.line)).toEqual([1, 9]);
    expect(() => kh.check('good', 22, 'not bytes' as unknown as Uint8Array)).toThrow(
      expect.objectContaining({ code: SSH_ERR.USAGE }),
    );
    expect(kh.check('also-good', 22, keys.b)).toBe('match');
  });

  it('refuses text or a file over KNOWN_HOSTS_LIMITS.FILE_BYTES_MAX with LIMIT_EXCEEDED', async () => {
    const big = `# ${'x'.repeat(KNOWN_HOSTS_LIMITS.FILE_BYTES_MAX)}\n`;
    expect(() => parseKnownHosts(big)).toThrow(
      expect.objectContaining({ code: SSH_ERR.LIMIT_EXCEEDED }),
    );
    const file = join(dir, 'big');
    writeFileSync(file, big);
    await expect(loadKnownHosts(file)).rejects.toMatchObject({ code: SSH_ERR.LIMIT_EXCEEDED });
  });

  it('reads a missing file as empty', async () => {
    const kh = await loadKnownHosts(join(dir, 'does-not-exist'));
    expect(kh.entries).toEqual([]);
  });

  it('refuses to write a line for a host with pattern characters or a bad port', () => {
    for (const [host, port] of [
      ['*.example.com', 22],
      ['a,b', 22],
      ['!x', 22],
      ['has space', 22],
      ['', 22],
      ['ok.test', 0],
      ['ok.test', 65536],
    ] as const) {
      expect(() => knownHostsLine(host, port, keys.a)).toThrow(
        expect.objectContaining({ code: SSH_ERR.USAGE }),
      );
    }
  });

  it('matches many-star patterns without exponential backtracking', () => {
    const text = 'a'.repeat(5000);
    expect(wildcardMatch(text, `${'*a'.repeat(40)}*b`)).toBe(false);
    expect(wildcardMatch(`${text}b`, `${'*a'.repeat(40)}*b`)).toBe(true);
  });
});

describe('knownHostsVerifier', () => {
  const info = (host: string, port: number, keyBlob: Uint8Array): HostKeyInfo => ({
    host,
    port,
    algorithm: 'ssh-ed25519',
    keyType: 'ssh-ed25519',
    keyBlob,
    fingerprint: fingerprintSha256(keyBlob),
  });

  it('trusts on first use, remembers the key, then refuses another key for that host', async () => {
    const path = join(dir, 'tofu');
    const asked: string[] = [];
    const verify = knownHostsVerifier({
      path,
      hash: true,
      onUnknown: async (i) => {
        asked.push(`${i.host}:${i.port}`);
        return true;
      },
    });
    expect(await verify(info('tofu.test', 2022, keys.a))).toBe(true);
    expect(await verify(info('tofu.test', 2022, keys.a))).toBe(true);
    expect(asked).toEqual(['tofu.test:2022']);
    expect(await verify(info('tofu.test', 2022, keys.b))).toBe(false);
    expect(asked).toEqual(['tofu.test:2022']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await oracle(path, 'tofu.test', 2022)).toEqual([1]);
  });

  it('refuses unknown hosts without onUnknown, and revoked keys without asking', async () => {
    const path = join(dir, 'strict');
    writeFileSync(path, `@revoked * ${pub(keys.c)}`);
    let asked = 0;
    expect(await knownHostsVerifier({ path })(info('x.test', 22, keys.a))).toBe(false);
    const verify = knownHostsVerifier({ path, onUnknown: () => ++asked > 0 });
    expect(await verify(info('x.test', 22, keys.c))).toBe(false);
    expect(asked).toBe(0);
    expect(await verify(info('x.test', 22, keys.a))).toBe(true);
    // The file did not end with a newline: the appended line starts on its own line.
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(3);
  });

  it('does not remember when told not to', async () => {
    const path = join(dir, 'forget');
    const verify = knownHostsVerifier({ path, remember: false, onUnknown: () => true });
    expect(await verify(info('y.test', 22, keys.a))).toBe(true);
    expect((await loadKnownHosts(path)).entries).toEqual([]);
  });

  it('expands a leading ~/ and creates the missing directory (0700) as ssh does for ~/.ssh', async () => {
    const home = join(dir, 'home');
    mkdirSync(home);
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      const path = '~/.ssh/known_hosts';
      const verify = knownHostsVerifier({ path, onUnknown: () => true });
      expect(await verify(info('home.test', 22, keys.a))).toBe(true);
      const real = join(home, '.ssh', 'known_hosts');
      expect(statSync(join(home, '.ssh')).mode & 0o777).toBe(0o700);
      expect(statSync(real).mode & 0o777).toBe(0o600);
      expect(await oracle(real, 'home.test', 22)).toEqual([1]);
      expect((await loadKnownHosts(path)).check('home.test', 22, keys.a)).toBe('match');
      expect(await knownHostsVerifier({ path })(info('home.test', 22, keys.a))).toBe(true);
      await appendKnownHostsLine('~/other/known_hosts', knownHostsLine('x.test', 22, keys.b));
      expect(readFileSync(join(home, 'other', 'known_hosts'), 'utf8')).toContain('x.test ');
      // Only a leading "~/" is expanded.
      expect((await loadKnownHosts('~user/known_hosts')).entries).toEqual([]);
    } finally {
      process.env.HOME = saved;
    }
  });

  it('appendKnownHostsLine creates missing parent directories', async () => {
    const path = join(dir, 'new', 'sub', 'known_hosts');
    await appendKnownHostsLine(path, knownHostsLine('p.test', 22, keys.a));
    expect(statSync(join(dir, 'new', 'sub')).mode & 0o777).toBe(0o700);
    expect((await loadKnownHosts(path)).check('p.test', 22, keys.a)).toBe('match');
  });

  it('appendKnownHostsLine refuses a line break inside the line', async () => {
    await expect(appendKnownHostsLine(join(dir, 'x'), 'a\nb')).rejects.toMatchObject({
      code: SSH_ERR.USAGE,
    });
  });
});
