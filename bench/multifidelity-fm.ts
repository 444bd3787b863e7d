/**
 * Multi-fidelity on real learning curves: the fm-cells table (data/fm-cells, every epoch 1..10 a
 * fidelity, CPU seconds as the simulated clock). `npm run bench:multifidelity` runs this; the
 * NAS-Bench-201 version is `npm run bench:multifidelity -- --table nb201`.
 *
 *   npm run bench:multifidelity -- --runs 100 --evo-trainings 30
 *
 * Every method runs --runs seeded searches to B = --evo-trainings x the table's mean CPU seconds of a
 * full 10-epoch training (the evolution reference's compute). Full-fidelity references: random
 * search and evolution (regularized evolution, 10 epochs per trial). Schedulers (made as `tsnas
 * search --space fm-cells --strategy NAME` makes them, jobs objective): sh, hyperband, asha, bohb on
 * rungs --budgets (default 1, 3, 10 epochs, eta 3); a promoted configuration continues from its
 * epoch and pays only the extra epochs; a rung below 10 epochs is ranked by validation accuracy,
 * or, for sh-tse, hyperband-tse, asha-tse and bohb-tse, by the training speed estimate (the summed
 * training losses, FmCellsRungMetric; the 10-epoch pick is by validation accuracy for all). Learning-curve
 * stopping: random search at 10 epochs with the curve-ensemble stop rule (LcPruner: predict epoch
 * 10 after every epoch from --lc-min-points 3 on, every --lc-interval 1 epochs; stop when P(better
 * than the best finished) < --lc-threshold, default 0.2) and the median rule beside it.
 * The table's own noise is printed first (spread of the final accuracies, validation vs test rank
 * agreement, how well each epoch's validation accuracy and training speed estimate rank the final test).
 *
 * The pick at any moment is `bestOf` (best validation accuracy at the highest fidelity reached); we
 * report its 10-epoch test accuracy. compute_fraction_of_evolution = the smallest budget at which a
 * method's mean pick reaches evolution's mean at B, divided by B (null: not within B).
 * The stopping check replays the same --lc-trials random configurations (same seed) with and without
 * the stop rule: epochs trained and the pick's test accuracy; --lc-sweep repeats it over thresholds
 * (the savings-vs-pick curve, in the last line's lc.stopping_curve).
 * Last line: {"<method>": {"test_mean": x, "compute_fraction_of_evolution": y}, ...}.
 */
import { Command } from 'commander';
import { bestOf, Experiment, type Objective } from '../src/core/experiment.js';
import { FmCellsEvaluator, type FmCellsRow, type FmCellsRungMetric } from '../src/estimate/fm-cells.js';
import { spearman } from '../src/estimate/proxies/index.js';
import { LcPruner, MedianPruner } from '../src/estimate/pruners/index.js';
import type { Pruner } from '../src/core/pruner.js';
import { resolveObjectiveSpec } from '../src/run/objective-spec.js';
import { MemoryStore } from '../src/store/memory.js';
import { createStrategy } from '../src/strategy/index.js';

const SCHEDULERS = ['sh', 'hyperband', 'asha', 'bohb'];
const ALL = ['evolution', 'random', ...SCHEDULERS, ...SCHEDULERS.map((s) => `${s}-tse`), 'lc', 'median'];

type Curve = [number, number][];

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

function accAt(curve: Curve, budget: number): number | null {
  let acc: number | null = null;
  for (const [s, a] of curve) {
    if (s > budget + 1e-9) break;
    acc = a;
  }
  return acc;
}

/** The learning-curve stop rule's settings (LcPruner: decide at epochs minPoints, minPoints + interval, ...). */
export interface LcSetting {
  threshold: number;
  minPoints: number;
  interval: number;
}
let lcSetting: LcSetting = { threshold: 0.2, minPoints: 3, interval: 1 };

function pruner(name: string, lc: LcSetting = lcSetting): Pruner | undefined {
  if (name === 'lc') return new LcPruner({ targetStep: 10, ...lc, lower: 0, upper: 100, minCompleted: 3 });
  if (name === 'median') return new MedianPruner({ warmupSteps: 2, minCompleted: 5 });
  return undefined;
}

