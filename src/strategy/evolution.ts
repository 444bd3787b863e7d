/**
 * Regularized (aging) evolution, Real et al. 2019 ("REA"):
 *
 *   population <- N random configurations, evaluated
 *   repeat: sample S members (with replacement); the best is the parent (tournament);
 *           child <- mutate(parent) (optionally crossover of two tournament winners first);
 *           evaluate child; add it; remove the oldest member (aging) or the worst.
 *
 * The population is a pure function of the stored history (`replayPopulation`): the finished
 * COMPLETE trials replayed in trial order, the first N forming the population and each later one
 * entering while the oldest (or worst) leaves. Failed and pruned trials never enter. Running trials
 * count as proposed: the random warm-up ends once N configurations are proposed, and no
 * configuration in the history (running ones included) is proposed again. A mutated child records
 * its tournament winner's number as trial attr `parent` (for weight inheritance).
 *
 * Several objectives (`directions.length > 1`): the tournament ranks by non-dominated front, then by
 * crowding distance (NSGA-II), and `removal: 'worst'` removes a member of the last front with the
 * smallest crowding distance.
 */
import { crowdingDistance, nonDominatedSort } from '../core/pareto.js';
import { paramsKey, sampleSpace, type Params, type SearchSpace } from '../space/params.js';
import type { Direction, TrialRecord } from '../core/store.js';
import type { Rng } from '../util/rng.js';
import { crossover, mutate } from './mutation.js';
import { seenKeys } from './random.js';
import { score, type Strategy, type StrategyContext } from '../core/strategy.js';

export interface EvolutionOptions {
  /** Population size N (NB201's REA: 10). */
  populationSize?: number;
  /** Tournament size S (NB201's REA: 3). */
  sampleSize?: number;
  /** Which member leaves when a child enters: 'oldest' (aging, default) or 'worst'. */
  removal?: 'oldest' | 'worst';
  /** Probability that the child is a crossover of two tournament winners (then mutated). Default 0. */
  crossover?: number;
  /** Std of numeric mutations in unit space. Default 0.15. */
  sigma?: number;
  /** Re-mutations tried when the child is already in the history, before a random unseen one. Default 20. */
  maxRetries?: number;
}

function usable(t: TrialRecord, directions: readonly Direction[]): boolean {
  if (directions.length <= 1) return score(t, directions) !== null;
  return t.state === 'COMPLETE' && !!t.values && t.values.length === directions.length && t.values.every(Number.isFinite);
}

/** Rank of each member (lower is better): [front index, -crowding distance]. Single objective: [-score, 0]. */
export function memberRanks(pop: readonly TrialRecord[], directions: readonly Direction[]): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  if (directions.length <= 1) {
    for (const t of pop) out.set(t.id, [-score(t, directions)!, 0]);
    return out;
  }
  nonDominatedSort(pop, directions).forEach((front, k) => {
    const cd = crowdingDistance(front, directions);
    for (const t of front) out.set(t.id, [k, -cd.get(t.id)!]);
  });
  return out;
}

function better(a: [number, number], b: [number, number]): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

/**
 * The population after replaying the finished history in trial order (oldest first). With
 * 'worst' removal the worst member leaves (ties: the oldest of them); with 'oldest' the first one.
 */
export function replayPopulation(
  history: readonly TrialRecord[],
  directions: readonly Direction[],
  populationSize: number,
  removal: 'oldest' | 'worst' = 'oldest',
): TrialRecord[] {
  const pop: TrialRecord[] = [];
  const ordered = [...history].sort((a, b) => a.number - b.number);
  for (const t of ordered) {
    if (!usable(t, directions)) continue;
    pop.push(t);
    if (pop.length <= populationSize) continue;
    if (removal === 'oldest') {
      pop.shift();
      continue;
    }
    const ranks = memberRanks(pop, directions);
    let worst = 0;
    for (let i = 1; i < pop.length; i++) if (better(ranks.get(pop[worst]!.id)!, ranks.get(pop[i]!.id)!)) worst = i;
    pop.splice(worst, 1);
  }
  return pop;
}

/** Tournament: `size` members drawn with replacement, the best wins (ties: the first drawn). */
export function tournament(
  pop: readonly TrialRecord[],
  ranks: Map<number, [number, number]>,
  size: number,
  rng: Rng,
): TrialRecord {
  let best = rng.pick(pop);
  for (let i = 1; i < size; i++) {
    const c = rng.pick(pop);
    if (better(ranks.get(c.id)!, ranks.get(best.id)!)) best = c;
  }
  return best;
}

export class EvolutionStrategy implements Strategy {
  readonly name = 'evolution';
  readonly populationSize: number;
  readonly sampleSize: number;
  readonly removal: 'oldest' | 'worst';

  constructor(private readonly opts: EvolutionOptions = {}) {
    this.populationSize = opts.populationSize ?? 10;
    this.sampleSize = opts.sampleSize ?? 3;
    this.removal = opts.removal ?? 'oldest';
    if (!(Number.isInteger(this.populationSize) && this.populationSize >= 1)) {
      throw new RangeError(`evolution: populationSize must be an integer >= 1 (got ${opts.populationSize})`);
    }
    if (!(Number.isInteger(this.sampleSize) && this.sampleSize >= 1)) {
      throw new RangeError(`evolution: sampleSize must be an integer >= 1 (got ${opts.sampleSize})`);
    }
    if (this.removal !== 'oldest' && this.removal !== 'worst') {
      throw new RangeError(`evolution: removal must be "oldest" or "worst" (got ${JSON.stringify(opts.removal)})`);
    }
  }

  ask(ctx: StrategyContext): Params {
    const space = ctx.space;
    if (!space) return {};
    const history = ctx.history.filter((t) => t.number !== ctx.trialNumber);
    const seen = seenKeys(ctx);
    const proposed = history.filter((t) => t.state === 'COMPLETE' || t.state === 'RUNNING' || t.state === 'WAITING').length;
    const pop = replayPopulation(history, ctx.directions, this.populationSize, this.removal);
    if (proposed < this.populationSize || pop.length === 0) return randomUnseen(space, ctx.rng, seen);
    const ranks = memberRanks(pop, ctx.directions);
    const retries = this.opts.maxRetries ?? 20;
    for (let i = 0; i <= retries; i++) {
      const parent = tournament(pop, ranks, this.sampleSize, ctx.rng);
      let base = parent.params;
      if ((this.opts.crossover ?? 0) > 0 && ctx.rng.random() < this.opts.crossover!) {
        const other = tournament(pop, ranks, this.sampleSize, ctx.rng);
        base = crossover(space, parent.params, other.params, ctx.rng);
      }
      const child = mutate(space, base, ctx.rng, { sigma: this.opts.sigma });
      if (!seen.has(paramsKey(child))) {
        // The tournament winner the child was mutated from (weight inheritance starts from its weights).
        ctx.setAttr?.('parent', parent.number);
        return child;
      }
    }
    return randomUnseen(space, ctx.rng, seen);
  }
}

function randomUnseen(space: SearchSpace, rng: Rng, seen: Set<string>, tries = 100): Params {
  let p = sampleSpace(space, rng);
  for (let i = 0; i < tries && seen.has(paramsKey(p)); i++) p = sampleSpace(space, rng);
  return p;
}
