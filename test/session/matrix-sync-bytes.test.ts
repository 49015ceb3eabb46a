import { describe } from 'vitest';
import { runMatrix } from './matrix.js';

describe('every algorithm combination, fed one byte at a time', () => {
  runMatrix('one byte at a time', { delivery: 'sync', split: 'bytes' });
});
