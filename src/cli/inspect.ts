/** `tsnas trials` and `tsnas best`: read-only views of a storage. */
import type { Command } from 'commander';
import Table from 'cli-table3';
import { bestOf } from '../core/experiment.js';
import { paretoFront } from '../core/pareto.js';
import { openReadOnly, type ReadOnlyStore } from '../store/index.js';
import type { ExperimentRecord } from '../store/types.js';
import { UsageError } from './errors.js';

/** Opens an existing storage for reading only: nothing is created, migrated or written. */
export function openExisting(url: string): ReadOnlyStore {
  return openReadOnly(url);
}

export function pickExperiments(store: Pick<ReadOnlyStore, 'listExperiments'>, name: string | undefined): ExperimentRecord[] {
  const all = store.listExperiments();
  if (name === undefined) {
    if (all.length === 0) throw new UsageError('this storage holds no experiment yet; run tsnas search first');
    return all;
  }
  const e = all.find((x) => x.name === name);
  if (!e) throw new UsageError(`--name ${name}: no such experiment; this storage has: ${all.map((x) => x.name).join(', ')}`);
  return [e];
}

const fmt = (v: number | undefined, d = 2) => (v === undefined || v === null ? '' : v.toFixed(d));

export function registerInspect(program: Command): void {
  program
    .command('trials')
    .description('table of the trials of each experiment in a storage')
    .requiredOption('--storage <url>', 'sqlite:FILE')
    .option('--name <name>', 'only this experiment')
    .option('--limit <n>', 'last n trials only', (v) => {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--limit ${v}: give a whole number >= 1`);
      return n;
    })
    .action((o) => {
      const store = openExisting(o.storage);
      try {
        for (const e of pickExperiments(store, o.name)) {
          const trials = store.getTrials(e.id);
          console.log(`experiment "${e.name}" (${e.config.strategy.name}, ${e.config.spaceName ?? 'define-by-run'}): ${trials.length} trials`);
          const table = new Table({
            head: ['#', 'state', 'value', 'params', 'sim s', 'wall s', 'error'],
            style: process.stdout.isTTY ? {} : { head: [], border: [] },
          });
          for (const t of o.limit ? trials.slice(-o.limit) : trials) {
            table.push([
              t.number,
              t.state,
              t.values ? t.values.map((v) => fmt(v, 4)).join(', ') : '',
              JSON.stringify(t.params),
              fmt(t.cost.simulatedSeconds, 1),
              fmt(t.cost.wallSeconds, 3),
              t.error ?? '',
            ]);
          }
          console.log(table.toString());
        }
      } finally {
        store.close();
      }
    });

  program
    .command('best')
    .description('the best trial as JSON (the Pareto front for several objectives)')
    .requiredOption('--storage <url>', 'sqlite:FILE')
    .option('--name <name>', 'experiment (required when the storage has several)')
    .action((o) => {
      const store = openExisting(o.storage);
      try {
        const exps = pickExperiments(store, o.name);
        if (exps.length > 1) {
          throw new UsageError(`this storage has ${exps.length} experiments; pick one with --name (${exps.map((e) => e.name).join(', ')})`);
        }
        const e = exps[0]!;
        const trials = store.getTrials(e.id);
        const { directions } = e.config;
        const out =
          directions.length > 1
            ? { experiment: e.name, directions, pareto_front: paretoFront(trials, directions) }
            : { experiment: e.name, direction: directions[0], trials: trials.length, best: bestOf(trials, directions) };
        console.log(JSON.stringify(out, null, 2));
      } finally {
        store.close();
      }
    });
}
