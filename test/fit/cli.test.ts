/**
 * `tsnas fit` / `tsnas predict` through the CLI: bad inputs are one `tsnas: ...` line (exit 2, no
 * stack); a fitted model predicts a CSV or an image folder in input order with the right header;
 * a time budget is a hard stop.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticImageFolder } from '../../src/data/imageWriter.js';
import { fashionMnistAvailable } from '../../src/data/mnist.js';
import { makeSyntheticTabular } from '../../src/data/tabular.js';
import { cliAsync, type CliResult } from '../helpers/cli.js';

const cli = (args: string[], opts: { timeoutMs?: number } = {}): Promise<CliResult> => cliAsync(args, opts);

const tmp = (label: string) => fs.mkdtempSync(path.join(os.tmpdir(), `tsnas-fit-${label}-`));

function expectUsageError(r: { code: number | null; stdout: string; stderr: string }, ...parts: (string | RegExp)[]) {
  expect(r.code, r.stderr + r.stdout).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^tsnas: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  for (const p of parts) expect(lines[0]).toMatch(p);
}

/** A small CSV: two numeric columns, a categorical one with missing values, a string label. */
function writeCsv(file: string, n = 120, seed = 3, withTarget = true): string[][] {
  const ds = makeSyntheticTabular({ n, features: 2, classes: 2, seed });
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    const color = i % 7 === 0 ? '' : ['red', 'green', 'blue'][i % 3]!;
    const row = [ds.x[2 * i]!.toFixed(4), ds.x[2 * i + 1]!.toFixed(4), color];
    if (withTarget) row.push(ds.y[i] === 1 ? 'yes' : 'no');
    rows.push(row);
  }
  fs.writeFileSync(file, [(withTarget ? ['a', 'b', 'color', 'label'] : ['a', 'b', 'color']).join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n');
  return rows;
}

// Eleven CLI processes start at once: on a loaded 2-core machine one can take minutes, so these get
// a generous kill timeout (a hang still fails) rather than the helper's 60 s.
describe('tsnas fit: bad inputs are one-line errors', { timeout: 300_000 }, () => {
  const dir = tmp('bad');
  const csv = path.join(dir, 'data.csv');
  const out = (k: string) => path.join(dir, k);
  const runs: Record<string, Promise<CliResult>> = {};
  const cli = (args: string[]) => cliAsync(args, { timeoutMs: 240_000 });
  beforeAll(() => {
    writeCsv(csv, 40);
    const one = path.join(dir, 'one.csv');
    fs.writeFileSync(one, 'x,y\n' + Array.from({ length: 20 }, (_, i) => `${i},same`).join('\n') + '\n');
    fs.mkdirSync(path.join(dir, 'empty'));
    writeSyntheticImageFolder(path.join(dir, 'mixed'), { classes: 2, perClass: 6, mixedSizes: true });
    // Every case runs at once: each is mostly process start-up.
    runs.noTarget = cli(['fit', '--data', csv, '--trials', '1', '--out', out('m1')]);
    runs.unknownTarget = cli(['fit', '--data', csv, '--target', 'price', '--trials', '1', '--out', out('m2')]);
    runs.oneClass = cli(['fit', '--data', one, '--target', 'y', '--trials', '1', '--out', out('m3')]);
    runs.empty = cli(['fit', '--data', path.join(dir, 'empty'), '--trials', '1', '--out', out('m4')]);
    runs.mixed = cli(['fit', '--data', path.join(dir, 'mixed'), '--trials', '1', '--out', out('m5')]);
    runs.smallBudget = cli(['fit', '--data', 'iris', '--time-budget', '2s', '--out', out('m6')]);
    runs.badDuration = cli(['fit', '--data', 'iris', '--time-budget', 'soon', '--out', out('m7')]);
    if (fashionMnistAvailable()) runs.dataMinimum = cli(['fit', '--data', 'fashion-mnist', '--time-budget', '8s', '--out', out('m8')]);
    runs.badStrategy = cli(['fit', '--data', 'iris', '--strategy', 'magic', '--trials', '1', '--out', out('m9')]);
    runs.scheduler = cli(['fit', '--data', 'iris', '--strategy', 'hyperband', '--trials', '1', '--out', out('m10')]);
    runs.notModel = cli(['predict', '--model', dir, '--data', csv, '--out', out('p.csv')]);
  });

  it('a CSV without --target lists the columns', async () => {
    expectUsageError(await runs.noTarget!, /--target/, /columns: a, b, color, label/);
  });

  it('an unknown target column lists the columns', async () => {
    expectUsageError(await runs.unknownTarget!, /'price' not found/, /a, b, color, label/);
  });

  it('a target with one class only', async () => {
    expectUsageError(await runs.oneClass!, /single class \('same'\)/);
  });

  it('an empty image folder', async () => {
    expectUsageError(await runs.empty!, /empty: expected one sub-folder per class/);
  });

  it('images of mixed sizes name two files and the --image-size fix', async () => {
    expectUsageError(await runs.mixed!, /different sizes/, /8x8/, /9x8/, /--image-size 8/);
  });

  it('a budget under the minimum names the minimum; a bad duration names the format', async () => {
    expectUsageError(await runs.smallBudget!, /minimum of 5s/);
    expectUsageError(await runs.badDuration!, /like 10m, 90s/);
  });

  it.skipIf(!fashionMnistAvailable())('a budget too small for the data names its minimum (loading + the test pass)', async () => {
    expectUsageError(await runs.dataMinimum!, /fashion-mnist needs at least (\d+)s/, /10000 samples/);
  });

  it('an unknown strategy lists the strategies', async () => {
    expectUsageError(await runs.badStrategy!, /--strategy magic: unknown; use auto or one of .*tpe/);
  });

  it('a multi-fidelity scheduler strategy is refused (fit plans its own fidelities)', async () => {
    expectUsageError(await runs.scheduler!, /--strategy hyperband: a multi-fidelity scheduler needs per-trial budgets/, /use auto or a sampling strategy \(.*tpe/);
    expect((await runs.scheduler!).stderr).not.toMatch(/\bsh\b|asha|bohb/);
  });

  it('predict with a folder that is not a model', async () => {
    expectUsageError(await runs.notModel!, /no preprocessing\.json/);
  });
  // Nothing was written for a refused fit.
  it('refused fits leave no model folder behind', async () => {
    await Promise.all(Object.values(runs));
    for (const k of ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10']) expect(fs.existsSync(out(k)), k).toBe(false);
  });
});

describe('tsnas fit + predict on a CSV', () => {
  const dir = tmp('csv');
  const csv = path.join(dir, 'train.csv');
  const model = path.join(dir, 'model');
  let rows: string[][];
  let fitOut = '';
  beforeAll(async () => {
    rows = writeCsv(csv, 150);
    const r = await cli(['fit', '--data', csv, '--target', 'label', '--trials', '3', '--out', model], { timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
    fitOut = r.stdout;
  }, 100_000);

  it('writes the model folder and prints the plan with its reasons', async () => {
    for (const f of ['model.json', 'weights.bin', 'genotype.json', 'preprocessing.json', 'fit.json', 'report.html', 'experiment.db']) {
      expect(fs.existsSync(path.join(model, f)), f).toBe(true);
    }
    expect(fitOut).toMatch(/plan: space chain/);
    expect(fitOut).toMatch(/because: /);
    const summary = JSON.parse(fs.readFileSync(path.join(model, 'fit.json'), 'utf8'));
    expect(summary.trials.total).toBe(3);
    expect(summary.test.metric).toBe('accuracy');
    // The search is a normal stored experiment.
    const t = await cli(['trials', '--storage', `sqlite:${path.join(model, 'experiment.db')}`]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/fit-train/);
  });

  it('refuses to overwrite a folder that holds a fit', async () => {
    expectUsageError(await cli(['fit', '--data', csv, '--target', 'label', '--trials', '1', '--out', model]), /already holds a fit/);
  });

  it('predicts one row per input row, in order, with labels when the target is present', async () => {
    const out = path.join(dir, 'pred.csv');
    const r = await cli(['predict', '--model', model, '--data', csv, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const table = parse(fs.readFileSync(out, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(table[0]!)).toEqual(['label', 'prediction']);
    expect(table).toHaveLength(rows.length);
    expect(table.map((t) => t.label)).toEqual(rows.map((x) => x[3]));
    for (const t of table) expect(['yes', 'no']).toContain(t.prediction);
    const acc = table.filter((t) => t.label === t.prediction).length / table.length;
    expect(r.stdout).toContain(`accuracy: ${acc.toFixed(4)} on ${rows.length} labelled rows`);

    // Without the target column and in reverse order: the same predictions, reversed.
    const rev = path.join(dir, 'reversed.csv');
    fs.writeFileSync(rev, ['a,b,color', ...[...rows].reverse().map((x) => x.slice(0, 3).join(','))].join('\n') + '\n');
    const out2 = path.join(dir, 'pred2.csv');
    const r2 = await cli(['predict', '--model', model, '--data', rev, '--out', out2]);
    expect(r2.code, r2.stderr).toBe(0);
    const table2 = parse(fs.readFileSync(out2, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(table2[0]!)).toEqual(['prediction']);
    expect(table2.map((t) => t.prediction).reverse()).toEqual(table.map((t) => t.prediction));
  });

  it('a CSV missing a feature column the model needs', async () => {
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, 'a,color\n1,red\n');
    expectUsageError(await cli(['predict', '--model', model, '--data', bad, '--out', path.join(dir, 'p.csv')]), /missing column\(s\) 'b'/);
  });
});

describe('tsnas fit + predict on an image folder', () => {
  it('labels come from sub-folders; a flat folder predicts without labels; files in sorted order', async () => {
    const dir = tmp('img');
    const data = path.join(dir, 'images');
    writeSyntheticImageFolder(data, { classes: 2, perClass: 10, width: 8, height: 8, seed: 2 });
    const model = path.join(dir, 'model');
    const r = await cli(['fit', '--data', data, '--space', 'chain', '--trials', '2', '--grayscale', '--out', model], { timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
    const pre = JSON.parse(fs.readFileSync(path.join(model, 'preprocessing.json'), 'utf8'));
    expect(pre).toMatchObject({ kind: 'image', height: 8, width: 8, channels: 1, classes: ['class0', 'class1'] });

    const out = path.join(dir, 'pred.csv');
    const p = await cli(['predict', '--model', model, '--data', data, '--out', out]);
    expect(p.code, p.stderr).toBe(0);
    const table = parse(fs.readFileSync(out, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(table[0]!)).toEqual(['file', 'label', 'prediction']);
    expect(table).toHaveLength(20);
    expect(table[0]).toMatchObject({ file: path.join('class0', '000.png'), label: 'class0' });
    expect(table[19]).toMatchObject({ file: path.join('class1', '009.png'), label: 'class1' });

    const flat = path.join(data, 'class1');
    const out2 = path.join(dir, 'flat.csv');
    const p2 = await cli(['predict', '--model', model, '--data', flat, '--out', out2]);
    expect(p2.code, p2.stderr).toBe(0);
    const table2 = parse(fs.readFileSync(out2, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(table2[0]!)).toEqual(['file', 'prediction']);
    expect(table2.map((t) => t.prediction)).toEqual(table.slice(10).map((t) => t.prediction));
  }, 100_000);
});

describe('tsnas fit: the time budget is a hard stop', () => {
  it('--time-budget 8s on iris returns a tested model within the budget', async () => {
    const dir = tmp('budget');
    const t0 = Date.now();
    const r = await cli(['fit', '--data', 'iris', '--time-budget', '8s', '--out', path.join(dir, 'model')], { timeoutMs: 60_000 });
    const wall = (Date.now() - t0) / 1000;
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(fs.readFileSync(path.join(dir, 'model', 'fit.json'), 'utf8'));
    expect(s.seconds.total).toBeLessThanOrEqual(8 + 0.5);
    expect(s.trials.total).toBeGreaterThanOrEqual(1);
    expect(['search', 'partial']).toContain(s.best.source); // a trained trial, complete or cut at the search deadline
    expect(s.test.value).toBeGreaterThan(0.8);
    // Process start-up and tfjs loading come on top of the budget.
    expect(wall).toBeLessThan(8 + 8);
  }, 60_000);
});
