/**
 * The experiment store: the single source of truth for an experiment. Strategies derive their state
 * from the trial history stored here (as Optuna's samplers do), so resume and several workers sharing
 * one store need nothing special. Every method commits before it returns.
 */
import type { ParamSpec, ParamValue, Params, SearchSpace } from '../space/params.js';

export type TrialState = 'WAITING' | 'RUNNING' | 'COMPLETE' | 'PRUNED' | 'FAILED';
export const FINISHED_STATES: readonly TrialState[] = ['COMPLETE', 'PRUNED', 'FAILED'];
export type Direction = 'maximize' | 'minimize';

/** What a trial cost. Seconds are real unless named simulated (charged by a tabular benchmark). */
export interface TrialCost {
  wallSeconds: number;
  cpuSeconds: number;
  simulatedSeconds: number;
  flops?: number;
  params?: number;
  peakMemoryBytes?: number;
  backend?: string;
}

export interface IntermediateValue {
  step: number;
  value: number;
}

export interface TrialRecord {
  id: number;
  experimentId: number;
  /** 0-based position in its experiment: the order trials were asked. */
  number: number;
  state: TrialState;
  params: Params;
  distributions: Record<string, ParamSpec>;
  values: number[] | null;
  intermediate: IntermediateValue[];
  cost: TrialCost;
  /** User attrs: what objectives, evaluators and strategies record (`trial.setAttr`, `ctx.setAttr`). */
  attrs: Record<string, unknown>;
  /** What the experiment and its executors record about the trial's life, kept apart from `attrs`. */
  system: SystemAttrs;
  error: string | null;
  createdAt: number;
  finishedAt: number | null;
  heartbeatAt: number | null;
  /** `host:pid` of the process running it, used to detect trials left RUNNING by a dead process. */
  owner: string | null;
}

/** The keys tsnas itself writes about a trial, typed and stored apart from user attrs (a `system` column). */
export interface SystemAttrs {
  /** FAILED because its process died or stopped sending heartbeats (does not count toward nTrials). */
  abandoned?: boolean;
  /** The executor that ran it: a durable one's (bullmq) RUNNING trials survive a coordinator restart. */
  executor?: 'inprocess' | 'pool' | 'bullmq';
  /** The objective spec its job was built from (a restarted coordinator rebuilds the job). */
  objective?: unknown;
  /** The strategy's proposal at ask time for a define-by-run objective's inferred space. */
  proposed?: Params;
  /** The strategy's proposals at ask time for the other define-by-run parameters seen so far. */
  dynamic?: Record<string, { spec: ParamSpec; value: ParamValue }>;
  /** Created by `Experiment.enqueue` (WAITING until an ask claims it). */
  enqueued?: boolean;
  /** Not run, and why (e.g. fit's architecture over the plan's cost cap); the trial is PRUNED. */
  skipped?: string;
  /** The queue worker (`host:pid`) that ran it. */
  worker?: string;
  /** A multi-fidelity scheduler's job for it, stored at ask time (strategy/schedulers/job.ts). */
  job?: SchedulerJob;
  /** What it inherited from a parent's weights (estimate/morphism/hooks.ts, estimate/train.ts). */
  inherit?: InheritRecord;
  /** The learning-curve pruner's last forecast for it (estimate/pruners/lc.ts). */
  lc_prediction?: LcForecast;
}

/** A scheduler's decision for one trial: a new configuration at rung 0 or the promotion of `parent`. */
export interface SchedulerJob {
  scheduler: string;
  /** Bracket instance (0, 1, 2, ... in the order brackets were opened); 0 for ASHA. */
  bracket: number;
  /** Halvings of that bracket (its rungs - 1). */
  s: number;
  /** Rung index inside the bracket. */
  rung: number;
  /** Budget to reach (epochs, data fraction, ... : the step the objective reports at). */
  budget: number;
  /** Budget the configuration already had (its parent's), 0 for a fresh start. */
  previousBudget: number;
  /** Trial number of the job this one continues, or null. */
  parent: number | null;
}

/** What a trial's weights were started from: a parent trial's, mapped node by node. */
export interface InheritRecord {
  parent: number;
  /** Epochs of training behind the inherited weights: the parent's own plus what it inherited (null: the history is not at hand). */
  parentEpochs: number | null;
  functionPreserving: boolean;
  /** Nodes by status (copied, widened, fresh, ...). */
  counts: Record<string, number>;
  nodes: { id: string; status: string; from?: string }[];
  /** Validation value of the inherited weights before training (set by the trainer). */
  startValue?: number;
  /** Seconds spent inheriting (set by the trainer). */
  seconds?: number;
}

/** A learning-curve forecast of a trial's value at `target_step`, made at its last reported `step`. */
export interface LcForecast {
  mean: number;
  lower: number;
  upper: number;
  step: number;
  target_step: number;
  /** Probability it ends better than the best finished trial (null before enough finished). */
  p_better: number | null;
  best: number | null;
}

