/**
 * Fidelity: how cheaply a candidate is evaluated. Every evaluator takes one; any combination of knobs
 * is allowed and the one used is recorded with the trial (attrs.fidelity), so reports and schedulers
 * can tell a 3-epoch, 25%-data, half-width estimate from a full training run.
 */
export interface Fidelity {
  /** Training epochs (the tabular NB201 evaluator has 12 and 200). */
  epochs?: number;
  /** Fraction of the training set used, in (0, 1] (stratified subset). */
  dataFraction?: number;
  /** Input side length after downscaling images (e.g. 14 for 28x28 inputs). */
  resolution?: number;
  /** Multiplier on every layer's filters/units, in (0, 1]. */
  widthMultiplier?: number;
  /** Number of cells per stage, for cell-based spaces. */
  cells?: number;
}

export type FidelityKnob = keyof Fidelity;

/** Merges a partial fidelity over defaults, dropping undefined knobs. */
export function withDefaults(f: Fidelity | undefined, defaults: Fidelity): Fidelity {
  const out: Fidelity = { ...defaults };
  for (const [k, v] of Object.entries(f ?? {})) if (v !== undefined) (out as Record<string, number>)[k] = v;
  return out;
}
