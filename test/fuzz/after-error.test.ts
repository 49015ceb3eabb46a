import fc from 'fast-check';
import { describe, it } from 'vitest';
import { afterError } from '../../src/testing/index.js';
import { inputBufferAdapter, runs, seed, timeout } from './budget.js';

describe('after an error (pluggable-ssh/testing)', () => {
  it(
    'a failed send, a broken link or a corrupted byte ends each session once, and it stays inert',
    () => {
      fc.assert(afterError(fc, { seeds: 4 }), { seed: seed(0xdead), numRuns: runs(80) });
    },
    timeout(80, 200),
  );

  it(
    'holds over the shipped InputBuffer transport too',
    () => {
      fc.assert(afterError(fc, { seeds: 2, adapter: inputBufferAdapter }), {
        seed: seed(0xdead + 1),
        numRuns: runs(20),
      });
    },
    timeout(20, 200),
  );
});
