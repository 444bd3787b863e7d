/**
 * Real-training checks at the fm-cells setting (FM_CELLS_SETTING: NB201 cells, C = 8, 1 cell per
 * stage, Fashion-MNIST 1,000 train / 500 val / 500 test at 16x16, Adam 3e-3 cosine, batch 100, wasm,
 * one thread), in this process, nothing from the table:
 *
 *   npm run bench:fm-cells-real                       # ASHA vs full-fidelity random search, 3 seeds
 *   npm run bench:fm-cells-real -- --schedule job --methods asha   # ASHA jobs each on their own cosine schedule
 *   npm run bench:fm-cells-real -- --seed-check 8     # seed noise: 8 table cells retrained with seed 1
 *
 * ASHA vs random search: each run gets the same CPU budget (--budget CPU seconds of training,
 * measured with process.cpuUsage around each job and charged to the experiment's clock; a search
 * stops starting jobs once the clock reaches the budget). Random search trains random cells of the
 * 15,625 for 10 epochs; ASHA (rungs 1, 3, 10 epochs, eta 3, made as `tsnas search --strategy asha`
 * makes it) trains through the training job objective (a promoted job resumes its parent's
 * checkpoint; every job trains on one cosine schedule over 10 epochs, as `tsnas search` trains
 * jobs; --schedule job: each job anneals over its own budget, a promoted job restarting it)
 * and ranks a rung below 10 epochs by --rung-metric (tse: minus the summed epoch-mean training
 * losses, the rule bench:multifidelity uses; val: validation accuracy). Both pick the best 10-epoch
 * validation accuracy among jobs finished within the budget; we report the pick's test accuracy
 * (500 images, evaluated after each 10-epoch job of either method).
 * Last line: {"random": {"test_mean", "tests", "cpu_s"}, "asha": {...}}.
 *
 * Seed check: the first --seed-check cells of the table retrained with initialisation/shuffling seed
 * --seed (the table used 0): Spearman of the two runs' final validation and test accuracy, and the
 * sd of their difference (what one retraining moves a cell by).
 */
import { Command } from 'commander';
import { bestOf, Experiment } from '../src/core/experiment.js';
import type { Trial } from '../src/core/trial.js';
import { loadNamedDataset } from '../src/data/registry.js';
import { FM_CELLS_SETTING as S, loadFmCellsTable } from '../src/estimate/fm-cells.js';
import { spearman } from '../src/estimate/proxies/index.js';
import type { Job } from '../src/strategy/schedulers/index.js';
import { TrainingEvaluator } from '../src/estimate/train.js';
import { trainingJobObjective } from '../src/estimate/train-jobs.js';
import { NB201_SPACE } from '../src/space/nb201.js';
import { nb201ArchSpace, nb201ArchString, parseNb201Arch } from '../src/space/arch/index.js';
import { MemoryStore } from '../src/store/memory.js';
import { createStrategy } from '../src/strategy/index.js';

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const sd = (xs: number[]) => Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1));

/** Process CPU seconds at the end of each epoch of the job being trained (for the per-job overhead). */
const epochMarks: number[] = [];

function evaluator(seed: number): TrainingEvaluator {
  const data = loadNamedDataset(S.dataset, { trainCount: S.trainCount + S.valCount, testCount: S.testCount, valFraction: S.valCount / (S.trainCount + S.valCount), seed: S.seed });
  return new TrainingEvaluator({
    archSpace: nb201ArchSpace, data, fidelity: { epochs: S.epochs, widthMultiplier: S.widthMultiplier, cells: S.cells, resolution: S.resolution },
    batchSize: S.batchSize, optimizer: S.optimizer, lr: S.lr, lrSchedule: S.lrSchedule, seed, backend: S.backend,
    onEpoch: () => epochMarks.push(cpuNow()),
  });
}

/**
 * Per-job overhead (model build, tfjs warm-up, test evaluation, checkpoint, disposal): a job's CPU
 * seconds minus its epochs times the median CPU seconds of its epochs after the first (training and
 * validation); only jobs of >= 3 epochs have such a median.
 */
function jobOverhead(c0: number, c1: number, marks: number[]): number | null {
  if (marks.length < 3) return null;
  const d = marks.slice(1).map((m, i) => m - marks[i]!).sort((a, b) => a - b);
  const median = d.length % 2 ? d[(d.length - 1) / 2]! : (d[d.length / 2 - 1]! + d[d.length / 2]!) / 2;
  return c1 - c0 - marks.length * median;
}

interface RunResult { method: string; seed: number; test: number | null; jobs: number; full: number; cpu: number; overheads: number[] }

