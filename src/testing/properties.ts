/**
 * @module
 * Property builders on the harness, for fast-check (an optional peer dependency: pass your
 * own `fc`, so this module loads without it): splitting invariance, the consumption
 * contract, and inertness after an error (SPEC.md 2.1, 2.3, 5, 18).
 */

import type * as FastCheck from 'fast-check';
import { usageError } from '../errors.js';
import type { AlgorithmPreferences } from '../types.js';
import { compareTranscripts, runScenario } from './harness.js';
import {
  type Configure,
  ContractViolation,
  type Delivery,
  type Fault,
  type RunOptions,
  type SplitMode,
  type Transcript,
} from './options.js';
import { ALL_SCENARIOS, type Scenario, type Side } from './scenario.js';
import type { ReceiveCall, TransportAdapter } from './transport.js';

/** The parts of fast-check the builders use: pass `import fc from 'fast-check'`. */
export type FastCheckApi = Pick<
  typeof FastCheck,
  'property' | 'record' | 'integer' | 'constantFrom' | 'oneof' | 'constant'
>;

/** What the properties run: your scenarios, application and transport. */
export interface PropertyOptions {
  /** The scenarios to draw from (default: every built-in one). */
  readonly scenarios?: readonly Scenario[];
  /** Your application (see `Configure`). */
  readonly configure?: Configure;
  /** Your transport (not for {@link consumption}, which checks `sessionReceive` itself). */
  readonly adapter?: TransportAdapter;
  /** Session seeds are drawn from 0 … `seeds` − 1 (default 8): few seeds, many splits. */
  readonly seeds?: number;
  /** The largest random piece (default 64 bytes). */
  readonly maxPiece?: number;
  /** Algorithm sets to draw from (default {@link ALGORITHM_SETS}). */
  readonly algorithms?: readonly AlgorithmPreferences[];
}

/**
 * One algorithm set per way a packet's length is read (SPEC.md 8.2): chacha20-poly1305 (length
 * decrypted with its own key), AES-GCM (length in clear, authenticated), AES-CTR with an EtM
 * MAC (length in clear) and AES-CTR with an encrypt-and-MAC MAC (length inside the first
 * encrypted block); curve25519 and ECDH key exchanges.
 *
 * @example
 * ```ts
 * for (const algorithms of ALGORITHM_SETS) {
 *   const run = runScenario({ scenario: SCENARIOS.exec, seed: 1, algorithms });
 *   console.log(run.client.state, run.server.state); // prints: established established
 * }
 * ```
 */
export const ALGORITHM_SETS: readonly AlgorithmPreferences[] = [
  { kex: ['curve25519-sha256'], cipher: ['chacha20-poly1305@openssh.com'] },
  { kex: ['ecdh-sha2-nistp256'], cipher: ['aes128-gcm@openssh.com'] },
  { kex: ['curve25519-sha256'], cipher: ['aes256-ctr'], mac: ['hmac-sha2-512-etm@openssh.com'] },
  { kex: ['ecdh-sha2-nistp384'], cipher: ['aes128-ctr'], mac: ['hmac-sha2-256'] },
  { kex: ['curve25519-sha256@libssh.org'], cipher: ['aes192-ctr'], mac: ['hmac-sha2-512'] },
];

/** One generated run: a scenario and seed, cut and delivered one way. */
export interface RunCase {
  /** The scenario. */
  readonly scenario: Scenario;
  /** The sessions' seed. */
  readonly seed: number;
  /** The wire's seed. */
  readonly linkSeed: number;
  /** How the wire cuts bytes. */
  readonly split: SplitMode;
  /** When bytes arrive. */
  readonly delivery: Delivery;
  /** The algorithms both sides are limited to. */
  readonly algorithms: AlgorithmPreferences;
}

/**
 * The arbitrary of runs the properties draw from.
 *
 * @example
 * ```ts
 * import fc from 'fast-check';
 *
 * fc.assert(
 *   fc.property(runCases(fc), (c) => {
 *     runScenario(c); // throws a ContractViolation naming the seed when the contract breaks
 *   }),
 *   { seed: 1, numRuns: 5 },
 * );
 * ```
 */
