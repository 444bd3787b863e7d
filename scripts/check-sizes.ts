/**
 * The house size rule (DEVELOPERS.md, issue #14): no file in src/ over 400 lines, no function over
 * 150. Lists every offender (functions by the typescript compiler API: declarations, methods,
 * arrows and function expressions, measured from their first to their last line) and exits 1 if
 * any. `tsx scripts/check-sizes.ts [dir] [maxFunctionLines] [maxFileLines]`.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface Offender {
  file: string;
  line: number;
  name: string;
  lines: number;
  kind: 'file' | 'function';
}

function nameOf(n: ts.FunctionLikeDeclaration): string {
  if (n.name) return n.name.getText();
  const p = n.parent;
  if (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) return p.name.getText();
  return '<anonymous>';
}

export function sizeOffenders(dir: string, maxFunction = 150, maxFile = 400): Offender[] {
  const out: Offender[] = [];
  const files = (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f)).sort();
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const fileLines = text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
    if (fileLines > maxFile) out.push({ file, line: 1, name: path.basename(file), lines: fileLines, kind: 'file' });
    const visit = (n: ts.Node): void => {
      if (ts.isFunctionLike(n) && 'body' in n && n.body) {
        const a = sf.getLineAndCharacterOfPosition(n.getStart()).line;
        const b = sf.getLineAndCharacterOfPosition(n.end).line;
        if (b - a + 1 > maxFunction) out.push({ file, line: a + 1, name: nameOf(n as ts.FunctionLikeDeclaration), lines: b - a + 1, kind: 'function' });
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return out;
}

if (process.argv[1]?.endsWith('check-sizes.ts')) {
  const [dir = 'src', fn = '150', file = '400'] = process.argv.slice(2);
  const found = sizeOffenders(dir, Number(fn), Number(file));
  for (const o of found) console.log(`${o.file}:${o.line} ${o.kind === 'file' ? 'file' : `function ${o.name}`}: ${o.lines} lines`);
  console.log(found.length ? `${found.length} over the limits (functions ${fn}, files ${file} lines)` : `none over the limits (functions ${fn}, files ${file} lines)`);
  process.exitCode = found.length ? 1 : 0;
}
