/**
 * @module
 * The fuzz loop: replay a corpus, then mutate its entries and keep the inputs that reach new
 * coverage features; an input that breaks the oracle, grows the heap without bound or runs
 * past a time budget is a crash.
 */

import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { CoverageFeedback, CoverageStats } from './coverage.js';
import { Violation } from './monitor.js';
import { Mutator } from './mutator.js';
import { Rng } from './random.js';
import type { FuzzTarget } from './targets/types.js';

/** Heap growth one input may leave behind in its live sessions before it counts as a crash. */
export const HEAP_GROWTH_MAX = 64 * 1024 * 1024;
/** The largest input the mutator makes. */
export const INPUT_LENGTH_MAX = 64 * 1024;

/** The result of one execution. */
export interface Execution {
  readonly features: number[];
  readonly violation: Violation | undefined;
  readonly ms: number;
}

let gc: (() => void) | undefined;
function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

/**
 * Runs one input through a target and reads the coverage it reached. Violations of the
 * oracle come back in `violation`; so does a heap grown by more than {@link HEAP_GROWTH_MAX}
 * (checked again after a full collection) and a run longer than `timeBudgetMs`.
 */
export function execute(
  target: FuzzTarget,
  input: Uint8Array,
  coverage: CoverageFeedback | undefined,
  timeBudgetMs: number,
): Execution {
  let heapBefore = 0;
  let start = 0;
  let heapAfter = 0;
  let violation: Violation | undefined;
  try {
    target.run(input, () => {
      coverage?.reset();
      heapBefore = getHeapStatistics().used_heap_size;
      start = performance.now();
    });
  } catch (e) {
    violation =
      e instanceof Violation
        ? e
        : new Violation('harness', e instanceof Error ? (e.stack ?? e.message) : String(e), {
            cause: e,
          });
  }
  const ms = performance.now() - start;
  heapAfter = getHeapStatistics().used_heap_size;
  const features = coverage ? coverage.collect() : [];
  if (!violation && heapAfter - heapBefore > HEAP_GROWTH_MAX) {
    collectGarbage();
    const grown = getHeapStatistics().used_heap_size - heapBefore;
    if (grown > HEAP_GROWTH_MAX) {
      violation = new Violation(
        'memory',
        `the heap grew by ${grown} bytes for ${input.length} bytes of input`,
      );
    }
  }
  if (!violation && ms > timeBudgetMs) {
    violation = new Violation(
      'slow',
      `one input took ${ms.toFixed(0)} ms (budget ${timeBudgetMs} ms)`,
    );
  }
  return { features, violation, ms };
}

/** What a fuzz run is asked to do. */
export interface FuzzOptions {
  readonly target: FuzzTarget;
  readonly coverage: CoverageFeedback;
  /** Seeds the mutator: same seed and corpus, same inputs. */
  readonly seed: number;
  /** Mutate for this long, after the replay of the starting corpus. */
  readonly timeMs: number;
  /** Stop after this many mutated executions. */
  readonly maxExecs?: number;
  /** The starting corpus: committed entries and fresh seeds. */
  readonly corpus: readonly Uint8Array[];
  /** One input's time budget (default 2000 ms). */
  readonly timeBudgetMs?: number;
  /**
   * Inputs run between two coverage reads (default 16): a read costs more than a typical
   * execution, so a batch is read once, and only a batch that reached a block never seen is
   * run again input by input to find the inputs worth keeping.
   */
  readonly batchSize?: number;
  /** Replay the starting corpus input by input (exact features) or in batches (faster). */
  readonly replay?: 'each' | 'batch';
  /** Called for each input that reached new coverage. */
  readonly onNewEntry?: (input: Uint8Array) => void;
  /** Called before each execution with its input (the watchdog keeps a copy). */
  readonly onExecute?: (input: Uint8Array) => void;
  /** Called about once a minute with the figures so far. */
  readonly onProgress?: (execs: number, corpusSize: number, features: number) => void;
  /** Called for each crash (once per kind of violation). */
  readonly onCrash?: (input: Uint8Array, violation: Violation) => void;
}

/** What a fuzz run did. */
export interface FuzzResult {
  /** Executions of the starting corpus. */
  readonly replayed: number;
  /** Executions of mutated inputs. */
  readonly execs: number;
  readonly elapsedMs: number;
  /** Mutated executions per second (the replay excluded). */
  readonly execsPerSecond: number;
  /** Entries in the corpus at the end (starting entries that added coverage, and new ones). */
  readonly corpusSize: number;
  /** Inputs that reached new coverage during this run. */
  readonly newEntries: number;
  readonly features: number;
  readonly stats: CoverageStats;
  readonly crashes: readonly { readonly input: Uint8Array; readonly violation: Violation }[];
}

