/**
 * @module
 * Finds the TypeScript examples of the documentation (```ts blocks of README.md and
 * docs/**\/*.md, `@example` blocks of the TSDoc in src/, transports/ and node/) and writes
 * each as a module under `.doc-examples/`, with `pluggable-ssh` imports pointed at the sources
 * and the names a TSDoc example uses without importing them imported for it
 * (test/docs/README.md).
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import ts from 'typescript';

/** One example found in the documentation. */
export interface DocBlock {
  /** `README.md:45` or `src/session.ts:48 (sessionCreate)`. */
  readonly id: string;
  /** The file it is in, relative to the repository root. */
  readonly source: string;
  /** The line of its first code line in `source` (1-based). */
  readonly line: number;
  readonly kind: 'markdown' | 'tsdoc';
  readonly code: string;
  /** False for a ```ts no-run block: type-checked only. */
  readonly run: boolean;
  /** The reason written after `no-run`. */
  readonly noRunReason?: string;
  /**
   * A markdown block right under a heading that names a repository file (`` ### `path.ts` ``)
   * quotes that file: its relative imports resolve from the file's directory.
   */
  readonly quotes?: string;
}

/** A block written out as a module. */
export interface GeneratedBlock {
  readonly block: DocBlock;
  /** Absolute path of the generated module. */
  readonly file: string;
  /** Lines the generator put before the block's first line. */
  readonly preludeLines: number;
}

/** The directory the generated modules go to (gitignored). */
export const GENERATED_DIR = '.doc-examples';

const FENCE_OPEN = /^```(ts|typescript)(?:\s+(.*))?$/;
const FENCE_CLOSE = /^```\s*$/;
const NO_RUN = /^no-run\b[\s:—-]*(.*)$/;

function parseInfo(info: string | undefined): { run: boolean; noRunReason?: string } {
  const m = NO_RUN.exec((info ?? '').trim());
  if (!m) return { run: true };
  return { run: false, noRunReason: (m[1] ?? '').trim() };
}

