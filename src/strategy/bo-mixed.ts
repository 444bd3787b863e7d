/**
 * The `bo` strategy on continuous, integer and mixed spaces (anything but a small finite space):
 * a Matérn-5/2 GP with fitted length scales (gp-matern.ts) and log expected improvement maximised by
 * multi-start L-BFGS over the numeric dimensions and coordinate search over the categorical ones.
 *
 * - Encoding: numeric parameters in the unit cube (log ones in log space; integers and stepped floats
 *   over equal-width bins, so rounding the optimum of the continuous relaxation is the nearest
 *   level); categorical ones by choice index under a Hamming kernel; an inactive conditional
 *   parameter is 0.5 (numeric) or -1 (categorical) and is not optimised.
 * - Pending trials (RUNNING, e.g. other workers' asks): constant liar, each conditioned on as if it
 *   had returned the worst value seen, so parallel asks spread out.
 * - Constraints (attrs.constraints, feasible when all <= 0): one GP per constraint; the acquisition
 *   is log-EI over the best feasible value plus log P(feasible) (Gardner et al. 2014), as Optuna's
 *   GPSampler does; with no feasible trial yet, log P(feasible) alone.
 * - Acquisition starts: the best of `nRaw` random points, the best observed point and perturbations
 *   of it; each is polished by L-BFGS-B (box [0, 1]), then categorical coordinates are tried choice by
 *   choice; the best unseen configuration after rounding wins.
 */
import { isActive, paramsKey, type FloatParam, type IntParam, type Params, type SearchSpace } from '../space/params.js';
import { Rng } from '../util/rng.js';
import { logCdf, logH, parego, trainSubset } from './bo-math.js';
import { escapePhase, escapeProposal } from './bo-escape.js';
import { condition, fitHyper, posterior, type MaternGp, type MaternHyper } from './gp-matern.js';
import { lbfgs } from './lbfgs.js';
import type { Observation } from './tpe-split.js';
import { constraintsOf, type StrategyContext } from '../core/strategy.js';

export interface MixedBoOptions {
  /** Random candidates scored to pick the starts. Default 1024. */
  nRaw: number;
  /** Starts polished by L-BFGS: the best random ones; plus the best observed point and 2 perturbations of it. Default 6. */
  nStarts: number;
  /** L-BFGS iterations per start. Default 40. */
  maxIter: number;
  /** Stall escape (bo-escape.ts): a local search around the best region outside the incumbent's basin once the best stops improving, then a box around a new best. Default true. */
  escape: boolean;
}

export class MixedEncoder {
  readonly names: string[];
  readonly D: number;
  readonly isCat: Uint8Array;
  private readonly space: SearchSpace;

  constructor(space: SearchSpace) {
    this.space = space;
    this.names = Object.keys(space.params);
    this.D = this.names.length;
    this.isCat = Uint8Array.from(this.names, (n) => (space.params[n]!.type === 'categorical' ? 1 : 0));
  }

  encode(p: Params, out: Float64Array = new Float64Array(this.D)): Float64Array {
    this.names.forEach((name, d) => {
      const spec = this.space.params[name]!;
      if (!(name in p) || p[name] === undefined) out[d] = spec.type === 'categorical' ? -1 : 0.5;
      else if (spec.type === 'categorical') out[d] = spec.choices.indexOf(p[name]!);
      else out[d] = toCube(spec, p[name] as number);
    });
    return out;
  }

  /** The configuration at x: active parameters only, numerics rounded to their grid. */
  decode(x: ArrayLike<number>): Params {
    const out: Params = {};
    this.names.forEach((name, d) => {
      const spec = this.space.params[name]!;
      if (!isActive(spec, out)) return;
      if (spec.type === 'categorical') out[name] = spec.choices[Math.max(0, Math.round(x[d]!))]!;
      else out[name] = fromCube(spec, x[d]!);
    });
    return out;
  }

  /** Re-encodes the decoded configuration (rounded, inactive dimensions at their fixed code) in place. */
  canon(x: Float64Array): Params {
    const p = this.decode(x);
    this.encode(p, x);
    return p;
  }

  /** 1 where a dimension must not move in the continuous search: categorical or inactive. */
  frozen(p: Params): Uint8Array {
    return Uint8Array.from(this.names, (n, d) => (this.isCat[d] || !(n in p) ? 1 : 0));
  }

  random(rng: Rng): Float64Array {
    const x = new Float64Array(this.D);
    this.names.forEach((name, d) => {
      const spec = this.space.params[name]!;
      x[d] = spec.type === 'categorical' ? rng.int(0, spec.choices.length - 1) : rng.random();
    });
    this.canonActivity(x);
    return x;
  }

