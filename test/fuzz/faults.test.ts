import { describe, expect, it } from 'vitest';
import { SSH_ERR } from '../../src/index.js';
import {
  ALGORITHM_SETS,
  type Delivery,
  runScenario,
  SCENARIOS,
  type Scenario,
  type SplitMode,
} from '../../src/testing/index.js';

const modes: { split: SplitMode; delivery: Delivery }[] = [
  { split: 'whole', delivery: 'sync' },
  { split: { maxPiece: 13 }, delivery: 'deferred' },
];

describe('a send that fails, at every send of a scenario', () => {
  const cases: [Scenario, (typeof modes)[number]][] = [
    [SCENARIOS.exec, modes[0]!],
    [SCENARIOS.exec, modes[1]!],
    [SCENARIOS.rekeyDuringData, modes[0]!],
    [SCENARIOS.keyboardInteractive, modes[1]!],
  ];
  it.each(cases.map(([s, m]) => [s.name, m.delivery, s, m] as const))(
    '%s (%s): the side whose send failed ends with SEND_FAILED, its peer with CONNECTION_LOST',
    (_name, _delivery, scenario, mode) => {
      const reference = runScenario({ scenario, seed: 3, ...mode });
      let runsDone = 0;
      for (const side of ['client', 'server'] as const) {
        const other = side === 'client' ? 'server' : 'client';
        for (let call = 0; call < reference[side].sends; call++) {
          const t = runScenario({
            scenario,
            seed: 3,
            ...mode,
            fault: { type: 'send-fails', side, call },
          });
          expect(t[side].failedSends, `${side} send ${call}`).toBe(1);
          expect(t[side].error, `${side} send ${call}`).toBe(SSH_ERR.SEND_FAILED);
          expect(t[side].closeCalls).toBe(1);
          expect(t[other].error, `${side} send ${call}`).toBe(SSH_ERR.CONNECTION_LOST);
          expect(t[other].closeCalls).toBe(0);
          expect(t[side].events.at(-1)).toBe('closed');
          runsDone++;
        }
      }
      expect(runsDone).toBe(reference.client.sends + reference.server.sends);
      expect(runsDone).toBeGreaterThan(8);
    },
  );
});

describe('the link breaking, before every step and at every send', () => {
  const scenarios = [SCENARIOS.exec, SCENARIOS.rekeyBoth, SCENARIOS.rekeyDuringData];
  it.each(scenarios.map((s) => [s.name, s] as const))(
    '%s: before each step both sessions end with CONNECTION_LOST and nothing after',
    (_name, scenario) => {
      for (let step = 0; step <= scenario.steps.length; step++) {
        const t = runScenario({
          scenario,
          seed: 4,
          fault: { type: 'link-closes-before-step', step },
        });
        for (const side of ['client', 'server'] as const) {
          expect(t[side].error, `step ${step}`).toBe(SSH_ERR.CONNECTION_LOST);
          expect(t[side].closeCalls).toBe(0);
          expect(t[side].events.slice(-2)).toEqual(['error SSH_ERR_CONNECTION_LOST', 'closed']);
        }
        const broke = t.steps.findIndex((line) => line.endsWith('link breaks'));
        expect(broke, `step ${step}`).toBe(step);
        // Nothing a later step tried did anything: skipped, or a rekey that was refused.
        for (const line of t.steps.slice(broke + 1))
          expect(line).toMatch(/skipped|rekey (client|server): false/);
      }
    },
  );

  it.each(scenarios.map((s) => [s.name, s] as const))(
    '%s: at each send (deferred, random pieces) both sessions end once',
    (_name, scenario) => {
      const mode = { split: { maxPiece: 40 }, delivery: 'deferred' as const, linkSeed: 9 };
      const reference = runScenario({ scenario, seed: 5, ...mode });
      const total = reference.client.sends + reference.server.sends;
      for (let send = 0; send < total; send++) {
        const t = runScenario({
          scenario,
          seed: 5,
          ...mode,
          fault: { type: 'link-closes-at-send', send },
        });
        expect(t.client.sends + t.server.sends, `send ${send}`).toBe(send + 1);
        for (const side of ['client', 'server'] as const) {
          expect(t[side].state, `send ${send}`).toBe('closed');
          expect(t[side].events.filter((e) => e === 'closed')).toHaveLength(1);
        }
      }
    },
  );

  it('the disconnect scenarios: a break after the DISCONNECT changes nothing', () => {
    for (const scenario of [SCENARIOS.disconnectClient, SCENARIOS.disconnectServer]) {
      const clean = runScenario({ scenario, seed: 6 });
      const broken = runScenario({
        scenario,
        seed: 6,
        fault: { type: 'link-closes-before-step', step: scenario.steps.length },
      });
      expect(broken.client.events).toEqual(clean.client.events);
      expect(broken.server.events).toEqual(clean.server.events);
      expect(broken.client.closeCalls + broken.server.closeCalls).toBe(2);
    }
  });
});

describe('a corrupted byte, every 101st byte of each direction', () => {
  const isSubsequence = (a: readonly string[], b: readonly string[]) => {
    let j = 0;
    return a.every((line) => {
      while (j < b.length && b[j] !== line) j++;
      return j++ < b.length;
    });
  };
  it.each(
    [ALGORITHM_SETS[0]!, ALGORITHM_SETS[3]!].map(
      (a) => [`${a.cipher?.[0]} ${a.mac?.[0] ?? ''}`, a] as const,
    ),
  )('%s: ends a session with a typed peer error, or only stalls it', (_name, algorithms) => {
    const options = {
      scenario: SCENARIOS.exec,
      seed: 12,
      algorithms,
      delivery: 'deferred' as const,
    };
    const clean = runScenario(options);
    const codes = new Map<string, number>();
    for (const from of ['client', 'server'] as const) {
      for (let offset = 0; offset < clean[from].sent.length; offset += 101) {
        const t = runScenario({ ...options, fault: { type: 'corrupt', from, offset, xor: 0x40 } });
        const to = from === 'client' ? 'server' : 'client';
        const code = t[to].error ?? t[from].error ?? 'none';
        codes.set(code, (codes.get(code) ?? 0) + 1);
        if (code === 'none') {
          for (const side of ['client', 'server'] as const)
            expect(
              isSubsequence(t[side].events, clean[side].events),
              `${from} byte ${offset}`,
            ).toBe(true);
        } else {
          expect(code, `${from} byte ${offset}`).toMatch(/^SSH_ERR_/);
          expect(code).not.toBe(SSH_ERR.INTERNAL);
        }
      }
    }
    // Past the handshake every corruption is caught by the MAC or tag (or the length check).
    expect(codes.get(SSH_ERR.MAC_INVALID) ?? 0).toBeGreaterThan(30);
  });
});
