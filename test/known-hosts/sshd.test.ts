/**
 * known_hosts files made by `ssh-keyscan` (plain and `-H`) against a local sshd, then used by
 * our client's `onHostKey` through knownHostsVerifier and hostKeyRequestHandler: the scanned
 * key is accepted, a different or revoked key refused, and an unknown host trusted on first
 * use and remembered.
 */

import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hostKeyRequestHandler,
  knownHostsVerifier,
  loadKnownHosts,
  parseKnownHosts,
} from '../../node/known-hosts.js';
import {
  generatePrivateKey,
  publicKeyToOpenSSH,
  type SessionEvent,
  SSH_ERR,
  sessionDisconnect,
  sessionLastError,
} from '../../src/index.js';
import { attachSocket } from '../../transports/tcp.js';
import {
  makeTempDir,
  removeDir,
  requireBinary,
  type SshdHandle,
  startSshd,
} from '../interop/peers.js';

const run = promisify(execFile);
const SSH_KEYSCAN = '/usr/bin/ssh-keyscan';

let sshd: SshdHandle;
let dir: string;
let scanned: string;
let scannedHashed: string;

const blobOf = (line: string) => new Uint8Array(Buffer.from(line.split(' ')[1]!, 'base64'));

beforeAll(async () => {
  dir = makeTempDir('known-hosts-sshd');
  sshd = await startSshd();
  const scan = async (hash: boolean) => {
    const args = [...(hash ? ['-H'] : []), '-p', String(sshd.port), '127.0.0.1'];
    const { stdout } = await run(requireBinary(SSH_KEYSCAN), args);
    return stdout;
  };
  [scanned, scannedHashed] = await Promise.all([scan(false), scan(true)]);
});

afterAll(async () => {
  await sshd?.stop();
  if (dir) removeDir(dir);
});

/** Connects our client over TCP; resolves with the events once the session settled. */
function connectWith(
  onHostKey: Parameters<typeof hostKeyRequestHandler>[0],
): Promise<{ events: SessionEvent[]; error: string | undefined }> {
  return new Promise((resolve) => {
    const events: SessionEvent[] = [];
    const socket = netConnect(sshd.port, '127.0.0.1');
    const session = attachSocket(socket, {
      role: 'client',
      onHostKey: hostKeyRequestHandler(onHostKey, { host: '127.0.0.1', port: sshd.port }),
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'service-accepted') sessionDisconnect(session, 11, 'done');
      },
    });
    socket.on('close', () => resolve({ events, error: sessionLastError(session)?.code }));
  });
}

describe('known_hosts from ssh-keyscan', () => {
  it('holds the keys sshd serves, plain and hashed, and ssh-keygen -F agrees on the lines', async () => {
    for (const [name, text] of [
      ['plain', scanned],
      ['hashed', scannedHashed],
    ] as const) {
      const kh = parseKnownHosts(text);
      expect(kh.problems).toEqual([]);
      const types = kh.entries.map((e) => e.keyType).sort();
      expect([name, types]).toEqual([name, ['ecdsa-sha2-nistp256', 'ssh-ed25519', 'ssh-rsa']]);
      for (const key of sshd.keys) {
        const verdict = kh.check('127.0.0.1', sshd.port, blobOf(key.publicKeyLine));
        // ssh-keyscan fetches one ECDSA key (P-256): the P-384 and P-521 keys are not listed.
        expect([name, key.kind, verdict]).toEqual([
          name,
          key.kind,
          ['ecdsa384', 'ecdsa521'].includes(key.kind) ? 'mismatch' : 'match',
        ]);
      }
      expect(kh.check('127.0.0.1', 22, blobOf(sshd.keys[0]!.publicKeyLine))).toBe('unknown');
      const file = join(dir, `scan-${name}`);
      writeFileSync(file, text);
      const { stdout } = await run('/usr/bin/ssh-keygen', [
        '-F',
        `[127.0.0.1]:${sshd.port}`,
        '-f',
        file,
      ]);
      const theirs = [...stdout.matchAll(/found: line (\d+)/g)].map((m) => Number(m[1]));
      expect(kh.lookup('127.0.0.1', sshd.port).map((e) => e.line)).toEqual(theirs);
    }
  });
});

describe('our client verifying sshd with known_hosts', () => {
  it('accepts the host key ssh-keyscan recorded', async () => {
    const path = join(dir, 'accept');
    writeFileSync(path, scannedHashed);
    const r = await connectWith(knownHostsVerifier({ path }));
    expect(r.events.map((e) => e.type)).toContain('service-accepted');
  });

  it('refuses a different key for the host with HOST_KEY_REJECTED', async () => {
    const path = join(dir, 'other');
    const other = publicKeyToOpenSSH(generatePrivateKey('ed25519').publicKeyBlob);
    writeFileSync(path, `[127.0.0.1]:${sshd.port} ${other}\n`);
    let asked = false;
    const r = await connectWith(
      knownHostsVerifier({
        path,
        onUnknown: () => {
          asked = true;
          return true;
        },
      }),
    );
    expect(r.error).toBe(SSH_ERR.HOST_KEY_REJECTED);
    expect(asked).toBe(false);
  });

  it('refuses a revoked key even though another line lists it', async () => {
    const path = join(dir, 'revoked');
    const ed = sshd.keys.find((k) => k.kind === 'ed25519')!;
    writeFileSync(path, `${scanned}@revoked * ${ed.publicKeyLine}\n`);
    const r = await connectWith(knownHostsVerifier({ path }));
    expect(r.error).toBe(SSH_ERR.HOST_KEY_REJECTED);
  });

  it('trusts an unknown host on first use, remembers it, then matches without asking', async () => {
    const path = join(dir, 'tofu');
    const asked: string[] = [];
    const verify = knownHostsVerifier({
      path,
      hash: true,
      onUnknown: (info) => {
        asked.push(info.algorithm);
        return true;
      },
    });
    const first = await connectWith(verify);
    expect(first.events.map((e) => e.type)).toContain('service-accepted');
    const second = await connectWith(verify);
    expect(second.events.map((e) => e.type)).toContain('service-accepted');
    expect(asked).toEqual(['ssh-ed25519']);
    const kh = await loadKnownHosts(path);
    const ed = sshd.keys.find((k) => k.kind === 'ed25519')!;
    expect(kh.check('127.0.0.1', sshd.port, blobOf(ed.publicKeyLine))).toBe('match');
  });

  it('rejects when the verifier throws', async () => {
    const r = await connectWith(() => {
      throw new Error('no verdict');
    });
    expect(r.error).toBe(SSH_ERR.HOST_KEY_REJECTED);
  });
});
