/**
 * `tsnas search --strategy sh|hyperband|asha|bohb`: the multi-fidelity schedulers' budgets per
 * target (nb201: its 12- and 200-epoch tables; trained spaces: epochs, from 1 to --epochs by
 * default) and the per-rung summary printed at the end.
 */
import { jobOf } from '../strategy/schedulers/job.js';
import { SCHEDULER_STRATEGIES } from '../strategy/index.js';
import type { TrialRecord } from '../core/store.js';
import { UsageError } from './errors.js';
import type { Target } from './targets.js';

export function isScheduler(strategy: string): boolean {
  return (SCHEDULER_STRATEGIES as readonly string[]).includes(strategy);
}

const NB201_BUDGETS = [12, 200];

/**
 * The scheduler's options with the target's budgets filled in: nb201 rungs are its tables (12, 200
 * epochs); trained spaces count epochs (whole numbers, minBudget 1 and maxBudget --epochs unless
 * given); a JSON space with --objective needs budgets or minBudget/maxBudget in --options.
 */
export function schedulerOptions(strategy: string, options: Record<string, unknown>, target: Target): Record<string, unknown> {
  const budgets = options.budgets;
  if (budgets !== undefined && (!Array.isArray(budgets) || budgets.some((b) => typeof b !== 'number'))) {
    throw new UsageError(`--options budgets: give an increasing list of numbers, e.g. {"budgets": [1, 3, 9]}`);
  }
  if (target.spec?.kind === 'train') {
    if (budgets?.some((b: number) => !Number.isInteger(b) || b < 1)) {
      throw new UsageError(`--options budgets ${JSON.stringify(budgets)}: budgets are epochs here; give whole numbers >= 1`);
    }
    if (budgets) return options;
    return { minBudget: 1, maxBudget: target.spec.setup.fidelity.epochs ?? 3, ...options, integer: true };
  }
  if (target.spaceName === 'fm-cells') {
    if (budgets?.some((b: number) => !Number.isInteger(b) || b < 1 || b > 10)) {
      throw new UsageError(`--options budgets ${JSON.stringify(budgets)}: fm-cells budgets are epochs 1..10; give whole numbers, e.g. {"budgets": [1, 3, 10]}`);
    }
    return budgets ? options : { minBudget: 1, maxBudget: 10, ...options, integer: true };
  }
  if (target.spaceName === 'nb201') {
    if (options.minBudget !== undefined || options.maxBudget !== undefined || budgets?.some((b: number) => !NB201_BUDGETS.includes(b))) {
      throw new UsageError(`--options: nb201 has 12- and 200-epoch tables only; leave budgets out (they are [12, 200]) or give {"budgets": [12, 200]}`);
    }
    return { budgets: NB201_BUDGETS, ...options };
  }
  if (budgets === undefined && (options.minBudget === undefined || options.maxBudget === undefined)) {
    throw new UsageError(
      `--strategy ${strategy} on a JSON space: give the budgets the objective's jobObjective(trial, job) understands, ` +
        `e.g. --options '{"minBudget": 1, "maxBudget": 27, "eta": 3}' or '{"budgets": [1, 3, 9, 27]}'`,
    );
  }
  return options;
}

/** "jobs per budget, promotions" line for a scheduler's experiment, e.g. "12: 30 jobs, 200: 9 jobs (9 promotions)". */
export function rungSummary(trials: readonly TrialRecord[]): string {
  const perBudget = new Map<number, number>();
  let promotions = 0;
  for (const t of trials) {
    const job = jobOf(t);
    if (!job) continue;
    perBudget.set(job.budget, (perBudget.get(job.budget) ?? 0) + 1);
    if (job.parent !== null) promotions++;
  }
  const rungs = [...perBudget.entries()].sort((a, b) => a[0] - b[0]).map(([b, n]) => `${+b.toFixed(4)}: ${n} jobs`);
  return `jobs per budget: ${rungs.join(', ')} (${promotions} promotions)`;
}
