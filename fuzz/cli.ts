/**
 * @module
 * `npm run fuzz -- --target <name|all> --time <seconds> [--seed N]`: a long fuzz run that
 * writes new corpus entries and crashes. `--replay <file>` runs one input through the oracle
 * and prints the violation; `--minimize` rewrites a target's corpus to the smallest set that
 * keeps its coverage.
 */

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CoverageFeedback } from './coverage.js';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'all' },
    time: { type: 'string', default: '60' },
    seed: { type: 'string', default: '1' },
    replay: { type: 'string' },
    minimize: { type: 'boolean', default: false },
    'no-save': { type: 'boolean', default: false },
    budget: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '16' },
  },
});

// Coverage must start before src/ is loaded, so that its functions carry block counters.
const coverage = new CoverageFeedback();
coverage.start();
const { TARGETS, TARGET_NAMES } = await import('./targets/index.js');
const { execute, fuzz, minimizeCorpus } = await import('./engine.js');
const { loadCorpus, replaceCorpus, saveCrash, saveEntry } = await import('./corpus.js');
coverage.survey();

type Name = (typeof TARGET_NAMES)[number];
const names: Name[] = values.target === 'all' ? [...TARGET_NAMES] : [values.target as Name];
for (const n of names) {
  if (!(n in TARGETS)) {
    console.error(`unknown target ${n}; one of: all, ${TARGET_NAMES.join(', ')}`);
    process.exit(2);
  }
}
const pct = (a: number, b: number) => `${a}/${b} (${((100 * a) / Math.max(1, b)).toFixed(1)}%)`;

if (values.replay) {
  const target = TARGETS[names[0]!];
  const input = new Uint8Array(readFileSync(values.replay));
  const run = execute(target, input, undefined, Number(values.budget));
  console.log(run.violation ? run.violation.message : `no violation (${run.ms.toFixed(1)} ms)`);
  if (run.violation?.cause instanceof Error) console.log(run.violation.cause.stack);
  process.exit(run.violation ? 1 : 0);
}

let failed = false;
for (const name of names) {
  const target = TARGETS[name];
  const committed = loadCorpus(name);
  coverage.forgetSeen();
  if (values.minimize) {
    const kept = minimizeCorpus(target, [...committed, ...target.seeds()], coverage);
    replaceCorpus(name, kept);
    console.log(`${name}: corpus minimised from ${committed.length} to ${kept.length} entries`);
    continue;
  }
  const save = !values['no-save'];
  const result = fuzz({
    target,
    coverage,
    seed: Number(values.seed),
    timeMs: Number(values.time) * 1000,
    timeBudgetMs: Number(values.budget),
    batchSize: Number(values.batch),
    corpus: [...target.seeds(), ...committed],
    onProgress: (execs, size, features) =>
      console.log(`  ${name}: ${execs} execs, corpus ${size}, ${features} features`),
    onNewEntry: (input) => {
      if (save) saveEntry(name, input);
    },
    onCrash: (input, violation) => {
      const path = save ? saveCrash(name, input, violation) : '(not saved)';
      console.log(`CRASH ${name} ${violation.kind}: ${path}\n${violation.message}`);
    },
  });
  const s = result.stats;
  console.log(
    `${name}: ${result.execs} execs in ${(result.elapsedMs / 1000).toFixed(0)} s ` +
      `(${result.execsPerSecond.toFixed(0)}/s, ${result.replayed} replayed), ` +
      `corpus ${committed.length} committed → ${result.corpusSize} useful (+${result.newEntries} new), ` +
      `${result.features} features; src/ functions ${pct(s.functionsCovered, s.functionsKnown)}, ` +
      `blocks ${pct(s.blocksCovered, s.blocksKnown)}; crashes ${result.crashes.length}`,
  );
  if (result.crashes.length > 0) failed = true;
}
coverage.stop();
process.exit(failed ? 1 : 0);
