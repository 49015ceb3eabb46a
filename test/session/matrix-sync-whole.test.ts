import { describe } from 'vitest';
import { runMatrix } from './matrix.js';

describe('every algorithm combination, delivered whole and synchronously from inside send (reentrant)', () => {
  runMatrix('sync whole', { delivery: 'sync', split: 'whole' });
});
