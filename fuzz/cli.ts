/**
 * @module
 * `npm run fuzz -- --target <name|all> --time <seconds> [--seed N]`: a long fuzz run that
 * writes new corpus entries and crashes. The fuzzing runs in a worker thread watched by the
 * main thread, so an input that hangs (no execution finished for `--hang` seconds) is saved
 * as a crash too. `--replay <file>` runs one input through the oracle and prints the
 * violation; `--minimize` rewrites a target's corpus to the smallest set that keeps its
 * coverage; `--measure` prints the cost of an execution and of a coverage read.
 */

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { CoverageFeedback } from './coverage.js';

const args: string[] = isMainThread ? process.argv.slice(2) : (workerData as WorkerData).args;
const { values } = parseArgs({
  args,
  options: {
    target: { type: 'string', default: 'all' },
    time: { type: 'string', default: '60' },
    seed: { type: 'string', default: '1' },
    replay: { type: 'string' },
    minimize: { type: 'boolean', default: false },
    measure: { type: 'boolean', default: false },
    'no-save': { type: 'boolean', default: false },
    budget: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '16' },
    hang: { type: 'string', default: '60' },
    report: { type: 'boolean', default: false },
  },
});

interface WorkerData {
  readonly args: string[];
  /** Int32 0: executions started; Int32 1: current input length; bytes from 8: the input. */
  readonly slot: SharedArrayBuffer;
}

const INPUT_SLOT_BYTES = 8 + 64 * 1024;
const fuzzing = !values.replay && !values.minimize && !values.measure && !values.report;

if (isMainThread && fuzzing) {
  process.exit(await watch());
}

/** Runs the fuzzing in a worker; saves the current input as a `hang` crash if it stalls. */
async function watch(): Promise<number> {
  const { saveCrash } = await import('./corpus.js');
  const { Violation } = await import('./monitor.js');
  const slot = new SharedArrayBuffer(INPUT_SLOT_BYTES);
  const counters = new Int32Array(slot, 0, 2);
  // The worker registers tsx's loader itself before it loads this file again.
  const self = JSON.stringify(import.meta.url);
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${self}); })`;
  const worker = new Worker(boot, { eval: true, workerData: { args, slot } });
  const hangMs = Number(values.hang) * 1000;
  let last = -1;
  let lastChange = Date.now();
  return new Promise<number>((resolve) => {
    const timer = setInterval(() => {
      const n = Atomics.load(counters, 0);
      if (n !== last) {
        last = n;
        lastChange = Date.now();
        return;
      }
      if (Date.now() - lastChange < hangMs || n === 0) return;
      clearInterval(timer);
      const length = Atomics.load(counters, 1);
      const input = new Uint8Array(slot, 8, length).slice();
      const target = values.target === 'all' ? 'unknown-target' : values.target!;
      const message = `no execution finished for ${values.hang} s`;
      const path = saveCrash(target, input, new Violation('hang', message));
      console.log(`CRASH ${target} hang: ${path}\nhang: ${message}`);
      void worker.terminate().then(() => resolve(1));
    }, 1000);
    worker.on('exit', (code) => {
      clearInterval(timer);
      resolve(code);
    });
    worker.on('error', (e) => {
      console.error(e);
      clearInterval(timer);
      resolve(1);
    });
  });
}

// ---- in the worker (or in the main thread for replay, minimize and measure) ----------------

// Coverage must start before src/ is loaded, so that its functions carry block counters.
const coverage = new CoverageFeedback();
coverage.start();
const { TARGETS, TARGET_NAMES } = await import('./targets/index.js');
const { execute, fuzz, minimizeCorpus } = await import('./engine.js');
const { loadCaptured, loadCorpus, replaceCorpus, saveCrash, saveEntry } = await import(
  './corpus.js'
);
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

if (values.measure) {
  // The cost of one execution without coverage, and of one coverage read.
  for (const name of names) {
    const target = TARGETS[name];
    const seeds = target.seeds();
    const rounds = 20;
    let t0 = performance.now();
    for (let i = 0; i < rounds; i++) for (const s of seeds) execute(target, s, undefined, 1e9);
    const execMs = (performance.now() - t0) / (rounds * seeds.length);
    t0 = performance.now();
    for (let i = 0; i < rounds; i++) {
      execute(target, seeds[0]!, undefined, 1e9);
      coverage.reset();
    }
    const readMs = (performance.now() - t0) / rounds - execMs;
    console.log(
      `${name}: ${execMs.toFixed(2)} ms per execution, ${readMs.toFixed(2)} ms per coverage read`,
    );
  }
  process.exit(0);
}

if (values.report) {
  // Coverage per target from its committed corpus and seeds, input by input, over one
  // denominator: every src/ function known once all targets ran.
  const rows: {
    name: string;
    entries: number;
    bytes: number;
    blocks: number;
    functions: number;
  }[] = [];
  const allBlocks = new Set<number>();
  const allFunctions = new Set<number>();
  for (const name of names) {
    const target = TARGETS[name];
    coverage.forgetSeen();
    const committed = loadCorpus(name);
    for (const input of [...target.seeds(), ...loadCaptured(name), ...committed]) {
      coverage.addFeatures(execute(target, input, coverage, 1e9).features);
    }
    const { blocks, functions } = coverage.covered();
    for (const b of blocks) allBlocks.add(b);
    for (const f of functions) allFunctions.add(f);
    const bytes = committed.reduce((n, e) => n + e.length, 0);
    rows.push({
      name,
      entries: committed.length,
      bytes,
      blocks: blocks.size,
      functions: functions.size,
    });
  }
  const known = coverage.stats();
  console.log('| target | corpus entries | corpus bytes | src/ functions | src/ blocks |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.entries} | ${r.bytes} | ${pct(r.functions, known.functionsKnown)} | ${pct(r.blocks, known.blocksKnown)} |`,
    );
  }
  console.log(
    `| all | ${rows.reduce((n, r) => n + r.entries, 0)} | ${rows.reduce((n, r) => n + r.bytes, 0)} | ${pct(allFunctions.size, known.functionsKnown)} | ${pct(allBlocks.size, known.blocksKnown)} |`,
  );
  process.exit(0);
}

const slot = isMainThread ? undefined : (workerData as WorkerData).slot;
const counters = slot ? new Int32Array(slot, 0, 2) : undefined;
const slotBytes = slot ? new Uint8Array(slot, 8) : undefined;
/** Leaves a copy of the input where the watchdog can read it. */
function beforeExecute(input: Uint8Array): void {
  if (!counters || !slotBytes) return;
  const n = Math.min(input.length, slotBytes.length);
  slotBytes.set(input.subarray(0, n));
  Atomics.store(counters, 1, n);
  Atomics.add(counters, 0, 1);
}

let failed = false;
for (const name of names) {
  const target = TARGETS[name];
  const committed = loadCorpus(name);
  coverage.forgetSeen();
  if (values.minimize) {
    const baseline = [...target.seeds(), ...loadCaptured(name)];
    const kept = minimizeCorpus(target, baseline, committed, coverage);
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
    corpus: [...target.seeds(), ...loadCaptured(name), ...committed],
    onExecute: beforeExecute,
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
