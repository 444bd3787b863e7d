/**
 * Learning-curve extrapolation by an ensemble of parametric families (after Domhan et al. 2015,
 * without MCMC): every family is fitted to the partial curve by Levenberg–Marquardt from its data-
 * driven starts plus seeded random restarts; each fit gives a normal predictive distribution at the
 * target step (delta-method parameter uncertainty plus the residual noise), and the members are
 * mixed with BIC weights. The mixture gives the mean, a central interval and P(final > v).
 */
import { Rng } from '../../util/rng.js';
import { FAMILIES, type CurveFamily } from './families.js';
import { jacobian, levenbergMarquardt, solve } from './lm.js';

export interface EnsembleOptions {
  families?: readonly CurveFamily[];
  /** Random restarts per family on top of its data-driven starts. Default 1. */
  restarts?: number;
  seed?: number;
  /** Plausible range of the final value (e.g. 0 and 1 or 100 for accuracy): members outside are dropped. */
  lower?: number;
  upper?: number;
  /** Central interval mass. Default 0.9. */
  level?: number;
  /** Divides BIC differences before weighting (> 1 spreads weight over more families). Default 1. */
  temperature?: number;
}

export interface Member {
  family: string;
  theta: number[];
  rss: number;
  bic: number;
  weight: number;
  /** Predictive mean and sd at the target of the last `predict` call. */
  mean: number;
  sd: number;
}

export interface LcPrediction {
  mean: number;
  lower: number;
  upper: number;
  /** Last observed step. */
  step: number;
  target_step: number;
  members: { family: string; weight: number; mean: number; sd: number }[];
}

const normCdf = (z: number): number => {
  // Abramowitz–Stegun 7.1.26 on erf.
  const t = 1 / (1 + 0.3275911 * (Math.abs(z) / Math.SQRT2));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(z * z) / 2);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
};

/**
 * Student-t widening of a normal predictive sd fitted on few residual degrees of freedom: the ratio
 * of the t and normal 95% quantiles (6.31/1.645 at 1 dof, 2.92/1.645 at 2, ... 1 as dof grows).
 */
export function tInflation(dof: number): number {
  const T95 = [Infinity, 6.314, 2.92, 2.353, 2.132, 2.015, 1.943, 1.895, 1.86, 1.833, 1.812];
  const t = dof < T95.length ? T95[Math.max(1, dof)]! : 1.645 + 1.645 * (1.645 ** 2 + 1) / (4 * dof);
  return t / 1.645;
}

interface Fit {
  family: CurveFamily;
  theta: number[];
  rss: number;
  /** (J^T J)^-1 at the solution, or null when singular. */
  inv: number[][] | null;
  sigma2: number;
  /** Residual degrees of freedom (points - parameters). */
  dof: number;
  bic: number;
}

function invert(A: number[][]): number[][] | null {
  const n = A.length;
  const cols: number[][] = [];
  for (let j = 0; j < n; j++) {
    const e = Array.from({ length: n }, (_, i) => (i === j ? 1 : 0));
    const c = solve(A, e);
    if (!c) return null;
    cols.push(c);
  }
  return Array.from({ length: n }, (_, i) => cols.map((c) => c[i]!));
}

/**
 * Least-squares fit of one family (in the data's units): Levenberg–Marquardt from each of the
 * family's starts and `restarts` jittered copies of them; the lowest residual wins. Null if none fits.
 */
export function fitFamily(
  fam: CurveFamily,
  xs: readonly number[],
  ys: readonly number[],
  o: { rng?: Rng; restarts?: number; maxIterations?: number } = {},
): { theta: number[]; rss: number; jac: number[][] } | null {
  const rng = o.rng ?? new Rng(0);
  const starts = fam.init(xs, ys);
  const base = [...starts];
  for (let r = 0; r < (o.restarts ?? 1) && base.length > 0; r++) {
    const s = base[r % base.length]!;
    starts.push(s.map((v) => v + 0.3 * (Math.abs(v) + 0.1) * rng.normal()));
  }
  let best: { theta: number[]; rss: number; jac: number[][] } | null = null;
  for (const s of starts) {
    if (!s.every(Number.isFinite)) continue;
    const r = levenbergMarquardt(fam.f, xs, ys, s, { maxIterations: o.maxIterations ?? 60 });
    if (Number.isFinite(r.rss) && (!best || r.rss < best.rss)) best = r;
  }
  return best;
}

export class CurveEnsemble {
  private readonly fits: Fit[] = [];
  readonly scale: number;
  readonly lastStep: number;
  private readonly opts: EnsembleOptions;

