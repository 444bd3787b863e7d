/**
 * Successive-halving / Hyperband bracket arithmetic (Li et al., "Hyperband", JMLR 2018).
 *
 * Budgets are any fidelity unit (epochs, data fraction, ...). With minimum budget r, maximum R and
 * reduction factor eta, s_max = floor(log_eta(R / r)); bracket s (s_max .. 0) starts
 * n = ceil((s_max + 1) / (s + 1) * eta^s) configurations at budget R * eta^-s and keeps the best
 * floor(n_i / eta) at each next rung, whose budget is eta times larger. A benchmark with a fixed
 * ladder of fidelities (NAS-Bench-201: 12 and 200 epochs) gives `budgets` instead: rung i of the
 * s_max bracket uses budgets[i], and bracket s uses the last s + 1 of them.
 */

export interface BracketOptions {
  /** Smallest budget (rung 0 of the most exploratory bracket). */
  minBudget?: number;
  /** Largest budget (the last rung of every bracket). */
  maxBudget?: number;
  /** Reduction factor: 1/eta of a rung is promoted. Default 3. */
  eta?: number;
  /** Explicit increasing rung budgets (overrides min/max geometric budgets). */
  budgets?: readonly number[];
  /** Round geometric budgets to whole numbers (budgets in epochs). */
  integer?: boolean;
}

export interface Rung {
  /** Configurations run at this rung. */
  n: number;
  budget: number;
}

export interface Bracket {
  /** Hyperband's s: number of halvings (rungs - 1). */
  s: number;
  rungs: Rung[];
}

const EPS = 1e-9;

/** Rung budgets of the most exploratory bracket (s_max + 1 of them, increasing). */
export function rungBudgets(o: BracketOptions): number[] {
  const eta = o.eta ?? 3;
  if (!(eta > 1)) throw new RangeError(`eta must be > 1 (got ${eta})`);
  if (o.budgets) {
    const b = [...o.budgets];
    if (b.length === 0 || b.some((x, i) => !(x > 0) || (i > 0 && !(x > b[i - 1]!)))) {
      throw new RangeError(`budgets must be positive and increasing (got ${JSON.stringify(b)})`);
    }
    return b;
  }
  const r = o.minBudget;
  const R = o.maxBudget;
  if (r === undefined || R === undefined || !(r > 0) || !(R >= r)) {
    throw new RangeError(`give budgets, or 0 < minBudget <= maxBudget (got ${r}, ${R})`);
  }
  const sMax = Math.floor(Math.log(R / r) / Math.log(eta) + EPS);
  const b = Array.from({ length: sMax + 1 }, (_, i) => R * eta ** (i - sMax));
  if (!o.integer) return b;
  const whole = b.map((x) => Math.round(x));
  if (whole.some((x, i) => x < 1 || (i > 0 && x <= whole[i - 1]!))) {
    throw new RangeError(`whole-number budgets from ${r} to ${R} with eta ${eta} repeat (${JSON.stringify(whole)}); give a larger eta or budgets`);
  }
  return whole;
}

/** s_max: the number of halvings of the most exploratory bracket. */
export function sMax(o: BracketOptions): number {
  return rungBudgets(o).length - 1;
}

/**
 * Bracket s of Hyperband. `n0` overrides the number of starting configurations (successive halving
 * with a chosen width); rung i keeps floor(n0 / eta^i), at least 1.
 */
export function bracket(o: BracketOptions, s: number, n0?: number): Bracket {
  const eta = o.eta ?? 3;
  const budgets = rungBudgets(o);
  const top = budgets.length - 1;
  if (!Number.isInteger(s) || s < 0 || s > top) throw new RangeError(`bracket s must be an integer in [0, ${top}] (got ${s})`);
  const n = n0 ?? Math.ceil(((top + 1) / (s + 1)) * eta ** s - EPS);
  const rungs: Rung[] = [];
  for (let i = 0; i <= s; i++) {
    rungs.push({ n: Math.max(1, Math.floor(n / eta ** i + EPS)), budget: budgets[top - s + i]! });
  }
  return { s, rungs };
}

/** All brackets of one Hyperband iteration, most exploratory first (s = s_max .. 0). */
export function hyperbandBrackets(o: BracketOptions): Bracket[] {
  const top = sMax(o);
  return Array.from({ length: top + 1 }, (_, k) => bracket(o, top - k));
}

/** Total budget a bracket spends when continuations pay only the increment (resumed training). */
export function bracketCost(b: Bracket, resumed = true): number {
  let cost = 0;
  for (let i = 0; i < b.rungs.length; i++) {
    const prev = i > 0 && resumed ? b.rungs[i - 1]!.budget : 0;
    cost += b.rungs[i]!.n * (b.rungs[i]!.budget - prev);
  }
  return cost;
}