/** The ```ts blocks of a markdown file. */
export function markdownBlocks(root: string, file: string): DocBlock[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE_OPEN.exec(lines[i] ?? '');
    if (!open) {
      if (/^```/.test(lines[i] ?? '') && !FENCE_CLOSE.test(lines[i] ?? '')) {
        // Another language: skip to its end so its content is not read as fences.
        i++;
        while (i < lines.length && !FENCE_CLOSE.test(lines[i] ?? '')) i++;
      }
      continue;
    }
    const start = i + 1;
    let end = start;
    while (end < lines.length && !FENCE_CLOSE.test(lines[end] ?? '')) end++;
    let before = i - 1;
    while (before >= 0 && (lines[before] ?? '').trim() === '') before--;
    const quoted = /^#+\s+`([^`]+\.ts)`\s*$/.exec(lines[before] ?? '')?.[1];
    blocks.push({
      id: `${file}:${start + 1}`,
      source: file,
      line: start + 1,
      kind: 'markdown',
      code: lines.slice(start, end).join('\n'),
      ...parseInfo(open[2]),
      ...(quoted !== undefined && existsSync(join(root, quoted)) ? { quotes: quoted } : {}),
    });
    i = end;
  }
  return blocks;
}

/** The `@example` ```ts blocks in the TSDoc comments of a source file. */
export function tsdocBlocks(root: string, file: string): DocBlock[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  let inExample = false;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] ?? '';
    if (/^\s*\*\//.test(text) || /\*\/\s*$/.test(text)) inExample = false;
    const body = /^\s*\*\s?(.*)$/.exec(text)?.[1];
    if (body === undefined) continue;
    if (/^@example\b/.test(body)) {
      inExample = true;
      continue;
    }
    if (/^@\w/.test(body)) inExample = false;
    if (!inExample) continue;
    const open = FENCE_OPEN.exec(body.trimEnd());
    if (!open) continue;
    const start = i + 1;
    let end = start;
    const code: string[] = [];
    for (; end < lines.length; end++) {
      const inner = /^\s*\*(?: (.*)|)$/.exec(lines[end] ?? '');
      if (inner === null) throw new Error(`${file}:${end + 1}: an @example fence is not closed`);
      const line = inner[1] ?? '';
      if (FENCE_CLOSE.test(line)) break;
      code.push(line);
    }
    blocks.push({
      id: `${file}:${start + 1}${declarationAfter(lines, end)}`,
      source: file,
      line: start + 1,
      kind: 'tsdoc',
      code: code.join('\n'),
      ...parseInfo(open[2]),
    });
    i = end;
  }
  return blocks;
}

/** ` (name)` of the declaration the comment ending after line `from` documents. */
function declarationAfter(lines: readonly string[], from: number): string {
  for (let i = from; i < Math.min(lines.length, from + 60); i++) {
    if (!/\*\/\s*$/.test(lines[i] ?? '')) continue;
    const next = lines[i + 1] ?? '';
    const m =
      /^\s*(?:export\s+)?(?:declare\s+)?(?:async\s+)?(?:function\*?|const|let|class|interface|type|readonly)?\s*([A-Za-z_$][\w$]*)/.exec(
        next,
      );
    return m?.[1] ? ` (${m[1]})` : '';
  }
  return '';
}

function walk(root: string, dir: string, keep: (path: string) => boolean): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(abs, { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...walk(root, rel, keep));
    else if (keep(rel)) out.push(rel);
  }
  return out.sort();
}

/** Every documentation example of the repository at `root`. */
export function collectBlocks(root: string): DocBlock[] {
  const markdown = [
    'README.md',
    // docs/api is the typedoc output (gitignored).
    ...walk(root, 'docs', (p) => p.endsWith('.md') && !p.startsWith('docs/api/')),
  ];
  const sources = ['src', 'transports', 'node'].flatMap((dir) =>
    walk(root, dir, (p) => p.endsWith('.ts') && !p.endsWith('.d.ts')),
  );
  return [
    ...markdown.flatMap((file) => markdownBlocks(root, file)),
    ...sources.flatMap((file) => tsdocBlocks(root, file)),
  ];
}

/**
 * The source file behind each `pluggable-ssh` import specifier: package.json's `exports`
 * say which built file a subpath is, tsup.config.ts which source builds it.
 */
export function packageEntryPoints(root: string): Map<string, string> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, { import?: { default?: string } } | string>;
  };
  const tsup = readFileSync(join(root, 'tsup.config.ts'), 'utf8');
  const sources = new Map<string, string>();
  for (const m of tsup.matchAll(/['"]?([\w/.-]+)['"]?\s*:\s*['"]([\w/.-]+\.ts)['"]/g)) {
    sources.set(m[1]!, m[2]!);
  }
  const entries = new Map<string, string>();
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;
    const built = target.import?.default;
    const name = built ? /^\.\/dist\/(.+)\.js$/.exec(built)?.[1] : undefined;
    const source = name ? sources.get(name) : undefined;
    if (source === undefined) continue;
    entries.set(subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, source);
  }
  return entries;
}

/** A name a module exports, and whether it is only a type. */
export interface ExportedName {
  readonly name: string;
  readonly typeOnly: boolean;
}

/** The names a TypeScript module exports (declarations and `export { … }` lists). */
export function exportedNames(root: string, file: string): ExportedName[] {
  const text = readFileSync(join(root, file), 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const names: ExportedName[] = [];
  const exported = (node: ts.Node) =>
    ts.canHaveModifiers(node) &&
    (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  for (const st of sf.statements) {
    if (ts.isExportDeclaration(st) && st.exportClause && ts.isNamedExports(st.exportClause)) {
      for (const el of st.exportClause.elements) {
        names.push({ name: el.name.text, typeOnly: st.isTypeOnly || el.isTypeOnly });
      }
    } else if (!exported(st)) {
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        if (ts.isIdentifier(d.name)) names.push({ name: d.name.text, typeOnly: false });
      }
    } else if (
      (ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st) || ts.isEnumDeclaration(st)) &&
      st.name
    ) {
      names.push({ name: st.name.text, typeOnly: false });
    } else if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) {
      names.push({ name: st.name.text, typeOnly: true });
    }
  }
  return names;
}

