import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  afterError,
  runScenario,
  SCENARIOS,
  splittingInvariance,
} from '../../src/testing/index.js';

// The @example of src/testing/index.ts, compiled and run as written (with fewer runs).
it('the entry point example runs', () => {
  const t = runScenario({
    scenario: SCENARIOS.exec,
    seed: 1,
    split: 'bytes',
    delivery: 'deferred',
  });
  expect(t.client.events).toContain('ch0 close');
  fc.assert(splittingInvariance(fc, { scenarios: [SCENARIOS.handshake] }), { seed: 1, numRuns: 4 });
  fc.assert(afterError(fc, { scenarios: [SCENARIOS.rekeyBoth] }), { seed: 1, numRuns: 4 });
});
