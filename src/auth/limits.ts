/**
 * @module
 * Re-exports the bounds of ssh-userauth (RFC 4252, RFC 4256), defined with their sources in
 * src/limits.ts.
 */

export { AUTH_LIMITS } from '../limits.js';
