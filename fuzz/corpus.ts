/**
 * @module
 * The corpus and crash directories: fuzz/corpus/<target>/ holds one input per file, named by
 * its SHA-256 (what the fuzzer found, minimised); fuzz/seeds/<target>/ holds transcripts
 * captured from real peers (never minimised away); fuzz/crashes/<target>/ holds crashing
 * inputs beside a note with the violation and the command that reproduces it.
 */

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Violation } from './monitor.js';

/** The fuzz/ directory. */
export const FUZZ_DIR = fileURLToPath(new URL('.', import.meta.url));

/** The corpus directory of a target. */
export function corpusDir(target: string): string {
  return join(FUZZ_DIR, 'corpus', target);
}

/** The directory of a target's captured seeds. */
export function seedDir(target: string): string {
  return join(FUZZ_DIR, 'seeds', target);
}

/** The crash directory of a target. */
export function crashDir(target: string): string {
  return join(FUZZ_DIR, 'crashes', target);
}

/** The name an input is stored under. */
export function entryName(input: Uint8Array): string {
  return createHash('sha256').update(input).digest('hex').slice(0, 16);
}

/** Loads a target's corpus, in file-name order (stable across machines). */
export function loadCorpus(target: string): Uint8Array[] {
  return loadDir(corpusDir(target));
}

/** Loads a target's seeds captured from real peers. */
export function loadCaptured(target: string): Uint8Array[] {
  return loadDir(seedDir(target));
}

function loadDir(dir: string): Uint8Array[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^[0-9a-f]{16}$/.test(f))
    .sort()
    .map((f) => new Uint8Array(readFileSync(join(dir, f))));
}

/** Writes one corpus entry (or, with `dir`, a file elsewhere); returns its file name. */
export function saveEntry(target: string, input: Uint8Array, dir = corpusDir(target)): string {
  mkdirSync(dir, { recursive: true });
  const name = entryName(input);
  writeFileSync(join(dir, name), input);
  return name;
}

/** Replaces a target's corpus with `entries`. */
export function replaceCorpus(target: string, entries: readonly Uint8Array[]): void {
  rmSync(corpusDir(target), { recursive: true, force: true });
  for (const e of entries) saveEntry(target, e);
}

/** Saves a crashing input and a note beside it; returns the input's path. */
export function saveCrash(target: string, input: Uint8Array, violation: Violation): string {
  const dir = crashDir(target);
  mkdirSync(dir, { recursive: true });
  const name = `${violation.kind}-${entryName(input)}`;
  const path = join(dir, name);
  writeFileSync(path, input);
  const rel = `fuzz/crashes/${target}/${name}`;
  writeFileSync(
    `${path}.txt`,
    `${violation.message}\n\nReproduce: npm run fuzz -- --target ${target} --replay ${rel}\n`,
  );
  return rel;
}