  /**
   * Row `i` of a Latin hypercube of `n` points drawn from `seed`: the start-up design, which covers
   * every numeric dimension evenly (each of its n strata once) where independent draws leave gaps.
   */
  lhs(seed: number, i: number, n: number): Params {
    const x = new Float64Array(this.D);
    this.names.forEach((name, d) => {
      const rng = Rng.derive(seed, 'lhs', name);
      const perm = rng.shuffle(Array.from({ length: n }, (_, k) => k));
      const jitter = Rng.derive(seed, 'lhs', name, i).random();
      x[d] = this.isCat[d] ? perm[i]! % this.nChoices(d) : (perm[i]! + jitter) / n;
    });
    return this.canon(x);
  }

  /** Sets inactive dimensions to their fixed code, leaving active numerics unrounded. */
  canonActivity(x: Float64Array): void {
    const p = this.decode(x);
    this.names.forEach((name, d) => {
      if (!(name in p)) x[d] = this.isCat[d] ? -1 : 0.5;
    });
  }

  nChoices(d: number): number {
    const spec = this.space.params[this.names[d]!]!;
    return spec.type === 'categorical' ? spec.choices.length : 0;
  }
}

/** Levels of an integer or stepped parameter (null when continuous). */
function levels(spec: IntParam | FloatParam): number | null {
  if (spec.type === 'float' && spec.step === undefined) return null;
  const step = spec.step ?? 1;
  return Math.floor((spec.high - spec.low) / step + 1e-9) + 1;
}

function cubeRange(spec: IntParam | FloatParam): [number, number] {
  const lv = levels(spec);
  const half = lv === null ? 0 : 0.5 * (spec.step ?? 1);
  if (spec.log) return [Math.log(Math.max(spec.low - half, spec.low / 2)), Math.log(spec.high + half)];
  return [spec.low - half, spec.high + half];
}

export function toCube(spec: IntParam | FloatParam, v: number): number {
  if (spec.high === spec.low) return 0.5;
  const [a, b] = cubeRange(spec);
  const t = spec.log ? Math.log(v) : v;
  return Math.min(1, Math.max(0, (t - a) / (b - a)));
}

export function fromCube(spec: IntParam | FloatParam, u: number): number {
  if (spec.high === spec.low) return spec.low;
  const [a, b] = cubeRange(spec);
  const t = a + Math.min(1, Math.max(0, u)) * (b - a);
  let v = spec.log ? Math.exp(t) : t;
  if (levels(spec) !== null) {
    const step = spec.step ?? 1;
    v = spec.low + Math.round((v - spec.low) / step) * step;
    if (spec.type === 'int') v = Math.round(v);
  }
  return Math.min(spec.high, Math.max(spec.low, v));
}

export interface MixedProblem {
  enc: MixedEncoder;
  /** Observed configurations and their values (larger is better). */
  xs: Params[];
  ys: number[];
  /** Constraint values per observation (null when absent), feasible when all <= 0. */
  cons: (number[] | null)[];
  /** Configurations of pending trials. */
  pending: Params[];
  seen: Set<string>;
  rng: Rng;
  /** Hyperparameters to start the fit from (the previous decision's), if any. */
  warm: MaternHyper | null;
  /** Whether the stall escape may run: one objective, every observation in order (no training subset). */
  escapable: boolean;
}

export interface MixedResult {
  params: Params;
  hyper: MaternHyper;
  gp: MaternGp;
}

interface Acq {
  /** Value and, if g is given, gradient (numeric dimensions). */
  (x: Float64Array, g?: Float64Array): number;
}

function buildAcq(gp: MaternGp, best: number | null, cgps: MaternGp[]): Acq {
  const D = gp.D;
  const bufs = [gp, ...cgps].map((m) => ({ k: new Float64Array(m.n), dk: new Float64Array(m.n), w: new Float64Array(m.n) }));
  return (x, g) => {
    let val = 0;
    if (g) g.fill(0);
    if (best !== null) {
      const p = posterior(gp, x, !!g, bufs[0]);
      const s = Math.sqrt(p.v);
      const z = (p.mu - best) / s;
      const h = logH(z);
      val += Math.log(s) + h.logH;
      if (g) {
        for (let d = 0; d < D; d++) g[d] += (h.cdfRatio * p.dmu![d]!) / s + (h.pdfRatio / s) * (p.dv![d]! / (2 * s));
      }
    }
    cgps.forEach((c, k) => {
      // P(c <= 0): standardised threshold (0 - mean) / sd.
      const p = posterior(c, x, !!g, bufs[k + 1]);
      const s = Math.sqrt(p.v);
      const t = (0 - c.yMean) / c.ySd;
      const a = (t - p.mu) / s;
      const l = logCdf(a);
      val += l.logCdf;
      if (g) for (let d = 0; d < D; d++) g[d] += l.ratio * (-p.dmu![d]! / s - (a / s) * (p.dv![d]! / (2 * s)));
    });
    return val;
  };
}

