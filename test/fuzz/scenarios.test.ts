import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SSH_ERR, SshError } from '../../src/index.js';
import {
  ALGORITHM_SETS,
  ALL_SCENARIOS,
  compareTranscripts,
  runScenario,
  SCENARIOS,
  type Transcript,
} from '../../src/testing/index.js';

const has = (t: Transcript, side: 'client' | 'server', line: string) =>
  expect(t[side].events, `${side} events`).toContain(line);

describe('the built-in scenarios do what they say', () => {
  it('handshake: both established, no authentication', () => {
    const t = runScenario({ scenario: SCENARIOS.handshake, seed: 1 });
    expect([t.client.state, t.server.state]).toEqual(['established', 'established']);
    expect(t.client.events[1]).toMatch(/^host-key ssh-ed25519 SHA256:/);
    has(t, 'client', 'service-accepted ssh-userauth');
    expect(t.client.events.some((e) => e.startsWith('authenticated'))).toBe(false);
  });

  it.each([
    [SCENARIOS.password, 'password', ['auth-failure password partial=false']],
    [SCENARIOS.publickey, 'publickey', []],
    [SCENARIOS.keyboardInteractive, 'keyboard-interactive', []],
    [SCENARIOS.noneThenPassword, 'password', ['auth-failure none partial=false']],
  ] as const)('%s logs in with %s', (scenario, method, failures) => {
    const t = runScenario({ scenario, seed: 2, split: 'bytes' });
    has(t, 'client', `authenticated harness ${method}`);
    has(t, 'server', `authenticated harness ${method}`);
    const seen = t.client.events.filter((e) => e.startsWith('auth-failure'));
    expect(seen.map((e) => e.split(' left=')[0])).toEqual(failures);
  });

  it('exec: data both ways through a small window, exit status, EOF and CLOSE', () => {
    const t = runScenario({ scenario: SCENARIOS.exec, seed: 3, delivery: 'deferred' });
    expect(t.server.data.bytes).toBe(3000);
    expect(t.client.data.bytes).toBe(3000 + 700);
    has(t, 'server', 'ch0 request exec true');
    has(t, 'client', 'ch0 request-result exec true');
    has(t, 'client', 'ch0 request exit-status false');
    has(t, 'client', 'ch0 writable');
    expect(t.client.events.slice(-2)).toEqual(['ch0 eof', 'ch0 close']);
    expect(t.server.events.at(-1)).toBe('ch0 close');
    expect(
      Math.max(
        ...t.server.events
          .filter((e) => e.startsWith('ch0 data'))
          .map((e) => Number(e.split(' ')[2])),
      ),
    ).toBe(512);
  });

  it('requests: channel and global requests both ways, stderr and an exit signal', () => {
    const t = runScenario({ scenario: SCENARIOS.requests, seed: 3, split: { maxPiece: 3 } });
    for (const name of ['env', 'pty-req']) {
      has(t, 'server', `ch0 request ${name} true`);
      has(t, 'client', `ch0 request-result ${name} false`);
    }
    has(t, 'server', 'ch0 request window-change false');
    has(t, 'server', 'ch0 request signal false');
    has(t, 'client', 'ch0 extended-data 1 300');
    has(t, 'client', 'ch0 request exit-signal false');
    expect(t.steps).toContain('1 client requests: global request answered false');
    expect(t.steps).toContain('3 server stderr: keepalive answered false');
    expect(t.client.data.bytes).toBe(400);
  });

  it.each([
    [SCENARIOS.rekeyClient, ['local'], ['peer']],
    [SCENARIOS.rekeyServer, ['peer'], ['local']],
    [SCENARIOS.rekeyBoth, ['local', 'peer'], ['peer', 'local']],
    [SCENARIOS.rekeyDuringData, ['peer', 'local'], ['local', 'peer']],
  ] as const)('%s: rekeys started by the expected sides', (scenario, client, server) => {
    const t = runScenario({ scenario, seed: 4, split: { maxPiece: 5 }, delivery: 'deferred' });
    const started = (side: 'client' | 'server') =>
      t[side].events.filter((e) => e.startsWith('rekey-started')).map((e) => e.split(' ')[1]);
    expect(started('client')).toEqual(client);
    expect(started('server')).toEqual(server);
    for (const side of ['client', 'server'] as const) {
      expect(t[side].events.filter((e) => e.startsWith('rekey-complete'))).toHaveLength(
        client.length,
      );
      expect(t[side].state).toBe('established');
    }
  });

  it('rekey-during-data: every byte arrives across both rekeys', () => {
    const t = runScenario({ scenario: SCENARIOS.rekeyDuringData, seed: 5, split: 'bytes' });
    expect(t.server.data.bytes).toBe(3500);
    expect(t.client.data.bytes).toBe(3500 + 1500);
  });

  it.each([
    [SCENARIOS.disconnectClient, 'client', 'server'],
    [SCENARIOS.disconnectServer, 'server', 'client'],
  ] as const)('%s: the peer hears DISCONNECT 11, both close once', (scenario, by, peer) => {
    const t = runScenario({ scenario, seed: 6 });
    expect(t[by].error).toBeUndefined();
    expect(t[peer].error).toBe(SSH_ERR.PEER_DISCONNECTED);
    has(t, peer, 'disconnected 11 ');
    expect([t.client.closeCalls, t.server.closeCalls]).toEqual([1, 1]);
    expect(t[peer].events.filter((e) => e === 'ch0 close')).toHaveLength(1);
  });
});

