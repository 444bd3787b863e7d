/**
 * Hyperparameter search spaces: int, float (linear or log), categorical and conditional parameters.
 *
 * A space is plain JSON: `{ params: { name: spec, ... } }`, declared in order so that a conditional
 * parameter comes after the parents its `when` names. A configuration ("params") is a plain record of
 * the active parameters only. Architecture spaces (NB201 cell, chain, DAG, cells) are expressed in
 * the same form, so every strategy works on every space.
 */
import { z } from 'zod';
import type { Rng } from '../util/rng.js';

export type ParamValue = string | number | boolean | null;
export type Params = Record<string, ParamValue>;
/** A parameter is active only when, for every parent named, the parent is active and has one of the values. */
export type Condition = Record<string, ParamValue[]>;

export interface IntParam {
  type: 'int';
  low: number;
  high: number;
  step?: number;
  log?: boolean;
  when?: Condition;
}
export interface FloatParam {
  type: 'float';
  low: number;
  high: number;
  log?: boolean;
  step?: number;
  when?: Condition;
}
export interface CategoricalParam {
  type: 'categorical';
  choices: ParamValue[];
  when?: Condition;
}
export type ParamSpec = IntParam | FloatParam | CategoricalParam;
export interface SearchSpace {
  params: Record<string, ParamSpec>;
}

/** Thrown for bad user input; the message names the field and says what to fix. */
export class SpaceError extends Error {
  override name = 'SpaceError';
}

const value = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const condition = z.record(z.string(), z.array(value).min(1));
const intSchema = z.strictObject({
  type: z.literal('int'),
  low: z.number().int(),
  high: z.number().int(),
  step: z.number().int().positive().optional(),
  log: z.boolean().optional(),
  when: condition.optional(),
});
const floatSchema = z.strictObject({
  type: z.literal('float'),
  low: z.number().finite(),
  high: z.number().finite(),
  log: z.boolean().optional(),
  step: z.number().positive().optional(),
  when: condition.optional(),
});
const catSchema = z.strictObject({
  type: z.literal('categorical'),
  choices: z.array(value).min(1),
  when: condition.optional(),
});
const specSchema = z.discriminatedUnion('type', [intSchema, floatSchema, catSchema]);
const spaceSchema = z.strictObject({ params: z.record(z.string().min(1), specSchema) });

function zodMessage(err: z.ZodError, where: string): string {
  const issue = err.issues[0]!;
  const path = [where, ...issue.path.map(String)].join('.');
  let hint = issue.message;
  if (issue.code === 'invalid_union' || issue.code === 'invalid_value') {
    hint = `${issue.message}; "type" must be one of "int", "float", "categorical"`;
  }
  return `${path}: ${hint}`;
}

/** Checks one spec's numbers; `path` names it in errors. */
export function checkSpec(spec: ParamSpec, path: string): void {
  if (spec.type === 'categorical') {
    const seen = new Set(spec.choices.map((c) => JSON.stringify(c)));
    if (seen.size !== spec.choices.length) throw new SpaceError(`${path}.choices: values must be distinct`);
    return;
  }
  if (!(spec.low <= spec.high)) {
    throw new SpaceError(`${path}: low (${spec.low}) must be <= high (${spec.high})`);
  }
  if (spec.log && spec.low <= 0) {
    throw new SpaceError(`${path}.low: must be > 0 when log is true (got ${spec.low})`);
  }
  if (spec.log && spec.step !== undefined && spec.type === 'float') {
    throw new SpaceError(`${path}: step and log cannot be combined for a float; drop one`);
  }
}

/** Parses and checks an untrusted space (e.g. from a JSON file). */
export function validateSpace(raw: unknown, where = 'space'): SearchSpace {
  const parsed = spaceSchema.safeParse(raw);
  if (!parsed.success) throw new SpaceError(zodMessage(parsed.error, where));
  const space = parsed.data as SearchSpace;
  const names = Object.keys(space.params);
  if (names.length === 0) throw new SpaceError(`${where}.params: must declare at least one parameter`);
  const seen = new Map<string, ParamSpec>();
  for (const name of names) {
    const spec = space.params[name]!;
    const path = `${where}.params.${name}`;
    checkSpec(spec, path);
    for (const [parent, values] of Object.entries(spec.when ?? {})) {
      const p = seen.get(parent);
      if (!p) {
        throw new SpaceError(
          `${path}.when.${parent}: no parameter "${parent}" is declared before "${name}"; declare parents first`,
        );
      }
      for (const v of values) {
        if (!containsValue(p, v)) {
          throw new SpaceError(`${path}.when.${parent}: ${JSON.stringify(v)} is not a possible value of "${parent}"`);
        }
      }
    }
    seen.set(name, spec);
  }
  return space;
}

