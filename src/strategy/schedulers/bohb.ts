/**
 * BOHB (Falkner et al., ICML 2018): Hyperband's brackets, with new configurations proposed by a TPE
 * model fitted on the largest budget that has enough observations (at least `minPoints`, default
 * the number of parameters + 1); a fraction `randomFraction` (default 1/3) stays uniformly random.
 * The model is any Strategy (`model`: 'tpe', the default, tsnas's TPE, multivariate as BOHB's KDE,
 * top 15% as good; 'bo', tsnas's GP ("BOHB-GP"); or a Strategy object) asked with a history in which
 * only the jobs of that budget are observations (a continuation's value at budget b counts as an
 * observation of its configuration at b) and every other trial is shown as not finished, so the
 * model does not propose it again. A proposal already tried at any budget is replaced by a random
 * unseen configuration.
 */
import { paramsKey, type Params } from '../../space/params.js';
import type { TrialRecord } from '../../core/store.js';
import { BoStrategy } from '../bo.js';
import { TpeStrategy } from '../tpe.js';
import type { Strategy, StrategyContext } from '../../core/strategy.js';
import { Hyperband, type HyperbandOptions } from './hyperband.js';
import type { Job } from './job.js';

export interface BohbOptions extends HyperbandOptions {
  /** Model asked for new configurations: 'tpe' (default: multivariate, gamma 0.15), 'bo' (GP) or a Strategy. */
  model?: 'tpe' | 'bo' | Strategy;
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
    const m = opts.model ?? 'tpe';
    if (m === 'tpe') this.model = new TpeStrategy({ nStartup: 1, multivariate: true, gamma: 0.15 }, 'bohb-tpe');
    else if (m === 'bo') this.model = new BoStrategy({ nStartup: 1 });
    else if (typeof m === 'object' && typeof m.ask === 'function') this.model = m;
    else throw new RangeError(`bohb model must be "tpe", "bo" or a Strategy (got ${JSON.stringify(m)})`);
    this.randomFraction = opts.randomFraction ?? 1 / 3;
    this.minPoints = opts.minPoints;
  }

  protected override async sample(ctx: StrategyContext, job: Job): Promise<Params> {
    this.lastModelBudget = null;
    if (!ctx.space || ctx.rng.random() < this.randomFraction) return super.sample(ctx, job);
    const need = this.minPoints ?? Object.keys(ctx.space.params).length + 1;
    const jobs = this.jobs(ctx).filter((j) => j.score !== null);
    const budgets = [...new Set(jobs.map((j) => j.job.budget))].sort((a, b) => b - a);
    for (const b of budgets) {
      const at = jobs.filter((j) => j.job.budget === b);
      if (at.length < need) continue;
      this.lastModelBudget = b;
      const observed = new Set(at.map((j) => j.trial.id));
      const history: TrialRecord[] = ctx.history.map((t) => (observed.has(t.id) ? t : { ...t, state: 'RUNNING', values: null }));
      const p = (await this.model.ask({ ...ctx, history, setAttr: undefined })) as Params;
      const seen = new Set(ctx.history.map((t) => paramsKey(t.params)));
      return seen.has(paramsKey(p)) ? super.sample(ctx, job) : p;
    }
    return super.sample(ctx, job);
  }
}
