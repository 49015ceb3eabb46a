import { describe, expect, it } from 'vitest';
import { allCombos, runMatrix } from './matrix.js';

describe('every algorithm combination, fed in seeded random pieces', () => {
  it('covers all 1,029 combinations (7 kex × 7 host keys × 21 cipher/MAC pairs)', () => {
    expect(allCombos()).toHaveLength(7 * 7 * 21);
  });
  runMatrix('seeded random pieces', { delivery: 'sync', split: { seed: 20261123, maxPiece: 97 } });
});
