/**
 * NAS-Bench-201 search benchmark, the paper's protocol (Dong & Yang, ICLR 2020, Table 5): search on
 * the CIFAR-10 12-epoch validation accuracy with a simulated training-time budget, pick the best by
 * that metric, report the pick's 200-epoch test accuracy on CIFAR-10 and CIFAR-100.
 *
 *   npm run bench:nb201 -- --strategy random --runs 200 --budget-seconds 12000
 *   npm run bench:nb201 -- --strategy all --runs 300
 *
 * Runs are split across worker processes (--jobs, default: cores). Run r uses seed r.
 */
import { runParallel } from './parallel.js';
import os from 'node:os';
import { Command, Option } from 'commander';
import { Experiment } from '../src/core/experiment.js';
import { Nb201Evaluator, loadNb201Table } from '../src/estimate/nb201.js';
import { MemoryStore } from '../src/store/memory.js';
import { createStrategy, strategyNames } from '../src/strategy/index.js';

/** Published (Table 5): CIFAR-10 test mean, std; CIFAR-100 test mean. */
const PUBLISHED: Record<string, { c10: number; c10std: number; c100: number; name: string }> = {
  evolution: { name: 'REA', c10: 93.92, c10std: 0.3, c100: 71.84 },
  reinforce: { name: 'REINFORCE', c10: 93.85, c10std: 0.37, c100: 71.71 },
  random: { name: 'RS', c10: 93.7, c10std: 0.36, c100: 71.04 },
  bohb: { name: 'BOHB', c10: 93.61, c10std: 0.52, c100: 70.85 },
};
/** Strategies `--strategy all` runs, in table order. Grid is left out (it cannot finish 15,625 points in budget). */
const ALL = ['random', 'evolution', 'reinforce', 'tpe', 'bo'];

interface RunResult {
  strategy: string;
  run: number;
  c10: number;
  c100: number;
  queries: number;
}

interface Job {
  strategy: string;
  runs: number[];
  budget: number;
  dir?: string;
  options: Record<string, unknown>;
}

async function runOne(strategy: string, run: number, budget: number, dir: string | undefined, options: Record<string, unknown>): Promise<RunResult> {
  const ev = new Nb201Evaluator({ dir, dataset: 'cifar10', epochs: 12 });
  const c100 = loadNb201Table('cifar100', dir);
  const exp = Experiment.open({
    store: new MemoryStore(),
    name: `nb201-${strategy}-${run}`,
    strategy: createStrategy(strategy, options),
    space: ev.space,
    spaceName: 'nb201',
    seed: run,
  });
  await exp.optimize(ev.objective, { budgetSeconds: budget });
  const best = exp.bestTrial()!;
  const a = ev.query(best.params);
  return { strategy, run, c10: a.testAcc200, c100: c100.get(a.arch)!.testAcc200, queries: exp.trials().length };
}

async function worker(job: Job): Promise<void> {
  for (const r of job.runs) process.send!(await runOne(job.strategy, r, job.budget, job.dir, job.options));
}

function meanStd(xs: number[]): [number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length;
  return [m, Math.sqrt(v)];
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--worker');
  if (i >= 0) return worker(JSON.parse(process.argv[i + 1]!) as Job);
  const program = new Command()
    .name('bench:nb201')
    .option('--strategy <name>', `strategy or "all" (${ALL.join(', ')})`, 'random')
    .option('--runs <n>', 'independent searches (seeds 0..n-1)', (v) => parseInt(v, 10), 200)
    .option('--budget-seconds <s>', 'simulated training-time budget per search', (v) => parseFloat(v), 12000)
    .addOption(new Option('--dataset <name>', 'dataset searched on').choices(['cifar10']).default('cifar10'))
    .option('--nb201-dir <dir>', 'folder with nb201_cifar10.csv / nb201_cifar100.csv')
    .option('--jobs <n>', 'worker processes', (v) => parseInt(v, 10), os.availableParallelism())
    .option('--options <json>', 'strategy options as JSON', '{}')
    .parse();
  const o = program.opts();
  const strategies = o.strategy === 'all' ? ALL : [o.strategy as string];
  for (const s of strategies) {
    if (!strategyNames().includes(s)) {
      console.error(`unknown strategy "${s}"; choose one of: ${strategyNames().join(', ')}, all`);
      process.exit(2);
    }
  }
  loadNb201Table('cifar10', o.nb201Dir);
  const summary: Record<string, { c10_test_mean: number; c10_test_std: number; c100_test_mean: number; c100_test_std: number; runs: number; mean_queries: number; seconds_wall: number }> = {};
  for (const s of strategies) {
    const t0 = Date.now();
    const res = await runParallel<Omit<Job, "runs">, RunResult>({ strategy: s, budget: o.budgetSeconds, dir: o.nb201Dir, options: JSON.parse(o.options) }, o.runs, o.jobs);
    const [m10, s10] = meanStd(res.map((r) => r.c10));
    const [m100, s100] = meanStd(res.map((r) => r.c100));
    summary[s] = {
      c10_test_mean: +m10.toFixed(3),
      c10_test_std: +s10.toFixed(3),
      c100_test_mean: +m100.toFixed(3),
      c100_test_std: +s100.toFixed(3),
      runs: res.length,
      mean_queries: +meanStd(res.map((r) => r.queries))[0].toFixed(1),
      seconds_wall: +((Date.now() - t0) / 1000).toFixed(1),
    };
  }
  console.log(`\nNAS-Bench-201, CIFAR-10 search, ${o.budgetSeconds} simulated s, ${o.runs} runs (ours) vs Dong & Yang 2020 Table 5 (500 runs)`);
  console.log('strategy    | ours C10 test  | paper C10 test       | ours C100 test | paper C100 | queries | wall s');
  for (const [s, r] of Object.entries(summary)) {
    const p = PUBLISHED[s];
    const paper10 = p ? `${p.c10.toFixed(2)}±${p.c10std.toFixed(2)} ${p.name}` : '-';
    console.log(
      `${s.padEnd(11)} | ${r.c10_test_mean.toFixed(2)}±${r.c10_test_std.toFixed(2)}     | ${paper10.padEnd(20)} | ${r.c100_test_mean.toFixed(2)}±${r.c100_test_std.toFixed(2)}     | ${p ? p.c100.toFixed(2) : '-'.padEnd(5)}      | ${r.mean_queries.toFixed(1).padStart(7)} | ${r.seconds_wall}`,
    );
  }
  console.log('optimum: CIFAR-10 test 94.37, CIFAR-100 test 73.51');
  if (o.strategy === 'all') {
    const out: Record<string, unknown> = {};
    for (const [s, r] of Object.entries(summary)) out[s] = { c10_test_mean: r.c10_test_mean, c10_test_std: r.c10_test_std, runs: r.runs };
    console.log(JSON.stringify(out));
  } else {
    const r = summary[strategies[0]!]!;
    console.log(
      JSON.stringify({
        strategy: strategies[0],
        runs: r.runs,
        budget_seconds: o.budgetSeconds,
        c10_test_mean: r.c10_test_mean,
        c10_test_std: r.c10_test_std,
        c100_test_mean: r.c100_test_mean,
        c100_test_std: r.c100_test_std,
        mean_queries: r.mean_queries,
        seconds_wall: r.seconds_wall,
      }),
    );
  }
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
