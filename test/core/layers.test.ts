/**
 * The house's layers, checked on every run: a folder of src/ imports only from folders below it in
 * LAYERS (bottom first), no file is over 400 lines and no function over 150. Imports are read with the
 * TypeScript parser (static imports, re-exports and `import()` of relative paths), so a new upward
 * import fails here with the file and the line.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** Bottom first. A folder may import itself and any folder listed before it. */
export const LAYERS = ['util', 'space', 'core', 'store', 'strategy', 'data', 'nn', 'estimate', 'run', 'report', 'dashboard', 'fit', 'cli'];
const SRC = path.resolve(__dirname, '../../src');
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 150;

function sourceFiles(dir = SRC): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

const files = sourceFiles().map((file) => {
  const text = fs.readFileSync(file, 'utf8');
  return { file, rel: path.relative(SRC, file), text, sf: ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true) };
});

function folderOf(rel: string): string | null {
  const parts = rel.split(path.sep);
  return parts.length > 1 ? parts[0]! : null; // src/index.ts, src/nas.ts: the package entry points, above everything
}

function relativeImports(sf: ts.SourceFile): { spec: string; line: number }[] {
  const out: { spec: string; line: number }[] = [];
  const visit = (n: ts.Node): void => {
    let spec: ts.Expression | undefined;
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier) spec = n.moduleSpecifier;
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) spec = n.arguments[0];
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) spec = n.argument.literal;
    if (spec && ts.isStringLiteral(spec) && spec.text.startsWith('.')) {
      out.push({ spec: spec.text, line: sf.getLineAndCharacterOfPosition(spec.getStart()).line + 1 });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

describe('source layout', () => {
  it('every folder of src/ is in the declared layer order', () => {
    const folders = new Set(files.map((f) => folderOf(f.rel)).filter((f): f is string => f !== null));
    expect([...folders].filter((f) => !LAYERS.includes(f))).toEqual([]);
  });

  it('no folder imports a folder above it', () => {
    const upward: string[] = [];
    for (const { file, rel, sf } of files) {
      const from = folderOf(rel);
      if (from === null) continue;
      for (const { spec, line } of relativeImports(sf)) {
        const target = path.relative(SRC, path.resolve(path.dirname(file), spec));
        const to = folderOf(target);
        if (to === null || to === from) continue;
        if (LAYERS.indexOf(to) > LAYERS.indexOf(from)) upward.push(`src/${rel}:${line} (${from}) imports ${spec} (${to})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('catches an upward import (the check itself can fail)', () => {
    const sf = ts.createSourceFile('x.ts', "import type { A } from '../run/types.js';\nconst m = await import('../cli/main.js');", ts.ScriptTarget.Latest, true);
    expect(relativeImports(sf).map((i) => i.spec)).toEqual(['../run/types.js', '../cli/main.js']);
  });

  it(`no file is over ${MAX_FILE_LINES} lines`, () => {
    const long = files.map(({ rel, text }) => ({ rel, lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0) }))
      .filter((f) => f.lines > MAX_FILE_LINES)
      .map((f) => `src/${f.rel}: ${f.lines} lines`);
    expect(long).toEqual([]);
  });

  it(`no function is over ${MAX_FUNCTION_LINES} lines`, () => {
    const long: string[] = [];
    for (const { rel, sf } of files) {
      const visit = (n: ts.Node): void => {
        if (ts.isFunctionLike(n) && 'body' in n && n.body) {
          const start = sf.getLineAndCharacterOfPosition(n.getStart()).line;
          const end = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
          const name = n.name && ts.isIdentifier(n.name) ? n.name.text : '(anonymous)';
          if (end - start + 1 > MAX_FUNCTION_LINES) long.push(`src/${rel}:${start + 1} ${name}: ${end - start + 1} lines`);
        }
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
    expect(long).toEqual([]);
  });
});