async function searchRun(ev: TrainingEvaluator, method: 'random' | 'asha', seed: number, budget: number, rungMetric: 'val' | 'tse', schedule: 'max' | 'job'): Promise<RunResult> {
  const lossSum = new Map<number, number>(); // trial number -> summed epoch-mean losses up to its budget
  const tests = new Map<number, number>();
  const jobs = trainingJobObjective(ev, {
    maxCheckpoints: 12,
    scheduleEpochs: schedule === 'job' ? 'job' : S.epochs,
    test: (job) => job.budget === S.epochs,
    value: (r, trial, job) => {
      // A resumed job's result holds only its own epochs: add its parent's sum.
      const resumed = r.epochs[0]!.epoch > 1 && job.parent !== null;
      const tse = (resumed ? lossSum.get(job.parent!) ?? 0 : 0) + r.epochs.reduce((s, e) => s + e.loss, 0);
      lossSum.set(trial.number, tse);
      if (r.test !== undefined) tests.set(trial.number, 100 * r.test);
      return job.budget < S.epochs && rungMetric === 'tse' ? -tse : r.value;
    },
  });
  // One job: train, charge its CPU seconds to the experiment's clock.
  const overheads: number[] = [];
  const run = async (trial: Trial, job: Pick<Job, 'budget' | 'previousBudget' | 'parent'>): Promise<number> => {
    epochMarks.length = 0;
    const c0 = cpuNow();
    const v = await jobs.objective(trial, job);
    const c1 = cpuNow();
    trial.charge(c1 - c0);
    const o = jobOverhead(c0, c1, epochMarks);
    if (o !== null) overheads.push(o);
    return v;
  };
  const strategy = method === 'asha' ? createStrategy('asha', { budgets: [1, 3, S.epochs], eta: 3 }) : createStrategy('random');
  const exp = Experiment.open({ store: new MemoryStore(), name: `${method}-${seed}`, strategy, space: NB201_SPACE, seed });
  const objective = method === 'asha'
    ? (t: Trial) => run(t, t.system.job as Job)
    : (t: Trial) => run(t, { budget: S.epochs, previousBudget: 0, parent: null });
  let spent = 0;
  let pick: number | null = null;
  let full = 0;
  await exp.optimize(objective, {
    budgetSeconds: budget,
    onTrialEnd: (t, e) => {
      spent += t.cost.simulatedSeconds;
      if (spent > budget) return; // finished after the budget: does not count
      const b = (t.system.job as Job | undefined)?.budget ?? S.epochs;
      if (b === S.epochs && t.state === 'COMPLETE') full++;
      const best = bestOf(e.trials().filter((x) => x.number <= t.number), e.directions);
      if (best && ((best.system.job as Job | undefined)?.budget ?? S.epochs) === S.epochs) pick = tests.get(best.number) ?? null;
      console.error(`  ${method} seed ${seed}: ${nb201ArchString(t.params)} @${b} value ${t.values?.[0]?.toFixed(2)} clock ${spent.toFixed(0)}/${budget} s`);
    },
  });
  jobs.dispose();
  return { method, seed, test: pick, jobs: exp.trials().length, full, cpu: spent, overheads };
}

async function seedCheck(n: number, seed: number): Promise<void> {
  const rows = loadFmCellsTable().rows.slice(0, n);
  const ev = evaluator(seed);
  const a: { val: number; test: number; tv: number; tt: number }[] = [];
  for (const r of rows) {
    const t = await ev.train(parseNb201Arch(r.arch), undefined, { test: true });
    a.push({ val: 100 * t.value, test: 100 * t.test!, tv: 100 * r.val.at(-1)!, tt: 100 * r.test.at(-1)! });
    console.error(`  ${r.arch}: val ${a.at(-1)!.val.toFixed(1)} (table ${a.at(-1)!.tv.toFixed(1)}), test ${a.at(-1)!.test.toFixed(1)} (table ${a.at(-1)!.tt.toFixed(1)})`);
  }
  const ok = a.filter((x) => x.tt > 50);
  console.log(`seed check: ${n} table cells retrained with seed ${seed} (table: seed 0); ${ok.length} cells that learn (test > 50%):`);
  console.log(`  Spearman seed ${seed} vs seed 0: val ${spearman(ok.map((x) => x.val), ok.map((x) => x.tv)).toFixed(2)}, test ${spearman(ok.map((x) => x.test), ok.map((x) => x.tt)).toFixed(2)}`);
  console.log(`  sd of the seed-to-seed difference: val ${sd(ok.map((x) => x.val - x.tv)).toFixed(2)}, test ${sd(ok.map((x) => x.test - x.tt)).toFixed(2)} points; sd of the cells' test accuracy ${sd(ok.map((x) => x.tt)).toFixed(2)}`);
  console.log(JSON.stringify({ seed_check: { cells: ok.length, val_diff_sd: +sd(ok.map((x) => x.val - x.tv)).toFixed(3), test_diff_sd: +sd(ok.map((x) => x.test - x.tt)).toFixed(3) } }));
}

