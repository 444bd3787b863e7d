/**
 * Grid search: every grid point of the space (floats on `floatPoints` evenly spaced values), in an
 * order shuffled by the seed, skipping points already in the history. When the grid is exhausted it
 * says so by throwing GridExhausted, which ends `optimize` cleanly.
 */
import { gridIterator, paramsKey, type Params } from '../space/params.js';
import { Rng } from '../util/rng.js';
import type { Strategy, StrategyContext } from './types.js';
import { seenKeys } from './random.js';

export class GridExhausted extends Error {
  override name = 'GridExhausted';
}

export interface GridOptions {
  floatPoints?: number;
  /** Visit points in declaration order instead of a seeded shuffle. */
  ordered?: boolean;
}

export class GridStrategy implements Strategy {
  readonly name = 'grid';
  private cache: { key: string; points: Params[] } | null = null;
  constructor(private readonly opts: GridOptions = {}) {}

  private points(ctx: StrategyContext): Params[] {
    const key = `${JSON.stringify(ctx.space)}|${ctx.seed}`;
    if (this.cache?.key !== key) {
      const pts = [...gridIterator(ctx.space!, this.opts.floatPoints ?? 5)];
      if (!this.opts.ordered) Rng.derive(ctx.seed, 'grid-order').shuffle(pts);
      this.cache = { key, points: pts };
    }
    return this.cache.points;
  }

  ask(ctx: StrategyContext): Params {
    if (!ctx.space) throw new GridExhausted('grid search needs a declarative space (define-by-run has no grid)');
    const seen = seenKeys(ctx);
    for (const p of this.points(ctx)) if (!seen.has(paramsKey(p))) return { ...p };
    throw new GridExhausted(`all ${this.points(ctx).length} grid points have been tried`);
  }
}
