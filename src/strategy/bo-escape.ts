/**
 * Stall escape of the mixed-space `bo` (bo-mixed.ts): a local search around the best observation
 * outside the incumbent's basin, taken while the incumbent has stopped improving.
 *
 * Why: a stationary GP fitted to a run that found a broad local basin early learns that basin's
 * geometry everywhere. On Hartmann-6 about 1 run in 4 finds the basin of its fourth term first, which
 * is flat along x2 and x4; the fitted length scales of x2 and x4 then say "irrelevant" for the whole
 * cube, the posterior rules out the global optimum (whose basin is narrow in x4), and log-EI spends
 * the remaining trials polishing the local minimum (docs/hpo.md). Optuna 5's GPSampler traps the
 * same way (9 of 40 runs). Escape, as a pure function of the history:
 *
 * - **When**: from `from` observations on, once the best value has gained at most `tol` of the
 *   observed range over the last `window` observations (TuRBO's failure counter, read off the history).
 * - **Where**: the best observation farther than `far` length scales (the fitted metric) from the
 *   incumbent: the most promising region that is not the incumbent's basin.
 * - **How**: log-EI over the best value inside a box around it (side `box`, halved every
 *   `halveEvery` observations since the centre was observed, down to `minBox`: none of them
 *   beat it outside the incumbent's basin, or it would not be the centre), under the GP with every
 *   numeric inverse squared length scale raised to at least `floor`: a dimension that is flat around
 *   the incumbent is not assumed flat there. Categorical and inactive dimensions keep the centre's
 *   values. Pending trials are in the GP (constant liar), so parallel escapes spread out.
 * - **Then refine**: once an escape proposal has become the incumbent, the following trials (until
 *   the next stall) search a box around the incumbent instead (side `box`, halved every `halveEvery`
 *   observations since the incumbent was observed), under the GP as fitted. Plain log-EI there
 *   spends half its trials back in the old basin: the fitted length scales are still mostly that
 *   basin's, and its many good points keep its expected improvement up (Hartmann-6 seeds 0-119:
 *   22 runs better by > 0.01 with the box, 2 worse; docs/hpo.md).
 */
import { paramsKey, type Params } from '../space/params.js';
import type { Rng } from '../util/rng.js';
import { condition, dist, type MaternGp } from './gp-matern.js';
import { lbfgs } from './lbfgs.js';

export interface EscapeOptions {
  from: number;
  window: number;
  tol: number;
  far: number;
  floor: number;
  box: number;
  minBox: number;
  halveEvery: number;
}

/** Chosen on Hartmann-6 seeds 0-39, checked on seeds 40-79, Branin and the mixed problem (docs/hpo.md). */
export const ESCAPE_DEFAULTS: EscapeOptions = { from: 20, window: 10, tol: 1e-4, far: 2, floor: 10, box: 0.4, minBox: 0.05, halveEvery: 3 };

/**
 * Whether the best of the first `n` of `ys` (chronological, larger is better) gained at most `tol` of
 * their range over the last `window` of them.
 */
export function stalled(ys: ArrayLike<number>, o: EscapeOptions = ESCAPE_DEFAULTS, n = ys.length): boolean {
  if (n < Math.max(o.from, o.window + 1)) return false;
  let best = -Infinity;
  let before = -Infinity;
  let worst = Infinity;
  for (let i = 0; i < n; i++) {
    best = Math.max(best, ys[i]!);
    worst = Math.min(worst, ys[i]!);
    if (i < n - o.window) before = Math.max(before, ys[i]!);
  }
  return best - before <= o.tol * (best - worst);
}

/**
 * The escape's phase after the observations `ys`: 'escape' while stalled; 'refine' once a new best
 * came after a stall (an escape proposal became the incumbent) and until the next stall; else null.
 */
export function escapePhase(ys: ArrayLike<number>, o: EscapeOptions = ESCAPE_DEFAULTS): 'escape' | 'refine' | null {
  if (stalled(ys, o)) return 'escape';
  let best = -Infinity;
  for (let i = 0; i < ys.length; i++) {
    if (ys[i]! > best && stalled(ys, o, i)) return 'refine';
    best = Math.max(best, ys[i]!);
  }
  return null;
}

