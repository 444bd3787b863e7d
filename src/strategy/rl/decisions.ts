/**
 * A search space seen as a sequence of discrete decisions, for policy-gradient controllers: one
 * decision per parameter, in declaration order. Categorical parameters choose among their choices;
 * numeric ones among their values when there are at most `bins` of them, otherwise among `bins`
 * equal-width bins in unit space (log scale where `log`), the value drawn uniformly inside the bin.
 * A decision is made only when its parameter is active.
 */
import { fromUnit, toUnit, type ParamSpec, type ParamValue, type SearchSpace } from '../../space/params.js';
import type { Rng } from '../../util/rng.js';

export interface Decision {
  name: string;
  spec: ParamSpec;
  /** Number of options. */
  size: number;
  /** The exact value of each option, when the parameter is enumerable; otherwise options are bins. */
  values: ParamValue[] | null;
}

/** One taken decision: index of the decision and of the option chosen. */
export type Action = readonly [decision: number, option: number];

function enumerate(spec: Exclude<ParamSpec, { type: 'categorical' }>, max: number): number[] | null {
  let step = spec.step;
  if (step === undefined && spec.type === 'int') step = 1;
  if (step === undefined) return null;
  const n = Math.floor((spec.high - spec.low) / step + 1e-9) + 1;
  if (n > max) return null;
  return Array.from({ length: n }, (_, k) => (spec.type === 'int' ? Math.round(spec.low + k * step!) : spec.low + k * step!));
}

export function decisionsOf(space: SearchSpace, bins: number): Decision[] {
  return Object.entries(space.params).map(([name, spec]) => {
    if (spec.type === 'categorical') return { name, spec, size: spec.choices.length, values: [...spec.choices] };
    const values = enumerate(spec, bins);
    return values ? { name, spec, size: values.length, values } : { name, spec, size: bins, values: null };
  });
}

/** Value of option `k` (a bin's value is drawn uniformly inside the bin). */
export function decodeOption(d: Decision, k: number, rng: Rng): ParamValue {
  if (d.values) return d.values[k]!;
  const spec = d.spec as Exclude<ParamSpec, { type: 'categorical' }>;
  return fromUnit(spec, (k + rng.random()) / d.size);
}

/** Option index of a value (the nearest enumerated value; the bin holding a numeric value). */
export function encodeValue(d: Decision, v: ParamValue): number {
  if (d.values) {
    const i = d.values.indexOf(v);
    if (i >= 0 || typeof v !== 'number') return Math.max(0, i);
    let best = 0;
    for (let k = 1; k < d.values.length; k++) {
      if (Math.abs((d.values[k] as number) - v) < Math.abs((d.values[best] as number) - v)) best = k;
    }
    return best;
  }
  const u = toUnit(d.spec as Exclude<ParamSpec, { type: 'categorical' }>, v as number);
  return Math.min(d.size - 1, Math.max(0, Math.floor(u * d.size)));
}

/** Identity of the decision layout, stored with a policy so a changed space is detected. */
export function decisionsSignature(ds: readonly Decision[]): string {
  return ds.map((d) => `${d.name}:${d.size}`).join(',');
}

export function softmax(z: readonly number[]): number[] {
  let m = -Infinity;
  for (const v of z) if (v > m) m = v;
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Draws an index with probabilities `p` from `rng` (one uniform number). */
export function sampleIndex(p: readonly number[], rng: Rng): number {
  let r = rng.random();
  for (let i = 0; i < p.length; i++) {
    r -= p[i]!;
    if (r < 0) return i;
  }
  return p.length - 1;
}
