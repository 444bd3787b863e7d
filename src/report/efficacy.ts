/**
 * Efficacy accounting: what each trial cost (wall, CPU, simulated or real training seconds, FLOPs,
 * params, peak memory, backend, fidelity), per-experiment totals with an optional money cost model,
 * and the anytime curve (best-so-far objective vs compute spent) used to compare strategies.
 *
 * Compute axis: an experiment on a tabular benchmark (trials charged simulated seconds, e.g. NB201's
 * GPU training times) is measured in simulated seconds; any other in trial wall seconds.
 */
import type { Direction, ExperimentRecord, TrialRecord, TrialState } from '../core/store.js';

/** Backends whose wall time is GPU time. */
export const GPU_BACKEND = /gpu|webgpu|webgl|cuda/i;

export interface TrialEfficacy {
  number: number;
  state: TrialState;
  wallSeconds: number;
  cpuSeconds: number;
  simulatedSeconds: number;
  /** Training seconds: simulated when charged by a benchmark, else wall. */
  trainSeconds: number;
  flops: number | null;
  params: number | null;
  peakMemoryBytes: number | null;
  backend: string | null;
  fidelity: number | string | null;
}

export interface ExperimentTotals {
  experiment: string;
  strategy: string;
  trials: number;
  complete: number;
  pruned: number;
  failed: number;
  running: number;
  wallSeconds: number;
  cpuSeconds: number;
  simulatedSeconds: number;
  /** Sum of the FLOPs recorded per trial (per-trial model FLOPs, not training FLOPs). */
  flops: number;
  maxPeakMemoryBytes: number | null;
  backends: string[];
  /** Wall hours of trials run on a GPU backend. */
  gpuHours: number;
  /** What the money cost is charged on: simulated hours (tabular), GPU hours, or wall hours. */
  billedHours: number;
  billedAs: 'simulated GPU-hours' | 'GPU-hours' | 'wall-hours';
  /** billedHours x cost per hour, when a rate was given. */
  cost: number | null;
  computeAxis: 'simulated' | 'wall';
}

export interface AnytimePoint {
  /** Cumulative compute (seconds on the experiment's axis) when this trial finished. */
  compute: number;
  /** Best first-objective value among COMPLETE trials so far (null before the first). */
  best: number | null;
  trial: number;
}

export interface AnytimeCurve {
  experiment: string;
  strategy: string;
  axis: 'simulated' | 'wall';
  direction: Direction;
  points: AnytimePoint[];
}

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function fidelityOf(t: TrialRecord, exp?: ExperimentRecord): number | string | null {
  for (const k of ['fidelity', 'epochs', 'budget', 'resource']) {
    const v = t.attrs[k];
    if (typeof v === 'number' || typeof v === 'string') return v;
  }
  const m = exp?.config.meta?.epochs;
  return typeof m === 'number' ? m : null;
}

/** Whether an experiment is measured on a simulated clock (tabular benchmark). */
export function isSimulated(exp: ExperimentRecord, trials: readonly TrialRecord[]): boolean {
  return trials.some((t) => t.cost.simulatedSeconds > 0) || exp.config.spaceName === 'nb201';
}

export function trialEfficacy(t: TrialRecord, exp?: ExperimentRecord): TrialEfficacy {
  const c = t.cost;
  const sim = finite(c.simulatedSeconds) ?? 0;
  const wall = finite(c.wallSeconds) ?? 0;
  return {
    number: t.number,
    state: t.state,
    wallSeconds: wall,
    cpuSeconds: finite(c.cpuSeconds) ?? 0,
    simulatedSeconds: sim,
    trainSeconds: sim > 0 ? sim : wall,
    flops: finite(c.flops),
    params: finite(c.params),
    peakMemoryBytes: finite(c.peakMemoryBytes),
    backend: typeof c.backend === 'string' ? c.backend : null,
    fidelity: fidelityOf(t, exp),
  };
}

export function experimentTotals(exp: ExperimentRecord, trials: readonly TrialRecord[], costPerHour?: number): ExperimentTotals {
  const rows = trials.map((t) => trialEfficacy(t, exp));
  const count = (s: TrialState) => rows.filter((r) => r.state === s).length;
  const sum = (f: (r: TrialEfficacy) => number) => rows.reduce((a, r) => a + f(r), 0);
  const mems = rows.map((r) => r.peakMemoryBytes).filter((m): m is number => m !== null);
  const backends = [...new Set(rows.map((r) => r.backend).filter((b): b is string => b !== null))].sort();
  const simulated = isSimulated(exp, trials);
  const gpuHours = sum((r) => (r.backend && GPU_BACKEND.test(r.backend) ? r.wallSeconds : 0)) / 3600;
  const wallSeconds = sum((r) => r.wallSeconds);
  const simulatedSeconds = sum((r) => r.simulatedSeconds);
  let billedHours: number;
  let billedAs: ExperimentTotals['billedAs'];
  if (simulated) [billedHours, billedAs] = [simulatedSeconds / 3600, 'simulated GPU-hours'];
  else if (gpuHours > 0) [billedHours, billedAs] = [gpuHours, 'GPU-hours'];
  else [billedHours, billedAs] = [wallSeconds / 3600, 'wall-hours'];
  return {
    experiment: exp.name,
    strategy: exp.config.strategy.name,
    trials: rows.length,
    complete: count('COMPLETE'),
    pruned: count('PRUNED'),
    failed: count('FAILED'),
    running: count('RUNNING') + count('WAITING'),
    wallSeconds,
    cpuSeconds: sum((r) => r.cpuSeconds),
    simulatedSeconds,
    flops: sum((r) => r.flops ?? 0),
    maxPeakMemoryBytes: mems.length ? Math.max(...mems) : null,
    backends,
    gpuHours,
    billedHours,
    billedAs,
    cost: costPerHour === undefined ? null : billedHours * costPerHour,
    computeAxis: simulated ? 'simulated' : 'wall',
  };
}

/**
 * Best-so-far first objective vs cumulative compute, in finishing order. Every finished trial
 * (pruned and failed ones too) adds its compute; only COMPLETE trials can improve the best.
 */
export function anytimeCurve(exp: ExperimentRecord, trials: readonly TrialRecord[]): AnytimeCurve {
  const axis = isSimulated(exp, trials) ? 'simulated' : 'wall';
  const direction = exp.config.directions[0] ?? 'maximize';
  const finished = trials
    .filter((t) => t.state === 'COMPLETE' || t.state === 'PRUNED' || t.state === 'FAILED')
    .sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0) || a.number - b.number);
  let compute = 0;
  let best: number | null = null;
  const points: AnytimePoint[] = [];
  for (const t of finished) {
    compute += axis === 'simulated' ? t.cost.simulatedSeconds : t.cost.wallSeconds;
    const v = t.state === 'COMPLETE' ? finite(t.values?.[0]) : null;
    if (v !== null && (best === null || (direction === 'minimize' ? v < best : v > best))) best = v;
    points.push({ compute, best, trial: t.number });
  }
  return { experiment: exp.name, strategy: exp.config.strategy.name, axis, direction, points };
}

/** Best-so-far at a compute budget (the last point at or below it), for comparing strategies. */
export function bestAtBudget(curve: AnytimeCurve, budget: number): number | null {
  let best: number | null = null;
  for (const p of curve.points) {
    if (p.compute > budget) break;
    best = p.best;
  }
  return best;
}