export interface EscapeInput {
  /** Observed inputs (n x D, encoded) and values, chronological; larger is better. */
  X: Float64Array;
  ys: number[];
  /** Inputs and values the GP conditions on: the observations plus pending trials at their lie. */
  Xa: Float64Array;
  ya: number[];
  D: number;
  isCat: Uint8Array;
  /** 1 where a dimension of this row must not move (categorical or inactive). */
  frozen: (x: Float64Array) => Uint8Array;
  /** The configuration at x (rounded, re-encoded in place). */
  canon: (x: Float64Array) => Params;
  /** The GP as fitted, conditioned on (Xa, ya): the refine phase's model; its hyperparameters give the escape's metric. */
  gp: MaternGp;
  /** log-EI over `best` (standardised) under `gp`; with a gradient when g is given. */
  acq: (gp: MaternGp, best: number) => (x: Float64Array, g?: Float64Array) => number;
  seen: Set<string>;
  rng: Rng;
  maxIter: number;
}

/**
 * The proposal of a phase (escapePhase): 'escape' around the best observation outside the
 * incumbent's basin, under the floored GP; 'refine' around the incumbent, under the fitted GP. Null
 * when every observation lies in the incumbent's basin (escape) or nothing new is found.
 */
export function escapeProposal(e: EscapeInput, phase: 'escape' | 'refine', o: EscapeOptions = ESCAPE_DEFAULTS): { params: Params; gp: MaternGp } | null {
  const { X, ys, D, isCat } = e;
  const hyper = e.gp.hyper;
  const n = ys.length;
  let b = 0;
  for (let i = 1; i < n; i++) if (ys[i]! > ys[b]!) b = i;
  const far2 = o.far * o.far;
  let c = phase === 'refine' ? b : -1;
  for (let i = 0; i < n && phase === 'escape'; i++) {
    let r2 = 0;
    for (let d = 0; d < D; d++) r2 += hyper.ils[d]! * dist(X[i * D + d]!, X[b * D + d]!, isCat[d]!);
    if (r2 >= far2 && (c < 0 || ys[i]! > ys[c]!)) c = i;
  }
  if (c < 0) return null;
  const centre = X.slice(c * D, (c + 1) * D);
  const fixed = e.frozen(centre);
  const side = Math.max(o.minBox, o.box * 0.5 ** Math.floor((n - 1 - c) / o.halveEvery));
  const lo = Float64Array.from(centre, (v, d) => (fixed[d] ? v : Math.max(0, v - side / 2)));
  const hi = Float64Array.from(centre, (v, d) => (fixed[d] ? v : Math.min(1, v + side / 2)));
  let localBest = -Infinity;
  for (let i = 0; i < n; i++) {
    let inside = true;
    for (let d = 0; d < D && inside; d++) inside = X[i * D + d]! >= lo[d]! && X[i * D + d]! <= hi[d]!;
    if (inside) localBest = Math.max(localBest, ys[i]!);
  }
  const gp = phase === 'refine' ? e.gp : condition(e.Xa, e.ya.length, D, isCat, e.ya, { ...hyper, ils: hyper.ils.map((v, d) => (isCat[d] ? v : Math.max(v, o.floor))) });
  const acq = e.acq(gp, (localBest - gp.yMean) / gp.ySd);
  // Search in u in [0, 1]^D, x = lo + u (hi - lo).
  const toX = (u: ArrayLike<number>) => Float64Array.from(lo, (l, d) => l + u[d]! * (hi[d]! - l));
  const raw = Array.from({ length: 256 }, () => {
    const u = Float64Array.from({ length: D }, () => e.rng.random());
    return { u, v: acq(toX(u)) };
  }).sort((p, q) => q.v - p.v);
  const starts = [Float64Array.from(centre, (v, d) => (hi[d]! > lo[d]! ? (v - lo[d]!) / (hi[d]! - lo[d]!) : 0)), ...raw.slice(0, 4).map((r) => r.u)];
  const g = new Float64Array(D);
  let best: { p: Params; v: number } | null = null;
  for (const u0 of starts) {
    const r = lbfgs((u, gu) => {
      const v = acq(toX(u), g);
      for (let d = 0; d < D; d++) gu[d] = -g[d]! * (hi[d]! - lo[d]!);
      return -v;
    }, u0, { lower: 0, upper: 1, maxIter: e.maxIter, fixed, gtol: 1e-5 });
    const x = toX(r.x);
    const p = e.canon(x);
    const v = acq(x);
    if ((!best || v > best.v) && !e.seen.has(paramsKey(p))) best = { p, v };
  }
  return best ? { params: best.p, gp } : null;
}
