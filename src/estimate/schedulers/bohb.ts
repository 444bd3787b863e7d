/**
 * BOHB (Falkner et al., ICML 2018): Hyperband's brackets, with new configurations proposed by a TPE
 * model fitted on the largest budget that has enough observations (at least `minPoints`, default
 * the number of parameters + 1); a fraction `randomFraction` (default 1/3) stays uniformly random.
 * The model is any Strategy (`model`, default the registered "tpe" strategy when there is one, else
 * the small factorised TPE below) asked with the history restricted to the jobs of that budget, so a
 * continuation's value at budget b counts as an observation of its configuration at b.
 */
import { isActive, paramsKey, sampleSpec, toUnit, type ParamSpec, type Params } from '../../space/params.js';
import type { TrialRecord } from '../../store/types.js';
import type { Strategy, StrategyContext } from '../../strategy/types.js';
import type { Rng } from '../../util/rng.js';
import { Hyperband, type HyperbandOptions } from './hyperband.js';
import type { Job } from './job.js';

export interface BohbOptions extends HyperbandOptions {
  /** Model asked for new configurations (default: registered "tpe", else the built-in factorised TPE). */
  model?: Strategy;
  /** Share of new configurations drawn uniformly at random. Default 1/3. */
  randomFraction?: number;
  /** Observations a budget needs before the model is fitted on it. Default: parameters + 1. */
  minPoints?: number;
}

export class Bohb extends Hyperband {
  override readonly name: string = 'bohb';
  private readonly model: Strategy;
  private readonly randomFraction: number;
  private readonly minPoints: number | undefined;
  /** Budget the model was last fitted on (for reports and tests). */
  lastModelBudget: number | null = null;

  constructor(opts: BohbOptions = {}) {
    super(opts);
    this.model = opts.model ?? new FactorizedTpe();
    this.randomFraction = opts.randomFraction ?? 1 / 3;
    this.minPoints = opts.minPoints;
  }

  protected override sample(ctx: StrategyContext, job: Job): Params {
    this.lastModelBudget = null;
    if (!ctx.space || ctx.rng.random() < this.randomFraction) return super.sample(ctx, job);
    const need = this.minPoints ?? Object.keys(ctx.space.params).length + 1;
    const jobs = this.jobs(ctx).filter((j) => j.score !== null);
    const budgets = [...new Set(jobs.map((j) => j.job.budget))].sort((a, b) => b - a);
    for (const b of budgets) {
      const at = jobs.filter((j) => j.job.budget === b);
      if (at.length < need) continue;
      this.lastModelBudget = b;
      const history: TrialRecord[] = at.map((j) => j.trial);
      const p = this.model.ask({ ...ctx, history }) as Params;
      const seen = new Set(ctx.history.map((t) => paramsKey(t.params)));
      return seen.has(paramsKey(p)) ? super.sample(ctx, job) : p;
    }
    return super.sample(ctx, job);
  }
}

export interface FactorizedTpeOptions {
  /** Share of observations in the good group. Default 0.15 (BOHB's top_n_percent). */
  gamma?: number;
  /** Candidates drawn from the good density; the best l/g ratio wins. Default 64 (BOHB). */
  candidates?: number;
  /** Kernel bandwidth floor on the unit scale. Default 0.1. */
  minBandwidth?: number;
}

/**
 * A small TPE with one independent density per parameter (BOHB's KDE is multivariate with product
 * kernels; factorised is the same product evaluated per dimension): categorical parameters use
 * smoothed frequencies, numeric ones Gaussian kernels on the unit scale, both mixed with a uniform prior.
 */
export class FactorizedTpe implements Strategy {
  readonly name = 'tpe-lite';
  constructor(private readonly opts: FactorizedTpeOptions = {}) {}

  ask(ctx: StrategyContext): Params {
    const space = ctx.space;
    if (!space) return {};
    const sign = ctx.directions[0] === 'minimize' ? -1 : 1;
    const obs = ctx.history
      .filter((t) => t.state === 'COMPLETE' && t.values && Number.isFinite(t.values[0]!))
      .map((t) => ({ p: t.params, s: sign * t.values![0]! }))
      .sort((a, b) => b.s - a.s);
    const nGood = Math.max(1, Math.ceil((this.opts.gamma ?? 0.15) * obs.length));
    const good = obs.slice(0, nGood).map((o) => o.p);
    const bad = obs.slice(nGood).map((o) => o.p);
    let best: Params = {};
    let bestScore = -Infinity;
    for (let c = 0; c < (this.opts.candidates ?? 64); c++) {
      const cand: Params = {};
      let s = 0;
      for (const [name, spec] of Object.entries(space.params)) {
        if (!isActive(spec, cand)) continue;
        const g = good.filter((p) => name in p).map((p) => p[name]!);
        const b = bad.filter((p) => name in p).map((p) => p[name]!);
        cand[name] = this.draw(spec, g, ctx.rng);
        s += Math.log(this.density(spec, g, cand[name])) - Math.log(this.density(spec, b, cand[name]));
      }
      if (s > bestScore) {
        bestScore = s;
        best = cand;
      }
    }
    return best;
  }

  private bandwidth(n: number): number {
    return Math.max(this.opts.minBandwidth ?? 0.1, n > 0 ? 1.06 * 0.3 * n ** -0.2 : 1);
  }

  private draw(spec: ParamSpec, obs: Params[string][], rng: Rng): Params[string] {
    if (obs.length === 0 || rng.random() < 1 / (obs.length + 1)) return sampleSpec(spec, rng);
    const x = obs[rng.int(0, obs.length - 1)]!;
    if (spec.type === 'categorical') return x;
    const u = toUnit(spec, x as number) + this.bandwidth(obs.length) * rng.normal();
    const lo = spec.log ? Math.log(spec.low) : spec.low;
    const hi = spec.log ? Math.log(spec.high) : spec.high;
    let v = lo + Math.min(1, Math.max(0, u)) * (hi - lo);
    if (spec.log) v = Math.exp(v);
    if (spec.step !== undefined) v = spec.low + Math.round((v - spec.low) / spec.step) * spec.step;
    if (spec.type === 'int') v = Math.round(v);
    return Math.min(spec.high, Math.max(spec.low, v));
  }

  /** Density (up to a constant shared by good and bad) with one prior pseudo-observation. */
  private density(spec: ParamSpec, obs: Params[string][], v: Params[string]): number {
    const n = obs.length;
    if (spec.type === 'categorical') {
      const k = spec.choices.length;
      const hits = obs.filter((o) => o === v).length;
      return (hits + 1 / k) / (n + 1);
    }
    const h = this.bandwidth(n);
    const u = toUnit(spec, v as number);
    let sum = 1; // uniform prior on [0, 1]
    for (const o of obs) sum += Math.exp(-0.5 * ((u - toUnit(spec, o as number)) / h) ** 2) / (h * Math.sqrt(2 * Math.PI));
    return sum / (n + 1);
  }
}
