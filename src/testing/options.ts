/**
 * @module
 * The options and results of a harness run, and the error that reports a broken contract with
 * the options that reproduce it.
 */

import type { PrivateKey } from '../crypto/keys.js';
import type { SshErrorCode } from '../errors.js';
import type { Session } from '../session.js';
import type { AlgorithmPreferences, ClientConfig, ServerConfig, SessionState } from '../types.js';
import { SCENARIOS, type Scenario, type Side } from './scenario.js';
import type { ReceiveCall, TransportAdapter } from './transport.js';

/** How the wire cuts bytes: as sent, one byte at a time, or seeded pieces of 1 … `maxPiece`. */
export type SplitMode = 'whole' | 'bytes' | { readonly maxPiece: number };

/**
 * When bytes arrive: `sync` inside the sender's `send` (the reentrant case), `deferred` from
 * a queue per direction that the harness drains between calls, choosing the direction by seed.
 */
export type Delivery = 'sync' | 'deferred';

/**
 * One thing that goes wrong during a run:
 * - `send-fails`: `side`'s send number `call` (0-based, failed ones counted) returns -1;
 * - `link-closes-at-send`: send number `send` of either side (0-based) is lost and the link
 *   breaks: later sends return -1 and both ends hear `linkClosed`;
 * - `link-closes-before-step`: the link breaks before step `step` (the step count: after all);
 * - `corrupt`: byte `offset` of the stream `from` sends is XORed with `xor` (1 … 255).
 */
export type Fault =
  | { readonly type: 'send-fails'; readonly side: Side; readonly call: number }
  | { readonly type: 'link-closes-at-send'; readonly send: number }
  | { readonly type: 'link-closes-before-step'; readonly step: number }
  | {
      readonly type: 'corrupt';
      readonly from: Side;
      readonly offset: number;
      readonly xor: number;
    };

/** What `configure` gets to build a side's configuration on. */
export interface ConfigureContext {
  /** The run's seed. */
  readonly seed: number;
  /** The server's seeded Ed25519 host key (the default client pins its fingerprint). */
  readonly hostKey: PrivateKey;
  /** The client's seeded Ed25519 user key (the default server accepts it). */
  readonly userKey: PrivateKey;
}

/**
 * Your application under test: each function gets the harness's configuration for that side
 * (seeded `random`, the default app) and returns the one to use. Keep the seeded `random` for
 * reproducible runs. The harness wraps `onEvent`, `onHostKey` and `onChannelOpen` to record
 * and check events, and calls yours.
 */
export interface Configure {
  /** The client's configuration. */
  client?(base: ClientConfig<Session>, context: ConfigureContext): ClientConfig<Session>;
  /** The server's configuration. */
  server?(base: ServerConfig<Session>, context: ConfigureContext): ServerConfig<Session>;
}

/** Everything a run depends on: the same options give the same transcript. */
export interface RunOptions {
  /** The script (see `SCENARIOS`). */
  readonly scenario: Scenario;
  /** Seeds the sessions' `random`, the keys and the data written. */
  readonly seed: number;
  /** Seeds the pieces and the deferred delivery order (default: `seed`). */
  readonly linkSeed?: number;
  /** Default `whole`. */
  readonly split?: SplitMode;
  /** Default `sync`. */
  readonly delivery?: Delivery;
  /** Default: none. */
  readonly fault?: Fault;
  /** Your application (default: the harness's). */
  readonly configure?: Configure;
  /** Algorithm lists for both sides' default configurations (default: the `DEFAULT_*` lists). */
  readonly algorithms?: AlgorithmPreferences;
  /** Your transport (default: the harness feeds `sessionReceive` itself and checks it). */
  readonly adapter?: TransportAdapter;
  /**
   * How the built-in adapter feeds: `all` held bytes per call (default), or `one-more-byte`:
   * a prefix one byte longer than the last call's until a unit is consumed, so that every unit
   * boundary of the input shows as a `sessionReceive` result (the consumption property's oracle).
   */
  readonly feed?: 'all' | 'one-more-byte';
  /** Deliveries allowed before the run counts as livelocked (default 1,000,000). */
  readonly maxDeliveries?: number;
}

