/** `tsnas search`: runs (or resumes) a search in a storage, with a progress bar on a terminal. */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { Experiment, isDone, simulatedSpent } from '../core/experiment.js';
import { createStrategy } from '../strategy/index.js';
import { openStore } from '../store/index.js';
import type { TrialRecord } from '../store/types.js';
import { UsageError } from './errors.js';
import { resolveTarget } from './targets.js';

function num(name: string, positive = true) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || (positive && n <= 0)) throw new UsageError(`${name} ${v}: give a ${positive ? 'positive ' : ''}number`);
    return n;
  };
}

function parseJsonOption(name: string, v: string): Record<string, unknown> {
  try {
    const o = JSON.parse(v);
    if (o && typeof o === 'object' && !Array.isArray(o)) return o;
  } catch {
    /* reported below */
  }
  throw new UsageError(`${name} ${v}: give a JSON object, e.g. '{"populationSize": 10}'`);
}

export function registerSearch(program: Command): void {
  program
    .command('search')
    .description('run or resume a search; rerunning the same command continues it')
    .requiredOption('--space <name|file.json>', 'nb201, or a JSON space file used with --objective')
    .option('--strategy <name>', 'search strategy', 'random')
    .option('--options <json>', 'strategy options as a JSON object', '{}')
    .option('--objective <file.mjs>', 'module exporting objective(trial) for a JSON space')
    .option('--direction <dir>', 'maximize or minimize (JSON spaces)', 'maximize')
    .option('--budget-seconds <s>', 'stop when the simulated training clock reaches this', num('--budget-seconds'))
    .option('--trials <n>', 'stop when the experiment has this many finished trials', num('--trials'))
    .option('--timeout <s>', 'stop starting trials after this many wall-clock seconds', num('--timeout'))
    .option('--seed <n>', 'random seed', num('--seed', false), 0)
    .option('--storage <url>', 'sqlite:FILE or memory:', 'sqlite:tsnas.db')
    .option('--name <name>', 'experiment name (default: <space>-<strategy>-seed<seed>)')
    .option('--nb201-dir <dir>', 'folder of the NAS-Bench-201 tables (default: env TSNAS_NB201_DIR or ../shared/data/nb201)')
    .option('--dataset <name>', 'dataset (nb201: cifar10 or cifar100)')
    .option('--no-progress', 'no progress bar')
    .action(async (o) => {
      if (o.budgetSeconds === undefined && o.trials === undefined && o.timeout === undefined) {
        throw new UsageError('search: give a stop condition: --trials N, --budget-seconds S or --timeout S');
      }
      const options = parseJsonOption('--options', o.options);
      const strategy = createStrategy(o.strategy, options);
      const target = await resolveTarget(o);
      const store = openStore(o.storage);
      const name = o.name ?? `${target.spaceName}-${o.strategy}-seed${o.seed}`;
      try {
        const exp = Experiment.open({
          store,
          name,
          strategy,
          strategyOptions: options,
          space: target.space,
          spaceName: target.spaceName,
          directions: target.directions,
          seed: o.seed,
          meta: target.meta,
        });
        const before = exp.trials();
        const resumed = before.filter(isDone).length;
        if (before.length > 0) {
          const failed = before.filter((t) => t.attrs.abandoned === true).length;
          console.log(`resuming experiment "${name}": ${resumed} finished trials kept, ${failed} abandoned (marked FAILED)`);
        }
        const bar = makeBar(o, resumed, simulatedSpent(before));
        let best: number | null = null;
        await exp.optimize(target.objective, {
          nTrials: o.trials,
          budgetSeconds: o.budgetSeconds,
          timeoutSeconds: o.timeout,
          onTrialEnd: (t: TrialRecord, e) => {
            const b = e.bestTrial();
            best = b?.values?.[0] ?? null;
            if (!bar) return;
            const trials = e.trials();
            bar.update(o.budgetSeconds ? Math.min(o.budgetSeconds, simulatedSpent(trials)) : trials.filter(isDone).length, {
              best: best === null ? '-' : best.toFixed(4),
              state: t.state,
            });
          },
        });
        bar?.stop();
        summarize(exp);
      } finally {
        store.close();
      }
    });
}

function makeBar(o: { progress: boolean; budgetSeconds?: number; trials?: number }, done: number, spent: number) {
  if (!o.progress || !process.stderr.isTTY || (o.budgetSeconds === undefined && o.trials === undefined)) return null;
  const bar = new cliProgress.SingleBar(
    { format: ' {bar} {percentage}% | {value}/{total} ' + (o.budgetSeconds ? 'sim s' : 'trials') + ' | best {best} | eta {eta_formatted}' },
    cliProgress.Presets.shades_classic,
  );
  bar.start(o.budgetSeconds ?? o.trials!, o.budgetSeconds ? spent : done, { best: '-', state: '' });
  return bar;
}

function summarize(exp: Experiment): void {
  const trials = exp.trials();
  const count = (s: string) => trials.filter((t) => t.state === s).length;
  const wall = trials.reduce((a, t) => a + t.cost.wallSeconds, 0);
  console.log(
    `experiment "${exp.name}": ${trials.length} trials (${count('COMPLETE')} complete, ${count('PRUNED')} pruned, ${count('FAILED')} failed), ` +
      `simulated ${simulatedSpent(trials).toFixed(0)} s, trial wall ${wall.toFixed(2)} s`,
  );
  const best = exp.bestTrial();
  if (best) console.log(`best: trial #${best.number} value ${best.values!.join(', ')} params ${JSON.stringify(best.params)}`);
}
