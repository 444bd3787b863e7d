/** `tsnas trials` and `tsnas best`: read-only views of a storage. */
import type { Command } from 'commander';
import { bestOf } from '../core/experiment.js';
import { paretoFront } from '../core/pareto.js';
import { openReadOnly, type ReadOnlyStore } from '../store/index.js';
import type { ExperimentRecord, TrialRecord } from '../core/store.js';
import { isNb201Params } from '../report/arch.js';
import { clip, formatColumns, NB201_EDGE_KEY, num, paramParts, seconds, paramsText, rankParams, safeJson, safeText, type Column } from './trial-text.js';
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
  if (!e) throw new UsageError(`--name ${safeText(name)}: no such experiment; this storage has: ${all.map((x) => safeText(x.name)).join(', ')}`);
  return [e];
}

/** Width to fit: the terminal's, or 120 columns when the output is not a terminal. */
const termWidth = () => (process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 120);

function experimentLine(e: ExperimentRecord, n: number): string {
  return `experiment "${safeText(e.name)}" (${safeText(e.config.strategy.name)}, ${safeText(e.config.spaceName ?? 'define-by-run')}): ${n} trials`;
}

/** The trials table: one line per trial, params as the NB201 cell or the most varying params, cut to `width`. */
export function trialsTable(trials: readonly TrialRecord[], width: number): string {
  const { varying, fixed } = rankParams(trials);
  const nb = trials.length > 0 && isNb201Params(trials[0]!.params);
  const fixedText = paramsText(fixed, Object.keys(fixed).filter((k) => !(nb && NB201_EDGE_KEY.test(k))));
  const columns: Column[] = [
    { head: '#', right: true, max: 7 },
    { head: 'state', max: 8 },
    { head: 'value', right: true, max: 20 },
    { head: varying.length ? 'params (most varying first)' : 'params', max: 400 },
    { head: 'sim s', right: true, max: 9 },
    { head: 'wall s', right: true, max: 9 },
    { head: 'error', max: 24 },
  ];
  const rows = trials.map((t) => [
    String(t.number),
    safeText(t.state),
    t.values ? t.values.map(num).join(', ') : '',
    paramsText(t.params, varying, width),
    seconds(t.cost.simulatedSeconds),
    seconds(t.cost.wallSeconds),
    t.error ? safeText(t.error.split('\n')[0]!) : '',
  ]);
  const head = [
    nb ? 'params: the NB201 cell, ops into node 1 | node 2 | node 3 (c3/c1 = conv 3x3/1x1, avg = avg pool, skip, - = none)' : '',
    fixedText ? clip(`same in every trial: ${fixedText}`, width) : '',
  ].filter(Boolean);
  return [...head, formatColumns(columns, rows, width, 3)].join('\n');
}

/** `tsnas best` without --json: the best trial (or the Pareto front) in a few lines. */
export function bestSummary(e: ExperimentRecord, trials: readonly TrialRecord[], width: number): string {
  const { directions } = e.config;
  const names = e.config.objectiveNames ?? directions.map((_, i) => (directions.length > 1 ? `objective ${i}` : 'value'));
  const out = [`${experimentLine(e, trials.length)}, ${directions.join('/')}`];
  const describe = (t: TrialRecord, indent: string) => {
    out.push(`${indent}trial #${t.number}: ${t.values!.map((v, i) => `${safeText(names[i] ?? `objective ${i}`)} ${num(v)}`).join(', ')}`);
    const cost = [t.cost.simulatedSeconds ? `simulated ${seconds(t.cost.simulatedSeconds)} s` : '', `wall ${seconds(t.cost.wallSeconds)} s`].filter(Boolean).join(', ');
    out.push(`${indent}  cost: ${cost}`);
    // params packed into lines that fit
    let line = `${indent}  params:`;
    for (const [i, p] of paramParts(t.params, Object.keys(t.params)).entries()) {
      if (i > 0 && line.length + 1 + p.length > width) {
        out.push(line);
        line = `${indent}         `;
      }
      line += ` ${p}`;
    }
    out.push(line);
  };
  if (directions.length > 1) {
    const front = paretoFront(trials, directions);
    out.push(`Pareto front: ${front.length} trials`);
    for (const t of front.slice(0, 10)) describe(t, '  ');
    if (front.length > 10) out.push(`  ... ${front.length - 10} more; tsnas best --json lists them all`);
  } else {
    const b = bestOf(trials, directions);
    if (!b) out.push('no completed trial yet');
    else describe(b, '');
  }
  out.push('full record: tsnas best --json');
  return out.join('\n');
}

export function registerInspect(program: Command): void {
  program
    .command('trials')
    .description('table of the trials of each experiment in a storage (params: the NB201 cell, or the most varying params)')
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
        const width = termWidth();
        for (const e of pickExperiments(store, o.name)) {
          const trials = store.getTrials(e.id);
          console.log(experimentLine(e, trials.length));
          console.log(trialsTable(o.limit ? trials.slice(-o.limit) : trials, width));
        }
      } finally {
        store.close();
      }
    });

  program
    .command('best')
    .description('the best trial in short (the Pareto front for several objectives); --json for the full record')
    .requiredOption('--storage <url>', 'sqlite:FILE')
    .option('--name <name>', 'experiment (required when the storage has several)')
    .option('--json', 'the full record as JSON')
    .action((o) => {
      const store = openExisting(o.storage);
      try {
        const exps = pickExperiments(store, o.name);
        if (exps.length > 1) {
          throw new UsageError(`this storage has ${exps.length} experiments; pick one with --name (${exps.map((e) => safeText(e.name)).join(', ')})`);
        }
        const e = exps[0]!;
        const trials = store.getTrials(e.id);
        const { directions } = e.config;
        if (!o.json) {
          console.log(bestSummary(e, trials, termWidth()));
          return;
        }
        const out =
          directions.length > 1
            ? { experiment: e.name, directions, pareto_front: paretoFront(trials, directions) }
            : { experiment: e.name, direction: directions[0], trials: trials.length, best: bestOf(trials, directions) };
        console.log(safeJson(out));
      } finally {
        store.close();
      }
    });
}
