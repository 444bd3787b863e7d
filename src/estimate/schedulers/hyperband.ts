/**
 * Synchronous successive halving and Hyperband as job schedulers. Brackets are opened in order
 * (bracket instance k has s = s_max - k mod (s_max + 1) for Hyperband, a fixed s for successive
 * halving); a rung is promoted only when the previous rung of its bracket has no job running, and
 * then its best floor(n_i / eta) continue. While a bracket waits on running jobs, the next job
 * comes from the next bracket (opening a new one if need be), so parallel workers stay busy.
 */
import type { StrategyContext } from '../../strategy/types.js';
import { bracket, rungBudgets, type Bracket, type BracketOptions } from './brackets.js';
import { JobScheduler, ranked, type Decision, type JobTrial } from './job.js';

export interface HyperbandOptions extends BracketOptions {
  /** Successive halving only: starting configurations per bracket (default: Hyperband's n for s_max). */
  n0?: number;
}

export class Hyperband extends JobScheduler {
  readonly name: string = 'hyperband';
  protected readonly opts: HyperbandOptions;
  protected readonly budgets: number[];

  constructor(opts: HyperbandOptions = {}) {
    super();
    this.opts = { eta: 3, ...opts };
    this.budgets = rungBudgets(this.opts);
  }

  get eta(): number {
    return this.opts.eta!;
  }

  /** The bracket layout of bracket instance k. */
  bracketAt(k: number): Bracket {
    const top = this.budgets.length - 1;
    return bracket(this.opts, top - (k % (top + 1)));
  }

  protected decide(_ctx: StrategyContext, jobs: JobTrial[]): Decision {
    const byBracket = new Map<number, JobTrial[]>();
    for (const j of jobs) {
      const list = byBracket.get(j.job.bracket);
      if (list) list.push(j);
      else byBracket.set(j.job.bracket, [j]);
    }
    for (let k = 0; ; k++) {
      const d = this.fromBracket(k, byBracket.get(k) ?? []);
      if (d) return d;
    }
  }

  /** The next job of bracket instance k, or null when it is fully allocated or waiting on running jobs. */
  private fromBracket(k: number, entries: JobTrial[]): Decision | null {
    const br = this.bracketAt(k);
    const base = { scheduler: this.name, bracket: k, s: br.s };
    for (let i = 0; i < br.rungs.length; i++) {
      const rung = br.rungs[i]!;
      const at = entries.filter((e) => e.job.rung === i);
      if (at.length >= rung.n) continue;
      if (i === 0) return { job: { ...base, rung: 0, budget: rung.budget, previousBudget: 0, parent: null } };
      const prev = entries.filter((e) => e.job.rung === i - 1);
      if (prev.some((e) => e.trial.state === 'RUNNING')) return null; // synchronous: wait for the rung
      const promoted = new Set(at.map((e) => e.job.parent));
      const cand = ranked(prev)
        .slice(0, rung.n)
        .find((e) => !promoted.has(e.trial.number));
      if (!cand) continue; // fewer survivors than slots (failed jobs): the rung is as full as it gets
      return {
        job: { ...base, rung: i, budget: rung.budget, previousBudget: cand.job.budget, parent: cand.trial.number },
        params: cand.trial.params,
      };
    }
    return null;
  }
}

/** Successive halving: Hyperband's most exploratory bracket (or n0 starting configurations), repeated. */
export class SuccessiveHalving extends Hyperband {
  override readonly name: string = 'sh';

  override bracketAt(_k: number): Bracket {
    return bracket(this.opts, this.budgets.length - 1, this.opts.n0);
  }
}
