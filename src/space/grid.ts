/**
 * The grid of a space, addressed by index instead of materialised: `IndexedGrid.size` counts the
 * points (a bigint: the chain space has about 10^20) and `at(i)` builds point i without building the
 * others. Point order is declaration order, last parameter fastest, conditional parameters only where
 * active (what `gridIterator` yields, one by one).
 *
 * Counting: the number of completions of a partial configuration at parameter i depends only on the
 * values of the parents that conditions of parameters i.. name, so it is memoised on those; a
 * parameter no later condition names multiplies the count by its number of values (an int range of
 * 10^9 values costs nothing).
 */
import { fromUnit, isActive, type ParamSpec, type ParamValue, type Params, type SearchSpace } from './params.js';

/** The grid values of one parameter, by index. */
export interface GridAxis {
  readonly size: number;
  at(i: number): ParamValue;
}

/** `floatPoints` evenly spaced values for a float without a step; every value for ints, stepped floats, categoricals. */
export function gridAxis(spec: ParamSpec, floatPoints = 5): GridAxis {
  if (spec.type === 'categorical') return { size: spec.choices.length, at: (i) => spec.choices[i]! };
  if (spec.type === 'int' && !spec.log) {
    const step = spec.step ?? 1;
    return { size: Math.floor((spec.high - spec.low) / step) + 1, at: (i) => spec.low + i * step };
  }
  if (spec.type === 'float' && spec.step !== undefined) {
    const { low, high, step } = spec;
    const fits = (k: number) => low + k * step <= high + 1e-12;
    let n = Math.max(0, Math.floor((high - low) / step)) + 1;
    while (n > 1 && !fits(n - 1)) n--;
    while (fits(n)) n++;
    return { size: n, at: (i) => low + i * step };
  }
  const n = Math.max(1, floatPoints);
  const vals = [...new Set(Array.from({ length: n }, (_, i) => fromUnit(spec, n === 1 ? 0.5 : i / (n - 1))))];
  return { size: vals.length, at: (i) => vals[i]! };
}

/** The finite values of a parameter for grid search (`floatPoints` evenly spaced points for a float). */
export function gridValues(spec: ParamSpec, floatPoints = 5): ParamValue[] {
  const axis = gridAxis(spec, floatPoints);
  return Array.from({ length: axis.size }, (_, i) => axis.at(i));
}

export class IndexedGrid {
  readonly size: bigint;
  private readonly names: string[];
  private readonly specs: ParamSpec[];
  private readonly axes: GridAxis[];
  /** deps[i]: the parents named by conditions of parameters i.. (what a count from i depends on). */
  private readonly deps: string[][];
  private readonly memo = new Map<string, bigint>();

  constructor(space: SearchSpace, floatPoints = 5) {
    const entries = Object.entries(space.params);
    this.names = entries.map(([n]) => n);
    this.specs = entries.map(([, s]) => s);
    this.axes = this.specs.map((s) => gridAxis(s, floatPoints));
    this.deps = [];
    const acc = new Set<string>();
    for (let i = entries.length; i >= 0; i--) {
      this.deps[i] = [...acc];
      if (i > 0) for (const parent of Object.keys(this.specs[i - 1]!.when ?? {})) acc.add(parent);
    }
    this.size = this.count(0, {});
  }

  /** Completions of `acc` (values of parameters before i) over parameters i... */
  private count(i: number, acc: Params): bigint {
    if (i === this.names.length) return 1n;
    const key = `${i}|${this.deps[i]!.map((d) => (d in acc ? JSON.stringify(acc[d]) : '-')).join(',')}`;
    let n = this.memo.get(key);
    if (n !== undefined) return n;
    const name = this.names[i]!;
    const axis = this.axes[i]!;
    if (!isActive(this.specs[i]!, acc)) n = this.count(i + 1, acc);
    else if (!this.deps[i + 1]!.includes(name)) n = BigInt(axis.size) * this.count(i + 1, acc);
    else {
      n = 0n;
      for (let j = 0; j < axis.size; j++) {
        acc[name] = axis.at(j);
        n += this.count(i + 1, acc);
      }
      delete acc[name];
    }
    this.memo.set(key, n);
    return n;
  }

  /** Grid point `index` (0 <= index < size). */
  at(index: bigint): Params {
    if (index < 0n || index >= this.size) throw new RangeError(`grid point ${index} is outside 0..${this.size - 1n}`);
    const acc: Params = {};
    let rest = index;
    for (let i = 0; i < this.names.length; i++) {
      if (!isActive(this.specs[i]!, acc)) continue;
      const name = this.names[i]!;
      const axis = this.axes[i]!;
      if (!this.deps[i + 1]!.includes(name)) {
        const sub = this.count(i + 1, acc);
        acc[name] = axis.at(Number(rest / sub));
        rest %= sub;
        continue;
      }
      for (let j = 0; j < axis.size; j++) {
        acc[name] = axis.at(j);
        const sub = this.count(i + 1, acc);
        if (rest < sub) break;
        rest -= sub;
      }
    }
    return acc;
  }
}

/** Number of grid points of the space (conditional branches counted separately). */
export function gridSize(space: SearchSpace, floatPoints = 5): number {
  return Number(new IndexedGrid(space, floatPoints).size);
}

/** Every grid configuration, respecting conditions, in declaration order (last parameter fastest). */
export function* gridIterator(space: SearchSpace, floatPoints = 5): Generator<Params> {
  const g = new IndexedGrid(space, floatPoints);
  for (let i = 0n; i < g.size; i++) yield g.at(i);
}
