/**
 * `fit`: from a data source to an exported, reloadable model. It orchestrates the existing pieces:
 * data + preprocessing (data.ts) -> profile -> plan (policy.ts) -> a stored tsnas experiment with the
 * training evaluator (search.ts) -> final retraining on train + validation (final.ts) -> one test
 * evaluation -> export (export.ts) and the HTML report.
 *
 * Time budget: the whole call (loading included) ends by start + budget. The search stops at
 * start + plan.searchShare * budget; the final retraining gets the rest minus a margin for the test
 * evaluation and the export, and stops at its deadline keeping its weights. Fallback when no trial
 * finished in the search share (budget too small for one trial): the best partial trial, else the
 * space's default architecture, is retrained in the remaining time. A budget under MIN_BUDGET_SECONDS,
 * or under that plus the loading time plus the default model's test pass (estimated by the plan's
 * cost model, x3 for a busy machine), is an error naming the minimum.
 *
 * Phases: plan (planPhase here), search (searchPhase in search.ts), final and test (finalPhase and
 * testPhase in final.ts), export (exportFit in export.ts); each says its progress lines through `Say`.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Experiment } from '../core/experiment.js';
import type { CsvRecord } from '../data/preprocess.js';
import type { EpochInfo } from '../estimate/train.js';
import { TrainingEvaluator } from '../estimate/train.js';
import { archSpaceFor } from '../estimate/train-setup.js';
import { initBackend, type BackendChoice } from '../nn/backend.js';
import type { ArchGraph } from '../space/arch/graph.js';
import type { ArchSpace } from '../space/arch/types.js';
import { SpaceError, type Params } from '../space/params.js';
import { lockOutDir, type OutLock } from '../util/output.js';
import { SCHEDULER_STRATEGIES, strategyNames } from '../strategy/index.js';
import type { Store, TrialRecord } from '../core/store.js';
import { FitError, type FitData, loadFitData, type Preprocessing, type TaskOption } from './data.js';
import { defaultParams, startParams } from './defaults.js';
import { exportFit } from './export.js';
import { type FinalResult, finalPhase, testPhase } from './final.js';
import { estimateTrainMicrosPerSample, planFit, type DataProfile, type FitPlan } from './policy.js';
import { inputShapeOf, predictInputs, rowsToInputs } from './predict.js';
import { openFitStore, type SearchOutcome, searchPhase } from './search.js';

export const MIN_BUDGET_SECONDS = 5;
export const DEFAULT_BUDGET_SECONDS = 600;
/** Slow-down assumed for a shared machine when checking that a budget covers the test pass. */
const BUSY_FACTOR = 3;

export interface FitOptions {
  /** A CSV file, an image folder (one sub-folder per class), or mnist | fashion-mnist | iris | synthetic. */
  data: string;
  /** Column to predict (CSV files). */
  target?: string;
  /** Default 'auto' (see data.ts for the rule). */
  task?: TaskOption;
  /** Wall-clock budget of the whole fit: seconds, or '90s', '10m', '1h'. Default 10 minutes unless `trials` is given. */
  timeBudget?: number | string;
  /** Number of search trials (with or without a time budget). */
  trials?: number;
  space?: 'auto' | 'chain' | 'dag' | 'cell';
  strategy?: string;
  /** Fields that replace the plan's (after planFit's rules), e.g. { searchFidelity: { epochs: 10 } }. */
  plan?: Partial<Omit<FitPlan, 'reasons'>>;
  /** Folder to write the model, experiment.db and report.html to (must not hold a previous fit; a killed fit's search is resumed). */
  out?: string;
  /** Replace the fit files `out` holds. */
  force?: boolean;
  seed?: number;
  /** Image folders: resize every image to this side length; grayscale: one luma channel. */
  imageSize?: number;
  grayscale?: boolean;
  backend?: 'auto' | BackendChoice;
  /** Progress lines (the plan, each trial, each final epoch). */
  onProgress?: (e: FitProgress) => void;
}

export interface FitProgress {
  phase: 'plan' | 'search' | 'final' | 'done';
  message: string;
  trial?: TrialRecord;
  epoch?: EpochInfo;
}

/** Progress lines of a fit's phases. */
export type Say = (phase: FitProgress['phase'], message: string, extra?: Partial<FitProgress>) => void;

export interface FitTest {
  metric: 'accuracy' | 'rmse';
  value: number;
  samples: number;
}