async function main(): Promise<void> {
  const o = new Command()
    .name('bench:fm-cells-real')
    .option('--runs <n>', 'seeds per method', (v) => parseInt(v, 10), 3)
    .option('--first-seed <n>', 'seed of the first run', (v) => parseInt(v, 10), 0)
    .option('--budget <s>', 'CPU seconds of training per run', (v) => parseFloat(v), 100)
    .option('--rung-metric <m>', 'what ASHA ranks a rung below 10 epochs by: tse or val', 'tse')
    .option('--methods <list>', 'comma-separated: random, asha', 'random,asha')
    .option('--schedule <s>', "ASHA jobs' cosine schedule: max (one 10-epoch schedule) or job (each job's own budget)", 'max')
    .option('--seed-check <n>', 'instead: retrain the first n table cells with --seed')
    .option('--seed <n>', 'seed of the seed check', (v) => parseInt(v, 10), 1)
    .parse()
    .opts();
  if (o.seedCheck !== undefined) return seedCheck(parseInt(o.seedCheck, 10), o.seed);
  if (!['val', 'tse'].includes(o.rungMetric)) {
    console.error(`bench:fm-cells-real: --rung-metric ${o.rungMetric}: use val or tse`);
    process.exit(2);
  }
  if (!['max', 'job'].includes(o.schedule)) {
    console.error(`bench:fm-cells-real: --schedule ${o.schedule}: use max or job`);
    process.exit(2);
  }
  const methods = String(o.methods).split(',');
  if (methods.length === 0 || methods.some((m) => m !== 'random' && m !== 'asha')) {
    console.error(`bench:fm-cells-real: --methods ${o.methods}: use random, asha or random,asha`);
    process.exit(2);
  }
  const ev = evaluator(S.seed);
  const res: RunResult[] = [];
  const t0 = Date.now();
  const c0 = cpuNow();
  for (let r = 0; r < o.runs; r++) {
    for (const m of methods as ('random' | 'asha')[]) {
      const x = await searchRun(ev, m, o.firstSeed + r, o.budget, o.rungMetric, o.schedule);
      res.push(x);
      console.log(`${m.padEnd(6)} seed ${x.seed}: pick test ${x.test?.toFixed(2) ?? '-'}%, ${x.jobs} jobs (${x.full} at 10 epochs), ${x.cpu.toFixed(0)} CPU s charged`);
    }
  }
  const out: Record<string, { test_mean: number; tests: (number | null)[]; full_trainings: number; overhead_cpu_s?: number }> = {};
  console.log(`\nreal training at the fm-cells setting, ${o.budget} CPU s per run, ${o.runs} seeds; ASHA rungs 1/3/10 ranked by ${o.rungMetric}, schedule ${o.schedule}; ${((Date.now() - t0) / 60000).toFixed(1)} wall min, ${((cpuNow() - c0) / 60).toFixed(1)} CPU min in all`);
  for (const m of methods) {
    const xs = res.filter((x) => x.method === m);
    const tests = xs.map((x) => x.test);
    out[m] = { test_mean: +mean(tests.filter((t): t is number => t !== null)).toFixed(2), tests: tests.map((t) => (t === null ? null : +t.toFixed(2))), full_trainings: +mean(xs.map((x) => x.full)).toFixed(1) };
    const oh = xs.flatMap((x) => x.overheads);
    const jobsPerRun = mean(xs.map((x) => x.jobs));
    out[m].overhead_cpu_s = +mean(oh).toFixed(3);
    console.log(
      `${m.padEnd(6)} | pick test ${out[m].test_mean.toFixed(2)}% (${tests.map((t) => t?.toFixed(1) ?? '-').join(', ')}) | ${jobsPerRun.toFixed(1)} jobs, ${out[m].full_trainings} at 10 epochs` +
        ` | overhead ${mean(oh).toFixed(2)} CPU s per job (sd ${sd(oh).toFixed(2)}, ${oh.length} jobs of >= 3 epochs), ~${((100 * mean(oh) * jobsPerRun) / o.budget).toFixed(0)}% of the budget`,
    );
  }
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error((e as Error).stack ?? String(e));
  process.exit(1);
});
