/**
 * Parameter importance by a first-order variance decomposition (the main-effect part of fANOVA,
 * without a surrogate model): for each parameter, group the COMPLETE trials by its value (numeric
 * values in quantile bins), and take the share of the objective's variance explained by the group
 * means, R^2 = between-group variance / total variance, adjusted for the number of groups so a
 * handful of trials does not make every parameter look decisive. Trials where the parameter is
 * inactive (conditional spaces) form their own group.
 */
import type { TrialRecord } from '../core/store.js';

export interface Importance {
  param: string;
  /** Share of the first objective's variance explained by this parameter's marginal means, adjusted
   * for the number of groups (1 - (1 - R^2)(n - 1)/(n - g), at least 0), in [0, 1]. */
  r2: number;
  /** The unadjusted R^2. */
  rawR2: number;
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
    const r2 = total > 0 ? between / total : 0;
    // Adjusted for the number of groups: with few trials per group the raw R^2 is biased up (2 trials, 2 groups: 1).
    const n = y.length;
    const g = groups.size;
    const adjusted = g <= 1 ? 0 : n - g <= 0 ? 0 : Math.max(0, 1 - ((1 - r2) * (n - 1)) / (n - g));
    out.push({ param: name, r2: adjusted, rawR2: r2, groups: g });
  }
  return out.sort((a, b) => b.r2 - a.r2 || a.param.localeCompare(b.param));
}
