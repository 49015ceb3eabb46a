/**
 * @module
 * Replays every committed corpus entry and every fresh seed transcript of each fuzz target
 * through the oracle (fuzz/monitor.ts): no exception out of sessionReceive, counts at unit
 * boundaries, -1 forever after the end, close once, no event after the end, no
 * SSH_ERR_INTERNAL, no runaway heap (time is left to the test timeout: no timing asserts).
 */

import { describe, expect, it } from 'vitest';
import { loadCaptured, loadCorpus } from '../../fuzz/corpus.js';
import { execute } from '../../fuzz/engine.js';
import { TARGET_NAMES, TARGETS } from '../../fuzz/targets/index.js';

describe('the committed fuzz corpus', () => {
  for (const name of TARGET_NAMES) {
    it(`replays the ${name} corpus and seeds without a contract violation`, () => {
      const target = TARGETS[name];
      const seeds = [...target.seeds(), ...loadCaptured(name)];
      const corpus = loadCorpus(name);
      expect(seeds.length).toBeGreaterThan(0);
      const failures: string[] = [];
      for (const input of [...seeds, ...corpus]) {
        const run = execute(target, input, undefined, Number.POSITIVE_INFINITY);
        if (run.violation) {
          failures.push(
            `${Buffer.from(input).toString('hex').slice(0, 64)}…: ${run.violation.message}`,
          );
        }
      }
      expect(failures).toEqual([]);
    });
  }
});
