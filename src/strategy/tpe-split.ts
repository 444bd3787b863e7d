/**
 * History helpers shared by the model-based strategies (tpe, bo): the completed observations, and the
 * good/bad split of TPE, by score for one objective and by non-dominated rank (then crowding
 * distance) for several, as MOTPE does.
 */
import { crowdingDistance, maximised, nonDominatedSort } from '../core/pareto.js';
import { paramsKey, type Params, type SearchSpace } from '../space/params.js';
import type { TrialRecord } from '../store/types.js';
import type { StrategyContext } from './types.js';
import { score } from './types.js';

export interface Observation {
  trial: TrialRecord;
  params: Params;
  /** First objective, larger is better. */
  score: number;
  /** All objectives, larger is better. */
  values: number[];
}

/** COMPLETE trials with finite values, in trial order (the one being decided excluded). */
export function observations(ctx: StrategyContext, _space?: SearchSpace): Observation[] {
  const out: Observation[] = [];
  for (const t of ctx.history) {
    if (t.number === ctx.trialNumber) continue;
    const s = score(t, ctx.directions);
    if (s === null || !t.values || t.values.length !== ctx.directions.length || !t.values.every(Number.isFinite)) continue;
    out.push({ trial: t, params: t.params, score: s, values: maximised(t.values, ctx.directions) });
  }
  return out;
}

/** Indices of the `nGood` best observations (single objective: by score; several: by Pareto rank, then crowding). */
export function splitGood(obs: readonly Observation[], nGood: number, directions: StrategyContext['directions']): Set<number> {
  const good = new Set<number>();
  if (nGood <= 0) return good;
  if (directions.length <= 1) {
    const order = obs.map((_, i) => i).sort((a, b) => obs[b]!.score - obs[a]!.score || a - b);
    for (const i of order.slice(0, nGood)) good.add(i);
    return good;
  }
  const pos = new Map<number, number>(obs.map((o, i) => [o.trial.id, i]));
  for (const front of nonDominatedSort(obs.map((o) => o.trial), directions)) {
    if (good.size + front.length <= nGood) {
      for (const t of front) good.add(pos.get(t.id)!);
      if (good.size === nGood) break;
      continue;
    }
    const cd = crowdingDistance(front, directions);
    const sorted = [...front].sort((a, b) => cd.get(b.id)! - cd.get(a.id)! || a.number - b.number);
    for (const t of sorted.slice(0, nGood - good.size)) good.add(pos.get(t.id)!);
    break;
  }
  return good;
}

/**
 * A trial's constraint values (attrs.constraints, written by the experiment's `constraints` function;
 * feasible when all are <= 0), or null when it has none.
 */
export function constraintsOf(t: TrialRecord): number[] | null {
  const c = t.attrs.constraints;
  return Array.isArray(c) && c.every((v) => typeof v === 'number') ? (c as number[]) : null;
}

/** Total violation: sum of the positive constraint values (0 when feasible or unconstrained). */
export function violation(t: TrialRecord): number {
  const c = constraintsOf(t);
  if (!c) return 0;
  let s = 0;
  for (const v of c) s += Number.isNaN(v) ? Infinity : Math.max(0, v);
  return s;
}

const keyCache = new WeakMap<object, string>();

/** Keys of every configuration in the history but the one being decided (cached per record: params never change). */
export function historyKeys(ctx: StrategyContext): Set<string> {
  const seen = new Set<string>();
  for (const t of ctx.history) {
    if (t.number === ctx.trialNumber) continue;
    let k = keyCache.get(t.params);
    if (k === undefined) keyCache.set(t.params, (k = paramsKey(t.params)));
    seen.add(k);
  }
  return seen;
}
