/**
 * Median stopping rule (Golovin et al., "Google Vizier", KDD 2017): after a warm-up, stop a trial
 * when its best intermediate value so far is worse than the median of the completed trials' values
 * at the same step (a completed trial that skipped that step contributes its last value before it).
 * A function of the stored history, like every pruner.
 */
import type { TrialRecord } from '../../core/store.js';
import type { PruneContext, Pruner } from '../../core/pruner.js';

export interface MedianPrunerOptions {
  /** Never stop before this step. Default 0. */
  warmupSteps?: number;
  /** Completed trials needed before anything is stopped. Default 5. */
  minCompleted?: number;
}

/** The trial's value at `step`: its report at that step, else the last one before it; null if none. */
export function valueAtStep(t: TrialRecord, step: number): number | null {
  let v: number | null = null;
  let at = -Infinity;
  for (const iv of t.intermediate) {
    if (iv.step <= step && iv.step >= at && Number.isFinite(iv.value)) {
      v = iv.value;
      at = iv.step;
    }
  }
  return v;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export class MedianPruner implements Pruner {
  readonly name = 'median';
  private readonly warmup: number;
  private readonly minCompleted: number;

  constructor(opts: MedianPrunerOptions = {}) {
    this.warmup = opts.warmupSteps ?? 0;
    this.minCompleted = opts.minCompleted ?? 5;
  }

  shouldPrune(ctx: PruneContext): boolean {
    const last = ctx.trial.intermediate.at(-1);
    if (!last || last.step < this.warmup) return false;
    const sign = ctx.directions[0] === 'minimize' ? -1 : 1;
    let best = -Infinity;
    for (const iv of ctx.trial.intermediate) if (iv.step <= last.step && Number.isFinite(iv.value)) best = Math.max(best, sign * iv.value);
    if (best === -Infinity) return false;
    const others: number[] = [];
    for (const t of ctx.history) {
      if (t.id === ctx.trial.id || t.state !== 'COMPLETE') continue;
      const v = valueAtStep(t, last.step);
      if (v !== null) others.push(sign * v);
    }
    if (others.length < this.minCompleted) return false;
    return best < median(others);
  }
}
