/** `tsnas search`: runs (or resumes) a search in a storage, with a progress bar on a terminal. */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { Experiment, isDone, simulatedSpent } from '../core/experiment.js';
import { createStrategy } from '../strategy/index.js';
import { strategyOptionsProblem } from '../strategy/options.js';
import { openStore } from '../store/index.js';
import type { TrialRecord } from '../core/store.js';
import { UsageError } from './errors.js';
import { resolveTarget } from './targets.js';

import { checkPoolSize, createExecutor, insecureRedisWarning, keepRunningFor, objectiveSpecFor, resolveObjectiveSpec, runWithExecutor, checkRedis, type ExecutorKind, type ObjectiveSpec } from '../run/index.js';
import { isScheduler, rungSummary, schedulerOptions } from './schedulers.js';

function num(name: string, positive = true) {
  return (v: string): number => {
    const n = v.trim() === '' ? NaN : Number(v);
    if (!Number.isFinite(n) || (positive && n <= 0)) throw new UsageError(`${name} ${v}: give a ${positive ? 'positive ' : ''}number`);
    return n;
  };
}

/** A whole number >= `min` (trial counts, seeds, workers). */
function whole(name: string, min: number) {
  return (v: string): number => {
    const n = v.trim() === '' ? NaN : Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${name} ${v}: give a whole number >= ${min}`);
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
    .requiredOption(
      '--space <name|file.json>',
      'nb201 (tabular benchmark); chain, dag, cell or nb201-cell (trained for real on --dataset); or a JSON space file used with --objective',
    )
    .option('--strategy <name>', 'random, grid, tpe, bo, evolution, reinforce; multi-fidelity schedulers: sh, hyperband, asha, bohb', 'random')
    .option('--options <json>', 'strategy options as a JSON object', '{}')
    .option('--objective <file.mjs>', 'module exporting objective(trial) for a JSON space')
    .option('--direction <dir>', 'maximize or minimize (JSON spaces)', 'maximize')
    .option('--budget-seconds <s>', 'stop when the simulated training clock reaches this', num('--budget-seconds'))
    .option('--trials <n>', 'stop when the experiment has this many finished trials', whole('--trials', 1))
    .option('--timeout <s>', 'stop starting trials after this many wall-clock seconds', num('--timeout'))
    .option('--seed <n>', 'random seed', whole('--seed', 0), 0)
    .option('--storage <url>', 'sqlite:FILE or memory:', 'sqlite:tsnas.db')
    .option('--name <name>', 'experiment name (default: <space>-<strategy>-seed<seed>)')
    .option('--nb201-dir <dir>', 'folder of the NAS-Bench-201 tables (default: env TSNAS_NB201_DIR or the tables shipped in data/nb201)')
    .option('--dataset <name>', 'dataset (nb201: cifar10 or cifar100; trained spaces: fashion-mnist, mnist, iris, synthetic or FILE.csv)')
    .option('--target <column>', 'column to predict (CSV datasets)')
    .option('--epochs <n>', 'training epochs per trial (fidelity; default 3)', num('--epochs'))
    .option('--data-fraction <f>', 'stratified fraction of the training set per trial (fidelity; default 1)', num('--data-fraction'))
    .option('--resolution <px>', 'downscale images to this side length (fidelity)', num('--resolution'))
    .option('--width <m>', 'width multiplier on every layer (fidelity)', num('--width'))
    .option('--cells <n>', 'cells per stage (fidelity; cell spaces)', num('--cells'))
    .option('--batch-size <n>', 'training mini-batch size (default 64)', num('--batch-size'))
    .option('--optimizer <name>', 'adam, sgd, momentum or rmsprop (default adam)')
    .option('--lr <rate>', 'learning rate (default 1e-3 for adam)', num('--lr'))
    .option('--lr-schedule <kind>', 'constant (default) or cosine annealing to 0 over --epochs (scheduler jobs follow that one schedule)')
    .option('--val-fraction <f>', 'validation fraction split from the training data', num('--val-fraction'))
    .option('--backend <name>', 'tfjs backend: auto (tfjs-node, else wasm, else cpu), tfjs-node, wasm or cpu', 'auto')
    .option('--threads <n|auto>', 'trained spaces: threads of each training run (data-parallel); auto = cores / trials in flight (default 1)')
    .option('--no-evaluate-test', 'trained spaces: do not retrain the best trial and report its test metric at the end')
    .option('--final-epochs <n>', 'epochs of the best trial\'s retraining for the test evaluation (default: --epochs)', num('--final-epochs'))
    .option('--final-data-fraction <f>', 'training fraction of that retraining (default: --data-fraction)', num('--final-data-fraction'))
    .option('--no-progress', 'no progress bar')
    .option('--executor <kind>', 'inprocess, pool (child processes) or bullmq (workers on a Redis queue)', 'inprocess')
    .option('--workers <n>', 'trials in flight (pool: processes, default cores; bullmq: default 4)', whole('--workers', 1))
    .option('--redis <url>', 'Redis for --executor bullmq, e.g. redis://127.0.0.1:6379')
    .option('--queue <name>', 'queue name for --executor bullmq (workers use the same)', 'tsnas')
    .option('--max-old-space-size <mb>', 'pool: heap limit of each trial process in MB', num('--max-old-space-size'))
    .option('--artifacts <dir|redis-url>', 'pool: shared artifact location given to trials')
    .option('--inherit-weights', 'trained spaces: each trial starts from its parent\'s trained weights by network morphism (evolution: the mutated parent, any executor; others, in-process: the nearest finished trial); weights in --artifacts DIR or <storage file>.artifacts')
    .action(async (o) => {
      const kind = o.executor as ExecutorKind;
      if (!['inprocess', 'pool', 'bullmq'].includes(kind)) throw new UsageError(`--executor ${kind}: use inprocess, pool or bullmq`);
      if (o.workers !== undefined && (!Number.isInteger(o.workers) || o.workers < 1)) throw new UsageError(`--workers ${o.workers}: give a whole number, 1 or more`);
      if (kind === 'pool' && o.workers !== undefined) checkPoolSize(o.workers, '--workers');
      if (kind === 'bullmq') {
        if (!o.redis) throw new UsageError('--executor bullmq needs --redis redis://HOST:PORT');
        await checkRedis(o.redis);
        const warning = insecureRedisWarning(o.redis);
        if (warning) console.error(warning);
      }
      if (o.budgetSeconds === undefined && o.trials === undefined && o.timeout === undefined) {
        throw new UsageError('search: give a stop condition: --trials N, --budget-seconds S or --timeout S');
      }
      const options = parseJsonOption('--options', o.options);
      const problem = strategyOptionsProblem(o.strategy, options);
      if (problem) throw new UsageError(problem);
      const scheduled = isScheduler(o.strategy);
      if (scheduled && o.inheritWeights) {
        throw new UsageError(`--inherit-weights: --strategy ${o.strategy} already continues a promoted trial from its parent's checkpoint; drop one of them`);
      }
      const early = scheduled ? null : createStrategy(o.strategy, options); // unknown names fail before data loads
      const target = await resolveTarget(o);
      // Schedulers: budgets from the target (nb201 tables, epochs); each trial runs at its job's budget.
      const strategyOptions = scheduled ? schedulerOptions(o.strategy, options, target) : options;
      const strategy = early ?? createStrategy(o.strategy, strategyOptions);
      const spec = scheduled || kind !== 'inprocess' || o.workers !== undefined ? (target.spec ?? objectiveSpecFor(o)) : null;
      const runSpec: ObjectiveSpec | null = spec && scheduled ? { kind: 'jobs', objective: spec } : spec;
      const store = openStore(o.storage);
      const name = o.name ?? `${target.label ?? target.spaceName}-${o.strategy}-seed${o.seed}`;
      try {
        const exp = Experiment.open({
          store,
          name,
          strategy,
          strategyOptions,
          space: target.space,
          spaceName: target.spaceName,
          directions: target.directions,
          seed: o.seed,
          meta: target.meta,
          keepRunning: keepRunningFor(kind),
        });
        if (target.strictMeta && JSON.stringify(exp.config.meta ?? null) !== JSON.stringify(target.meta ?? null)) {
          throw new UsageError(
            `experiment "${name}" was run with other data/training options (${JSON.stringify(exp.config.meta)}); ` +
              `rerun with the same options or use another --name`,
          );
        }
        const before = exp.trials();
        const resumed = before.filter(isDone).length;
        if (before.length > 0) {
          const failed = before.filter((t) => t.system.abandoned === true).length;
          console.log(`resuming experiment "${name}": ${resumed} finished trials kept, ${failed} abandoned (marked FAILED)`);
        }
        const bar = makeBar(o, resumed, simulatedSpent(before));
        let best: number | null = null;
        const runOpts = {
          nTrials: o.trials,
          budgetSeconds: o.budgetSeconds,
          timeoutSeconds: o.timeout,
          onTrialEnd: (t: TrialRecord, e: Experiment) => {
            const b = e.bestTrial();
            best = b?.values?.[0] ?? null;
            if (!bar) {
              if (target.evaluator) logTrainedTrial(t, best);
              return;
            }
            const trials = e.trials();
            bar.update(o.budgetSeconds ? Math.min(o.budgetSeconds, simulatedSpent(trials)) : trials.filter(isDone).length, {
              best: best === null ? '-' : best.toFixed(4),
              state: t.state,
            });
          },
        };
        if (kind === 'inprocess' && o.workers === undefined) {
          await exp.optimize(runSpec ? await resolveObjectiveSpec(runSpec) : target.objective, runOpts);
        } else {
          const executor = createExecutor({ executor: kind, workers: o.workers, redis: o.redis, queue: o.queue, maxOldSpaceMb: o.maxOldSpaceSize, artifacts: o.artifacts }, exp);
          await runWithExecutor(exp, executor, { ...runOpts, objective: runSpec! });
        }
        bar?.stop();
        summarize(exp);
        if (scheduled) console.log(rungSummary(exp.trials()));
        const bestTrial = exp.bestTrial();
        if (target.evaluateTest && o.evaluateTest !== false && bestTrial) {
          console.log(`retraining best trial #${bestTrial.number} and evaluating it on the test set...`);
          const r = await target.evaluateTest(bestTrial.params);
          const metric = target.meta?.task === 'regression' ? 'test -MSE' : 'test accuracy';
          console.log(
            `best trial #${bestTrial.number}: ${metric} ${r.test.toFixed(4)} on ${r.testSamples} test samples ` +
              `(val ${r.value.toFixed(4)}; retrained ${r.fidelity.epochs} epochs on ${r.trainSamples} samples in ${r.seconds.toFixed(1)} s, ` +
              `${r.samplesPerSecond.toFixed(0)} samples/s on ${r.backend})`,
          );
        }
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

/** One line per finished trial of a trained space (when no progress bar is shown). */
function logTrainedTrial(t: TrialRecord, best: number | null): void {
  const tr = t.attrs.training as { val?: number[]; samplesPerSecond?: number } | undefined;
  const v = t.values?.[0];
  console.log(
    `trial #${t.number} ${t.state}` +
      (v !== undefined ? ` value ${v.toFixed(4)}` : '') +
      (tr?.val ? ` per-epoch [${tr.val.map((x) => x.toFixed(4)).join(', ')}]` : '') +
      ` ${t.cost.wallSeconds.toFixed(1)} s` +
      (tr?.samplesPerSecond ? ` ${tr.samplesPerSecond.toFixed(0)} samples/s` : '') +
      (t.cost.flops !== undefined ? ` ${(t.cost.flops / 1e6).toFixed(2)} MFLOPs ${t.cost.params} params` : '') +
      (t.error && t.state !== 'COMPLETE' ? ` (${t.error})` : '') +
      ` | best ${best === null ? '-' : best.toFixed(4)}`,
  );
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
