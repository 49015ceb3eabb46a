/**
 * Every TypeScript example of the documentation compiles with the project's settings and runs:
 * the ```ts blocks of README.md and docs/**\/*.md and the `@example` blocks of the TSDoc in
 * src/, transports/ and node/. The convention is in test/docs/README.md.
 */

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../interop/peers.js';
import { DOC_CONTEXT_NAMES } from './context.js';
import { collectBlocks, GENERATED_DIR, type GeneratedBlock, generateBlocks } from './extract.js';
import type { RunResult } from './runner.js';

/** How long one example may run. */
const EXAMPLE_TIMEOUT_MS = 10_000;

const blocks = collectBlocks(REPO_ROOT);
let generated: GeneratedBlock[] = [];
const typeErrors = new Map<string, string[]>();
const results = new Map<string, RunResult>();
let runnerFailure: string | undefined;

/** One type-check of every generated module with the options of tsconfig.json. */
function typeCheck(files: readonly GeneratedBlock[]): void {
  const configFile = ts.readConfigFile(join(REPO_ROOT, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, REPO_ROOT);
  // Unused names are allowed: an example often names a result only to show what it is.
  const program = ts.createProgram(
    files.map((g) => g.file),
    { ...options, noEmit: true, noUnusedLocals: false, noUnusedParameters: false },
  );
  const byFile = new Map(files.map((g) => [g.file, g]));
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const g = d.file ? byFile.get(d.file.fileName) : undefined;
    if (!g || !d.file || d.start === undefined) {
      const where = d.file ? relative(REPO_ROOT, d.file.fileName) : 'program';
      runnerFailure = `${runnerFailure ?? ''}\n${where}: ${message}`;
      continue;
    }
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const at =
      line < g.preludeLines
        ? `${g.block.id} (generated import)`
        : `${g.block.source}:${g.block.line + line - g.preludeLines}`;
    const list = typeErrors.get(g.block.id) ?? [];
    list.push(`${at}: ${message}`);
    typeErrors.set(g.block.id, list);
  }
}

function runAll(runnable: readonly GeneratedBlock[]): Promise<void> {
  const list = join(REPO_ROOT, GENERATED_DIR, 'run-list.json');
  const out = join(REPO_ROOT, GENERATED_DIR, 'results.jsonl');
  writeFileSync(
    list,
    JSON.stringify(runnable.map((g) => ({ file: g.file, timeoutMs: EXAMPLE_TIMEOUT_MS }))),
  );
  writeFileSync(out, '');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/docs/runner.ts', list, out], {
      cwd: REPO_ROOT,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    child.stdout.resume();
    const limit = setTimeout(() => child.kill('SIGKILL'), 20_000 + runnable.length * 2_000);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      for (const line of readFileSync(out, 'utf8').split('\n')) {
        if (line === '') continue;
        const r = JSON.parse(line) as RunResult;
        results.set(r.file, r);
      }
      if (code !== 0) runnerFailure = `runner exited ${code ?? signal}: ${stderr}`;
      resolve();
    });
  });
}

beforeAll(async () => {
  generated = generateBlocks(blocks, {
    root: REPO_ROOT,
    contextModule: 'test/docs/context.ts',
    contextNames: DOC_CONTEXT_NAMES,
  });
  // The runner is another process: the type-check here overlaps with it.
  const running = runAll(generated.filter((g) => g.block.run));
  typeCheck(generated);
  await running;
}, 180_000);

describe('documentation examples', () => {
  it('are found in the README, the docs and the TSDoc', () => {
    expect(blocks.filter((b) => b.source === 'README.md').length).toBeGreaterThanOrEqual(2);
    expect(blocks.filter((b) => b.kind === 'tsdoc').length).toBeGreaterThan(50);
    expect(runnerFailure).toBeUndefined();
  });

  it('say why next to each no-run block', () => {
    const silent = blocks.filter((b) => !b.run && (b.noRunReason ?? '').length < 10);
    expect(silent.map((b) => b.id)).toEqual([]);
  });

  it.each(blocks.map((b) => [b.id, b] as const))('%s compiles and runs', (_id, block) => {
    expect(typeErrors.get(block.id) ?? []).toEqual([]);
    if (!block.run) return;
    const g = generated.find((x) => x.block === block);
    const result = g ? results.get(g.file) : undefined;
    expect(result, 'the runner produced no result for this example').toBeDefined();
    if (!result!.ok) {
      expect.fail(`${result!.error}\n--- output ---\n${result!.output}`);
    }
    for (const m of block.code.matchAll(/\/\/ prints: (.+)$/gm)) {
      const expected = m[1]!.replace(/\s*\(.*\)\s*$/, '').trim();
      expect(result!.output, `a '// prints:' line of ${block.id}`).toContain(expected);
    }
  });
});