/** What fit.json holds. */
export interface FitSummary {
  data: string;
  target?: string;
  task: DataProfile['task'];
  profile: DataProfile;
  budget: { seconds: number | null; trials: number | null };
  seed: number;
  backend: string;
  plan: FitPlan;
  trials: { total: number; complete: number; pruned: number; failed: number };
  best: { source: 'search' | 'partial' | 'default'; trial: number | null; validation: number | null; params: Params };
  final: { epochs: number; plannedEpochs: number; epochRule: string; trainSamples: number; samplesPerSecond: number; seconds: number; stoppedByDeadline: boolean };
  test: FitTest | null;
  /** The final model's multiply-adds and parameters; the search's summed trial wall seconds. */
  cost: { flops: number; params: number; searchTrialSeconds: number };
  seconds: { load: number; search: number; final: number; test: number; export: number; total: number };
}

export interface FitResult {
  /** The trained model (softmax output for classification). */
  model: tf.LayersModel;
  /** The search, in its store (sqlite:<out>/experiment.db, or memory without `out`). */
  experiment: Experiment;
  plan: FitPlan;
  params: Params;
  graph: ArchGraph;
  preprocessing: Preprocessing;
  test: FitTest | null;
  outDir: string | null;
  summary: FitSummary;
  /** Predictions for raw rows (tabular models: records keyed by column) or preprocessed inputs. */
  predict(input: readonly CsvRecord[] | Float32Array): string[] | number[];
  /** Disposes the model and closes the experiment's store. */
  close(): void;
}

/** Seconds from a number or '90s' / '10m' / '1.5h' / '600'. */
export function parseBudget(v: number | string): number {
  if (typeof v === 'number') {
    if (!(Number.isFinite(v) && v > 0)) throw new FitError(`--time-budget ${v}: give a positive duration, e.g. 10m, 90s or 600`);
    return v;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h)?\s*$/i.exec(v);
  if (!m) throw new FitError(`--time-budget ${v}: give a duration like 10m, 90s, 1h or a number of seconds`);
  const unit = (m[2] ?? 's').toLowerCase();
  const s = Number(m[1]) * (unit.startsWith('h') ? 3600 : unit.startsWith('m') ? 60 : 1);
  if (!(s > 0)) throw new FitError(`--time-budget ${v}: give a positive duration`);
  return s;
}

/**
 * With `out`, the folder is locked before the data loads and released when the fit returns or fails;
 * a folder left by a killed fit (experiment.db, no model) resumes its search.
 */
export async function fit(o: FitOptions): Promise<FitResult> {
  const t0 = Date.now();
  if (o.trials !== undefined && !(Number.isInteger(o.trials) && o.trials >= 1)) throw new FitError(`--trials ${o.trials}: give a whole number >= 1`);
  if (o.timeBudget !== undefined) parseBudget(o.timeBudget);
  const lock = o.out !== undefined ? lockOutDir(o.out, { force: o.force }) : null;
  try {
    return await fitIn(o, t0, lock);
  } finally {
    lock?.release();
  }
}

async function fitIn(o: FitOptions, t0: number, lock: OutLock | null): Promise<FitResult> {
  const say: Say = (phase, message, extra = {}) => o.onProgress?.({ phase, message, ...extra });
  const setup = await planPhase(o, t0, say);
  const { data, plan, archSpace, seed, backend, defaults, budgetSeconds, deadline } = setup;
  const evaluator = new TrainingEvaluator({
    archSpace,
    data: { train: data.train, val: data.val, test: data.test },
    fidelity: plan.searchFidelity,
    batchSize: plan.batchSize,
    optimizer: plan.optimizer,
    lr: plan.lr,
    lrSchedule: plan.lrSchedule,
    seed,
    backend,
  });
  const name = `fit-${data.label}`;
  const store = openFitStore(o.out, lock, name, say);
  let model: tf.LayersModel | undefined;
  try {
    const search = await searchPhase(
      {
        store,
        name,
        evaluator,
        plan,
        seed,
        defaults,
        portfolio: startParams(archSpace, data.profile.inputShape, data.profile.numClasses).slice(1),
        deadline: deadline === undefined ? undefined : t0 + plan.searchShare * budgetSeconds! * 1000,
        meta: searchMeta(o, data, plan),
      },
      say,
    );
    const tSearch = search.endedAt;
    const chosen = search.chosen;
    const { final, epochRule } = await finalPhase(
      {
        archSpace,
        parts: data,
        params: chosen.params,
        plan,
        seed,
        backend,
        trial: chosen.trial,
        searchMicrosPerSample: chosen.trial ? estimateTrainMicrosPerSample(evaluator.graph(chosen.params)) : undefined,
        deadline,
        budgetSeconds,
      },
      say,
    );
    model = final.model;
    const tFinal = Date.now();
    const { preprocessing, test, testInputs } = testPhase(final, data.preprocessing, say);
    const tTest = Date.now();
    const summary = fitSummary(o, setup, search, final, epochRule, test);
    const stamp = () => {
      summary.seconds = { load: (setup.tLoad - t0) / 1000, search: (tSearch - setup.tLoad) / 1000, final: (tFinal - tSearch) / 1000, test: (tTest - tFinal) / 1000, export: (Date.now() - tTest) / 1000, total: (Date.now() - t0) / 1000 };
      return summary;
    };
    if (o.out) {
      const genotype = { space: archSpace.name, params: chosen.params, graph: final.graph };
      await exportFit(o.out, { model, genotype, preprocessing, testInputs, store, experiment: search.experiment.name, summary: stamp });
    }
    stamp();
    say('done', `done in ${summary.seconds.total.toFixed(1)} s${o.out ? `: model in ${o.out}` : ''}`);
    return fitResult(model, store, { experiment: search.experiment, plan, params: chosen.params, graph: final.graph, preprocessing, test, outDir: o.out ?? null, summary });
  } catch (e) {
    model?.dispose();
    store.close();
    throw e;
  }
}

