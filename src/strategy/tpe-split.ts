/**
 * History helpers shared by the model-based strategies (tpe, bo): the completed observations, and the
 * good/bad split of TPE, by score for one objective and by non-dominated rank (then crowding
 * distance) for several, as MOTPE does.
 */
import { crowdingDistance, maximised, nonDominatedSort } from '../core/pareto.js';
import { paramsKey, type Params, type SearchSpace } from '../space/params.js';
import type { TrialRecord } from '../core/store.js';
import type { StrategyContext } from '../core/strategy.js';
import { score, violation } from '../core/strategy.js';

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
 * TPE's split of the history into good and bad configurations, as Optuna's TPESampler does it:
 * `nGood(n)` of the n finished trials are good, taken in this order: feasible COMPLETE trials (by
 * score, or Pareto rank then crowding for several objectives), then PRUNED ones (deepest last step
 * first, then by the value reported there), then infeasible ones (smallest total violation first).
 * The rest are bad, and so are the RUNNING trials (a constant liar: parallel asks avoid what others
 * are running). So a pruner's verdicts reach the model: a region pruned early is bad, not unknown.
 * `filter` keeps only the trials that have some parameter (define-by-run).
 */
export function tpeSplit(ctx: StrategyContext, nGood: (n: number) => number, filter: (t: TrialRecord) => boolean = () => true): { good: Params[]; bad: Params[] } {
  const sign = ctx.directions[0] === 'minimize' ? -1 : 1;
  const complete = observations(ctx).filter((o) => filter(o.trial) && violation(o.trial) === 0);
  const pruned: { t: TrialRecord; step: number; v: number }[] = [];
  const infeasible: { t: TrialRecord; v: number }[] = [];
  const running: TrialRecord[] = [];
  for (const t of ctx.history) {
    if (t.number === ctx.trialNumber || !filter(t)) continue;
    if (t.state === 'RUNNING') running.push(t);
    else if ((t.state === 'COMPLETE' || t.state === 'PRUNED') && violation(t) > 0) infeasible.push({ t, v: violation(t) });
    else if (t.state === 'PRUNED') {
      const last = t.intermediate.at(-1);
      const v = last && Number.isFinite(last.value) ? sign * last.value : -Infinity;
      pruned.push({ t, step: last?.step ?? -Infinity, v });
    }
  }
  pruned.sort((a, b) => b.step - a.step || b.v - a.v || a.t.number - b.t.number);
  infeasible.sort((a, b) => a.v - b.v || a.t.number - b.t.number);
  let k = nGood(complete.length + pruned.length + infeasible.length);
  const good: Params[] = [];
  const bad: Params[] = [];
  const inGood = splitGood(complete, Math.min(k, complete.length), ctx.directions);
  complete.forEach((o, i) => (inGood.has(i) ? good : bad).push(o.params));
  k -= inGood.size;
  for (const [i, p] of pruned.entries()) (i < k ? good : bad).push(p.t.params);
  k -= Math.min(k, pruned.length);
  for (const [i, p] of infeasible.entries()) (i < k ? good : bad).push(p.t.params);
  for (const t of running) bad.push(t.params);
  return { good, bad };
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
