/**
 * @module
 * Runs the coverage-guided fuzzer on every target for a bounded time with a fixed seed
 * (FUZZ_SECONDS per target, default 2.5), failing on any crash. Long runs:
 * `npm run fuzz -- --target <name> --time <seconds>` (test/FUZZING.md).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoverageFeedback } from '../../fuzz/coverage.js';

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 2.5);
const SEED = 20261123;

const coverage = new CoverageFeedback();
// Coverage starts before src/ is loaded, so that its functions carry block counters.
coverage.start();
const { TARGET_NAMES, TARGETS } = await import('../../fuzz/targets/index.js');
const { fuzz } = await import('../../fuzz/engine.js');
const { loadCaptured, loadCorpus } = await import('../../fuzz/corpus.js');

beforeAll(() => coverage.survey());
afterAll(() => coverage.stop());

describe('coverage-guided fuzzing', () => {
  for (const name of TARGET_NAMES) {
    it(`finds no crash in ${name} within ${SECONDS} s (seed ${SEED})`, () => {
      coverage.forgetSeen();
      const target = TARGETS[name];
      const result = fuzz({
        target,
        coverage,
        seed: SEED,
        timeMs: SECONDS * 1000,
        // No time budget here: unit tests never assert timing (a hang meets the test timeout).
        timeBudgetMs: Number.POSITIVE_INFINITY,
        corpus: [...target.seeds(), ...loadCaptured(name), ...loadCorpus(name)],
        replay: 'batch',
      });
      console.log(
        `${name}: ${result.replayed} replayed, ${result.execs} mutated executions ` +
          `(${result.execsPerSecond.toFixed(0)}/s), +${result.newEntries} new entries`,
      );
      const report = result.crashes.map(
        (c) => `${c.violation.message}\ninput ${Buffer.from(c.input).toString('hex')}`,
      );
      expect(report).toEqual([]);
      // The feedback works: the replayed corpus reached src/ code, and mutants ran.
      expect(result.features).toBeGreaterThan(100);
      expect(result.execs).toBeGreaterThan(0);
    });
  }
});