/** What one side did during a run. */
export interface SideTranscript {
  /** Session events, the host-key request and channel events (`ch<N> …`), in order. */
  readonly events: readonly string[];
  /** Every byte handed to `send` and accepted, concatenated. */
  readonly sent: Uint8Array;
  /** `send` calls that returned 0. */
  readonly sends: number;
  /** `send` calls that returned -1. */
  readonly failedSends: number;
  /** How often the session called `close`. */
  readonly closeCalls: number;
  /** The state at the end of the run. */
  readonly state: SessionState;
  /** `sessionLastError(session)?.code` at the end. */
  readonly error: SshErrorCode | undefined;
  /** Channel data received (bytes) and its FNV-1a digest. */
  readonly data: { readonly bytes: number; readonly digest: string };
  /** Every `sessionReceive` call of the built-in adapter (empty with your own adapter). */
  readonly calls: readonly ReceiveCall[];
}

/** The record of a run. */
export interface Transcript {
  /** The options that reproduce it. */
  readonly options: RunOptions;
  /** One line per step: what it did, or why it was skipped. */
  readonly steps: readonly string[];
  /** The client's side. */
  readonly client: SideTranscript;
  /** The server's side. */
  readonly server: SideTranscript;
}

/**
 * The sessions broke the contract during a run, or two runs that must agree did not. The
 * message names the options (seed, scenario, split, delivery, fault) that reproduce it.
 */
export class ContractViolation extends Error {
  /** The options of the failing run. */
  readonly options: RunOptions;
  /** What went wrong, first problem first. */
  readonly violations: readonly string[];
  /** The failing run's transcript, when it finished. */
  readonly transcript: Transcript | undefined;

  /** A violation of `violations` in the run of `options`. */
  constructor(options: RunOptions, violations: readonly string[], transcript?: Transcript) {
    const shown = violations.slice(0, 8).join('; ');
    const more = violations.length > 8 ? ` (+${violations.length - 8} more)` : '';
    super(`${shown}${more}\n  reproduce: ${describeRun(options)}`);
    this.name = 'ContractViolation';
    this.options = options;
    this.violations = violations;
    this.transcript = transcript;
  }
}

/**
 * The options of a run as a `runScenario` call to paste into a test.
 *
 * @example
 * ```ts
 * console.log(describeRun({ scenario: SCENARIOS.exec, seed: 3, split: 'bytes' }));
 * ```
 */
export function describeRun(options: RunOptions): string {
  const fields = [
    `scenario: ${scenarioSource(options.scenario)}`,
    `seed: ${options.seed}`,
    ...(options.linkSeed !== undefined ? [`linkSeed: ${options.linkSeed}`] : []),
    `split: ${JSON.stringify(options.split ?? 'whole')}`,
    `delivery: '${options.delivery ?? 'sync'}'`,
    ...(options.fault ? [`fault: ${JSON.stringify(options.fault)}`] : []),
    ...(options.algorithms ? [`algorithms: ${JSON.stringify(options.algorithms)}`] : []),
    ...(options.feed ? [`feed: '${options.feed}'`] : []),
    ...(options.configure ? ['configure: /* yours */'] : []),
    ...(options.adapter ? [`adapter: /* yours: ${options.adapter.name} */`] : []),
  ];
  return `runScenario({ ${fields.join(', ')} })`;
}

/** `SCENARIOS.<key>` for a built-in scenario, else its name in a comment. */
function scenarioSource(scenario: Scenario): string {
  const key = Object.entries(SCENARIOS).find(([, s]) => s === scenario)?.[0];
  return key ? `SCENARIOS.${key}` : `/* yours: ${scenario.name} */`;
}
