/**
 * fit's search: a normal tsnas experiment (strategy -> in-process executor -> training evaluator
 * -> store) whose first trials are the space's default architecture and a small portfolio (enqueued,
 * as Optuna's enqueue_trial), stopped at a wall-clock
 * deadline: no trial starts after it (nor when the typical trial would not half fit before it), and
 * the running trial is asked to stop at it (it ends PRUNED with its partial validation value).
 */
import path from 'node:path';
import { Experiment, isDone } from '../core/experiment.js';
import type { Trial } from '../core/trial.js';
import { LcPruner } from '../estimate/pruners/lc.js';
import { MedianPruner } from '../estimate/pruners/median.js';
import type { Pruner } from '../core/pruner.js';
import type { TrainingEvaluator } from '../estimate/train.js';
import type { Params } from '../space/params.js';
import { openStore } from '../store/index.js';
import type { Store, TrialRecord } from '../core/store.js';
import { createStrategy } from '../strategy/index.js';
import type { OutLock } from '../util/output.js';
import { FitError } from './data.js';
import type { Say } from './fit.js';
import { estimateTrainMicrosPerSample, type FitPlan } from './policy.js';
import { TrialSkipped } from '../core/trial.js';

/** A trial not trained because its architecture is over the plan's cost cap. */
export function isSkipped(t: TrialRecord): boolean {
  return t.system.skipped !== undefined;
}

export function prunerFor(plan: FitPlan, store: Store): Pruner | undefined {
  if (plan.earlyStopping === 'median') return new MedianPruner({ warmupSteps: 1, minCompleted: 3 });
  if (plan.earlyStopping === 'lc') return new LcPruner({ targetStep: plan.searchFidelity.epochs ?? 1, minPoints: 3, store });
  return undefined;
}

export interface SearchOptions {
  store: Store;
  name: string;
  evaluator: TrainingEvaluator;
  plan: FitPlan;
  seed: number;
  defaults?: Params;
  /** Configurations tried after the defaults (trials #1..), before the strategy's own proposals. */
  portfolio?: Params[];
  meta: Record<string, unknown>;
  /** Date.now() ms after which no trial runs. */
  deadline?: number;
  onTrialEnd?: (t: TrialRecord, e: Experiment) => void;
}

export function openSearch(o: SearchOptions): Experiment {
  const { plan, evaluator: ev } = o;
  return Experiment.open({
    store: o.store,
    name: o.name,
    strategy: createStrategy(plan.strategy, plan.strategyOptions ?? {}),
    strategyOptions: plan.strategyOptions,
    space: ev.archSpace.space,
    spaceName: ev.archSpace.name,
    directions: ['maximize'],
    seed: o.seed,
    pruner: prunerFor(plan, o.store),
    meta: o.meta,
  });
}

/**
 * Validation (inference) samples per second measured on finished trials: the wall time not spent in
 * training steps, over the validation samples evaluated (median over COMPLETE trials; null if none).
 * Also returns the FLOPs of the trial it comes from, to scale it to another graph.
 */
export function measuredEvalSpeed(trials: readonly TrialRecord[]): { samplesPerSecond: number; flops: number | undefined } | null {
  const speeds: { samplesPerSecond: number; flops: number | undefined }[] = [];
  for (const t of trials) {
    const tr = t.attrs.training as { epochs?: number; trainSamples?: number; valSamples?: number; samplesPerSecond?: number } | undefined;
    if (t.state !== 'COMPLETE' || !tr?.epochs || !tr.trainSamples || !tr.valSamples || !tr.samplesPerSecond) continue;
    const evalSeconds = t.cost.wallSeconds - (tr.epochs * tr.trainSamples) / tr.samplesPerSecond;
    if (evalSeconds > 0) speeds.push({ samplesPerSecond: (tr.epochs * tr.valSamples) / evalSeconds, flops: t.cost.flops });
  }
  if (speeds.length === 0) return null;
  return speeds.sort((a, b) => a.samplesPerSecond - b.samplesPerSecond)[speeds.length >> 1]!;
}

