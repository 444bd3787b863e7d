/**
 * Parzen estimators of TPE over any SearchSpace. Numeric parameters live in unit space (`toUnit`, so
 * log parameters are log-uniform) with truncated Gaussian kernels; categorical ones have the kernel of
 * Optuna (mass on the observed choice plus a prior share spread over all choices). Each estimator is
 * a mixture: one component per observation plus a prior component (uniform-ish), weighted `priorWeight`.
 *
 * Multivariate: a component is the product of its per-parameter kernels over the parameters active in
 * the configuration; a parameter the component's observation does not have (conditional) uses the
 * prior kernel there. Univariate estimators are the one-parameter case.
 */
import { fromUnit, isActive, toUnit, type ParamSpec, type ParamValue, type Params, type SearchSpace } from '../space/params.js';
import type { Rng } from '../util/rng.js';

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const PRIOR_MU = 0.5;
const PRIOR_SIGMA = 1;

function normCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/** log density of N(mu, sigma) truncated to [0, 1] at u. */
function logTruncNormal(u: number, mu: number, sigma: number): number {
  const z = (u - mu) / sigma;
  const mass = Math.max(normCdf((1 - mu) / sigma) - normCdf(-mu / sigma), 1e-12);
  return -0.5 * z * z - LOG_SQRT_2PI - Math.log(sigma) - Math.log(mass);
}

function sampleTruncNormal(mu: number, sigma: number, rng: Rng): number {
  for (let i = 0; i < 100; i++) {
    const u = mu + sigma * rng.normal();
    if (u >= 0 && u <= 1) return u;
  }
  return Math.min(1, Math.max(0, mu));
}

function logSumExp(xs: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) if (xs[i]! > m) m = xs[i]!;
  if (m === -Infinity) return m;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += Math.exp(xs[i]! - m);
  return m + Math.log(s);
}

/** Standard deviation of the finite entries (that of a uniform when fewer than 2). */
function spread(xs: Float64Array): number {
  let n = 0;
  let s = 0;
  let s2 = 0;
  for (const x of xs) {
    if (Number.isNaN(x)) continue;
    n++;
    s += x;
    s2 += x * x;
  }
  if (n < 2) return 0.2887;
  return Math.sqrt(Math.max(0, s2 / n - (s / n) ** 2));
}

/**
 * Optuna's univariate rule per component: the larger gap to its neighbours among the sorted
 * observations and the prior mean (the outermost ones use their one inner gap).
 */
function neighbourSigmas(mus: Float64Array): Float64Array {
  const pts = [...Array.from(mus).filter((v) => !Number.isNaN(v)), PRIOR_MU].sort((a, b) => a - b);
  const gap = new Map<number, number>();
  for (let i = 0; i < pts.length; i++) {
    const l = i > 0 ? pts[i]! - pts[i - 1]! : -1;
    const r = i < pts.length - 1 ? pts[i + 1]! - pts[i]! : -1;
    gap.set(pts[i]!, Math.max(gap.get(pts[i]!) ?? 0, l, r));
  }
  return mus.map((v) => (Number.isNaN(v) ? 1 : gap.get(v) ?? 1));
}

/**
 * Width in unit space of one level of an integer or stepped parameter (its smallest, for log ones),
 * 0 for a continuous one: the smallest kernel bandwidth, so that draws keep reaching the neighbouring
 * levels instead of repeating one.
 */
function unitStep(spec: ParamSpec): number {
  if (spec.type === 'categorical' || spec.high <= spec.low) return 0;
  const step = spec.step ?? (spec.type === 'int' ? 1 : 0);
  if (step <= 0) return 0;
  return Math.min(1, spec.log ? Math.log((spec.low + step) / spec.low) / Math.log(spec.high / spec.low) : step / (spec.high - spec.low));
}

export interface ParzenOptions {
  priorWeight: number;
  /** Number of parameters modelled jointly (for Scott's bandwidth rule). */
  dims: number;
  /**
   * Bandwidth of a numeric parameter, in unit space, before the clip to [c / min(100, n + 1), 1]
   * (c = `minBandwidth`; at least one level of an integer or stepped parameter):
   * 'fixed' (Optuna's multivariate rule) 0.2 * n^(-1 / (dims + 4)); 'scott' (default) the same times
   * the observations' standard deviation / 0.2887 (that of a uniform), so kernels narrow as the
   * observations concentrate.
   */
  bandwidth?: 'fixed' | 'scott' | 'neighbour';
  /** Multiplier of the bandwidth rule. Default 1. */
  bandwidthFactor?: number;
  /** Smallest bandwidth: a number, or 'magic' (Optuna's magic clip, 1 / min(100, n + 1)). Default 'magic'. */
  minBandwidth?: number | 'magic';
  /** Weight of each observation (default 1); the prior component weighs `priorWeight`. */
  weights?: readonly number[];
}

interface ParamModel {
  name: string;
  spec: ParamSpec;
  /** Per component: categorical choice index or unit-space mean; -1 / NaN where the observation lacks it. */
  cat: Int32Array | null;
  mu: Float64Array | null;
  /** Per component: log normaliser of the truncated Gaussian (numeric). */
  logNorm: Float64Array | null;
  /** Kernel bandwidth per component (numeric). */
  sigma: Float64Array | null;
  logMatch: number;
  logMiss: number;
}

/** A mixture over the configurations `obs` (each a Params) for the parameters `names` of `space`. */
export class Parzen {
  private readonly logW: Float64Array;
  private readonly w: number[];
  private readonly nObs: number;
  private readonly models: ParamModel[];

