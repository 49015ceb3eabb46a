/**
 * @module
 * Coverage feedback from V8 itself: precise block coverage with call counts through
 * `node:inspector` (`Profiler.startPreciseCoverage`), read after each execution and reduced
 * to features (a block of src/ and a bucket of its hit count), as AFL and libFuzzer do.
 */

import { Session } from 'node:inspector';
import { fileURLToPath } from 'node:url';

interface CoverageRange {
  readonly startOffset: number;
  readonly endOffset: number;
  readonly count: number;
}
interface FunctionCoverage {
  readonly functionName: string;
  readonly ranges: readonly CoverageRange[];
}
interface ScriptCoverage {
  readonly scriptId: string;
  readonly url: string;
  readonly functions: readonly FunctionCoverage[];
}

/** How much of src/ the executions so far reached. */
export interface CoverageStats {
  /** Functions of src/ that ran at least once. */
  readonly functionsCovered: number;
  /** Functions of src/ V8 knows about (every function of every loaded src/ module). */
  readonly functionsKnown: number;
  /** Blocks of src/ that ran at least once. */
  readonly blocksCovered: number;
  /**
   * Blocks of src/ known: V8 reports the blocks of a function only once it ran, so a function
   * that never ran counts as one block; this is a lower bound of the real total.
   */
  readonly blocksKnown: number;
}

/** AFL's hit-count buckets: 1, 2, 3, 4–7, 8–15, 16–31, 32–127, 128+. */
function bucket(count: number): number {
  if (count <= 3) return count - 1;
  if (count < 8) return 3;
  if (count < 16) return 4;
  if (count < 32) return 5;
  if (count < 128) return 6;
  return 7;
}

/** The directory whose scripts count: this repository's src/, without the testing kit. */
export const SRC_DIR = fileURLToPath(new URL('../src/', import.meta.url));

/**
 * V8 precise coverage restricted to src/. Start it before src/ modules are loaded (import
 * them dynamically afterwards) so that their functions carry block counters.
 */
export class CoverageFeedback {
  readonly #session = new Session();
  readonly #srcScripts = new Map<string, boolean>();
  readonly #blockIds = new Map<string, number>();
  /** Features seen so far: blockId * 8 + bucket. */
  readonly #seen = new Set<number>();
  readonly #blocksCovered = new Set<number>();
  /** Function key → number of blocks V8 reported for it (1 until it ran). */
  readonly #functions = new Map<string, number>();
  /** Block ids that are a whole function's range. */
  readonly #functionBlocks = new Set<number>();
  readonly #functionsCovered = new Set<number>();
  /** Blocks seen in batch reads (harness work included). */
  readonly #batchBlocks = new Set<number>();
  #started = false;

