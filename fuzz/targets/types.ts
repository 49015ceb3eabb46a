/**
 * @module
 * What a fuzz target is: one phase of a session, one role under test, an input format, a
 * way to make seed transcripts from real sessions, and a run that applies the oracle.
 */

import type { InputFormat } from '../framing.js';

/** The names of the targets, one per phase (and per side where the sides differ). */
export const TARGET_NAMES = [
  'version',
  'kex-client',
  'kex-server',
  'auth-server',
  'auth-client',
  'channels-server',
  'channels-client',
] as const;

/** One of {@link TARGET_NAMES}. */
export type TargetName = (typeof TARGET_NAMES)[number];

/** A phase of a session under the fuzzer. */
export interface FuzzTarget {
  readonly name: TargetName;
  /** One line: which session is attacked, from where. */
  readonly description: string;
  readonly format: InputFormat;
  /** Valid transcripts, made fresh from real sessions of ours (deterministic). */
  seeds(): Uint8Array[];
  /**
   * Runs one input through the oracle; throws a Violation on a break of the contract.
   * `beforeFeed` is called once the harness has done its own work (creating sessions,
   * driving the handshake, sealing payloads), just before the input reaches the target.
   */
  run(input: Uint8Array, beforeFeed?: () => void): void;
}