/** What the plan phase settles: the data, the plan, the space, the backend and the time limits. */
interface FitSetup {
  data: FitData;
  plan: FitPlan;
  archSpace: ArchSpace;
  seed: number;
  backend: 'auto' | BackendChoice;
  backendName: string;
  defaults: Params | undefined;
  budgetSeconds: number | undefined;
  /** Date.now() ms by which the whole fit ends. */
  deadline: number | undefined;
  /** Date.now() when the data was loaded and planned. */
  tLoad: number;
}

/** Loads the data, plans the fit (said with its reasons), checks the strategy, space, backend and budget. */
async function planPhase(o: FitOptions, t0: number, say: Say): Promise<FitSetup> {
  const seed = o.seed ?? 0;
  const budgetSeconds = o.timeBudget !== undefined ? parseBudget(o.timeBudget) : o.trials === undefined ? DEFAULT_BUDGET_SECONDS : undefined;
  if (budgetSeconds !== undefined && budgetSeconds < MIN_BUDGET_SECONDS) {
    throw new FitError(`--time-budget ${o.timeBudget}: below the minimum of ${MIN_BUDGET_SECONDS}s (loading the data, one training epoch and the export need it)`);
  }
  const deadline = budgetSeconds === undefined ? undefined : t0 + budgetSeconds * 1000;
  const backend = o.backend ?? 'auto';

  const data = loadFitData(o.data, { target: o.target, task: o.task, seed, imageSize: o.imageSize, grayscale: o.grayscale });
  const { profile } = data;
  const planned = planFit(profile, { seconds: budgetSeconds, trials: o.trials }, { space: o.space ?? 'auto', strategy: o.strategy ?? 'auto' });
  const plan: FitPlan = { ...planned, ...o.plan, reasons: [...planned.reasons, ...Object.keys(o.plan ?? {}).map((k) => `${k} given by the caller`)] };
  if (o.trials !== undefined) plan.maxTrials = o.trials;
  const tLoad = Date.now();
  sayPlan(o, profile, plan, budgetSeconds, say);
  checkStrategy(plan.strategy);
  let archSpace;
  try {
    archSpace = archSpaceFor(plan.space, profile.inputShape, o.data);
  } catch (e) {
    if (e instanceof SpaceError) throw new FitError(e.message);
    throw e;
  }
  const backendName = await initBackend({ backend }).catch((e: Error) => {
    throw new FitError(`--backend ${backend}: ${e.message.replace(/^tsnas: /, '')}`);
  });
  const defaults = defaultParams(archSpace, profile.inputShape, profile.numClasses);
  if (budgetSeconds !== undefined && defaults) {
    // The budget must at least cover the loading done and the test pass of the default model on a busy machine.
    const us = estimateTrainMicrosPerSample(archSpace.decode(defaults, { inputShape: profile.inputShape, numClasses: profile.numClasses }));
    const minimum = Math.ceil(MIN_BUDGET_SECONDS + (Date.now() - t0) / 1000 + (BUSY_FACTOR * data.test.y.length * us) / 3 / 1e6);
    if (budgetSeconds < minimum) {
      throw new FitError(
        `--time-budget ${o.timeBudget}: ${o.data} needs at least ${minimum}s (loading, and testing the default model on ${data.test.y.length} samples); give --time-budget ${minimum}s or more`,
      );
    }
  }
  return { data, plan, archSpace, seed, backend, backendName, defaults, budgetSeconds, deadline, tLoad };
}