/** Replays the corpus, then fuzzes until the time or execution budget is spent. */
export function fuzz(options: FuzzOptions): FuzzResult {
  const { target, coverage } = options;
  const budget = options.timeBudgetMs ?? 2000;
  const rng = new Rng(options.seed);
  const mutator = new Mutator(rng, target.format, INPUT_LENGTH_MAX);
  const run1 = (input: Uint8Array, cov: CoverageFeedback | undefined) => {
    options.onExecute?.(input);
    return execute(target, input, cov, budget);
  };
  const started = performance.now();
  const corpus: Uint8Array[] = [];
  const crashes: { input: Uint8Array; violation: Violation }[] = [];
  const crashKinds = new Set<string>();
  const crash = (input: Uint8Array, violation: Violation) => {
    // One crash per kind and place: numbers in the message (counts, lengths) do not count.
    const key = `${violation.kind}:${violation.message.split('\n')[0]!.replace(/\d+/g, 'N')}`;
    if (crashKinds.has(key)) return;
    crashKinds.add(key);
    crashes.push({ input, violation });
    options.onCrash?.(input, violation);
  };

  let replayed = 0;
  if (options.replay === 'batch') {
    coverage.reset();
    for (const input of options.corpus) {
      const run = run1(input, undefined);
      replayed++;
      if (run.violation) crash(input, run.violation);
      else corpus.push(input);
    }
    const features = coverage.collect();
    coverage.addBatchBlocks(features);
    coverage.addFeatures(features);
  } else {
    for (const input of options.corpus) {
      const run = run1(input, coverage);
      replayed++;
      if (run.violation) crash(input, run.violation);
      else if (coverage.addFeatures(run.features) > 0) corpus.push(input);
    }
  }
  if (corpus.length === 0) corpus.push(...options.corpus.slice(0, 1));
  if (corpus.length === 0) corpus.push(new Uint8Array(1));

  const fuzzStart = performance.now();
  const deadline = fuzzStart + options.timeMs;
  const batchSize = Math.max(1, options.batchSize ?? 16);
  let execs = 0;
  let newEntries = 0;
  const maxExecs = options.maxExecs ?? Number.POSITIVE_INFINITY;
  const batch: Uint8Array[] = [];
  let lastProgress = performance.now();
  coverage.reset();
  while (execs < maxExecs && performance.now() < deadline) {
    if (options.onProgress && performance.now() - lastProgress > 60_000) {
      lastProgress = performance.now();
      options.onProgress(execs, corpus.length, coverage.featureCount);
    }
    batch.length = 0;
    while (batch.length < batchSize && execs < maxExecs) {
      // Favour recent entries: they sit at the frontier of the coverage.
      const index = rng.oneIn(2)
        ? corpus.length - 1 - rng.below(Math.min(corpus.length, 16))
        : rng.below(corpus.length);
      const input = mutator.mutate(corpus[index]!, corpus);
      const run = run1(input, undefined);
      execs++;
      if (run.violation) crash(input, run.violation);
      else batch.push(input);
    }
    if (coverage.addBatchBlocks(coverage.collect()) === 0) continue;
    for (const input of batch) {
      const run = run1(input, coverage);
      if (run.violation) continue;
      if (coverage.addFeatures(run.features) > 0) {
        corpus.push(input);
        newEntries++;
        options.onNewEntry?.(input);
      }
    }
    coverage.reset();
  }
  const now = performance.now();
  return {
    replayed,
    execs,
    elapsedMs: now - started,
    execsPerSecond: execs / Math.max(0.001, (now - fuzzStart) / 1000),
    corpusSize: corpus.length,
    newEntries,
    features: coverage.featureCount,
    stats: coverage.stats(),
    crashes,
  };
}

/**
 * Keeps the smallest set of entries that reaches the blocks `baseline` (the fresh seeds, not
 * stored) does not: entries up to `maxEntryBytes` are replayed smallest first and kept when
 * they add a block (libFuzzer's merge does the same, on features). Hit-count buckets are
 * left out, which keeps the committed corpus small; the fuzzer finds them again quickly.
 * Crashing entries are dropped.
 */
export function minimizeCorpus(
  target: FuzzTarget,
  baseline: readonly Uint8Array[],
  entries: readonly Uint8Array[],
  coverage: CoverageFeedback,
  maxEntryBytes = 4096,
): Uint8Array[] {
  const seen = new Set<number>();
  const adds = (input: Uint8Array): boolean => {
    const run = execute(target, input, coverage, Number.POSITIVE_INFINITY);
    if (run.violation) return false;
    let added = false;
    for (const f of run.features) {
      const block = Math.floor(f / 8);
      if (!seen.has(block)) {
        seen.add(block);
        added = true;
      }
    }
    return added;
  };
  for (const input of baseline) adds(input);
  return [...entries]
    .filter((e) => e.length <= maxEntryBytes)
    .sort((a, b) => a.length - b.length)
    .filter(adds);
}