  constructor(xs: readonly number[], ys: readonly number[], opts: EnsembleOptions = {}) {
    if (xs.length !== ys.length || xs.length < 3) throw new RangeError('need at least 3 (step, value) points of a curve');
    this.opts = opts;
    this.lastStep = xs[xs.length - 1]!;
    this.scale = Math.max(...ys.map(Math.abs)) || 1;
    const y = ys.map((v) => v / this.scale);
    const n = xs.length;
    const rng = new Rng(opts.seed ?? 0);
    for (const fam of opts.families ?? FAMILIES) {
      if (n - fam.k < 1) continue;
      const best = fitFamily(fam, xs, y, { rng, restarts: opts.restarts });
      if (!best) continue;
      const JtJ = Array.from({ length: fam.k }, (_, a) => Array.from({ length: fam.k }, (_, b) => best!.jac.reduce((s, row) => s + row[a]! * row[b]!, 0)));
      const tr = JtJ.reduce((s, row, i) => s + row[i]!, 0);
      for (let i = 0; i < fam.k; i++) JtJ[i]![i]! += 1e-9 * (tr + 1e-12);
      const sigma2 = Math.max(best.rss / (n - fam.k), 1e-12);
      const bic = n * Math.log(Math.max(best.rss / n, 1e-14)) + fam.k * Math.log(n);
      this.fits.push({ family: fam, theta: best.theta, rss: best.rss, inv: invert(JtJ), sigma2, dof: n - fam.k, bic });
    }
  }

  /** Members with their weights and predictive mean/sd at `target` (in the curve's units). */
  members(target: number): Member[] {
    const lo = this.opts.lower !== undefined ? this.opts.lower / this.scale : -Infinity;
    const hi = this.opts.upper !== undefined ? this.opts.upper / this.scale : Infinity;
    const slack = 0.02 * (Number.isFinite(hi - lo) ? hi - lo : 1);
    let out = this.collect(target, lo - slack, hi + slack);
    // Every family left the plausible range: keep them all. Means are clamped to the range either way.
    if (out.length === 0) out = this.collect(target, -Infinity, Infinity);
    out = out.map((o) => ({ ...o, mean: Math.min(hi, Math.max(lo, o.mean / this.scale)) * this.scale }));
    const m = Math.max(...out.map((o) => o.logw));
    let z = 0;
    for (const o of out) z += Math.exp(o.logw - m);
    return out.map(({ logw, ...o }) => ({ ...o, weight: Math.exp(logw - m) / z }));
  }

  private collect(target: number, lo: number, hi: number): (Member & { logw: number })[] {
    const out: (Member & { logw: number })[] = [];
    for (const f of this.fits) {
      const mean = f.family.f(target, f.theta);
      if (!Number.isFinite(mean) || mean < lo || mean > hi) continue;
      const g = jacobian(f.family.f, [target], f.theta)[0]!;
      let v = f.sigma2;
      if (f.inv) {
        let q = 0;
        for (let a = 0; a < g.length; a++) for (let b = 0; b < g.length; b++) q += g[a]! * f.inv[a]![b]! * g[b]!;
        v += f.sigma2 * Math.max(q, 0);
      }
      if (!Number.isFinite(v)) continue;
      out.push({ family: f.family.name, theta: f.theta, rss: f.rss, bic: f.bic, weight: 0, mean: mean * this.scale, sd: Math.sqrt(v) * tInflation(f.dof) * this.scale, logw: -f.bic / (2 * (this.opts.temperature ?? 1)) });
    }
    return out;
  }

  /** P(final value at `target` > v) under the mixture. */
  probGreater(target: number, v: number, members = this.members(target)): number {
    let p = 0;
    for (const m of members) p += m.weight * (1 - normCdf((v - m.mean) / Math.max(m.sd, 1e-12)));
    return p;
  }

  predict(target: number): LcPrediction {
    const ms = this.members(target);
    if (ms.length === 0) throw new RangeError('no curve family fits this curve within the given bounds');
    const mean = ms.reduce((s, m) => s + m.weight * m.mean, 0);
    const a = (1 - (this.opts.level ?? 0.9)) / 2;
    const quantile = (q: number): number => {
      let lo = Math.min(...ms.map((m) => m.mean - 10 * m.sd));
      let hi = Math.max(...ms.map((m) => m.mean + 10 * m.sd));
      for (let i = 0; i < 80; i++) {
        const mid = (lo + hi) / 2;
        if (1 - this.probGreater(target, mid, ms) < q) lo = mid;
        else hi = mid;
      }
      return (lo + hi) / 2;
    };
    let lower = quantile(a);
    let upper = quantile(1 - a);
    if (this.opts.upper !== undefined) upper = Math.min(upper, this.opts.upper);
    if (this.opts.lower !== undefined) lower = Math.max(lower, this.opts.lower);
    return {
      mean,
      lower,
      upper,
      step: this.lastStep,
      target_step: target,
      members: ms.map((m) => ({ family: m.family, weight: m.weight, mean: m.mean, sd: m.sd })),
    };
  }
}
