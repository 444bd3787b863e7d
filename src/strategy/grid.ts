/**
 * Grid search: every grid point of the space (floats on `floatPoints` evenly spaced values), in an
 * order shuffled by the seed, skipping points already in the history. When the grid is exhausted it
 * says so by throwing SearchExhausted, which ends `optimize` cleanly.
 *
 * The grid is never materialised (space/grid.ts addresses points by index): the order is a seeded
 * permutation of the indices. Up to SHUFFLE_LIMIT points it is a Fisher-Yates shuffle of the index
 * list (the order earlier versions used, so their experiments resume the same way); above, a seeded
 * Feistel bijection on the indices, so the first trial of a 10^20-point grid starts at once.
 */
import { IndexedGrid } from '../space/grid.js';
import { paramsKey, type Params } from '../space/params.js';
import { SearchExhausted } from '../core/errors.js';
import { Rng } from '../util/rng.js';
import type { Strategy, StrategyContext } from '../core/strategy.js';
import { seenKeys } from './random.js';

export interface GridOptions {
  floatPoints?: number;
  /** Visit points in declaration order instead of a seeded shuffle. */
  ordered?: boolean;
}

/** Grids up to this many points are shuffled as a list of indices (4 MB at most). */
export const SHUFFLE_LIMIT = 1 << 20;

/** A seeded bijection of [0, n): a balanced Feistel network on the next even bit width, cycle-walked into range. */
export function feistelPermutation(n: bigint, rng: Rng): (k: bigint) => bigint {
  let bits = Math.max(2, (n - 1n).toString(2).length);
  if (bits % 2) bits++;
  const half = BigInt(bits / 2);
  const mask = (1n << half) - 1n;
  const word = (): bigint => {
    let w = 0n;
    for (let i = 0n; i < half; i += 32n) w = (w << 32n) | BigInt(Math.floor(rng.random() * 2 ** 32));
    return w & mask;
  };
  const rounds = Array.from({ length: 4 }, () => ({ key: word(), mul: word() | 1n }));
  const shift = (half + 1n) / 2n;
  const f = (r: bigint, k: { key: bigint; mul: bigint }): bigint => {
    let v = (r ^ k.key) & mask;
    v = ((v ^ (v >> shift)) * k.mul) & mask;
    return ((v ^ (v >> shift)) * k.mul) & mask;
  };
  const once = (x: bigint): bigint => {
    let l = x >> half;
    let r = x & mask;
    for (const k of rounds) [l, r] = [r, l ^ f(r, k)];
    return (l << half) | r;
  };
  return (k) => {
    let x = once(k);
    while (x >= n) x = once(x);
    return x;
  };
}

interface GridRun {
  key: string;
  grid: IndexedGrid;
  order: (k: bigint) => bigint;
  /** Positions before this one are all in the history already (histories only grow). */
  cursor: bigint;
  historyLength: number;
}

export class GridStrategy implements Strategy {
  readonly name = 'grid';
  private run: GridRun | null = null;
  constructor(private readonly opts: GridOptions = {}) {}

  private prepare(ctx: StrategyContext): GridRun {
    const key = `${JSON.stringify(ctx.space)}|${ctx.seed}`;
    if (this.run?.key === key && ctx.history.length >= this.run.historyLength) return this.run;
    const grid = new IndexedGrid(ctx.space!, this.opts.floatPoints ?? 5);
    const rng = Rng.derive(ctx.seed, 'grid-order');
    let order: (k: bigint) => bigint = (k) => k;
    if (!this.opts.ordered && grid.size <= BigInt(SHUFFLE_LIMIT)) {
      const idx = rng.shuffle(Array.from({ length: Number(grid.size) }, (_, i) => i));
      order = (k) => BigInt(idx[Number(k)]!);
    } else if (!this.opts.ordered) {
      order = feistelPermutation(grid.size, rng);
    }
    this.run = { key, grid, order, cursor: 0n, historyLength: 0 };
    return this.run;
  }

  ask(ctx: StrategyContext): Params {
    if (!ctx.space) throw new SearchExhausted('grid search needs a declarative space (define-by-run has no grid)');
    const run = this.prepare(ctx);
    run.historyLength = ctx.history.length;
    const seen = seenKeys(ctx);
    for (let k = run.cursor; k < run.grid.size; k++) {
      const p = run.grid.at(run.order(k));
      if (!seen.has(paramsKey(p))) return p;
      if (k === run.cursor) run.cursor++;
    }
    throw new SearchExhausted(`all ${run.grid.size} grid points have been tried`);
  }
}
