/** `tsnas report`: one self-contained HTML file with the efficacy views of a storage. */
import type { Command } from 'commander';
import { writeReport } from '../report/index.js';
import { UsageError } from './errors.js';
import { openExisting, pickExperiments } from './inspect.js';
import { storageFile } from '../store/index.js';
import { checkOutFile } from '../util/output.js';

export function parseRate(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--cost-per-hour ${v}: give a number >= 0 (money units per compute hour)`);
  return n;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write a self-contained HTML report (anytime curves, trials, learning curves, importance, Pareto front, best architecture)')
    .requiredOption('--storage <url>', 'sqlite:FILE')
    .option('--name <name>', 'only this experiment (default: every experiment of the storage)')
    .option('--out <file.html>', 'output file', 'report.html')
    .option('--cost-per-hour <x>', 'money units per billed compute hour (simulated GPU-hours, GPU-hours or wall-hours)', parseRate)
    .action(async (o) => {
      const store = openExisting(o.storage);
      try {
        checkOutFile('--out', o.out, [storageFile(o.storage) ?? '']);
        const names = pickExperiments(store, o.name).map((e) => e.name);
        const data = await writeReport(store, o.out, { storage: o.storage, names, costPerHour: o.costPerHour });
        console.log(`wrote ${o.out}: ${data.experiments.length} experiment(s), ${data.totalTrials} trials`);
      } finally {
        store.close();
      }
    });
}
