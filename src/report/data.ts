/**
 * Everything the report and the dashboard show, as one plain-JSON object built from a store: per
 * experiment its totals, anytime curve, trials (with efficacy, learning curves and extrapolated
 * predictions), parameter importance, Pareto front and the drawing of its best architecture.
 */
import { bestOf } from '../core/experiment.js';
import { paretoFront } from '../core/pareto.js';
import type { Direction, ExperimentRecord, IntermediateValue, Store, TrialRecord, TrialState } from '../core/store.js';
import { archLayout, type ArchLayout } from './arch.js';
import { anytimeCurve, experimentTotals, trialEfficacy, type AnytimeCurve, type ExperimentTotals, type TrialEfficacy } from './efficacy.js';
import { paramImportance, type Importance } from './importance.js';

/** What reports need from a store; the dashboard passes a read-only view. */
export type StoreView = Pick<Store, 'listExperiments' | 'getTrials'>;

export interface PredictionPoint {
  step: number;
  mean: number;
  lower: number | null;
  upper: number | null;
}

export interface ReportTrial {
  id: number;
  number: number;
  state: TrialState;
  values: (number | null)[] | null;
  params: Record<string, unknown>;
  error: string | null;
  finishedAt: number | null;
  efficacy: TrialEfficacy;
  intermediate: IntermediateValue[];
  prediction: PredictionPoint[] | null;
}

export interface ReportExperiment {
  id: number;
  name: string;
  strategy: string;
  spaceName: string | null;
  directions: Direction[];
  objectiveNames: string[];
  totals: ExperimentTotals;
  anytime: AnytimeCurve;
  trials: ReportTrial[];
  importance: Importance[];
  /** Trial numbers on the Pareto front (multi-objective experiments), else null. */
  paretoFront: number[] | null;
  best: { number: number; values: number[]; params: Record<string, unknown> } | null;
  arch: ArchLayout | null;
}

export interface ReportData {
  title: string;
  storage: string;
  generatedAt: string;
  costPerHour: number | null;
  totalTrials: number;
  experiments: ReportExperiment[];
}

export interface ReportOptions {
  storage: string;
  names?: string[];
  costPerHour?: number;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** system.lc_prediction as {mean, lower, upper, step}, each a number or an array of numbers. */
export function predictionOf(system: { lc_prediction?: unknown }): PredictionPoint[] | null {
  const p = system.lc_prediction as Record<string, unknown> | undefined;
  if (!p || typeof p !== 'object') return null;
  const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
  const steps = arr(p.step);
  const means = arr(p.mean);
  const out: PredictionPoint[] = [];
  steps.forEach((s, i) => {
    const step = num(s);
    const mean = num(means[i]);
    if (step === null || mean === null) return;
    out.push({ step, mean, lower: num(arr(p.lower)[i]), upper: num(arr(p.upper)[i]) });
  });
  return out.length ? out : null;
}

export function reportTrial(t: TrialRecord, exp: ExperimentRecord): ReportTrial {
  return {
    id: t.id,
    number: t.number,
    state: t.state,
    values: t.values ? t.values.map((v) => num(v)) : null,
    params: t.params,
    error: t.error,
    finishedAt: t.finishedAt,
    efficacy: trialEfficacy(t, exp),
    intermediate: t.intermediate.filter((iv) => Number.isFinite(iv.value)),
    prediction: predictionOf(t.system),
  };
}

/** Everything of an experiment but its trial rows (the dashboard sends those incrementally). */
export type ExperimentSummary = Omit<ReportExperiment, 'trials'>;

export async function experimentData(exp: ExperimentRecord, trials: readonly TrialRecord[], costPerHour?: number): Promise<ReportExperiment> {
  return { ...(await experimentSummary(exp, trials, costPerHour)), trials: trials.map((t) => reportTrial(t, exp)) };
}

export async function experimentSummary(exp: ExperimentRecord, trials: readonly TrialRecord[], costPerHour?: number): Promise<ExperimentSummary> {
  const { directions } = exp.config;
  const best = bestOf(trials, directions);
  return {
    id: exp.id,
    name: exp.name,
    strategy: exp.config.strategy.name,
    spaceName: exp.config.spaceName ?? null,
    directions,
    objectiveNames: exp.config.objectiveNames ?? directions.map((_, i) => (directions.length > 1 ? `objective ${i}` : 'objective')),
    totals: experimentTotals(exp, trials, costPerHour),
    anytime: anytimeCurve(exp, trials),
    importance: paramImportance(trials),
    paretoFront: directions.length > 1 ? paretoFront(trials, directions).map((t) => t.number) : null,
    best: best ? { number: best.number, values: best.values!, params: best.params } : null,
    arch: best ? await archLayout(exp.config.spaceName, best.params, exp.config.meta) : null,
  };
}

export async function buildReportData(store: StoreView, opts: ReportOptions): Promise<ReportData> {
  let exps = store.listExperiments();
  if (opts.names?.length) exps = exps.filter((e) => opts.names!.includes(e.name));
  const experiments: ReportExperiment[] = [];
  for (const e of exps) experiments.push(await experimentData(e, store.getTrials(e.id), opts.costPerHour));
  return {
    title: 'tsnas report',
    storage: opts.storage,
    generatedAt: new Date().toISOString(),
    costPerHour: opts.costPerHour ?? null,
    totalTrials: experiments.reduce((a, e) => a + e.trials.length, 0),
    experiments,
  };
}

/** What the dashboard's /api/data sends (src/dashboard/live.ts; read by the page, src/report/browser/live.ts): experiments carry all their fields when `reset` or when their summary changed, else only `id`. */
export interface LiveDelta {
  cursor: string;
  reset: boolean;
  storage: string;
  generatedAt: string;
  costPerHour: number | null;
  totalTrials: number;
  order: number[];
  experiments: (Partial<ExperimentSummary> & { id: number; trials: ReportTrial[] })[];
  warning: string | null;
}