  constructor(
    private readonly space: SearchSpace,
    names: readonly string[],
    obs: readonly Params[],
    private readonly opts: ParzenOptions,
  ) {
    this.nObs = obs.length;
    const ws = obs.map((_, i) => opts.weights?.[i] ?? 1);
    const total = ws.reduce((a, b) => a + b, 0) + opts.priorWeight;
    this.w = [...ws.map((w) => w / total), opts.priorWeight / total];
    this.logW = Float64Array.from(this.w, Math.log);
    // Scott's rule in unit space, clipped below (as Optuna's magic clip) so that kernels never vanish.
    const n = Math.max(1, obs.length);
    const base = 0.2 * (opts.bandwidthFactor ?? 1) * n ** (-1 / (opts.dims + 4));
    const minSigma = (typeof opts.minBandwidth === 'number' ? opts.minBandwidth : 1) / Math.min(100, n + 1);
    const eps = opts.priorWeight / Math.max(1, this.nObs);
    this.models = names.map((name) => {
      const spec = space.params[name]!;
      const m: ParamModel = { name, spec, cat: null, mu: null, logNorm: null, sigma: null, logMatch: 0, logMiss: 0 };
      if (spec.type === 'categorical') {
        const K = spec.choices.length;
        m.cat = Int32Array.from(obs, (o) => (name in o ? spec.choices.indexOf(o[name]!) : -1));
        m.logMatch = Math.log((1 + eps) / (1 + K * eps));
        m.logMiss = Math.log(eps / (1 + K * eps));
      } else {
        const mus = Float64Array.from(obs, (o) => (name in o ? toUnit(spec, o[name] as number) : NaN));
        m.mu = mus;
        const sig =
          opts.bandwidth === 'neighbour' ? neighbourSigmas(mus) : new Float64Array(mus.length).fill(opts.bandwidth === 'fixed' ? base : base * (spread(mus) / 0.2887));
        const floor = Math.max(minSigma, unitStep(spec));
        m.sigma = sig.map((v) => Math.min(1, Math.max(v, floor)));
        m.logNorm = m.mu.map((mu, k) => {
          const sigma = m.sigma![k]!;
          const mass = Math.max(normCdf((1 - mu) / sigma) - normCdf(-mu / sigma), 1e-12);
          return -LOG_SQRT_2PI - Math.log(sigma) - Math.log(mass);
        });
      }
      return m;
    });
  }

  private sampleFrom(k: number, m: ParamModel, rng: Rng): ParamValue {
    const spec = m.spec;
    if (spec.type === 'categorical') {
      const c = k < this.nObs ? m.cat![k]! : -1;
      if (c < 0) return rng.pick(spec.choices);
      const eps = this.opts.priorWeight / Math.max(1, this.nObs);
      return spec.choices[rng.weighted(spec.choices.map((_, i) => (i === c ? 1 : 0) + eps))]!;
    }
    const mu = k < this.nObs ? m.mu![k]! : NaN;
    const u = Number.isNaN(mu) ? sampleTruncNormal(PRIOR_MU, PRIOR_SIGMA, rng) : sampleTruncNormal(mu, m.sigma![k]!, rng);
    return fromUnit(spec, u);
  }

  /** A configuration of the modelled parameters (conditions respected, given `fixed` values). */
  sample(rng: Rng, fixed: Params = {}): Params {
    const k = rng.weighted(this.w);
    const out: Params = {};
    const ctx: Params = { ...fixed };
    for (const m of this.models) {
      if (!isActive(m.spec, ctx)) continue;
      out[m.name] = this.sampleFrom(k, m, rng);
      ctx[m.name] = out[m.name]!;
    }
    return out;
  }

  private memo: Map<ParamValue, number> | null = null;

  /** log density of the modelled parameters present in `p`. */
  logPdf(p: Params): number {
    const m0 = this.models[0];
    if (this.models.length === 1 && m0!.spec.type === 'categorical' && m0!.name in p) {
      // One categorical: the density takes one value per choice; memoised.
      this.memo ??= new Map();
      const v = p[m0!.name]!;
      let d = this.memo.get(v);
      if (d === undefined) this.memo.set(v, (d = this.logPdfFull(p)));
      return d;
    }
    return this.logPdfFull(p);
  }

  private logPdfFull(p: Params): number {
    const K = this.nObs + 1;
    const acc = Float64Array.from(this.logW);
    for (const m of this.models) {
      if (!(m.name in p)) continue;
      const spec = m.spec;
      if (spec.type === 'categorical') {
        const v = spec.choices.indexOf(p[m.name]!);
        const prior = -Math.log(spec.choices.length);
        const cat = m.cat!;
        for (let k = 0; k < K - 1; k++) {
          const c = cat[k]!;
          acc[k] += c < 0 ? prior : c === v ? m.logMatch : m.logMiss;
        }
        acc[K - 1] += prior;
      } else {
        const u = toUnit(spec, p[m.name] as number);
        const prior = logTruncNormal(u, PRIOR_MU, PRIOR_SIGMA);
        const sg = m.sigma!;
        for (let k = 0; k < K - 1; k++) {
          const mu = m.mu![k]!;
          if (Number.isNaN(mu)) acc[k] += prior;
          else {
            const z = (u - mu) / sg[k]!;
            acc[k] += -0.5 * z * z + m.logNorm![k]!;
          }
        }
        acc[K - 1] += prior;
      }
    }
    return logSumExp(acc);
  }
}