/** Runs the search until plan.maxTrials trials are done or the deadline; returns the trials it ran. */
export async function runSearch(exp: Experiment, o: SearchOptions): Promise<TrialRecord[]> {
  const { deadline } = o;
  const stop = new AbortController();
  const valSamples = o.evaluator.data.val.y.length;
  const objective = async (trial: Trial) => {
    // Stop early enough for the validation pass that follows the last batch (measured on earlier trials).
    const speed = measuredEvalSpeed(exp.trials());
    const evalMs = speed ? (1000 * valSamples) / speed.samplesPerSecond : 0;
    const cap = o.plan.maxTrainMicrosPerSample;
    if (cap !== undefined) {
      const us = estimateTrainMicrosPerSample(finalGraph(o.evaluator, trial.params, o.plan));
      if (us > cap) throw new TrialSkipped(`~${Math.round(us)} us/sample at the final fidelity exceeds the plan's cap of ${cap}`);
    }
    const stop = () => {
      trial.setAttr('stoppedAtDeadline', true);
      trial.requestStop('time budget reached');
    };
    const timer = deadline === undefined ? undefined : setTimeout(stop, Math.max(0, deadline - evalMs - Date.now()));
    try {
      return await o.evaluator.objective(trial);
    } finally {
      clearTimeout(timer);
    }
  };
  const durations: number[] = [];
  if (deadline !== undefined && Date.now() >= deadline) return [];
  // Warm starts: the defaults, then the portfolio, as the first trials of a new search (no more than
  // the trial budget, so a short search leaves no WAITING trial behind).
  if (o.defaults && exp.trials().length === 0) {
    for (const p of [o.defaults, ...(o.portfolio ?? [])].slice(0, o.plan.maxTrials ?? Infinity)) exp.enqueue(p);
  }
  return exp.optimize(objective, {
    nTrials: o.plan.maxTrials,
    timeoutSeconds: deadline === undefined ? undefined : Math.max(0, (deadline - Date.now()) / 1000),
    signal: stop.signal,
    onTrialEnd: (t, e) => {
      if (isDone(t) && !isSkipped(t)) durations.push(t.cost.wallSeconds);
      if (deadline !== undefined && durations.length > 0) {
        const typical = [...durations].sort((a, b) => a - b)[durations.length >> 1]!;
        if (deadline - Date.now() < 500 * typical) stop.abort();
      }
      o.onTrialEnd?.(t, e);
    },
  });
}

/** The graph a configuration decodes to at the plan's final fidelity (input at the final resolution). */
export function finalGraph(ev: TrainingEvaluator, params: Params, plan: FitPlan) {
  const f = plan.finalFidelity;
  const shape = [...ev.data.train.shape];
  if (f.resolution !== undefined && shape.length === 3) [shape[0], shape[1]] = [f.resolution, f.resolution];
  const train = ev.data.train;
  return ev.archSpace.decode(params, {
    inputShape: shape,
    numClasses: train.task === 'classification' ? train.numClasses : 1,
    width: f.widthMultiplier,
    cells: f.cells,
  });
}

/**
 * The configuration to retrain: the best COMPLETE trial (for accuracies, given `valSamples`: the
 * default architecture of trial #0 unless the best beats it by more than one standard error), else
 * the best partial (PRUNED) one, else the defaults.
 */
