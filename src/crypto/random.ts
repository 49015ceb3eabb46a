/**
 * @module
 * The default random source: node:crypto's CSPRNG.
 */

import { randomBytes } from 'node:crypto';
import type { RandomFn } from './types.js';

/** Returns `length` cryptographically strong random bytes. */
export const systemRandom: RandomFn = (length) => randomBytes(length);