export function containsValue(spec: ParamSpec, v: ParamValue): boolean {
  if (spec.type === 'categorical') return spec.choices.some((c) => c === v);
  if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  if (v < spec.low || v > spec.high) return false;
  if (spec.type === 'int' && !Number.isInteger(v)) return false;
  if (spec.step !== undefined) {
    const k = (v - spec.low) / spec.step;
    if (Math.abs(k - Math.round(k)) > 1e-9) return false;
  }
  return true;
}

export function isActive(spec: ParamSpec, params: Params): boolean {
  if (!spec.when) return true;
  for (const [parent, values] of Object.entries(spec.when)) {
    if (!(parent in params)) return false;
    if (!values.some((v) => v === params[parent])) return false;
  }
  return true;
}

/** Names of the parameters active under `params`, in declaration order (parents decide children). */
export function activeNames(space: SearchSpace, params: Params): string[] {
  const out: string[] = [];
  const active: Params = {};
  for (const [name, spec] of Object.entries(space.params)) {
    if (isActive(spec, active)) {
      out.push(name);
      if (name in params) active[name] = params[name]!;
    }
  }
  return out;
}

/** Checks that `params` is a complete, valid configuration of `space` (no missing, extra or bad value). */
export function validateParams(space: SearchSpace, params: Params, where = 'params'): void {
  const active = new Set(activeNames(space, params));
  for (const name of active) {
    if (!(name in params)) throw new SpaceError(`${where}.${name}: missing; it is active in this configuration`);
    if (!containsValue(space.params[name]!, params[name]!)) {
      throw new SpaceError(`${where}.${name}: ${JSON.stringify(params[name])} is outside its range`);
    }
  }
  for (const name of Object.keys(params)) {
    if (!active.has(name)) {
      throw new SpaceError(
        name in space.params
          ? `${where}.${name}: not active under its parents' values; remove it`
          : `${where}.${name}: not a parameter of the space`,
      );
    }
  }
}

/** Maps a numeric value to [0, 1] (log scale when `log`). */
export function toUnit(spec: IntParam | FloatParam, v: number): number {
  if (spec.high === spec.low) return 0.5;
  if (spec.log) return (Math.log(v) - Math.log(spec.low)) / (Math.log(spec.high) - Math.log(spec.low));
  return (v - spec.low) / (spec.high - spec.low);
}

/** Inverse of toUnit, rounded to the parameter's integer/step grid. */
export function fromUnit(spec: IntParam | FloatParam, u: number): number {
  const c = Math.min(1, Math.max(0, u));
  let v = spec.log
    ? Math.exp(Math.log(spec.low) + c * (Math.log(spec.high) - Math.log(spec.low)))
    : spec.low + c * (spec.high - spec.low);
  if (spec.step !== undefined) v = spec.low + Math.round((v - spec.low) / spec.step) * spec.step;
  if (spec.type === 'int') v = Math.round(v);
  return Math.min(spec.high, Math.max(spec.low, v));
}

export function sampleSpec(spec: ParamSpec, rng: Rng): ParamValue {
  if (spec.type === 'categorical') return rng.pick(spec.choices);
  if (spec.type === 'int' && !spec.log) {
    const step = spec.step ?? 1;
    return spec.low + step * rng.int(0, Math.floor((spec.high - spec.low) / step));
  }
  if (spec.type === 'int') {
    // log-uniform over the integers: widen by 0.5 each side so the end points are not halved.
    const lo = Math.log(spec.low - 0.5 > 0 ? spec.low - 0.5 : spec.low);
    const hi = Math.log(spec.high + 0.5);
    return Math.min(spec.high, Math.max(spec.low, Math.round(Math.exp(rng.uniform(lo, hi)))));
  }
  return fromUnit(spec, rng.random());
}

/** A configuration drawn uniformly (per parameter) from the active part of the space. */
export function sampleSpace(space: SearchSpace, rng: Rng, fixed: Params = {}): Params {
  const out: Params = {};
  for (const [name, spec] of Object.entries(space.params)) {
    if (!isActive(spec, out)) continue;
    out[name] = name in fixed ? fixed[name]! : sampleSpec(spec, rng);
  }
  return out;
}

/** Canonical string of a configuration, independent of key order: the identity used to avoid repeats. */
export function paramsKey(params: Params): string {
  return JSON.stringify(Object.keys(params).sort().map((k) => [k, params[k]]));
}
