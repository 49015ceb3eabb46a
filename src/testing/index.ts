/**
 * @module
 * pluggable-ssh/testing: a deterministic harness that drives a real client and server through
 * scripted scenarios over a simulated wire (seeded splits, deferred delivery, failing sends,
 * broken links, corrupted bytes) and checks the transport contract on the way, plus
 * fast-check property builders on it for your own transports and applications (SPEC.md 18).
 *
 * @example
 * ```ts
 * import fc from 'fast-check';
 * import { SCENARIOS, afterError, runScenario, splittingInvariance } from 'pluggable-ssh/testing';
 *
 * const t = runScenario({ scenario: SCENARIOS.exec, seed: 1, split: 'bytes', delivery: 'deferred' });
 * console.log(t.client.events);
 * fc.assert(splittingInvariance(fc), { seed: 1, numRuns: 40 });
 * fc.assert(afterError(fc, { scenarios: [SCENARIOS.rekeyBoth] }), { seed: 1, numRuns: 40 });
 * ```
 */

export { HARNESS_PASSWORD } from './app.js';
export { compareTranscripts, runScenario } from './harness.js';
export {
  type Configure,
  type ConfigureContext,
  ContractViolation,
  type Delivery,
  describeRun,
  type Fault,
  type RunOptions,
  type SideTranscript,
  type SplitMode,
  type Transcript,
} from './options.js';
export {
  ALGORITHM_SETS,
  afterError,
  consumption,
  type FastCheckApi,
  type FaultCase,
  type PropertyOptions,
  type RunCase,
  runCases,
  splittingInvariance,
} from './properties.js';
export { createPrng, type Prng, seededEd25519Key, seededRandom } from './random.js';
export {
  ALL_SCENARIOS,
  SCENARIOS,
  type Scenario,
  type ScenarioAuth,
  type Side,
  type Step,
  type StepContext,
} from './scenario.js';
export type { ReceiveCall, TransportAdapter, TransportEnd, Wire } from './transport.js';