export function pickBest(
  exp: Experiment,
  defaults: Params | undefined,
  valSamples?: number,
): { params: Params; trial: TrialRecord | null; source: 'search' | 'partial' | 'default' } | null {
  const best = exp.bestTrial();
  if (best) {
    // One-standard-error rule towards the default architecture (trial #0): a validation accuracy
    // within one binomial standard error of the default's is not evidence enough to leave it.
    const first = exp.trials().find((t) => t.number === 0 && t.state === 'COMPLETE');
    const p = best.values![0]!;
    if (first && defaults && valSamples && best.number !== 0 && JSON.stringify(first.params) === JSON.stringify(defaults) && p >= 0 && p <= 1) {
      const se = Math.sqrt((p * (1 - p)) / valSamples);
      if (p - first.values![0]! <= se) return { params: first.params, trial: first, source: 'search' };
    }
    return { params: best.params, trial: best, source: 'search' };
  }
  const partial = exp
    .trials()
    .filter((t) => t.state === 'PRUNED' && t.values?.[0] !== undefined && Number.isFinite(t.values[0]))
    .sort((a, b) => b.values![0]! - a.values![0]! || a.number - b.number)[0];
  if (partial) return { params: partial.params, trial: partial, source: 'partial' };
  return defaults ? { params: defaults, trial: null, source: 'default' } : null;
}

/** fit's store: `out`/experiment.db (a killed fit's search, of the same data, is resumed), else memory. */
export function openFitStore(out: string | undefined, lock: OutLock | null, name: string, say: Say): Store {
  const store: Store = openStore(out ? `sqlite:${path.join(out, 'experiment.db')}` : 'memory:');
  if (lock?.resumable) {
    const other = store.listExperiments().find((e) => e.name !== name);
    if (other) {
      store.close();
      throw new FitError(`--out ${out}: holds the unfinished fit "${other.name}" of other data; rerun that fit to resume it, or give --force to start over`);
    }
    say('plan', `resuming the search of a fit that stopped before it finished (${out}/experiment.db); --force starts over`);
  }
  return store;
}

export interface SearchOutcome {
  experiment: Experiment;
  trials: readonly TrialRecord[];
  chosen: NonNullable<ReturnType<typeof pickBest>>;
  /** Date.now() when the last trial ended. */
  endedAt: number;
}

/** fit's search phase: runs the search (a line per trial), then picks the configuration to retrain. */
export async function searchPhase(o: Omit<SearchOptions, 'onTrialEnd'>, say: Say): Promise<SearchOutcome> {
  const { plan } = o;
  let skipped = 0;
  const onTrialEnd = (t: TrialRecord, e: Experiment) => {
    if (isSkipped(t)) {
      skipped++;
      return;
    }
    const best = e.bestTrial()?.values?.[0];
    const v = t.values?.[0];
    say(
      'search',
      `trial #${t.number} ${t.state}${v !== undefined && v !== null ? ` val ${v.toFixed(4)}` : ''} ${t.cost.wallSeconds.toFixed(1)} s` +
        `${t.attrs.stoppedAtDeadline ? ' (stopped at the search deadline)' : t.error && t.state !== 'COMPLETE' ? ` (${t.error})` : ''} | best ${best === undefined || best === null ? '-' : best.toFixed(4)}`,
      { trial: t },
    );
  };
  const searchOpts: SearchOptions = { ...o, onTrialEnd };
  const experiment = openSearch(searchOpts);
  await runSearch(experiment, searchOpts);
  const endedAt = Date.now();
  if (skipped > 0) say('search', `${skipped} proposed architecture(s) skipped untrained: over the plan's cost cap of ${plan.maxTrainMicrosPerSample} us/sample`);
  const trials = experiment.trials();
  const chosen = pickBest(experiment, o.defaults, o.evaluator.task === 'classification' ? o.evaluator.data.val.y.length : undefined);
  if (!chosen) throw new FitError(`no trial finished and the ${o.evaluator.archSpace.name} space has no default architecture; give a larger --time-budget`);
  if (chosen.source !== 'search') {
    say('search', `no trial finished within the search time (${plan.searchShare} of the budget): retraining the ${chosen.source === 'partial' ? 'best partially trained' : 'default'} architecture`);
  }
  return { experiment, trials, chosen, endedAt };
}