interface RunOpts { budget?: number; nTrials?: number; budgets: number[]; eta: number; lc?: LcSetting }

async function runOne(ev: FmCellsEvaluator, method: string, seed: number, o: RunOpts): Promise<{ curve: Curve; epochs: number; pick: number | null }> {
  const test = (arch: unknown) => ev.testAt(ev.row({ arch: arch as string }));
  const rungMetric: FmCellsRungMetric = method.endsWith('-tse') ? 'tse' : 'val';
  const name = method.replace(/-tse$/, '');
  const sched = SCHEDULERS.includes(name);
  const strategy = sched ? createStrategy(name, { budgets: o.budgets, eta: o.eta }) : createStrategy(method === 'evolution' ? 'evolution' : 'random');
  const objective: Objective = sched ? await resolveObjectiveSpec({ kind: 'jobs', objective: { kind: 'fm-cells', rungMetric } }) : ev.objective;
  const exp = Experiment.open({ store: new MemoryStore(), name: `${method}-${seed}`, strategy, space: ev.space, seed, pruner: pruner(method, o.lc) });
  const curve: Curve = [];
  let spent = 0;
  let epochs = 0;
  await exp.optimize(objective, {
    budgetSeconds: o.budget,
    nTrials: o.nTrials,
    onTrialEnd: (t, e) => {
      spent += t.cost.simulatedSeconds;
      epochs += t.intermediate.length;
      const p = bestOf(e.trials(), e.directions);
      if (p) curve.push([spent, test(p.params.arch)]);
    },
  });
  return { curve, epochs, pick: curve.at(-1)?.[1] ?? null };
}