/** SystemAttrs' keys: in files written before the `system` column they sit in `attrs` (moved on open). */
export const SYSTEM_KEYS: readonly (keyof SystemAttrs)[] = [
  'abandoned',
  'executor',
  'objective',
  'proposed',
  'dynamic',
  'enqueued',
  'skipped',
  'worker',
  'job',
  'inherit',
  'lc_prediction',
];

/** fit's marker for skipped trials before `system.skipped`: a PRUNED trial's error text began with it. */
const LEGACY_SKIPPED = 'skipped: ';

/**
 * Splits a schema-1 row's attrs (system keys mixed in) into user attrs and system attrs; a PRUNED
 * trial whose error carries fit's old prefix is marked skipped.
 */
export function splitLegacyAttrs(
  attrs: Record<string, unknown>,
  row?: { state: TrialState; error: string | null },
): { attrs: Record<string, unknown>; system: SystemAttrs } {
  if (row?.state === 'PRUNED' && row.error?.startsWith(LEGACY_SKIPPED)) {
    const split = splitLegacyAttrs(attrs);
    return { attrs: split.attrs, system: { ...split.system, skipped: row.error.slice(LEGACY_SKIPPED.length) } };
  }
  let user: Record<string, unknown> | null = null;
  const system: Record<string, unknown> = {};
  for (const k of SYSTEM_KEYS) {
    if (!(k in attrs)) continue;
    user ??= { ...attrs };
    system[k] = attrs[k];
    delete user[k];
  }
  return { attrs: user ?? attrs, system: system as SystemAttrs };
}

export interface ExperimentConfig {
  directions: Direction[];
  objectiveNames?: string[];
  strategy: { name: string; options?: Record<string, unknown> };
  /** Declarative space, or null for define-by-run objectives (the space is inferred from history). */
  space: SearchSpace | null;
  /** Short name of the space or benchmark (e.g. "nb201"), for reports. */
  spaceName?: string;
  seed: number;
  meta?: Record<string, unknown>;
}

export interface ExperimentRecord {
  id: number;
  name: string;
  config: ExperimentConfig;
  createdAt: number;
}

export interface NewTrial {
  state: 'WAITING' | 'RUNNING';
  params: Params;
  distributions: Record<string, ParamSpec>;
  owner: string | null;
  attrs?: Record<string, unknown>;
  system?: SystemAttrs;
  /**
   * Create the trial only if it gets this number, i.e. no trial was created since the caller read
   * the history it decided from; otherwise `createTrial` throws TrialNumberTaken and creates nothing.
   */
  expectNumber?: number;
}

export interface TrialFinish {
  state: 'COMPLETE' | 'PRUNED' | 'FAILED';
  values: number[] | null;
  cost: TrialCost;
  error?: string | null;
  attrs?: Record<string, unknown>;
  /** Merged into the trial's system attrs. */
  system?: SystemAttrs;
}

/** Trials changed (created or written) after change counter `since`, and the counter now. */
export interface TrialChanges {
  trials: TrialRecord[];
  seq: number;
}

export interface Store {
  /** Returns the experiment of that name, creating it with `config` when absent. */
  openExperiment(name: string, config: ExperimentConfig): ExperimentRecord;
  getExperiment(name: string): ExperimentRecord | null;
  listExperiments(): ExperimentRecord[];
  /** Creates a trial with the next number of the experiment, atomically (see NewTrial.expectNumber). */
  createTrial(experimentId: number, init: NewTrial): TrialRecord;
  /** Moves a WAITING trial to RUNNING under `owner`, merging `system`; false when it was not WAITING (another worker took it). */
  claimTrial(trialId: number, owner: string, system?: SystemAttrs): boolean;
  /** Merges parameter values and their distributions into the trial (define-by-run suggestions). */
  setParams(trialId: number, params: Params, specs: Record<string, ParamSpec>): void;
  addIntermediate(trialId: number, step: number, value: number): void;
  /** Merges attributes into the trial's user attrs, and `system` (when given) into its system attrs. */
  setAttrs(trialId: number, attrs: Record<string, unknown>, system?: SystemAttrs): void;
  heartbeat(trialId: number): void;
  /** Finishes a RUNNING trial; false (and no change) when it was not RUNNING, so a result is recorded once. */
  finishTrial(trialId: number, finish: TrialFinish): boolean;
  getTrial(trialId: number): TrialRecord | null;
  /** Trials of an experiment ordered by number. Callers must not mutate what they get. */
  getTrials(experimentId: number, states?: readonly TrialState[]): readonly TrialRecord[];
  /**
   * Trials of an experiment created or changed after change counter `since` (0: all), in creation
   * order, and the counter to pass next time: a history cache reads only what changed, whichever
   * process wrote it. Heartbeats do not count as changes.
   */
  getTrialsSince(experimentId: number, since: number): TrialChanges;
  getStrategyState(experimentId: number, key: string): unknown;
  setStrategyState(experimentId: number, key: string, value: unknown): void;
  close(): void;
}

export function emptyCost(): TrialCost {
  return { wallSeconds: 0, cpuSeconds: 0, simulatedSeconds: 0 };
}