describe('the algorithm sets the properties draw from', () => {
  it.each(ALGORITHM_SETS.map((a) => [a.cipher?.[0], a.mac?.[0] ?? 'aead', a] as const))(
    '%s %s: exec moves every byte, fed in random pieces',
    (cipher, _mac, algorithms) => {
      const t = runScenario({
        scenario: SCENARIOS.exec,
        seed: 8,
        algorithms,
        split: { maxPiece: 7 },
      });
      const agreed = t.client.events.find((e) => e.startsWith('handshake-complete'));
      expect(agreed).toContain(`${algorithms.kex?.[0]} ssh-ed25519 ${cipher} ${cipher}`);
      expect(t.client.data.bytes).toBe(3700);
    },
  );
});

describe('runs are reproducible from their seed', () => {
  it('the same options give byte-identical transcripts; another seed does not', () => {
    for (const scenario of ALL_SCENARIOS) {
      const options = {
        scenario,
        seed: 7,
        linkSeed: 8,
        split: { maxPiece: 9 },
        delivery: 'deferred' as const,
      };
      const a = runScenario(options);
      const b = runScenario(options);
      expect(compareTranscripts(a, b)).toBeUndefined();
      expect(b.client.calls).toEqual(a.client.calls);
      expect(b.server.calls).toEqual(a.server.calls);
      const c = runScenario({ ...options, seed: 70 });
      expect(Buffer.from(c.client.sent).equals(Buffer.from(a.client.sent))).toBe(false);
    }
  });

  it('a run in another process gives the same digest', () => {
    const program = fileURLToPath(new URL('./reproduce-program.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
    const remote = execFileSync(tsx, [program, 'exec', '11', '12'], { encoding: 'utf8' });
    const t = runScenario({
      scenario: SCENARIOS.exec,
      seed: 11,
      linkSeed: 12,
      split: { maxPiece: 11 },
      delivery: 'deferred',
    });
    const hash = createHash('sha256');
    for (const side of [t.client, t.server]) {
      hash.update(side.sent);
      hash.update(side.events.join('\n'));
      hash.update(JSON.stringify(side.calls));
    }
    expect(remote).toBe(hash.digest('hex'));
  });
});

describe('runScenario checks its options', () => {
  it.each([
    ['a split of 0', { split: { maxPiece: 0 } }],
    ['an unknown delivery', { delivery: 'later' }],
    ['an unknown feed', { feed: 'some' }],
    ['a seed that is not a number', { seed: Number.NaN }],
  ])('throws SSH_ERR_USAGE for %s', (_name, bad) => {
    const call = () => runScenario({ scenario: SCENARIOS.handshake, seed: 1, ...(bad as object) });
    expect(call).toThrow(SshError);
    expect(call).toThrow(expect.objectContaining({ code: SSH_ERR.USAGE }));
  });
});