/** Rewrites `'pluggable-ssh…'` specifiers to relative paths of the sources. */
function rewriteImports(
  code: string,
  fromDir: string,
  root: string,
  entries: Map<string, string>,
  id: string,
): string {
  return code.replace(
    /(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['"])(pluggable-ssh(?:\/[\w./-]*)?)\2/g,
    (_all, lead: string, quote: string, spec: string) => {
      const source = entries.get(spec);
      if (source === undefined) {
        throw new Error(`${id}: '${spec}' is not an entry point in package.json's exports`);
      }
      return `${lead}${quote}${relativeImport(fromDir, join(root, source))}${quote}`;
    },
  );
}

/** Re-points relative specifiers written for a file in `writtenIn` to the module's directory. */
function rewriteRelativeImports(code: string, fromDir: string, writtenIn: string): string {
  return code.replace(
    /(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['"])(\.\.?\/[^'"]*)\2/g,
    (_all, lead: string, quote: string, spec: string) =>
      `${lead}${quote}${relativeImport(fromDir, join(writtenIn, spec))}${quote}`,
  );
}

function relativeImport(fromDir: string, target: string): string {
  const rel = relative(fromDir, target).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** Where a name a TSDoc example uses without importing may come from, in this order. */
interface Provider {
  readonly file: string;
  readonly names: Map<string, ExportedName>;
}

/**
 * Names a block uses but does not bind anywhere (no declaration, parameter or import of that
 * name). Parsing only: a name bound in a nested scope counts as bound.
 */
export function freeNames(code: string): Set<string> {
  const sf = ts.createSourceFile('block.ts', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const used = new Set<string>();
  const bound = new Set<string>();
  const bind = (name: ts.BindingName | ts.Identifier | undefined) => {
    if (name === undefined) return;
    if (ts.isIdentifier(name)) bound.add(name.text);
    else for (const el of name.elements) if (!ts.isOmittedExpression(el)) bind(el.name);
  };
  const visit = (node: ts.Node): void => {
    if (
      ts.isVariableDeclaration(node) ||
      ts.isParameter(node) ||
      ts.isBindingElement(node) ||
      ts.isFunctionDeclaration(node) ||
      ts.isClassDeclaration(node) ||
      ts.isImportSpecifier(node) ||
      ts.isNamespaceImport(node) ||
      ts.isImportClause(node)
    ) {
      bind(node.name);
    }
    if (ts.isIdentifier(node)) {
      const parent = node.parent;
      const isPropertyName =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
        (ts.isPropertyAssignment(parent) && parent.name === node) ||
        (ts.isPropertySignature(parent) && parent.name === node) ||
        (ts.isPropertyDeclaration(parent) && parent.name === node) ||
        (ts.isMethodDeclaration(parent) && parent.name === node) ||
        (ts.isQualifiedName(parent) && parent.right === node) ||
        (ts.isBindingElement(parent) && parent.propertyName === node) ||
        (ts.isImportSpecifier(parent) && parent.propertyName === node) ||
        ts.isLabeledStatement(parent);
      if (!isPropertyName) used.add(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return new Set([...used].filter((n) => !bound.has(n)));
}

/** Options of {@link generateBlocks}. */
export interface GenerateOptions {
  /** Repository root. */
  readonly root: string;
  /** The doc context module (test/docs/context.ts), relative to the root. */
  readonly contextModule: string;
  /** The names that module's `docContext` provides. */
  readonly contextNames: readonly string[];
}

/**
 * Writes every block as `.doc-examples/<n>-<slug>.ts` (the directory is emptied first) and
 * returns them with the names imported for each.
 */
export function generateBlocks(blocks: readonly DocBlock[], options: GenerateOptions) {
  const { root } = options;
  const dir = join(root, GENERATED_DIR);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const entries = packageEntryPoints(root);
  const mainEntry = entries.get('pluggable-ssh');
  if (mainEntry === undefined) throw new Error('package.json exports no "." entry');
  const contextNames = new Set(options.contextNames);
  const main: Provider = {
    file: mainEntry,
    names: new Map(exportedNames(root, mainEntry).map((n) => [n.name, n])),
  };

  // The entry point an internal module belongs to: the index.ts entry whose directory holds it.
  const indexEntries = [...new Set(entries.values())].filter((f) => f.endsWith('/index.ts'));
  const entryProviders = new Map<string, Provider>();
  const entryOf = (source: string): Provider => {
    const file =
      indexEntries
        .filter((f) => source.startsWith(`${dirname(f)}/`))
        .sort((a, b) => b.length - a.length)[0] ?? mainEntry;
    let provider = entryProviders.get(file);
    if (!provider) {
      provider = { file, names: new Map(exportedNames(root, file).map((n) => [n.name, n])) };
      entryProviders.set(file, provider);
    }
    return provider;
  };

  // Last resort for an internal module's example: a name exported by exactly one source file.
  const anywhere = new Map<string, { file: string; name: ExportedName } | null>();
  for (const file of ['src', 'transports'].flatMap((d) =>
    walk(root, d, (p) => p.endsWith('.ts')),
  )) {
    for (const name of exportedNames(root, file)) {
      anywhere.set(name.name, anywhere.has(name.name) ? null : { file, name });
    }
  }

  const rewritten: { block: DocBlock; file: string; code: string; error?: string }[] = [];
  blocks.forEach((block, n) => {
    const slug = block.source.replace(/[^\w]+/g, '_');
    const file = join(dir, `${String(n).padStart(3, '0')}-${slug}-${block.line}.ts`);
    let code = block.code;
    let error: string | undefined;
    try {
      code = rewriteImports(block.code, dirname(file), root, entries, block.id);
      if (block.quotes !== undefined) {
        code = rewriteRelativeImports(code, dirname(file), dirname(join(root, block.quotes)));
      }
    } catch (e) {
      error = (e as Error).message;
    }
    rewritten.push({ block, file, code, ...(error ? { error } : {}) });
  });

  return rewritten.map(({ block, file, code, error }) => {
    const prelude: string[] = [`// ${block.id} (generated by test/docs/extract.ts)`];
    const context: string[] = [];
    const autoImported: string[] = [];
    if (error) prelude.push(`throw new Error(${JSON.stringify(error)});`);
    if (block.kind === 'tsdoc') {
      const own: Provider = {
        file: block.source,
        names: new Map(exportedNames(root, block.source).map((n) => [n.name, n])),
      };
      const byFile = new Map<string, ExportedName[]>();
      for (const name of [...freeNames(code)].sort()) {
        // Own module, its entry point, the package entry, doc context, then any single source
        // file that has it.
        const provider = [own, entryOf(block.source), main].find((p) => p.names.has(name));
        const elsewhere = anywhere.get(name);
        const found = provider
          ? { file: provider.file, name: provider.names.get(name)! }
          : contextNames.has(name)
            ? undefined
            : (elsewhere ?? undefined);
        if (found) {
          const list = byFile.get(found.file) ?? [];
          list.push(found.name);
          byFile.set(found.file, list);
          autoImported.push(name);
        } else if (contextNames.has(name)) {
          context.push(name);
        }
      }
      for (const [from, names] of byFile) {
        const spec = names.map((n) => (n.typeOnly ? `type ${n.name}` : n.name)).join(', ');
        prelude.push(`import { ${spec} } from '${relativeImport(dir, join(root, from))}';`);
      }
      if (context.length > 0) {
        const ctx = relativeImport(dir, join(root, options.contextModule));
        prelude.push(`import { docContext } from '${ctx}';`);
        prelude.push(
          `const { ${context.join(', ')} } = await docContext(${JSON.stringify(context)});`,
        );
      }
    }
    writeFileSync(file, `${prelude.join('\n')}\n${code}\nexport {};\n`);
    return {
      block,
      file,
      preludeLines: prelude.length,
      autoImported,
      context,
    } satisfies GeneratedBlock & { autoImported: string[]; context: string[] };
  });
}
