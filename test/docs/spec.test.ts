/**
 * SPEC.md agrees with the code: §9's three algorithm lists are the lists of
 * src/crypto/algorithms.ts, §10 documents every `SSH_ERR_…` code (and no other), and §11
 * names every key of every exported limit object.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as algorithms from '../../src/crypto/algorithms.js';
import { SSH_ERR } from '../../src/errors.js';
import * as api from '../../src/index.js';
import { REPO_ROOT } from '../interop/peers.js';

const spec = readFileSync(join(REPO_ROOT, 'SPEC.md'), 'utf8');

/** The text of the section whose heading starts with `heading`, up to the next one as high. */
function section(text: string, heading: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`${heading} `));
  if (start < 0) throw new Error(`SPEC.md has no section "${heading}"`);
  const level = /^#+/.exec(heading)![0].length;
  let end = start + 1;
  while (end < lines.length && !new RegExp(`^#{1,${level}} `).test(lines[end]!)) end++;
  return lines.slice(start + 1, end).join('\n');
}

/** Table rows of `text` as cells (header and separator rows dropped). */
function tableRows(text: string): string[][] {
  const rows = text
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) =>
      l
        .slice(1, l.trimEnd().endsWith('|') ? l.trimEnd().length - 1 : undefined)
        .split('|')
        .map((c) => c.trim()),
    );
  return rows.filter((r, i) => i > 0 && !r.every((c) => /^:?-+:?$/.test(c)));
}

const backticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

/** `category → names` of one of §9's lists (second column, in order). */
function algorithmList(heading: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [category, names] of tableRows(section(spec, heading))) {
    out.set(category!, backticked(names ?? ''));
  }
  return out;
}

const CATEGORIES = [
  {
    category: 'kex',
    defaults: algorithms.DEFAULT_KEX,
    supported: algorithms.SUPPORTED_KEX,
    insecure: [],
  },
  {
    category: 'host key',
    defaults: algorithms.DEFAULT_HOST_KEY,
    supported: algorithms.SUPPORTED_HOST_KEY,
    insecure: algorithms.INSECURE_HOST_KEY,
  },
  {
    category: 'cipher',
    defaults: algorithms.DEFAULT_CIPHERS,
    supported: algorithms.SUPPORTED_CIPHERS,
    insecure: [],
  },
  {
    category: 'MAC',
    defaults: algorithms.DEFAULT_MACS,
    supported: algorithms.SUPPORTED_MACS,
    insecure: algorithms.INSECURE_MACS,
  },
  {
    category: 'compression',
    defaults: algorithms.DEFAULT_COMPRESSION,
    supported: algorithms.DEFAULT_COMPRESSION,
    insecure: [],
  },
] as const satisfies readonly {
  category: string;
  defaults: readonly string[];
  supported: readonly string[];
  insecure: readonly string[];
}[];

describe('SPEC.md §9 algorithm lists', () => {
  const defaults = algorithmList('### 9.1');
  const others = algorithmList('### 9.2');
  const insecure = algorithmList('### 9.3');

  it.each(CATEGORIES)('lists the $category defaults in the order of the code', (c) => {
    expect(defaults.get(c.category)).toEqual([...c.defaults]);
  });

  it.each(CATEGORIES)(
    'lists the $category algorithms supported but not default and not insecure',
    (c) => {
      const expected = c.supported.filter(
        (a) =>
          !(c.defaults as readonly string[]).includes(a) &&
          !(c.insecure as readonly string[]).includes(a),
      );
      expect(others.get(c.category)).toEqual(expected);
    },
  );

  it.each(CATEGORIES)('lists the insecure $category algorithms (opt-in only)', (c) => {
    expect(insecure.get(c.category)).toEqual([...c.insecure]);
    for (const a of c.insecure) expect(c.defaults).not.toContain(a);
  });

  it('has no category the code does not have', () => {
    const known = CATEGORIES.map((c) => c.category).sort();
    for (const list of [defaults, others, insecure]) expect([...list.keys()].sort()).toEqual(known);
  });
});

describe('SPEC.md §10 error codes', () => {
  const documented = tableRows(section(spec, '## 10.')).flatMap((r) =>
    backticked(r[0] ?? '').filter((c) => c.startsWith('SSH_ERR_')),
  );

  it.each(Object.values(SSH_ERR))('documents %s', (code) => {
    expect(documented).toContain(code);
  });

  it('documents no code the library does not have', () => {
    const codes: readonly string[] = Object.values(SSH_ERR);
    expect(documented.filter((c) => !codes.includes(c))).toEqual([]);
  });
});

/** Every `src/**\/limits.ts`, as a parallel change may move limits between them. */
function limitFiles(dir = 'src'): string[] {
  return readdirSync(join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return limitFiles(rel);
    return e.name === 'limits.ts' ? [rel] : [];
  });
}

/** Exported objects named `LIMITS` or `…_LIMITS`, from the package entry and the limit files. */
async function limitObjects(): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  const modules: Record<string, unknown>[] = [api];
  for (const file of limitFiles()) {
    modules.push(
      (await import(pathToFileURL(join(REPO_ROOT, file)).href)) as Record<string, unknown>,
    );
  }
  for (const mod of modules) {
    for (const [name, value] of Object.entries(mod)) {
      if (/^(?:[A-Z]+_)*LIMITS$/.test(name) && typeof value === 'object' && value !== null) {
        found.set(name, value as Record<string, unknown>);
      }
    }
  }
  return found;
}

describe('SPEC.md §11 limits', () => {
  const limits = section(spec, '## 11.');

  it('names every key of every exported limit object', async () => {
    const objects = await limitObjects();
    expect([...objects.keys()]).toEqual(
      expect.arrayContaining(['LIMITS', 'CONNECTION_LIMITS', 'AUTH_LIMITS']),
    );
    const missing: string[] = [];
    for (const [name, object] of objects) {
      if (!limits.includes(`\`${name}\``)) missing.push(name);
      for (const key of Object.keys(object)) {
        if (!limits.includes(`\`${key}\``)) missing.push(`${name}.${key}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
