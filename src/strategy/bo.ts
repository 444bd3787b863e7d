/**
 * Bayesian optimisation with a Gaussian process (`bo`). Two surrogates, chosen by space (`model`):
 * on continuous, integer and mixed spaces the Matérn GP with fitted length scales and log-EI of
 * bo-mixed.ts; on finite spaces (<= `exhaustiveLimit` points) and cell-DAG spaces the architecture
 * GP below, over an encoding:
 *
 * - Encoding (encoding.ts): categorical one-hot, numerics through `toUnit`, inactive conditionals as a
 *   fixed code, plus the BANANAS path encoding for cell-DAG spaces (NB201). Kernel and marginal-
 *   likelihood fit in gp.ts.
 * - Acquisition: Thompson draws (independent per point: mean + std * N(0, 1)), expected improvement
 *   or UCB; default 'auto': Thompson over a whole finite space, EI over a candidate pool (where
 *   independent draws over random continuous candidates mostly reward noise: 5/10 vs 9/10 optima
 *   found in 50 trials on the synthetic space of the tests). On NB201 seeds 32-95, Thompson 94.28 vs EI 94.17 / UCB(3) 94.19 mean test:
 *   EI settles in the basin it first finds (e.g. 84.28 / 84.04 12-epoch local optima), draws do not.
 * - Acquisition maximisation: over every unvisited configuration when the space is finite and small
 *   (<= `exhaustiveLimit` points, e.g. NB201's 15,625), otherwise over random candidates plus an
 *   iterated one-parameter local search from the best observed and best scored points.
 *   A configuration already in the history is never proposed.
 * - State: everything is derived from the history (and `ctx.rng`), so resume is exact. When the
 *   history is larger than `maxTrain`, the GP is fitted on the best half plus a random half (a subset
 *   drawn from a stream seeded by (seed, trial number)) and the candidates are a pool, so `ask` stays
 *   fast with thousands of trials.
 * - Multi-objective: ParEGO (a random augmented-Chebyshev scalarisation per trial).
 */
import { paramsKey, sampleSpace, type Params, type SearchSpace } from '../space/params.js';
import { hashString, Rng } from '../util/rng.js';
import { copula, copulaIf, expectedImprovement, parego, trainSubset } from './bo-math.js';
import { encode, enumerateFinite, finiteSize, makeEncoder, neighbours, type EncodedBatch, type SpaceEncoder } from './encoding.js';
import { distParts } from './encoding.js';
import { fitGp, predict, priorSd, sdFromKs, type GpHyper, type GpModel } from './gp.js';
import { askMixed, MixedEncoder } from './bo-mixed.js';
import type { MaternGp } from './gp-matern.js';
import { historyKeys, observations, type Observation } from './tpe-split.js';
import type { Strategy, StrategyContext } from '../core/strategy.js';

export interface BoOptions {
  /** Random configurations before the GP takes over. Default 10. */
  nStartup?: number;
  /**
   * Surrogate: 'discrete' (the architecture-space GP below), 'mixed' (Matérn GP with fitted length
   * scales and log-EI, bo-mixed.ts), or 'auto' (default): 'discrete' for finite spaces of at most
   * `exhaustiveLimit` points and cell-DAG spaces, 'mixed' otherwise.
   */
  model?: 'auto' | 'discrete' | 'mixed';
  /** Mixed model: random candidates scored, starts polished by L-BFGS, iterations per start. */
  nRaw?: number;
  nStarts?: number;
  maxIter?: number;
  /** Mixed model: start the hyperparameter fit from the previous decision's (default true). */
  warmStart?: boolean;
  /** Mixed model: once the best stops improving, search around the best region outside the incumbent's basin, then refine a new best in a box (bo-escape.ts). Default true. */
  escape?: boolean;
  /** Default 'auto': Thompson draws when maximised over a whole finite space, EI over a candidate pool. */
  acquisition?: 'auto' | 'ei' | 'ucb' | 'thompson';
  /** EI margin, in standard deviations of the observed values. Default 0. */
  xi?: number;
  /** UCB multiplier of the posterior std. Default 2. */
  beta?: number;
  /** Largest training set fitted exactly; beyond it the GP uses a subset of `subsetSize`. Default 150. */
  maxTrain?: number;
  subsetSize?: number;
  /** Finite spaces up to this many points are scored exhaustively. Default 50,000. */
  exhaustiveLimit?: number;
  /** Random candidates when not exhaustive. Default 400. */
  nRandom?: number;
  /** Rounds of one-parameter local search around the best candidates when not exhaustive. Default 3. */
  localRounds?: number;
  /**
   * Exhaustive scoring computes the posterior std in order of an upper bound of the acquisition, stopping
   * when no remaining point can win (exact) or after this many points (the best-bounded ones). Default 3072.
   */
  maxExact?: number;
  /** Past `maxTrain`, kernel hyperparameters are re-selected every this many observations. Default 50. */
  refitEvery?: number;
  /** Output warping before the GP: 'copula' (ranks to normal quantiles) or 'none'. Default 'copula'. */
  transform?: 'copula' | 'none';
}

