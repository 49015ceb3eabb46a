/**
 * @module
 * The deterministic harness: a client and a server, real sessions on the public API, joined
 * by a simulated wire that cuts, delays, drops and corrupts bytes as a seed decides. No clock,
 * no sockets, no promises: a run is a plain function of its options, and a contract monitor
 * checks every `send`, `close`, event and `sessionReceive` result on the way (SPEC.md 2, 5, 18).
 */

import { fingerprintSha256 } from '../crypto/host-key.js';
import { usageError } from '../errors.js';
import { sessionLastError, sessionState } from '../session.js';
import { HarnessApp } from './app.js';
import {
  type ConfigureContext,
  ContractViolation,
  type RunOptions,
  type SideTranscript,
  type Transcript,
} from './options.js';
import { createPrng, seededEd25519Key } from './random.js';
import { type EndState, Run } from './wire.js';

function validate(options: RunOptions): void {
  const s = options.scenario;
  if (typeof s !== 'object' || s === null || typeof s.name !== 'string' || !Array.isArray(s.steps))
    throw usageError('runScenario: scenario must be {name, steps}');
  if (!Number.isFinite(options.seed)) throw usageError('runScenario: seed must be a number');
  const split = options.split;
  if (
    split !== undefined &&
    split !== 'whole' &&
    split !== 'bytes' &&
    !(typeof split === 'object' && Number.isInteger(split.maxPiece) && split.maxPiece >= 1)
  )
    throw usageError("runScenario: split must be 'whole', 'bytes' or {maxPiece: integer ≥ 1}");
  if (
    options.delivery !== undefined &&
    options.delivery !== 'sync' &&
    options.delivery !== 'deferred'
  )
    throw usageError("runScenario: delivery must be 'sync' or 'deferred'");
  if (options.feed !== undefined && options.feed !== 'all' && options.feed !== 'one-more-byte')
    throw usageError("runScenario: feed must be 'all' or 'one-more-byte'");
}

/**
 * Runs a scenario between a client and a server and returns its transcript. Deterministic:
 * the same options give a byte-identical transcript. Throws {@link ContractViolation} (its
 * message names the options that reproduce it) when the contract monitor saw a broken rule:
 * an exception out of a session call, a `sessionReceive` result out of range, -1 with the
 * session open or a count with it closed, a `send` after `close`, after the end or after a
 * failed `send`, `close` more than once (or not exactly once when the session ended by other
 * than `sessionClose`), an event after `closed`, `closed` not exactly once, an error event
 * that differs from `sessionLastError`, anything sent, emitted or closed by calls made after
 * the end, or no quiescence.
 *
 * @example
 * ```ts
 * const t = runScenario({ scenario: SCENARIOS.exec, seed: 1, split: { maxPiece: 7 } });
 * console.log(t.client.events.join('\n'));
 * ```
 */
export function runScenario(options: RunOptions): Transcript {
  validate(options);
  const run = new Run(options);
  const keys = createPrng(options.seed);
  const seeds = { client: keys.int(0, 2 ** 31), server: keys.int(0, 2 ** 31) };
  const hostKey = seededEd25519Key(keys.int(0, 2 ** 31));
  const userKey = seededEd25519Key(keys.int(0, 2 ** 31));
  const data = createPrng(keys.int(0, 2 ** 31));
  const app = new HarnessApp(run, options.scenario, data, userKey);
  const context: ConfigureContext = { seed: options.seed, hostKey, userKey };
  const pinned = fingerprintSha256(hostKey.publicKeyBlob);
  const algorithms = options.algorithms ? { algorithms: options.algorithms } : {};
  const clientBase = { ...app.clientConfig(seeds.client, pinned), ...algorithms };
  const serverBase = { ...app.serverConfig(seeds.server, hostKey), ...algorithms };
  const client = options.configure?.client?.(clientBase, context) ?? clientBase;
  const server = options.configure?.server?.(serverBase, context) ?? serverBase;
  run.start(app.monitorClient(client), app.monitorServer(server));
  run.pump();
  const fault = options.fault;
  options.scenario.steps.forEach((step, i) => {
    if (fault?.type === 'link-closes-before-step' && fault.step === i) {
      run.steps.push(`${i} link breaks`);
      run.breakLink();
      run.pump();
    }
    app.runStep(step, i);
    run.pump();
  });
  if (fault?.type === 'link-closes-before-step' && fault.step >= options.scenario.steps.length) {
    run.steps.push('link breaks');
    run.breakLink();
    run.pump();
  }
  run.finish((side) => app.channelsOf(side));
  const transcript: Transcript = {
    options,
    steps: run.steps,
    client: sideTranscript(run.ends.client, app.data('client')),
    server: sideTranscript(run.ends.server, app.data('server')),
  };
  if (run.violations.length > 0) throw new ContractViolation(options, run.violations, transcript);
  return transcript;
}

function sideTranscript(e: EndState, data: SideTranscript['data']): SideTranscript {
  const total = e.sent.reduce((n, b) => n + b.length, 0);
  const sent = new Uint8Array(total);
  let o = 0;
  for (const b of e.sent) {
    sent.set(b, o);
    o += b.length;
  }
  const session = e.session!;
  return {
    events: e.events,
    sent,
    sends: e.sends,
    failedSends: e.failedSends,
    closeCalls: e.closeCalls,
    state: sessionState(session),
    error: sessionLastError(session)?.code,
    data,
    calls: e.calls,
  };
}

/**
 * The first difference between two transcripts that must agree (events, bytes sent, final
 * state, error, `close` calls, data received), or `undefined`. Send counts and
 * `sessionReceive` calls are not compared: they depend on how bytes were cut.
 *
 * @example
 * ```ts
 * const a = runScenario({ scenario: SCENARIOS.exec, seed: 1 });
 * const b = runScenario({ scenario: SCENARIOS.exec, seed: 1, split: 'bytes' });
 * if (compareTranscripts(a, b)) throw new Error('split changed the outcome');
 * ```
 */
export function compareTranscripts(a: Transcript, b: Transcript): string | undefined {
  const steps = firstDifference(a.steps, b.steps);
  if (steps) return `steps: ${steps}`;
  for (const side of ['client', 'server'] as const) {
    const x = a[side];
    const y = b[side];
    const events = firstDifference(x.events, y.events);
    if (events) return `${side} events: ${events}`;
    if (x.state !== y.state) return `${side} state: ${x.state} vs ${y.state}`;
    if (x.error !== y.error) return `${side} error: ${x.error} vs ${y.error}`;
    if (x.closeCalls !== y.closeCalls)
      return `${side} close calls: ${x.closeCalls} vs ${y.closeCalls}`;
    if (x.data.bytes !== y.data.bytes || x.data.digest !== y.data.digest)
      return `${side} data: ${x.data.bytes}/${x.data.digest} vs ${y.data.bytes}/${y.data.digest}`;
    const bytes = firstByteDifference(x.sent, y.sent);
    if (bytes !== undefined)
      return `${side} sent bytes differ at offset ${bytes} (${x.sent.length} vs ${y.sent.length} bytes)`;
  }
  return undefined;
}

function firstDifference(a: readonly string[], b: readonly string[]): string | undefined {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `#${i}: ${a[i] ?? '(none)'} vs ${b[i] ?? '(none)'}`;
  }
  return undefined;
}

function firstByteDifference(a: Uint8Array, b: Uint8Array): number | undefined {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? undefined : n;
}
