/**
 * Stopping-variant ASHA (Li et al., MLSys 2020) for objectives that run one trial to the end: at a
 * rung step the trial continues only if its value is in the top 1/eta of all values reported at that
 * step. The job-based scheduler is src/strategy/schedulers/asha.ts.
 */
import type { PruneContext, Pruner } from '../../core/pruner.js';
import { rungBudgets, type BracketOptions } from '../../strategy/schedulers/brackets.js';

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
