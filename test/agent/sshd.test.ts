/**
 * Our client logs in to OpenSSH's sshd 9.2 (`sshd -i` over pipes) with agent signers only,
 * one key type at a time: Ed25519, ECDSA P-256, and RSA signing with rsa-sha2-512 (never
 * ssh-rsa), the signatures made by a real ssh-agent.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshAgent } from '../../node/agent.js';
import type { Signer } from '../../src/index.js';
import { makeTempDir, removeDir } from '../interop/peers.js';
import { type ConnSshd, connectOurClient, startConnSshd } from '../interop-connection/helpers.js';
import { makeKey, type RunningAgent, startAgent, type UserKey } from './helpers.js';

let dir: string;
let agent: RunningAgent;
let sshd: ConnSshd;
let keys: UserKey[];
let stranger: UserKey;

beforeAll(async () => {
  dir = makeTempDir('agent-sshd');
  keys = await Promise.all([makeKey(dir, 'ed25519'), makeKey(dir, 'ecdsa'), makeKey(dir, 'rsa')]);
  const strangerDir = makeTempDir('agent-stranger');
  stranger = await makeKey(strangerDir, 'ed25519');
  agent = await startAgent(dir);
  for (const k of [...keys, stranger]) await agent.add(k);
  removeDir(strangerDir);
  sshd = await startConnSshd(keys.map((k) => k.publicKeyLine));
});

afterAll(async () => {
  await sshd?.stop();
  await agent?.stop();
  if (dir) removeDir(dir);
});

/** Wraps a signer to record the algorithms the core asked it for. */
function recording(signer: Signer, used: string[]): Signer {
  return {
    publicKeyBlob: signer.publicKeyBlob,
    signatureAlgorithms: signer.signatureAlgorithms,
    sign: (request) => {
      used.push(request.algorithm);
      signer.sign(request);
    },
  };
}

const expected = { ed25519: 'ssh-ed25519', ecdsa: 'ecdsa-sha2-nistp256', rsa: 'rsa-sha2-512' };

describe('logging in to sshd with ssh-agent signers', () => {
  for (const kind of ['ed25519', 'ecdsa', 'rsa'] as const) {
    it(`logs in as root with the agent's ${kind} key, signing with ${expected[kind]}`, async () => {
      const a = await SshAgent.connect({ path: agent.socket });
      try {
        const key = keys.find((k) => k.kind === kind)!;
        const all = await a.signers();
        const signer = all.find((s) => Buffer.from(s.publicKeyBlob).equals(Buffer.from(key.blob)))!;
        const used: string[] = [];
        const client = await connectOurClient(
          { kind: 'sshd -i', configPath: sshd.configPath, dir: sshd.dir },
          {
            username: 'root',
            methods: [{ type: 'publickey', signer: recording(signer, used) }],
            fingerprint: sshd.hostKey.fingerprint,
          },
        );
        expect(used).toEqual([expected[kind]]);
        expect(client.logs()).toMatch(/Accepted publickey for root/);
        await client.disconnect();
      } finally {
        await a.close();
      }
    });
  }

  it('tries every agent key in order: the unknown one is refused, the next succeeds', async () => {
    const a = await SshAgent.connect({ path: agent.socket });
    try {
      const all = await a.signers();
      const order = [
        all.find((s) => Buffer.from(s.publicKeyBlob).equals(Buffer.from(stranger.blob)))!,
        all.find((s) => Buffer.from(s.publicKeyBlob).equals(Buffer.from(keys[2]!.blob)))!,
      ];
      const client = await connectOurClient(
        { kind: 'sshd -i', configPath: sshd.configPath, dir: sshd.dir },
        {
          username: 'root',
          methods: order.map((signer) => ({ type: 'publickey' as const, signer })),
          fingerprint: sshd.hostKey.fingerprint,
        },
      );
      const failures = client.events.filter((e) => e.type === 'auth-failure');
      expect(failures).toHaveLength(1);
      expect(client.events.some((e) => e.type === 'authenticated')).toBe(true);
      await client.disconnect();
    } finally {
      await a.close();
    }
  });
});