interface FiniteCache {
  key: string;
  configs: Params[];
  keys: string[];
  batch: EncodedBatch;
  /** Distance components from a configuration (by key) to every point: integer codes when all parts are counts. */
  rows: Map<string, { code: Uint16Array | null; parts: Float32Array[] | null }>;
}

export class BoStrategy implements Strategy {
  readonly name = 'bo';
  private readonly o: Required<BoOptions>;
  private enc: { key: string; enc: SpaceEncoder } | null = null;
  private finite: FiniteCache | null = null;
  private hyper: { key: string; h: GpHyper } | null = null;
  private mixed: { key: string; enc: MixedEncoder } | null = null;
  /** Last proposal's model, for inspection and tests. */
  lastModel: GpModel | null = null;
  lastMixed: MaternGp | null = null;

  constructor(opts: BoOptions = {}) {
    this.o = {
      nStartup: 10,
      model: 'auto',
      nRaw: 1024,
      nStarts: 6,
      maxIter: 40,
      warmStart: true,
      escape: true,
      acquisition: 'auto',
      xi: 0,
      beta: 2,
      maxTrain: 150,
      subsetSize: 64,
      exhaustiveLimit: 50_000,
      nRandom: 400,
      localRounds: 3,
      maxExact: 3072,
      refitEvery: 50,
      transform: 'copula',
      ...opts,
    };
  }

  /**
   * Past `maxTrain` observations the kernel hyperparameters are re-selected (grid, marginal likelihood)
   * every `refitEvery` observations, on a subset of the first multiple of `refitEvery` of them; the
   * result is cached under a hash of those observations, so it is a function of the history.
   */
  private subsetHyper(ctx: StrategyContext, enc: SpaceEncoder, obs: Observation[], ys: number[]): GpHyper {
    const nRef = Math.floor(obs.length / this.o.refitEvery) * this.o.refitEvery;
    // Several objectives: the ParEGO weights change every trial, so no reuse.
    const mo = ctx.directions.length > 1 ? ctx.trialNumber : '';
    let h = hashString(`${ctx.seed}|${nRef}|${this.enc!.key}|${ctx.directions.join()}|${mo}`);
    for (let i = 0; i < nRef; i++) {
      h = Math.imul(h ^ obs[i]!.trial.id, 0x01000193) >>> 0;
      h = Math.imul(h ^ Math.round(obs[i]!.score * 1e6), 0x01000193) >>> 0;
    }
    const key = String(h);
    if (this.hyper?.key === key) return this.hyper.h;
    const refYs = ctx.directions.length > 1 ? ys.slice(0, nRef) : copulaIf(this.o.transform, obs.slice(0, nRef).map((o) => o.score));
    const sub = trainSubset(refYs, this.o.subsetSize, Rng.derive(ctx.seed, nRef, 'bo-hyper'));
    const m = fitGp(enc, encode(enc, sub.map((i) => obs[i]!.params)), sub.map((i) => refYs[i]!));
    this.hyper = { key, h: m.hyper };
    return m.hyper;
  }