/**
 * The best random candidate, then `k - 1` more drawn without replacement with probability
 * proportional to exp(acquisition - best) (Optuna's roulette): starts spread over every basin that
 * is nearly as promising, instead of the k best, which crowd into one.
 */
function rouletteStarts(raw: { x: Float64Array; v: number }[], k: number, rng: Rng): Float64Array[] {
  const w = raw.map((r) => Math.exp(r.v - raw[0]!.v));
  w[0] = 0;
  const out = [raw[0]!.x];
  let total = w.reduce((a, b) => a + b, 0);
  while (out.length < k && total > 1e-300) {
    let u = rng.random() * total;
    let i = 1;
    while (i < w.length - 1 && (u -= w[i]!) > 0) i++;
    out.push(raw[i]!.x);
    total -= w[i]!;
    w[i] = 0;
  }
  return out;
}

function packRows(enc: MixedEncoder, ps: Params[]): Float64Array {
  const X = new Float64Array(ps.length * enc.D);
  ps.forEach((p, i) => enc.encode(p, X.subarray(i * enc.D, (i + 1) * enc.D)));
  return X;
}

/** The next configuration for a mixed space: GP fit, acquisition, multi-start maximisation. */
export function proposeMixed(pr: MixedProblem, o: MixedBoOptions): MixedResult {
  const { enc, rng } = pr;
  const D = enc.D;
  const n = pr.xs.length;
  const X = packRows(enc, pr.xs);
  const hyper = fitHyper(X, n, D, enc.isCat, pr.ys, pr.warm ?? undefined);
  // Constant liar: pending configurations conditioned on at the worst value observed.
  const worst = Math.min(...pr.ys);
  const Xa = packRows(enc, [...pr.xs, ...pr.pending]);
  const ya = [...pr.ys, ...pr.pending.map(() => worst)];
  const gp = condition(Xa, ya.length, D, enc.isCat, ya, hyper);
  const nc = pr.cons.reduce((m, c) => Math.max(m, c?.length ?? 0), 0);
  const feasible = pr.cons.map((c) => !c || c.every((v) => v <= 0));
  const cgps: MaternGp[] = [];
  for (let k = 0; k < nc; k++) {
    const idx = pr.cons.map((c, i) => (c && Number.isFinite(c[k]) ? i : -1)).filter((i) => i >= 0);
    if (idx.length < 2) continue;
    const Xc = packRows(enc, idx.map((i) => pr.xs[i]!));
    const yc = idx.map((i) => pr.cons[i]![k]!);
    cgps.push(condition(Xc, idx.length, D, enc.isCat, yc, fitHyper(Xc, idx.length, D, enc.isCat, yc)));
  }
  let best: number | null = null;
  for (let i = 0; i < n; i++) if (feasible[i]) best = Math.max(best ?? -Infinity, (pr.ys[i]! - gp.yMean) / gp.ySd);
  const acq = buildAcq(gp, best, cgps);
  const phase = o.escape && pr.escapable && !cgps.length ? escapePhase(pr.ys) : null;
  if (phase) {
    const e = escapeProposal({
      X, ys: pr.ys, Xa, ya, D, isCat: enc.isCat, gp, seen: pr.seen, rng, maxIter: o.maxIter,
      frozen: (x) => enc.frozen(enc.decode(x)),
      canon: (x) => enc.canon(x),
      acq: (g, b) => buildAcq(g, b, []),
    }, phase);
    if (e) return { params: e.params, hyper, gp: e.gp };
  }

  // Starts: best random points, the best observed one and perturbations of it.
  const raw: { x: Float64Array; v: number }[] = [];
  for (let i = 0; i < o.nRaw; i++) {
    const x = enc.random(rng);
    raw.push({ x, v: acq(x) });
  }
  raw.sort((a, b) => b.v - a.v);
  const starts = rouletteStarts(raw, o.nStarts, rng);
  let bi = -1;
  for (let i = 0; i < n; i++) if (feasible[i] && (bi < 0 || pr.ys[i]! > pr.ys[bi]!)) bi = i;
  if (bi >= 0) {
    const xb = enc.encode(pr.xs[bi]!);
    starts.push(xb);
    for (let r = 0; r < 2; r++) {
      const x = Float64Array.from(xb, (v, d) => (enc.isCat[d] || v === 0.5 ? v : Math.min(1, Math.max(0, v + 0.05 * rng.normal()))));
      starts.push(x);
    }
  }
  const found: { p: Params; v: number }[] = [];
  const g = new Float64Array(D);
  const polish = (x0: Float64Array): Float64Array => {
    const frozen = enc.frozen(enc.decode(x0));
    const r = lbfgs((x, gr) => {
      const v = acq(x, g);
      for (let d = 0; d < D; d++) gr[d] = -g[d]!;
      return -v;
    }, x0, { lower: 0, upper: 1, maxIter: o.maxIter, fixed: frozen, gtol: 1e-5 });
    return r.x;
  };
  for (const s of starts) {
    let x = polish(s);
    let v = acq(x);
    // Categorical coordinates, choice by choice; re-polish when one changed.
    for (let round = 0; round < 2; round++) {
      let changed = false;
      for (let d = 0; d < D; d++) {
        if (!enc.isCat[d] || x[d]! < 0) continue;
        for (let c = 0; c < enc.nChoices(d); c++) {
          if (c === x[d]) continue;
          const y = Float64Array.from(x);
          y[d] = c;
          enc.canonActivity(y);
          const vy = acq(y);
          if (vy > v) [x, v, changed] = [y, vy, true];
        }
      }
      if (!changed) break;
      x = polish(x);
    }
    const p = enc.canon(x);
    found.push({ p, v: acq(x) });
  }
  found.sort((a, b) => b.v - a.v);
  for (const f of found) if (!pr.seen.has(paramsKey(f.p))) return { params: f.p, hyper, gp };
  // Every polished point was tried: the best unseen random one.
  for (const r of raw) {
    const p = enc.decode(r.x);
    if (!pr.seen.has(paramsKey(p))) return { params: p, hyper, gp };
  }
  return { params: enc.decode(raw[0]!.x), hyper, gp };
}