export async function fmCellsBench(argv: string[]): Promise<void> {
  const o = new Command()
    .name('bench:multifidelity')
    .option('--table <name>', 'fm-cells (this bench) or nb201', 'fm-cells')
    .option('--runs <n>', 'seeded searches per method', (v) => parseInt(v, 10), 100)
    .option('--first-seed <n>', 'seed of the first run', (v) => parseInt(v, 10), 0)
    .option('--methods <list>', `comma-separated (${ALL.join(', ')})`, ALL.join(','))
    .option('--budgets <list>', 'scheduler rungs in epochs', '1,3,10')
    .option('--eta <n>', 'reduction factor', (v) => parseFloat(v), 3)
    .option('--evo-trainings <n>', "evolution's compute B, in mean full trainings", (v) => parseFloat(v), 30)
    .option('--lc-runs <n>', 'runs of lc (curve fits are slow) and of the stopping check', (v) => parseInt(v, 10), 20)
    .option('--lc-threshold <p>', 'lc stops a trial when P(better than the best) is below this', (v) => parseFloat(v), 0.2)
    .option('--lc-trials <n>', 'random configurations per stopping-check run', (v) => parseInt(v, 10), 30)
    .option('--lc-min-points <n>', 'epochs observed before the first lc decision', (v) => parseInt(v, 10), 3)
    .option('--lc-interval <n>', 'epochs between lc decisions', (v) => parseInt(v, 10), 1)
    .option('--lc-sweep <list>', 'the stopping check over these thresholds: the savings-vs-pick curve ("" for none)', '0.05,0.1,0.2,0.3,0.5')
    .parse(argv)
    .opts();
  lcSetting = { threshold: o.lcThreshold, minPoints: o.lcMinPoints, interval: o.lcInterval };
  const ev = new FmCellsEvaluator();
  const methods = (o.methods as string).split(',').map((s) => s.trim());
  for (const m of methods) if (!ALL.includes(m)) {
    console.error(`bench:multifidelity: unknown method "${m}"; choose from ${ALL.join(', ')}`);
    process.exit(2);
  }
  if (!methods.includes('evolution')) methods.unshift('evolution');
  const budgets = (o.budgets as string).split(',').map(Number);
  const rows = ev.table.rows;
  const fullCost = mean(rows.map((r) => ev.secondsTo(r, ev.maxEpochs)));
  const B = o.evoTrainings * fullCost;
  const grid = Array.from({ length: 200 }, (_, i) => ((i + 1) / 200) * B);
  const best = Math.max(...rows.map((r) => ev.testAt(r)));
  const bestVal = rows.reduce((a, r) => (ev.valAt(r, ev.maxEpochs) > ev.valAt(a, ev.maxEpochs) ? r : a));
  console.log(`fm-cells: ${rows.length} NB201 cells trained on Fashion-MNIST (${ev.table.setting.trainCount} train, ${ev.table.setting.resolution}x${ev.table.setting.resolution}), ${ev.maxEpochs} epochs; a full training costs ${fullCost.toFixed(1)} CPU s on average`);
  console.log(`best test accuracy in the table ${best.toFixed(2)}; the best-by-validation architecture tests ${ev.testAt(bestVal).toFixed(2)}; B = ${o.evoTrainings} full trainings = ${B.toFixed(0)} simulated s; ${o.runs} runs (seeds ${o.firstSeed}..${o.firstSeed + o.runs - 1})`);
  for (const l of tableNoise(ev)) console.log(l);
  const out: Record<string, { test_mean: number; compute_fraction_of_evolution: number | null }> = {};
  let target = NaN;
  const lines: string[] = [];
  for (const m of methods) {
    const t0 = Date.now();
    const res: Awaited<ReturnType<typeof runOne>>[] = [];
    const runs = m === 'lc' ? Math.min(o.runs, o.lcRuns) : o.runs; // curve fits take tens of ms each
    for (let r = 0; r < runs; r++) res.push(await runOne(ev, m, o.firstSeed + r, { budget: B, budgets, eta: o.eta}));
    const meanAt = (b: number) => {
      const xs = res.map((x) => accAt(x.curve, b));
      return xs.some((x) => x === null) ? NaN : mean(xs as number[]);
    };
    const atB = meanAt(B);
    if (m === 'evolution') target = atB;
    const reach = grid.find((b) => meanAt(b) >= target - 1e-9);
    out[m] = { test_mean: +atB.toFixed(3), compute_fraction_of_evolution: reach === undefined ? null : +(reach / B).toFixed(3) };
    lines.push(
      `${m.padEnd(13)} | ${[1 / 6, 1 / 3, 1 / 2, 1].map((f) => (Number.isNaN(meanAt(f * B)) ? '-' : meanAt(f * B).toFixed(2)).padStart(7)).join(' | ')} | ${(reach === undefined ? 'never' : (reach / B).toFixed(3)).padStart(8)} | ${mean(res.map((x) => x.epochs)).toFixed(0).padStart(6)} | ${String(runs).padStart(4)} | ${((Date.now() - t0) / 1000).toFixed(1)}`,
    );
  }
  console.log(`\nmean 10-epoch test accuracy (%) of the pick at fractions of B; "reach": compute to reach evolution's ${target.toFixed(2)} at B, as a fraction of B`);
  console.log(`method        |   B/6   |   B/3   |   B/2   |    B    |   reach  | epochs | runs | wall s`);
  for (const l of lines) console.log(l);

  // Stopping check: the same random configurations with and without the stop rule.
  const check = { ev, runs: o.lcRuns, trials: o.lcTrials, firstSeed: o.firstSeed, budgets, eta: o.eta };
  for (const m of methods.filter((x) => x === 'lc' || x === 'median')) {
    const c = await stoppingCheck(check, m, lcSetting);
    console.log(`stopping ${m}${m === 'lc' ? ` (${lcLabel(lcSetting)})` : ''}: ${o.lcTrials} random configurations x ${o.lcRuns} seeds: ${c.line}`);
    Object.assign(out[m] ?? (out[m] = { test_mean: NaN, compute_fraction_of_evolution: null }), { epochs_saved: c.saved, pick_vs_no_stopping: c.delta });
  }
  if (o.lcSweep) {
    const curve: Record<string, number>[] = [];
    console.log(`\nlc stopping: epochs saved vs the pick's loss, ${o.lcTrials} random configurations x ${o.lcRuns} seeds (${o.firstSeed}..${o.firstSeed + o.lcRuns - 1}), the same configurations without stopping as reference`);
    for (const th of (o.lcSweep as string).split(',').map(Number)) {
      const setting = { ...lcSetting, threshold: th };
      const c = await stoppingCheck(check, 'lc', setting);
      console.log(`  ${lcLabel(setting).padEnd(34)} ${c.line}`);
      curve.push({ threshold: th, min_points: setting.minPoints, interval: setting.interval, epochs_saved: c.saved, pick_vs_no_stopping: c.delta, worst: c.worst });
    }
    Object.assign(out.lc ?? (out.lc = { test_mean: NaN, compute_fraction_of_evolution: null }), { stopping_curve: curve });
  }
  console.log(JSON.stringify(out));
}