  private encoder(space: SearchSpace): SpaceEncoder {
    const key = JSON.stringify(space);
    if (this.enc?.key !== key) this.enc = { key, enc: makeEncoder(space) };
    return this.enc.enc;
  }

  private finiteSet(space: SearchSpace, enc: SpaceEncoder): FiniteCache | null {
    const key = JSON.stringify(space);
    if (this.finite?.key === key) return this.finite;
    if (finiteSize(space) > this.o.exhaustiveLimit) return null;
    const configs = enumerateFinite(space);
    this.finite = { key, configs, keys: configs.map(paramsKey), batch: encode(enc, configs), rows: new Map() };
    return this.finite;
  }

  ask(ctx: StrategyContext): Params {
    const space = ctx.space;
    if (!space) return {};
    const seen = historyKeys(ctx);
    const obs = observations(ctx, space);
    const enc = this.encoder(space);
    const mixed = this.useMixed(space, enc);
    if (obs.length < Math.max(2, this.o.nStartup)) {
      if (mixed && ctx.trialNumber < this.o.nStartup) {
        const p = this.mixedEncoder(space).lhs(ctx.seed, ctx.trialNumber, this.o.nStartup);
        if (!seen.has(paramsKey(p))) return p;
      }
      return randomUnseen(space, ctx.rng, seen);
    }
    if (mixed) {
      const r = askMixed(ctx, this.mixedEncoder(space), obs, seen, this.o);
      this.lastMixed = r.gp;
      return r.params;
    }

    let ys = obs.map((o) => o.score);
    if (ctx.directions.length > 1) ys = parego(obs.map((o) => o.values), ctx.rng);
    if (this.o.transform === 'copula') ys = copula(ys);
    let idx = obs.map((_, i) => i);
    const exact = idx.length <= this.o.maxTrain;
    let grid: GpHyper[] | undefined;
    if (!exact) {
      idx = trainSubset(ys, this.o.subsetSize, ctx.rng);
      grid = [this.subsetHyper(ctx, enc, obs, ys)];
    }
    const X = encode(enc, idx.map((i) => obs[i]!.params));
    const model = fitGp(enc, X, idx.map((i) => ys[i]!), grid);
    this.lastModel = model;
    const yBest = Math.max(...ys);
    const acq = this.acquisition(model, yBest, ctx.rng);

    const fin = exact ? this.finiteSet(space, enc) : null;
    if (fin) {
      const best = this.exhaustive(fin, enc, model, idx.map((i) => obs[i]!.params), yBest, seen, ctx.rng);
      return best >= 0 ? { ...fin.configs[best]! } : randomUnseen(space, ctx.rng, seen);
    }
    return this.poolSearch(space, enc, acq, obs, ys, seen, ctx.rng);
  }

  private useMixed(space: SearchSpace, enc: SpaceEncoder): boolean {
    if (this.o.model !== 'auto') return this.o.model === 'mixed';
    return enc.paths.length === 0 && finiteSize(space) > this.o.exhaustiveLimit;
  }

  private mixedEncoder(space: SearchSpace): MixedEncoder {
    if (this.mixed?.key !== this.enc!.key) this.mixed = { key: this.enc!.key, enc: new MixedEncoder(space) };
    return this.mixed.enc;
  }

  /** Distance components from `p` to every point of the finite space, cached by configuration. */
  private row(fin: FiniteCache, enc: SpaceEncoder, p: Params): { code: Uint16Array | null; parts: Float32Array[] | null } {
    const key = paramsKey(p);
    const hit = fin.rows.get(key);
    if (hit) return hit;
    const N = fin.batch.n;
    const one = encode(enc, [p]);
    const buf = new Float64Array(3);
    const P = enc.cats.length;
    const T = enc.paths.length;
    const counts = enc.nums.length === 0 && (P + 1) * (2 * T * T + 1) < 65536;
    const code = counts ? new Uint16Array(N) : null;
    const parts = counts ? null : [new Float32Array(N), new Float32Array(N), new Float32Array(N)];
    for (let j = 0; j < N; j++) {
      distParts(enc, one, 0, fin.batch, j, buf);
      if (code) code[j] = Math.round(buf[0]! * P) * (2 * T * T + 1) + Math.round(buf[2]! * T);
      else for (let c = 0; c < 3; c++) parts![c]![j] = buf[c]!;
    }
    const r = { code, parts };
    fin.rows.set(key, r);
    return r;
  }

