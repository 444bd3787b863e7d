/**
 * Learning-curve stop rule (Domhan et al. 2015): once a trial has `minPoints` reports, fit the
 * curve ensemble to them, predict the value at `targetStep`, and stop the trial when the
 * probability that it ends better than the best finished trial is below `threshold`. The prediction
 * is written to the trial (`system.lc_prediction = { mean, lower, upper, step, target_step,
 * p_better, best }`) when a store is given, so reports can draw it.
 */
import type { Store, TrialRecord } from '../../core/store.js';
import { hashString } from '../../util/rng.js';
import type { PruneContext, Pruner } from '../../core/pruner.js';
import { CurveEnsemble, type EnsembleOptions, type LcPrediction } from '../lc/ensemble.js';

export interface LcPrunerOptions extends EnsembleOptions {
  /** Step whose value is predicted (the full training length). */
  targetStep: number;
  /** Stop when P(final better than the best) is below this. Default 0.05. */
  threshold?: number;
  /** Reports needed before predicting. Default 5. */
  minPoints?: number;
  /** Predict only at every `interval`-th report (a fit takes tens of ms). Default 1. */
  interval?: number;
  /** Finished trials needed before anything is stopped. Default 1. */
  minCompleted?: number;
  /** Where to record system.lc_prediction (the experiment's store). */
  store?: Pick<Store, 'setAttrs'>;
}

export interface LcDecision extends LcPrediction {
  p_better: number | null;
  best: number | null;
}

/** A finished trial's value at the target step: its report there, else its final value. */
function finalValue(t: TrialRecord, target: number): number | null {
  const iv = t.intermediate.find((v) => v.step === target);
  if (iv && Number.isFinite(iv.value)) return iv.value;
  const v = t.values?.[0];
  return t.state === 'COMPLETE' && v !== undefined && v !== null && Number.isFinite(v) ? v : null;
}

export class LcPruner implements Pruner {
  readonly name = 'lc';
  constructor(private readonly opts: LcPrunerOptions) {
    if (!(opts.targetStep > 0)) throw new RangeError('LcPruner: targetStep must be positive');
  }

  /** The prediction and stop probability for a running trial, or null when it has too few reports. */
  evaluate(ctx: PruneContext): LcDecision | null {
    const o = this.opts;
    const pts = [...ctx.trial.intermediate].filter((v) => Number.isFinite(v.value) && v.step > 0).sort((a, b) => a.step - b.step);
    const last = pts.at(-1);
    if (!last || pts.length < (o.minPoints ?? 5) || last.step >= o.targetStep) return null;
    if ((pts.length - (o.minPoints ?? 5)) % (o.interval ?? 1) !== 0) return null;
    const sign = ctx.directions[0] === 'minimize' ? -1 : 1;
    let best: number | null = null;
    let completed = 0;
    for (const t of ctx.history) {
      if (t.id === ctx.trial.id || t.state !== 'COMPLETE') continue;
      const v = finalValue(t, o.targetStep);
      if (v === null) continue;
      completed++;
      if (best === null || sign * v > sign * best) best = v;
    }
    // Curves are fitted increasing: a minimised metric is negated (and its bounds swapped).
    const ens = new CurveEnsemble(
      pts.map((p) => p.step),
      pts.map((p) => sign * p.value),
      {
        ...o,
        lower: sign > 0 ? o.lower : o.upper !== undefined ? -o.upper : undefined,
        upper: sign > 0 ? o.upper : o.lower !== undefined ? -o.lower : undefined,
        seed: o.seed ?? hashString(`${ctx.trial.number}|${last.step}`),
      },
    );
    const pred = ens.predict(o.targetStep);
    const p = best === null || completed < (o.minCompleted ?? 1) ? null : ens.probGreater(o.targetStep, sign * best);
    const [lower, upper] = sign > 0 ? [pred.lower, pred.upper] : [-pred.upper, -pred.lower];
    return { ...pred, mean: sign * pred.mean, lower, upper, p_better: p, best };
  }

  shouldPrune(ctx: PruneContext): boolean {
    const d = this.evaluate(ctx);
    if (!d) return false;
    if (this.opts.store) {
      const { members: _m, ...rec } = d;
      this.opts.store.setAttrs(ctx.trial.id, {}, { lc_prediction: rec });
    }
    return d.p_better !== null && d.p_better < (this.opts.threshold ?? 0.05);
  }
}
