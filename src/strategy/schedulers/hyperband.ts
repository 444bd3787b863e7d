/**
 * Synchronous successive halving and Hyperband as job schedulers. Brackets are opened in order
 * (bracket instance k has s = s_max - k mod (s_max + 1) for Hyperband, a fixed s for successive
 * halving); a rung is promoted only when the previous rung of its bracket has no job running, and
 * then its best floor(n_i / eta) continue. While a bracket waits on running jobs, the next job
 * comes from the next bracket (opening a new one if need be), so parallel workers stay busy.
 */
import type { StrategyContext } from '../../core/strategy.js';
import { bracket, rungBudgets, type Bracket, type BracketOptions } from './brackets.js';
import { JobScheduler, ranked, type Decision, type JobTrial } from './job.js';

export interface HyperbandOptions extends BracketOptions {
  /**
   * Run only bracket s (successive halving with s halvings) instead of cycling s = s_max .. 0.
   * Default: Hyperband cycles; SuccessiveHalving uses s_max.
   */
  s?: number;
  /** With a fixed bracket: starting configurations per bracket (default: Hyperband's n for that s). */
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
    if (this.opts.s !== undefined) bracket(this.opts, this.opts.s, this.opts.n0); // checks s
    if (this.opts.n0 !== undefined && !(Number.isInteger(this.opts.n0) && this.opts.n0 >= 1)) {
      throw new RangeError(`n0 must be a whole number >= 1 (got ${this.opts.n0})`);
    }
  }

  get eta(): number {
    return this.opts.eta!;
  }

  /** The bracket layout of bracket instance k. */
  bracketAt(k: number): Bracket {
    const top = this.budgets.length - 1;
    if (this.opts.s !== undefined) return bracket(this.opts, this.opts.s, this.opts.n0);
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

/** Successive halving: Hyperband's most exploratory bracket (or bracket `s`, with n0 starting configurations), repeated. */
export class SuccessiveHalving extends Hyperband {
  override readonly name: string = 'sh';

  constructor(opts: HyperbandOptions = {}) {
    super({ ...opts, s: opts.s ?? rungBudgets({ eta: 3, ...opts }).length - 1 });
  }
}
