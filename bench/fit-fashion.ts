/**
 * The fit acceptance run: `tsnas fit --data fashion-mnist --time-budget 10m`, then `tsnas predict`
 * from the exported folder; checks that the accuracy of the exported model's predictions against
 * the official 10,000 test labels (read here from the dataset files, not from the CSV) equals the
 * test accuracy fit reported, and prints the fit's numbers.
 *
 *   npm run bench:fit -- [--data fashion-mnist] [--time-budget 10m] [--seed 0] [--out DIR]
 *
 * Last line: {"test_acc", "predict_acc", "wall_s", "trials", ...}. Exit status 1 when predict does
 * not reproduce fit's test accuracy.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { loadNamedDataset } from '../src/data/registry.js';

const o = new Command()
  .option('--data <name>', 'built-in image dataset with an official test set (fashion-mnist or mnist)', 'fashion-mnist')
  .option('--time-budget <d>', 'fit time budget', '10m')
  .option('--seed <n>', 'fit seed', '0')
  .option('--out <dir>', 'model folder (default: a new temporary folder)')
  .parse()
  .opts();

const out = o.out ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-fit-bench-')), 'model');
const entry = path.resolve('src/cli/main.ts');
const load0 = fs.readFileSync('/proc/loadavg', 'utf8').trim();

/** Runs the CLI from source with its output shown as it comes; returns the wall seconds. */
function tsnas(args: string[]): number {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', entry, ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`tsnas ${args.join(' ')} exited with ${r.status}`);
  return (Date.now() - t0) / 1000;
}

console.log(`bench:fit: tsnas fit --data ${o.data} --time-budget ${o.timeBudget} --seed ${o.seed} --out ${out}; load average ${load0}`);
const fitSeconds = tsnas(['fit', '--data', o.data, '--time-budget', o.timeBudget, '--seed', o.seed, '--out', out]);
const load1 = fs.readFileSync('/proc/loadavg', 'utf8').trim();
const summary = JSON.parse(fs.readFileSync(path.join(out, 'fit.json'), 'utf8'));
const predCsv = path.join(out, 'pred.csv');
const predictSeconds = tsnas(['predict', '--model', out, '--data', o.data, '--out', predCsv]);

// Accuracy of the exported model's predictions against the official test labels.
const { test } = loadNamedDataset(o.data);
const lines = fs.readFileSync(predCsv, 'utf8').trim().split('\n');
const header = lines[0]!.split(',');
const col = header.indexOf('prediction');
if (col < 0) throw new Error(`${predCsv}: no prediction column (header ${lines[0]})`);
const preds = lines.slice(1).map((l) => l.split(',')[col]!.replace(/^"|"$/g, ''));
if (preds.length !== test.y.length) throw new Error(`${predCsv}: ${preds.length} predictions for ${test.y.length} test images`);
let correct = 0;
for (let i = 0; i < preds.length; i++) if (preds[i] === test.classNames[test.y[i]!]) correct++;
const predictAcc = correct / preds.length;
const testAcc: number = summary.test?.value ?? NaN;
const same = Math.abs(predictAcc - testAcc) < 0.5 / preds.length;

console.log(
  `fit: test accuracy ${testAcc.toFixed(4)} in ${fitSeconds.toFixed(1)} s wall (fit's clock: ${summary.seconds.total.toFixed(1)} s of its ${summary.budget.seconds ?? '-'} s budget; ` +
    `${summary.trials.total} trials, ${summary.trials.complete} complete; final ${summary.final.epochs} of up to ${summary.final.plannedEpochs} epochs); ` +
    `predict from ${out}: ${predictAcc.toFixed(4)} (${same ? 'equal' : 'DIFFERENT'}) in ${predictSeconds.toFixed(1)} s`,
);
console.log(
  JSON.stringify({
    test_acc: testAcc,
    predict_acc: predictAcc,
    reproduced: same,
    wall_s: fitSeconds,
    predict_s: predictSeconds,
    budget_s: summary.budget.seconds,
    budget_used: summary.budget.seconds ? Math.round((1000 * summary.seconds.total) / summary.budget.seconds) / 1000 : null,
    trials: summary.trials.total,
    trials_complete: summary.trials.complete,
    best: summary.best.source === 'search' ? summary.best.trial : summary.best.source,
    final_epochs: summary.final.epochs,
    planned_epochs: summary.final.plannedEpochs,
    seconds: summary.seconds,
    load_before: load0,
    load_after: load1,
  }),
);
if (!same) process.exit(1);