  /**
   * Index of the unvisited point with the largest acquisition, over the whole finite space. The mean
   * is computed everywhere; the (costly) variance only in order of an upper bound of the
   * acquisition (its value at the prior std, which bounds the posterior one), until no remaining
   * point can beat the best: the result is the exact maximiser.
   */
  private exhaustive(fin: FiniteCache, enc: SpaceEncoder, model: GpModel, train: Params[], yBest: number, seen: Set<string>, rng: Rng): number {
    const N = fin.batch.n;
    const n = model.n;
    const P = enc.cats.length;
    const T = enc.paths.length;
    const { wc, wn, wp } = model.hyper;
    const W = 2 * T * T + 1;
    const table = new Float64Array((P + 1) * W);
    for (let h = 0; h <= P; h++) {
      for (let d = 0; d < W; d++) table[h * W + d] = Math.exp(-(wc * (P ? h / P : 0) + wp * (T ? d / T : 0)));
    }
    const rows = train.map((p) => this.row(fin, enc, p));
    const keep = new Set(train.map(paramsKey));
    for (const k of fin.rows.keys()) if (!keep.has(k)) fin.rows.delete(k);
    /** Correlations of the training points with the points `cols` (all when null), n x M. */
    const cross = (cols: ArrayLike<number> | null): Float64Array => {
      const M = cols ? cols.length : N;
      const Ks = new Float64Array(n * M);
      for (let i = 0; i < n; i++) {
        const r = rows[i]!;
        const off = i * M;
        if (r.code) {
          const code = r.code;
          if (cols) for (let c = 0; c < M; c++) Ks[off + c] = table[code[cols[c]!]!]!;
          else for (let j = 0; j < N; j++) Ks[off + j] = table[code[j]!]!;
        } else {
          const [pc, pn, pp] = r.parts as [Float32Array, Float32Array, Float32Array];
          for (let c = 0; c < M; c++) {
            const j = cols ? cols[c]! : c;
            Ks[off + c] = Math.exp(-(wc * pc[j]! + wn * pn[j]! + wp * pp[j]!));
          }
        }
      }
      return Ks;
    };
    // Posterior mean everywhere: mu_j = mean + sd * sum_i alpha_i k(x_i, x_j), without storing n x N.
    const acc = new Float64Array(N);
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      const a = model.alpha[i]!;
      if (r.code) {
        const code = r.code;
        for (let j = 0; j < N; j++) acc[j] += a * table[code[j]!]!;
      } else {
        const [pc, pn, pp] = r.parts as [Float32Array, Float32Array, Float32Array];
        for (let j = 0; j < N; j++) acc[j] += a * Math.exp(-(wc * pc[j]! + wn * pn[j]! + wp * pp[j]!));
      }
    }
    const mu = acc.map((v) => model.yMean + model.ySd * v);
    const cand: number[] = [];
    for (let j = 0; j < N; j++) if (!seen.has(fin.keys[j]!)) cand.push(j);
    if (cand.length === 0) return -1;
    const { xi, beta } = this.o;
    const acquisition = this.o.acquisition === 'auto' ? 'thompson' : this.o.acquisition;
    const target = yBest + xi * model.ySd;
    const s0 = priorSd(model);
    const value = (m: number, s: number) =>
      acquisition === 'ucb' ? m + beta * s : acquisition === 'thompson' ? m + s * rng.normal() : expectedImprovement(m, s, target);
    let best = -1;
    let bestV = -Infinity;
    const consider = (cols: number[]) => {
      for (let c0 = 0; c0 < cols.length; c0 += 1024) {
        const part = cols.slice(c0, c0 + 1024);
        const sd = sdFromKs(model, cross(part), part.length);
        for (let c = 0; c < part.length; c++) {
          const v = value(mu[part[c]!]!, sd[c]!);
          if (v > bestV || (v === bestV && part[c]! < best)) {
            bestV = v;
            best = part[c]!;
          }
        }
      }
    };
    if (acquisition === 'thompson') {
      consider(cand);
      return best;
    }
    // Upper bound of the acquisition at the prior std; the posterior std is never larger.
    const ub = new Float64Array(N);
    for (const j of cand) ub[j] = value(mu[j]!, s0);
    const sorted = Float64Array.from(cand, (j) => ub[j]!).sort();
    const kth = (k: number) => sorted[Math.max(0, sorted.length - k)]!;
    const first = kth(Math.min(512, this.o.maxExact));
    const stage1 = cand.filter((j) => ub[j]! >= first);
    consider(stage1);
    const cap = kth(this.o.maxExact);
    const stage2 = cand.filter((j) => ub[j]! < first && ub[j]! > bestV && ub[j]! >= cap);
    consider(stage2);
    return best;
  }

  private acquisition(model: GpModel, yBest: number, rng: Rng): (C: EncodedBatch) => Float64Array {
    const { xi, beta } = this.o;
    const acquisition = this.o.acquisition === 'auto' ? 'ei' : this.o.acquisition;
    return (C) => {
      const { mu, sd } = predict(model, C);
      const out = new Float64Array(C.n);
      for (let j = 0; j < C.n; j++) {
        if (acquisition === 'ucb') out[j] = mu[j]! + beta * sd[j]!;
        else if (acquisition === 'thompson') out[j] = mu[j]! + sd[j]! * rng.normal();
        else out[j] = expectedImprovement(mu[j]!, sd[j]!, yBest + xi * model.ySd);
      }
      return out;
    };
  }

  private poolSearch(
    space: SearchSpace,
    enc: SpaceEncoder,
    acq: (C: EncodedBatch) => Float64Array,
    obs: { params: Params }[],
    ys: number[],
    seen: Set<string>,
    rng: Rng,
  ): Params {
    const scored = new Map<string, { p: Params; s: number }>();
    const score = (ps: Params[]) => {
      const fresh: Params[] = [];
      for (const p of ps) {
        const k = paramsKey(p);
        if (seen.has(k) || scored.has(k)) continue;
        scored.set(k, { p, s: -Infinity });
        fresh.push(p);
      }
      if (fresh.length === 0) return;
      const s = acq(encode(enc, fresh));
      fresh.forEach((p, i) => (scored.get(paramsKey(p))!.s = s[i]!));
    };
    const pool: Params[] = [];
    for (let i = 0; i < this.o.nRandom; i++) pool.push(sampleSpace(space, rng));
    const order = ys.map((_, i) => i).sort((a, b) => ys[b]! - ys[a]!);
    for (const i of order.slice(0, 5)) pool.push(...neighbours(space, obs[i]!.params, rng));
    score(pool);
    for (let r = 0; r < this.o.localRounds; r++) {
      const top = [...scored.values()].sort((a, b) => b.s - a.s).slice(0, 3);
      const next: Params[] = [];
      for (const t of top) next.push(...neighbours(space, t.p, rng));
      score(next);
    }
    let best: { p: Params; s: number } | null = null;
    for (const v of scored.values()) if (!best || v.s > best.s) best = v;
    return best ? { ...best.p } : randomUnseen(space, rng, seen);
  }
}

export function randomUnseen(space: SearchSpace, rng: Rng, seen: Set<string>, tries = 200): Params {
  let p = sampleSpace(space, rng);
  for (let i = 0; i < tries && seen.has(paramsKey(p)); i++) p = sampleSpace(space, rng);
  return p;
}

export { copula, expectedImprovement, normInv } from './bo-math.js';