/** How much of the table is noise: spread of the final accuracies, val vs test ranks, early epochs' ranks. */
function tableNoise(ev: FmCellsEvaluator): string[] {
  const rows = ev.table.rows;
  const E = ev.maxEpochs;
  const ok = rows.filter((r) => ev.testAt(r) > 50); // cells that learn (a cut-off output node tests ~10%)
  const sd = (xs: number[]) => Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1));
  const test = ok.map((r) => ev.testAt(r));
  const at = (f: (r: FmCellsRow) => number) => spearman(ok.map(f), test).toFixed(2);
  const epochs = Array.from({ length: E }, (_, i) => i + 1);
  return [
    `table noise (${ok.length} cells that learn): final test sd ${sd(test).toFixed(2)} points; Spearman of final val with final test ${at((r) => ev.valAt(r, E))}; sd of final val - final test ${sd(ok.map((r) => ev.valAt(r, E) - ev.testAt(r))).toFixed(2)} (500 images each: one image = 0.2 points)`,
    `  Spearman with the final test, by epoch ${epochs.join('/')}: val ${epochs.map((e) => at((r) => ev.valAt(r, e))).join('/')}; training speed estimate ${epochs.map((e) => at((r) => ev.tseAt(r, e))).join('/')}`,
  ];
}

const lcLabel = (s: LcSetting) => `P < ${s.threshold}, decide at ${Array.from({ length: 10 }, (_, i) => i + 1).filter((e) => e >= s.minPoints && e < 10 && (e - s.minPoints) % s.interval === 0).join('/')}`;

/** Random search over `trials` configurations per seed, with and without the stop rule `m`. */
async function stoppingCheck(
  c: { ev: FmCellsEvaluator; runs: number; trials: number; firstSeed: number; budgets: number[]; eta: number }, m: string, lc: LcSetting,
): Promise<{ saved: number; delta: number; worst: number; line: string }> {
  const saved: number[] = [];
  const diff: number[] = [];
  const picks: [number, number][] = [];
  for (let r = 0; r < c.runs; r++) {
    const o = { nTrials: c.trials, budgets: c.budgets, eta: c.eta, lc };
    const full = await runOne(c.ev, 'random', c.firstSeed + r, o);
    const stop = await runOne(c.ev, m, c.firstSeed + r, o);
    saved.push(1 - stop.epochs / full.epochs);
    diff.push(stop.pick! - full.pick!);
    picks.push([full.pick!, stop.pick!]);
  }
  const d = mean(diff);
  const worst = Math.min(...diff);
  return {
    saved: +mean(saved).toFixed(3),
    delta: +d.toFixed(3),
    worst: +worst.toFixed(2),
    line: `epochs saved ${(100 * mean(saved)).toFixed(1)}%, pick ${mean(picks.map((p) => p[1])).toFixed(2)} vs ${mean(picks.map((p) => p[0])).toFixed(2)} without stopping (${d >= 0 ? '+' : ''}${d.toFixed(2)} points; worst run ${worst.toFixed(2)})`,
  };
}
