/**
 * @module
 * Re-exports the bounds and defaults of the connection layer (RFC 4254), defined with their
 * sources in src/limits.ts.
 */

export { CONNECTION_LIMITS } from '../limits.js';
