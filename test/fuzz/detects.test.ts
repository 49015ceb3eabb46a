import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Session, sessionClose, sessionCreate, sessionReceive } from '../../src/index.js';
import {
  afterError,
  ContractViolation,
  runScenario,
  SCENARIOS,
  splittingInvariance,
  type TransportAdapter,
} from '../../src/testing/index.js';
import { inputBufferAdapter } from './budget.js';

/** A transport with a classic bug: it drops whatever `sessionReceive` did not consume. */
const tailDropping: TransportAdapter = {
  name: 'tail-dropping',
  open(wire) {
    let session: Session | undefined;
    const queue: Uint8Array[] = [];
    let feeding = false;
    const feed = () => {
      if (!session || feeding) return;
      feeding = true;
      // Never nested, but each chunk is presented alone and what is left of it is lost.
      while (queue.length > 0) sessionReceive(session, queue.shift()!);
      feeding = false;
    };
    return {
      create(config) {
        session = sessionCreate(
          wire,
          (w, b) => w.send(b),
          (w) => w.close(),
          config,
        );
        feed();
        return session;
      },
      receive: (bytes) => {
        queue.push(bytes.slice());
        feed();
      },
      linkClosed: () => session && sessionClose(session),
    };
  },
};

/** A transport that writes a farewell byte after the session asked it to close. */
const chattyClose: TransportAdapter = {
  name: 'chatty-close',
  open(wire) {
    const end = inputBufferAdapter.open({
      send: (bytes) => wire.send(bytes),
      close: () => {
        wire.close();
        wire.send(Uint8Array.of(0));
      },
    });
    return end;
  },
};

describe('the kit finds broken transports and applications', () => {
  it('splitting invariance fails for a transport that drops the unconsumed tail, naming the seed', () => {
    const result = fc.check(splittingInvariance(fc, { adapter: tailDropping, seeds: 1 }), {
      seed: 1,
      numRuns: 50,
    });
    expect(result.failed).toBe(true);
    // fast-check reports its own seed and path; the thrown ContractViolation (the error's
    // cause under fc.assert) names the harness run that reproduces it.
    expect(fc.defaultReportMessage(result)).toMatch(/seed: 1, path: /);
    const message = String((result.errorInstance as Error).message);
    expect(message).toMatch(/differs from the run with whole sends/);
    expect(message).toMatch(
      /reproduce: runScenario\(\{ scenario: SCENARIOS\.\w+, seed: 0, linkSeed: \d+/,
    );
    expect(message).toMatch(/adapter: \/\* yours: tail-dropping \*\//);
  });

  it('the monitor flags a send after close', () => {
    const run = () =>
      runScenario({ scenario: SCENARIOS.disconnectServer, seed: 1, adapter: chattyClose });
    expect(run).toThrow(ContractViolation);
    expect(run).toThrow(
      /server: send after close[\s\S]*reproduce: runScenario\(\{ scenario: SCENARIOS\.disconnectServer, seed: 1/,
    );
  });

  it('after-error fails for that transport too', () => {
    const result = fc.check(afterError(fc, { adapter: chattyClose, seeds: 1 }), {
      seed: 2,
      numRuns: 30,
    });
    expect(result.failed).toBe(true);
    expect(result.errorInstance).toBeInstanceOf(ContractViolation);
    expect(String((result.errorInstance as Error).message)).toMatch(/send after close/);
  });

  it('a custom step that throws is a violation of the run', () => {
    const scenario = {
      name: 'throws',
      steps: [
        {
          type: 'custom' as const,
          name: 'boom',
          run: () => {
            throw new Error('application bug');
          },
        },
      ],
    };
    expect(() => runScenario({ scenario, seed: 1 })).toThrow(
      /boom threw application bug[\s\S]*scenario: \/\* yours: throws \*\/, seed: 1/,
    );
  });

  it('a custom step and configure reach the sessions: a user app fuzzed the same way', () => {
    const seen: string[] = [];
    const t = runScenario({
      scenario: {
        name: 'custom',
        auth: 'password',
        steps: [{ type: 'custom', name: 'ping', run: (c) => c.log(String(c.random.int(0, 9))) }],
      },
      seed: 2,
      split: 'bytes',
      configure: {
        server: (base) => ({
          ...base,
          banner: 'hello',
          onEvent: (e) => void seen.push(e.type),
        }),
      },
    });
    expect(t.client.events).toContain('auth-banner 5');
    expect(seen).toContain('authenticated');
    expect(t.steps[0]).toBe('0 ping');
    expect(t.steps[1]).toMatch(/^0 ping: \d$/);
  });
});
