/**
 * Parameter importance by a first-order variance decomposition (the main-effect part of fANOVA,
 * without a surrogate model): for each parameter, group the COMPLETE trials by its value (numeric
 * values in quantile bins), and take the share of the objective's variance explained by the group
 * means, R^2 = between-group variance / total variance. Trials where the parameter is inactive
 * (conditional spaces) form their own group.
 */
import type { TrialRecord } from '../store/types.js';

export interface Importance {
  param: string;
  /** Share of the first objective's variance explained by this parameter's marginal means, in [0, 1]. */
  r2: number;
  groups: number;
}

const INACTIVE = '\u0000inactive';

function groupKeys(values: unknown[], bins: number): string[] {
  const nums = values.filter((v): v is number => typeof v === 'number');
  const distinct = new Set(nums);
  if (nums.length === 0 || distinct.size <= bins) {
    return values.map((v) => (v === undefined ? INACTIVE : JSON.stringify(v)));
  }
  const sorted = [...nums].sort((a, b) => a - b);
  const cuts = Array.from({ length: bins - 1 }, (_, k) => sorted[Math.floor(((k + 1) * sorted.length) / bins)]!);
  return values.map((v) => {
    if (typeof v !== 'number') return v === undefined ? INACTIVE : JSON.stringify(v);
    let b = 0;
    while (b < cuts.length && v >= cuts[b]!) b++;
    return `bin${b}`;
  });
}

/** Importance of every parameter seen in COMPLETE trials, most important first. */
export function paramImportance(trials: readonly TrialRecord[], opts: { bins?: number } = {}): Importance[] {
  const done = trials.filter((t) => t.state === 'COMPLETE' && typeof t.values?.[0] === 'number' && Number.isFinite(t.values[0]));
  if (done.length < 2) return [];
  const y = done.map((t) => t.values![0]!);
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  const total = y.reduce((a, v) => a + (v - mean) ** 2, 0);
  const names = [...new Set(done.flatMap((t) => Object.keys(t.params)))].sort();
  const out: Importance[] = [];
  for (const name of names) {
    const keys = groupKeys(done.map((t) => t.params[name]), opts.bins ?? 8);
    const groups = new Map<string, { s: number; n: number }>();
    keys.forEach((k, i) => {
      const g = groups.get(k) ?? { s: 0, n: 0 };
      g.s += y[i]!;
      g.n++;
      groups.set(k, g);
    });
    let between = 0;
    for (const g of groups.values()) between += g.n * (g.s / g.n - mean) ** 2;
    out.push({ param: name, r2: total > 0 ? between / total : 0, groups: groups.size });
  }
  return out.sort((a, b) => b.r2 - a.r2 || a.param.localeCompare(b.param));
}
