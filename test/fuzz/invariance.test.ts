import fc from 'fast-check';
import { describe, it } from 'vitest';
import { splittingInvariance } from '../../src/testing/index.js';
import { inputBufferAdapter, runs, seed, timeout } from './budget.js';

describe('splitting invariance (pluggable-ssh/testing)', () => {
  it(
    'every split and delivery order of the same streams gives the same events, bytes and ends',
    () => {
      fc.assert(splittingInvariance(fc, { seeds: 4 }), { seed: seed(0x5eed), numRuns: runs(60) });
    },
    timeout(60, 150),
  );

  it(
    'holds over the shipped InputBuffer transport too',
    () => {
      fc.assert(splittingInvariance(fc, { seeds: 2, adapter: inputBufferAdapter }), {
        seed: seed(0x5eed + 1),
        numRuns: runs(20),
      });
    },
    timeout(20, 150),
  );
});
