import { describe } from 'vitest';
import { runMatrix } from './matrix.js';

describe('every algorithm combination, fed in seeded random pieces', () => {
  runMatrix('seeded random pieces', { delivery: 'sync', split: { seed: 20261123, maxPiece: 97 } });
});
