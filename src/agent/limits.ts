/**
 * @module
 * Re-exports the bounds on what an SSH agent sends (draft-ietf-sshm-ssh-agent), defined with
 * their sources in src/limits.ts.
 */

export { AGENT_LIMITS } from '../limits.js';