/**
 * The mixed GP's hyperparameters of the previous decision start the next fit (as Optuna's GPSampler
 * does): at 100 trials the fit took 20-30 ms instead of 70-170 ms. They are kept in the strategy state (the store), so a resumed
 * experiment starts from the same point as an uninterrupted one.
 */
const WARM_KEY = 'bo.gp';

function warmHyper(ctx: StrategyContext, D: number): MaternHyper | null {
  const w = ctx.state.get(WARM_KEY) as { ils?: unknown; amp?: unknown; noise?: unknown } | undefined;
  if (!w || !Array.isArray(w.ils) || w.ils.length !== D || typeof w.amp !== 'number' || typeof w.noise !== 'number') return null;
  return { ils: Float64Array.from(w.ils as number[]), amp: w.amp, noise: w.noise };
}

/** `bo`'s decision on a mixed space from the observations (ParEGO-scalarised for several objectives). */
export function askMixed(
  ctx: StrategyContext,
  enc: MixedEncoder,
  allObs: Observation[],
  seen: Set<string>,
  opts: MixedBoOptions & { maxTrain: number; warmStart: boolean },
): MixedResult {
  let obs = allObs;
  const escapable = ctx.directions.length === 1 && obs.length <= opts.maxTrain;
  let ys = obs.map((o) => o.score);
  if (ctx.directions.length > 1) ys = parego(obs.map((o) => o.values), ctx.rng);
  if (obs.length > opts.maxTrain) {
    const idx = trainSubset(ys, opts.maxTrain, ctx.rng);
    obs = idx.map((i) => obs[i]!);
    ys = idx.map((i) => ys[i]!);
  }
  const pending = ctx.history.filter((t) => t.state === 'RUNNING' && t.number !== ctx.trialNumber).map((t) => t.params);
  const r = proposeMixed(
    { enc, xs: obs.map((o) => o.params), ys, cons: obs.map((o) => constraintsOf(o.trial)), pending, seen, rng: ctx.rng, warm: opts.warmStart ? warmHyper(ctx, enc.D) : null, escapable },
    opts,
  );
  ctx.state.set(WARM_KEY, { ils: Array.from(r.hyper.ils), amp: r.hyper.amp, noise: r.hyper.noise });
  return r;
}
