/**
 * Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter
 * Tuning", MLSys 2020). No brackets to fill: whenever a job is asked, the scheduler looks from the
 * top rung down for a configuration that is in the top 1/eta of the finished jobs of its rung and
 * not yet promoted, and promotes it; otherwise it starts a new configuration at rung 0. Running jobs
 * are simply not counted yet, so any number of trials may be in flight.
 *
 * `AshaPruner` is the stopping variant for objectives that run one trial to the end: at a rung step
 * the trial continues only if its value is in the top 1/eta of all values reported at that step.
 */
import type { PruneContext, Pruner } from '../pruner.js';
import type { StrategyContext } from '../../strategy/types.js';
import { rungBudgets, type BracketOptions } from './brackets.js';
import { JobScheduler, ranked, type Decision, type JobTrial } from './job.js';

export class Asha extends JobScheduler {
  readonly name: string = 'asha';
  readonly eta: number;
  readonly budgets: number[];

  constructor(opts: BracketOptions = {}) {
    super();
    this.eta = opts.eta ?? 3;
    this.budgets = rungBudgets({ ...opts, eta: this.eta });
  }

  protected decide(_ctx: StrategyContext, jobs: JobTrial[]): Decision {
    const top = this.budgets.length - 1;
    const base = { scheduler: this.name, bracket: 0, s: top };
    for (let i = top - 1; i >= 0; i--) {
      const finished = jobs.filter((j) => j.job.rung === i && j.trial.state !== 'RUNNING');
      const k = Math.floor(finished.length / this.eta);
      if (k === 0) continue;
      const promoted = new Set(jobs.filter((j) => j.job.rung === i + 1).map((j) => j.job.parent));
      const cand = ranked(finished)
        .slice(0, k)
        .find((j) => !promoted.has(j.trial.number));
      if (cand) {
        return {
          job: { ...base, rung: i + 1, budget: this.budgets[i + 1]!, previousBudget: cand.job.budget, parent: cand.trial.number },
          params: cand.trial.params,
        };
      }
    }
    return { job: { ...base, rung: 0, budget: this.budgets[0]!, previousBudget: 0, parent: null } };
  }
}

export interface AshaPrunerOptions extends BracketOptions {
  /** Rungs below this many reports at the step never stop a trial (default eta). */
  minReports?: number;
}

/** Stopping-variant ASHA: decides at each rung step whether a single running trial continues. */
export class AshaPruner implements Pruner {
  readonly name = 'asha';
  readonly eta: number;
  readonly rungs: number[];
  private readonly minReports: number;

  constructor(opts: AshaPrunerOptions = {}) {
    this.eta = opts.eta ?? 3;
    this.rungs = rungBudgets({ ...opts, eta: this.eta });
    this.minReports = opts.minReports ?? this.eta;
  }

  shouldPrune(ctx: PruneContext): boolean {
    const last = ctx.trial.intermediate.at(-1);
    if (!last) return false;
    const rung = this.rungs.indexOf(last.step);
    if (rung < 0 || rung === this.rungs.length - 1) return false;
    const sign = ctx.directions[0] === 'minimize' ? -1 : 1;
    const values: number[] = [];
    for (const t of ctx.history) {
      const v = t.intermediate.find((iv) => iv.step === last.step);
      if (v && Number.isFinite(v.value)) values.push(sign * v.value);
    }
    if (values.length < this.minReports) return false;
    values.sort((a, b) => b - a);
    const k = Math.max(1, Math.floor(values.length / this.eta));
    return sign * last.value < values[k - 1]!;
  }
}
