/**
 * SPEC section 1: the core (src/) does no I/O and has no timers or promises. This scans the
 * code of every file under src/ (comments stripped: TSDoc examples show the core wired to
 * sockets and files, and those are not the core's code) for I/O modules, timers, promises and
 * the process object.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The code of a file without its comments (string contents kept; none holds these words). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/[^\n]*/g, '$1');
}

const FORBIDDEN: [string, RegExp][] = [
  [
    'an I/O module',
    /from ['"]node:(fs|fs\/promises|net|child_process|dgram|tls|http|https|http2|timers|worker_threads|readline)['"]/,
  ],
  ['a timer', /\b(setTimeout|setInterval|setImmediate|queueMicrotask)\b/],
  ['a promise', /\bPromise\b|\basync\b|\bawait\b/],
  ['the process object', /\bprocess\./],
];

describe('the core does no I/O', () => {
  const files = sources(join(root, 'src'));

  it('finds the core sources', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it.each(FORBIDDEN)('no file under src/ uses %s', (_what, pattern) => {
    const offenders = files.filter((f) => pattern.test(code(readFileSync(f, 'utf8'))));
    expect(offenders.map((f) => relative(root, f))).toEqual([]);
  });

  it('would notice one', () => {
    const [, timer] = FORBIDDEN[1]!;
    expect(timer.test(code('const t = setTimeout(f, 1); // later'))).toBe(true);
    expect(timer.test(code('/** setTimeout(f, 1) in an example */ const x = 1;'))).toBe(false);
  });
});
