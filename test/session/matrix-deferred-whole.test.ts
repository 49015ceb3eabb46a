import { describe } from 'vitest';
import { runMatrix } from './matrix.js';

describe('every algorithm combination, delivered whole on a later macrotask', () => {
  runMatrix('deferred whole', { delivery: 'deferred', split: 'whole' });
});