  /** Starts precise block coverage with call counts. */
  start(): void {
    if (this.#started) return;
    this.#session.connect();
    this.#post('Profiler.enable');
    this.#post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
    this.#started = true;
  }

  /** Stops coverage and disconnects. */
  stop(): void {
    if (!this.#started) return;
    this.#post('Profiler.stopPreciseCoverage');
    this.#post('Profiler.disable');
    this.#session.disconnect();
    this.#started = false;
  }

  /** Discards the counts gathered since the last read (the harness's own setup work). */
  reset(): void {
    this.#take();
  }

  /**
   * Reads the counts since the last read and returns the features they hit; the counts start
   * again from zero. Nothing is recorded as seen: see {@link CoverageFeedback.addFeatures}.
   */
  collect(): number[] {
    const features: number[] = [];
    for (const script of this.#take()) {
      if (!this.#isSrc(script)) continue;
      for (const fn of script.functions) {
        const first = fn.ranges[0];
        if (!first) continue;
        const fnKey = `${script.url}:${first.startOffset}:${first.endOffset}`;
        const known = this.#functions.get(fnKey) ?? 0;
        if (fn.ranges.length > known) this.#functions.set(fnKey, fn.ranges.length);
        if (known === 0) this.#functionBlocks.add(this.#blockId(script.url, first));
        for (const r of fn.ranges) {
          if (r.count <= 0) continue;
          const id = this.#blockId(script.url, r);
          features.push(id * 8 + bucket(r.count));
        }
      }
    }
    return features;
  }

  /**
   * Registers every function of the loaded src/ modules (the first read after start reports
   * them all), so that {@link CoverageFeedback.stats} has the whole denominator.
   */
  survey(): void {
    this.collect();
  }

  /**
   * For a read that summed several executions: records its blocks and returns how many had
   * never been seen in such a read. Hit counts of a sum mean nothing, so only blocks count.
   */
  addBatchBlocks(features: readonly number[]): number {
    let n = 0;
    for (const f of features) {
      const block = Math.floor(f / 8);
      if (this.#batchBlocks.has(block)) continue;
      this.#batchBlocks.add(block);
      n++;
    }
    return n;
  }

  /** How many of `features` were never seen. */
  countNew(features: readonly number[]): number {
    let n = 0;
    for (const f of features) if (!this.#seen.has(f)) n++;
    return n;
  }

  /** Records features as seen; returns how many were new. */
  addFeatures(features: readonly number[]): number {
    let n = 0;
    for (const f of features) {
      if (this.#seen.has(f)) continue;
      this.#seen.add(f);
      const block = Math.floor(f / 8);
      this.#blocksCovered.add(block);
      if (this.#functionBlocks.has(block)) this.#functionsCovered.add(block);
      n++;
    }
    return n;
  }

  /**
   * Forgets what was seen (features, covered blocks and functions) but keeps the list of
   * known functions: for the next target's figures.
   */
  forgetSeen(): void {
    this.#seen.clear();
    this.#blocksCovered.clear();
    this.#functionsCovered.clear();
    this.#batchBlocks.clear();
  }

  /** The blocks and functions covered so far (ids), for unions across targets. */
  covered(): { blocks: Set<number>; functions: Set<number> } {
    return { blocks: new Set(this.#blocksCovered), functions: new Set(this.#functionsCovered) };
  }

  /** Number of distinct features seen so far. */
  get featureCount(): number {
    return this.#seen.size;
  }

  /** Coverage of src/ so far. */
  stats(): CoverageStats {
    let blocksKnown = 0;
    for (const n of this.#functions.values()) blocksKnown += n;
    return {
      functionsCovered: this.#functionsCovered.size,
      functionsKnown: this.#functions.size,
      blocksCovered: this.#blocksCovered.size,
      blocksKnown: Math.max(blocksKnown, this.#blocksCovered.size),
    };
  }

  #blockId(url: string, r: CoverageRange): number {
    const key = `${url}:${r.startOffset}:${r.endOffset}`;
    let id = this.#blockIds.get(key);
    if (id === undefined) {
      id = this.#blockIds.size;
      this.#blockIds.set(key, id);
    }
    return id;
  }

  #isSrc(script: ScriptCoverage): boolean {
    let yes = this.#srcScripts.get(script.scriptId);
    if (yes === undefined) {
      let path = script.url;
      if (path.startsWith('file://')) path = fileURLToPath(path);
      yes =
        path.startsWith(SRC_DIR) && !path.startsWith(`${SRC_DIR}testing/`) && !path.includes('?');
      this.#srcScripts.set(script.scriptId, yes);
    }
    return yes;
  }

  #take(): readonly ScriptCoverage[] {
    const out = this.#post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    return out.result;
  }

  /** Posts a command; an in-thread inspector session answers synchronously. */
  #post(method: string, params: object = {}): unknown {
    let result: unknown;
    let error: Error | null = null;
    let answered = false;
    this.#session.post(method, params, (err, res) => {
      error = err;
      result = res;
      answered = true;
    });
    if (!answered) throw new Error(`inspector did not answer ${method} synchronously`);
    if (error) throw error;
    return result;
  }
}
