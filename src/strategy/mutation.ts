/**
 * Generic variation operators on any SearchSpace: mutation (change one active parameter) and uniform
 * crossover, both returning complete, valid configurations. Used by regularized evolution; meant to
 * be reused by local search (BO acquisition optimisation) and weight inheritance.
 *
 * - A categorical parameter mutates to a different choice, uniformly.
 * - A numeric parameter gets a local Gaussian perturbation in unit space (log scale where `log`),
 *   rounded to its grid; it is retried until the value changes, then moved by one grid step.
 * - Conditional spaces: after the change, parameters that became inactive are dropped and those
 *   that became active are sampled, so the child is always complete.
 */
import {
  fromUnit,
  isActive,
  sampleSpec,
  toUnit,
  type ParamSpec,
  type ParamValue,
  type Params,
  type SearchSpace,
} from '../space/params.js';
import type { Rng } from '../util/rng.js';

export interface MutationOptions {
  /** Std of the Gaussian step of numeric parameters, in unit space. Default 0.15. */
  sigma?: number;
}

/** Whether a parameter can take more than one value. */
export function isMutable(spec: ParamSpec): boolean {
  if (spec.type === 'categorical') return spec.choices.length > 1;
  if (spec.low === spec.high) return false;
  return fromUnit(spec, 0) !== fromUnit(spec, 1);
}

/** A value of `spec` different from `current` (when it has one), near it for numeric parameters. */
export function mutateValue(spec: ParamSpec, current: ParamValue | undefined, rng: Rng, sigma = 0.15): ParamValue {
  if (current === undefined || !isMutable(spec)) return current === undefined ? sampleSpec(spec, rng) : current;
  if (spec.type === 'categorical') {
    const others = spec.choices.filter((c) => c !== current);
    return others.length > 0 ? rng.pick(others) : current;
  }
  const cur = typeof current === 'number' ? current : fromUnit(spec, 0.5);
  const u = toUnit(spec, cur);
  for (let i = 0; i < 8; i++) {
    const v = fromUnit(spec, u + sigma * rng.normal());
    if (v !== cur) return v;
  }
  // The perturbation keeps rounding back (coarse grid): move one grid step, towards the room there is.
  const up = nextGridValue(spec, cur, +1);
  const down = nextGridValue(spec, cur, -1);
  if (up === cur) return down;
  if (down === cur) return up;
  return rng.random() < 0.5 ? up : down;
}

function nextGridValue(spec: Exclude<ParamSpec, { type: 'categorical' }>, cur: number, dir: 1 | -1): number {
  const step = spec.step ?? (spec.type === 'int' ? 1 : (spec.high - spec.low) / 100);
  if (spec.log && spec.type === 'int') {
    // integer log scale: one integer away
    return Math.min(spec.high, Math.max(spec.low, cur + dir));
  }
  if (spec.log) return fromUnit(spec, toUnit(spec, cur) + dir * 0.01);
  return Math.min(spec.high, Math.max(spec.low, cur + dir * step));
}

/**
 * Completes `partial` into a valid configuration: walks the parameters in declaration order, keeps
 * the given value of each active parameter and samples the missing active ones; inactive ones are dropped.
 */
export function repair(space: SearchSpace, partial: Params, rng: Rng): Params {
  const out: Params = {};
  for (const [name, spec] of Object.entries(space.params)) {
    if (!isActive(spec, out)) continue;
    out[name] = name in partial ? partial[name]! : sampleSpec(spec, rng);
  }
  return out;
}

/** Names of the active parameters of `params` that can change. */
export function mutableNames(space: SearchSpace, params: Params): string[] {
  return Object.keys(params).filter((n) => space.params[n] && isMutable(space.params[n]!));
}

/**
 * The child of `parent` with one active parameter changed (chosen uniformly among those that can
 * change); newly activated children of a conditional are sampled. Returns a copy of the parent when
 * nothing can change.
 */
export function mutate(space: SearchSpace, parent: Params, rng: Rng, opts: MutationOptions = {}): Params {
  const names = mutableNames(space, parent);
  if (names.length === 0) return repair(space, parent, rng);
  const name = rng.pick(names);
  const child: Params = { ...parent, [name]: mutateValue(space.params[name]!, parent[name], rng, opts.sigma) };
  return repair(space, child, rng);
}

/**
 * Uniform crossover: each parameter, in declaration order, comes from `a` or `b` with equal
 * probability (from the other one when only one has it active; sampled when neither does).
 */
export function crossover(space: SearchSpace, a: Params, b: Params, rng: Rng): Params {
  const out: Params = {};
  for (const [name, spec] of Object.entries(space.params)) {
    if (!isActive(spec, out)) continue;
    const inA = name in a;
    const inB = name in b;
    if (inA && inB) out[name] = rng.random() < 0.5 ? a[name]! : b[name]!;
    else if (inA) out[name] = a[name]!;
    else if (inB) out[name] = b[name]!;
    else out[name] = sampleSpec(spec, rng);
  }
  return out;
}
