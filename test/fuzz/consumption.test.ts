import fc from 'fast-check';
import { describe, it } from 'vitest';
import { consumption } from '../../src/testing/index.js';
import { runs, seed, timeout } from './budget.js';

describe('consumption (pluggable-ssh/testing)', () => {
  it(
    'sessionReceive consumes exactly the whole units presented, and a re-presented tail loses nothing',
    () => {
      fc.assert(consumption(fc, { seeds: 2 }), { seed: seed(0xc0de), numRuns: runs(50) });
    },
    timeout(50, 300),
  );
});
