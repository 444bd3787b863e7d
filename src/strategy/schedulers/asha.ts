/**
 * Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter
 * Tuning", MLSys 2020). No brackets to fill: whenever a job is asked, the scheduler looks from the
 * top rung down for a configuration that is in the top 1/eta of the finished jobs of its rung and
 * not yet promoted, and promotes it; otherwise it starts a new configuration at rung 0. Running jobs
 * are simply not counted yet, so any number of trials may be in flight.
 *
 * Its stopping variant for objectives that run one trial to the end is `AshaPruner`
 * (src/estimate/pruners/asha.ts).
 */
import type { StrategyContext } from '../../core/strategy.js';
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