export function runCases(
  fc: FastCheckApi,
  options: PropertyOptions = {},
): FastCheck.Arbitrary<RunCase> {
  const scenarios = options.scenarios ?? ALL_SCENARIOS;
  if (scenarios.length === 0) throw usageError('runCases: no scenarios');
  const maxPiece = options.maxPiece ?? 64;
  const split: FastCheck.Arbitrary<SplitMode> = fc.oneof(
    fc.constantFrom<SplitMode>('whole', 'bytes'),
    fc.integer({ min: 1, max: maxPiece }).map((n) => ({ maxPiece: n })),
  );
  return fc.record({
    scenario: fc.constantFrom(...scenarios),
    seed: fc.integer({ min: 0, max: (options.seeds ?? 8) - 1 }),
    linkSeed: fc.integer({ min: 0, max: 0x7fffffff }),
    split,
    delivery: fc.constantFrom<Delivery>('sync', 'deferred'),
    algorithms: fc.constantFrom(...(options.algorithms ?? ALGORITHM_SETS)),
  });
}

/** Fault-free runs reused across cases (few seeds, many splits). */
class References {
  readonly #cache = new Map<string, Transcript>();
  readonly #options: PropertyOptions;
  constructor(options: PropertyOptions) {
    this.#options = options;
  }
  get(c: RunCase, extra: Partial<RunOptions>, adapter: boolean): Transcript {
    const options = runOptionsOf(c, this.#options, extra, adapter);
    const key = JSON.stringify([
      c.scenario.name,
      c.seed,
      options.linkSeed,
      options.split,
      options.delivery,
      options.feed,
      options.algorithms,
      adapter,
    ]);
    let t = this.#cache.get(key);
    if (!t) {
      if (this.#cache.size > 256) this.#cache.clear();
      t = runScenario(options);
      this.#cache.set(key, t);
    }
    return t;
  }
}

function runOptionsOf(
  c: RunCase,
  options: PropertyOptions,
  extra: Partial<RunOptions>,
  adapter = true,
): RunOptions {
  return {
    scenario: c.scenario,
    seed: c.seed,
    linkSeed: c.linkSeed,
    split: c.split,
    delivery: c.delivery,
    algorithms: c.algorithms,
    ...(options.configure ? { configure: options.configure } : {}),
    ...(adapter && options.adapter ? { adapter: options.adapter } : {}),
    ...extra,
  };
}

/**
 * Splitting invariance: however the wire cuts the bytes (and, when deferred, whichever
 * direction it delivers first), both sides see the same events, send the same bytes, receive
 * the same data and end the same way as when every `send` arrives whole, in the same delivery
 * mode. (Sync and deferred delivery may legitimately differ: with sync delivery the peer's
 * answer can arrive inside a write loop and change how much the next write accepts.) Each
 * run also passes the harness's contract monitor.
 *
 * @example
 * ```ts
 * import fc from 'fast-check';
 *
 * // Your application under test: here a client that announces its own software version.
 * const myApp: Configure = {
 *   client: (base) => ({ ...base, softwareVersion: 'MyApp_1.0' }),
 * };
 * fc.assert(splittingInvariance(fc, { configure: myApp }), { seed: 1, numRuns: 5 });
 * ```
 */
export function splittingInvariance(
  fc: FastCheckApi,
  options: PropertyOptions = {},
): FastCheck.IPropertyWithHooks<[RunCase]> {
  const references = new References(options);
  return fc.property(runCases(fc, options), (c) => {
    const reference = references.get(c, { split: 'whole', linkSeed: 0 }, true);
    const run = runScenario(runOptionsOf(c, options, {}));
    const difference = compareTranscripts(reference, run);
    if (difference)
      throw new ContractViolation(
        run.options,
        [`differs from the run with whole sends: ${difference}`],
        run,
      );
  });
}

/** The unit boundaries of each side's input: where one-byte-at-a-time feeding consumed. */
function boundaries(reference: Transcript, side: Side, problems: string[]): number[] {
  const out: number[] = [0];
  for (const call of reference[side].calls) {
    if (call.result > 0) out.push(call.offset + call.result);
    if (call.result !== -1 && call.result !== 0 && call.result !== call.length)
      problems.push(
        `${side}: fed one byte at a time, consumed ${call.result} of ${call.length} bytes at offset ${call.offset}`,
      );
  }
  return out;
}

/** The largest boundary ≤ `end` (boundaries ascending). */
function lastBoundary(bounds: readonly number[], end: number): number {
  let lo = 0;
  let hi = bounds.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (bounds[mid]! <= end) lo = mid;
    else hi = mid - 1;
  }
  return bounds[lo]!;
}

function checkCalls(side: Side, calls: readonly ReceiveCall[], bounds: number[], out: string[]) {
  for (const call of calls) {
    if (call.result < 0) continue;
    const expected = lastBoundary(bounds, call.offset + call.length) - call.offset;
    if (call.result !== expected) {
      const why =
        expected === 0 ? 'no whole unit was present' : `${expected} bytes were whole units`;
      out.push(
        `${side}: sessionReceive returned ${call.result} for ${call.length} bytes at offset ${call.offset}, but ${why}`,
      );
      return;
    }
  }
}

/**
 * Consumption: `sessionReceive` consumes exactly the whole units it was given. The unit
 * boundaries come from a run (same seed and delivery) whose every call presents one byte more
 * than the last until a unit is consumed, and must then consume all or nothing; in the
 * generated run every result must then be the largest boundary within the
 * bytes presented (so 0 exactly when no whole unit was present), and re-presenting the tail
 * must lose nothing (the run agrees with the byte-at-a-time one). The harness feeds
 * `sessionReceive` itself here, presenting a fresh copy each time and scribbling over it
 * afterwards, so `adapter` is not used.
 *
 * @example
 * ```ts
 * import fc from 'fast-check';
 *
 * fc.assert(consumption(fc, { scenarios: [SCENARIOS.exec] }), { seed: 2, numRuns: 5 });
 * ```
 */
export function consumption(
  fc: FastCheckApi,
  options: PropertyOptions = {},
): FastCheck.IPropertyWithHooks<[RunCase]> {
  const references = new References(options);
  return fc.property(runCases(fc, options), (c) => {
    const reference = references.get(
      c,
      { split: 'whole', feed: 'one-more-byte', linkSeed: 0 },
      false,
    );
    const run = runScenario(runOptionsOf(c, options, {}, false));
    const problems: string[] = [];
    for (const side of ['client', 'server'] as const) {
      const bounds = boundaries(reference, side, problems);
      checkCalls(side, run[side].calls, bounds, problems);
    }
    const difference = compareTranscripts(reference, run);
    if (difference) problems.push(`differs from the one-byte-more run: ${difference}`);
    if (problems.length > 0) throw new ContractViolation(run.options, problems, run);
  });
}

/** A generated fault, placed relative to a fault-free run. */
export interface FaultCase {
  /** The run. */
  readonly run: RunCase;
  /** Which fault. */
  readonly kind: Fault['type'];
  /** The side that fails or whose stream is corrupted. */
  readonly side: Side;
  /** Where, as a fraction of the fault-free run's sends, steps or bytes (0 … 2^31−1). */
  readonly at: number;
  /** The XOR mask of `corrupt`. */
  readonly xor: number;
}

function placeFault(f: FaultCase, reference: Transcript): Fault {
  const pick = (count: number) => f.at % (count + 1);
  switch (f.kind) {
    case 'send-fails':
      return { type: 'send-fails', side: f.side, call: pick(reference[f.side].sends) };
    case 'link-closes-at-send':
      return {
        type: 'link-closes-at-send',
        send: pick(reference.client.sends + reference.server.sends),
      };
    case 'link-closes-before-step':
      return { type: 'link-closes-before-step', step: pick(f.run.scenario.steps.length) };
    default:
      return {
        type: 'corrupt',
        from: f.side,
        offset: pick(reference[f.side].sent.length - 1),
        xor: f.xor,
      };
  }
}

/**
 * After an error, nothing: whatever fault hits a run (a `send` returning -1, the link breaking
 * at a send or before a step, a corrupted byte), the contract monitor holds — once a session
 * ended, `sessionReceive` returns -1 forever, nothing more is sent, `close` was called
 * exactly once (never after `sessionClose`), no event follows `closed`, and calls made after
 * the end send, emit and close nothing. Also: a side whose `send` failed has ended (with
 * `SSH_ERR_SEND_FAILED`, unless it was already ending, e.g. by `sessionDisconnect`), a
 * broken link ends both sessions, and a corrupted byte either ends a session with an error
 * or changes nothing the application sees but how far it got (each side's events are a
 * subsequence of the fault-free run's, and equal amounts of data are equal data).
 *
 * @example
 * ```ts
 * import fc from 'fast-check';
 * import { InputBuffer } from 'pluggable-ssh/transports/input-buffer';
 *
 * // Your transport under test (see TransportAdapter): here the shipped InputBuffer.
 * const myTransport: TransportAdapter = {
 *   name: 'input-buffer',
 *   open(wire) {
 *     const input = new InputBuffer();
 *     let session: Session | undefined;
 *     return {
 *       create(config) {
 *         const s = sessionCreate(wire, (w, b) => w.send(b), (w) => w.close(), config);
 *         session = s;
 *         input.attach((bytes) => sessionReceive(s, bytes));
 *         return s;
 *       },
 *       receive: (bytes) => void input.push(bytes),
 *       linkClosed: () => input.afterDrain(() => session && sessionClose(session)),
 *     };
 *   },
 * };
 * fc.assert(afterError(fc, { adapter: myTransport }), { seed: 3, numRuns: 5 });
 * ```
 */
export function afterError(
  fc: FastCheckApi,
  options: PropertyOptions = {},
): FastCheck.IPropertyWithHooks<[FaultCase]> {
  const references = new References(options);
  const faults = fc.record({
    run: runCases(fc, options),
    kind: fc.constantFrom<Fault['type']>(
      'send-fails',
      'link-closes-at-send',
      'link-closes-before-step',
      'corrupt',
    ),
    side: fc.constantFrom<Side>('client', 'server'),
    at: fc.integer({ min: 0, max: 0x7fffffff }),
    xor: fc.integer({ min: 1, max: 255 }),
  });
  return fc.property(faults, (f) => {
    const reference = references.get(f.run, {}, true);
    const fault = placeFault(f, reference);
    const run = runScenario(runOptionsOf(f.run, options, { fault }));
    const problems: string[] = [];
    if (fault.type === 'send-fails') {
      const failed = run[fault.side];
      if (failed.failedSends > 0 && failed.state !== 'closed')
        problems.push(`${fault.side}: still ${failed.state} after a send failed`);
    }
    const broke =
      fault.type === 'link-closes-before-step' ||
      (fault.type === 'link-closes-at-send' && fault.send < run.client.sends + run.server.sends);
    if (broke) {
      for (const side of ['client', 'server'] as const)
        if (run[side].state !== 'closed')
          problems.push(`${side}: still ${run[side].state} after the link broke`);
    }
    if (fault.type === 'corrupt') checkCorruption(reference, run, problems);
    if (problems.length > 0) throw new ContractViolation(run.options, problems, run);
  });
}

/** Whether `a` is a subsequence of `b`. */
function isSubsequence(a: readonly string[], b: readonly string[]): boolean {
  let j = 0;
  for (const line of a) {
    while (j < b.length && b[j] !== line) j++;
    if (j === b.length) return false;
    j++;
  }
  return true;
}

/**
 * A corrupted byte must end a session with an error, or change nothing the application sees
 * but how far it got: each side's events a subsequence of the fault-free run's, and the same
 * data whenever as much arrived.
 */
function checkCorruption(reference: Transcript, run: Transcript, problems: string[]): void {
  const sides = ['client', 'server'] as const;
  if (sides.some((side) => run[side].error !== reference[side].error)) return;
  for (const side of sides) {
    if (!isSubsequence(run[side].events, reference[side].events))
      problems.push(`${side}: a corrupted byte changed the events without an error`);
    const [got, clean] = [run[side].data, reference[side].data];
    if (got.bytes === clean.bytes && got.digest !== clean.digest)
      problems.push(`${side}: a corrupted byte reached the application as data`);
  }
}