function sayPlan(o: FitOptions, profile: DataProfile, plan: FitPlan, budgetSeconds: number | undefined, say: Say): void {
  say(
    'plan',
    `fit ${o.data}: ${profile.kind} ${profile.task}, input [${profile.inputShape.join(',')}], ${profile.numClasses} ${profile.task === 'classification' ? 'classes' : 'output'}, ` +
      `${profile.trainSize} training + validation samples; budget ${budgetSeconds !== undefined ? `${budgetSeconds} s` : 'none'}${plan.maxTrials ? `, ${plan.maxTrials} trials` : ''}`,
  );
  say(
    'plan',
    `plan: space ${plan.space}, strategy ${plan.strategy}, search fidelity ${JSON.stringify(plan.searchFidelity)}, ` +
      `final ${JSON.stringify(plan.finalFidelity)}, search share ${plan.searchShare}, batch ${plan.batchSize}, ${plan.optimizer} lr ${plan.lr} (${plan.lrSchedule}), early stopping ${plan.earlyStopping}`,
  );
  for (const r of plan.reasons) say('plan', `  because: ${r}`);
}

/** fit sets the fidelities itself: a sampling strategy, not a multi-fidelity scheduler. */
function checkStrategy(strategy: string): void {
  if (!strategyNames().includes(strategy)) throw new FitError(`--strategy ${strategy}: unknown; use auto or one of ${strategyNames().join(', ')}`);
  if ((SCHEDULER_STRATEGIES as readonly string[]).includes(strategy)) {
    throw new FitError(
      `--strategy ${strategy}: a multi-fidelity scheduler needs per-trial budgets, while fit sets the fidelities itself (its plan); use auto or a sampling strategy (${strategyNames().filter((n) => !(SCHEDULER_STRATEGIES as readonly string[]).includes(n)).join(', ')})`,
    );
  }
}

/** The experiment's meta record: what the search trains on and how. */
function searchMeta(o: FitOptions, data: FitData, plan: FitPlan): Record<string, unknown> {
  return {
    fit: true,
    dataset: o.data,
    ...(o.target ? { target: o.target } : {}),
    task: data.profile.task,
    metric: data.profile.task === 'classification' ? 'val_accuracy' : 'neg_val_mse',
    fidelity: plan.searchFidelity,
    batchSize: plan.batchSize,
    optimizer: plan.optimizer,
    lr: plan.lr,
    lrSchedule: plan.lrSchedule,
    trainSamples: data.train.y.length,
    valSamples: data.val.y.length,
  };
}

/** fit.json's record (its seconds are stamped when the fit ends). */
function fitSummary(o: FitOptions, s: FitSetup, search: SearchOutcome, final: FinalResult, epochRule: string, test: FitTest | null): FitSummary {
  const { trials, chosen } = search;
  const count = (state: string) => trials.filter((t) => t.state === state).length;
  const tr = final.train;
  return {
    data: o.data,
    ...(o.target ? { target: o.target } : {}),
    task: s.data.profile.task,
    profile: s.data.profile,
    budget: { seconds: s.budgetSeconds ?? null, trials: o.trials ?? null },
    seed: s.seed,
    backend: s.backendName,
    plan: s.plan,
    trials: { total: trials.filter((t) => t.state !== 'WAITING').length, complete: count('COMPLETE'), pruned: count('PRUNED'), failed: count('FAILED') },
    best: { source: chosen.source, trial: chosen.trial?.number ?? null, validation: chosen.trial?.values?.[0] ?? null, params: chosen.params },
    final: {
      epochs: tr.epochs.length,
      plannedEpochs: final.plannedEpochs,
      epochRule,
      trainSamples: tr.trainSamples,
      samplesPerSecond: tr.samplesPerSecond,
      seconds: tr.seconds,
      stoppedByDeadline: final.stoppedByDeadline,
    },
    test,
    cost: { flops: tr.cost.flops, params: tr.cost.totalParams, searchTrialSeconds: trials.reduce((a, t) => a + t.cost.wallSeconds, 0) },
    seconds: { load: 0, search: 0, final: 0, test: 0, export: 0, total: 0 },
  };
}

function fitResult(m: tf.LayersModel, store: Store, r: Omit<FitResult, 'model' | 'predict' | 'close'>): FitResult {
  const { preprocessing } = r;
  return {
    model: m,
    ...r,
    predict(input) {
      const inputs =
        input instanceof Float32Array ? { x: input, shape: inputShapeOf(preprocessing), n: input.length / inputShapeOf(preprocessing).reduce((a, b) => a * b, 1) } : rowsToInputs(preprocessing, input);
      return predictInputs(m, preprocessing, inputs).predictions;
    },
    close() {
      m.dispose();
      store.close();
    },
  };
}
