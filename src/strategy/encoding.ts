/**
 * Encoding of configurations for surrogate models, generic over any SearchSpace:
 *
 * - categorical parameters: the choice index (a one-hot vector, stored as its index; -1 inactive),
 * - numeric parameters: `toUnit` value in [0, 1] (NaN when inactive: the "fixed value" of an inactive
 *   conditional, at distance 0 from another inactive one and 1 from any active value),
 * - cell-DAG spaces whose parameters are named `edge_<to>_<from>` with the same op choices (NB201 and
 *   the like): the path encoding of BANANAS (White et al. 2021): every input-to-output path of the
 *   cell is a feature identified by its op sequence; a path through a zero op ('none') is absent.
 *
 * Distances between encodings feed the GP kernel of `bo.ts`. Also: enumeration of small finite
 * spaces and one-parameter neighbourhoods for local search of the acquisition.
 */
import {
  fromUnit,
  isActive,
  sampleSpec,
  toUnit,
  type IntParam,
  type FloatParam,
  type ParamSpec,
  type ParamValue,
  type Params,
  type SearchSpace,
} from '../space/params.js';
import { gridAxis, gridValues } from '../space/grid.js';
import type { Rng } from '../util/rng.js';

const ZERO_OPS = new Set<ParamValue>(['none', 'zero', 'Zero', null]);

interface PathTemplate {
  /** Parameter index (into `cats`) of each edge along the path. */
  edges: number[];
}

export interface SpaceEncoder {
  readonly space: SearchSpace;
  readonly names: string[];
  /** Categorical parameters: name and choices. */
  readonly cats: { name: string; choices: ParamValue[] }[];
  readonly nums: { name: string; spec: IntParam | FloatParam }[];
  /** Input-to-output paths of a cell DAG (empty when the space is not one). */
  readonly paths: PathTemplate[];
  readonly nPathOps: number;
}

/** A batch of encoded configurations in flat typed arrays (row-major). */
export interface EncodedBatch {
  n: number;
  cat: Int32Array; // n * P
  num: Float64Array; // n * Q
  path: Int32Array; // n * T, -1 when the path is absent
  /** Squared norm of each path-count vector. */
  pathSelf: Float64Array;
}

export function makeEncoder(space: SearchSpace): SpaceEncoder {
  const names = Object.keys(space.params);
  const cats: { name: string; choices: ParamValue[] }[] = [];
  const nums: { name: string; spec: IntParam | FloatParam }[] = [];
  for (const name of names) {
    const spec = space.params[name]!;
    if (spec.type === 'categorical') cats.push({ name, choices: spec.choices });
    else nums.push({ name, spec });
  }
  const { paths, nOps } = cellPaths(space, cats);
  return { space, names, cats, nums, paths, nPathOps: nOps };
}

/** Paths from node 0 to the last node of an `edge_<to>_<from>` cell; none when the space is not such a cell. */
function cellPaths(space: SearchSpace, cats: { name: string; choices: ParamValue[] }[]): { paths: PathTemplate[]; nOps: number } {
  const edges = new Map<string, number>();
  let maxNode = 0;
  const ref = cats[0]?.choices;
  for (const [i, c] of cats.entries()) {
    const m = /^edge_(\d+)_(\d+)$/.exec(c.name);
    if (!m || space.params[c.name]!.when) continue;
    if (!ref || JSON.stringify(c.choices) !== JSON.stringify(ref)) continue;
    const to = Number(m[1]);
    const from = Number(m[2]);
    if (!(from < to)) continue;
    edges.set(`${to}_${from}`, i);
    maxNode = Math.max(maxNode, to);
  }
  if (edges.size < 2 || !ref || !ref.some((v) => ZERO_OPS.has(v))) return { paths: [], nOps: 0 };
  const paths: PathTemplate[] = [];
  const walk = (node: number, acc: number[]) => {
    if (node === maxNode) {
      paths.push({ edges: [...acc] });
      return;
    }
    for (let next = node + 1; next <= maxNode; next++) {
      const e = edges.get(`${next}_${node}`);
      if (e === undefined) continue;
      acc.push(e);
      walk(next, acc);
      acc.pop();
    }
  };
  walk(0, []);
  if (paths.length > 64) return { paths: [], nOps: 0 };
  return { paths, nOps: ref.length };
}

function catIndex(choices: ParamValue[], v: ParamValue | undefined): number {
  if (v === undefined) return -1;
  for (let i = 0; i < choices.length; i++) if (choices[i] === v) return i;
  return -1;
}

/** Encodes configurations (missing / inactive parameters get the inactive code). */
export function encode(enc: SpaceEncoder, configs: readonly Params[]): EncodedBatch {
  const n = configs.length;
  const P = enc.cats.length;
  const Q = enc.nums.length;
  const T = enc.paths.length;
  const cat = new Int32Array(n * P);
  const num = new Float64Array(n * Q);
  const path = new Int32Array(n * T);
  const pathSelf = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const p = configs[r]!;
    for (let i = 0; i < P; i++) cat[r * P + i] = catIndex(enc.cats[i]!.choices, p[enc.cats[i]!.name]);
    for (let i = 0; i < Q; i++) {
      const v = p[enc.nums[i]!.name];
      num[r * Q + i] = typeof v === 'number' ? toUnit(enc.nums[i]!.spec, v) : NaN;
    }
    for (let t = 0; t < T; t++) {
      const ops = enc.paths[t]!.edges;
      // Path id: (length, op sequence) in mixed radix; identical op sequences share a feature.
      let id = ops.length;
      let zero = false;
      for (const e of ops) {
        const o = cat[r * P + e]!;
        if (o < 0 || ZERO_OPS.has(enc.cats[e]!.choices[o]!)) zero = true;
        id = id * enc.nPathOps + o;
      }
      path[r * T + t] = zero ? -1 : id;
    }
    let s = 0;
    for (let a = 0; a < T; a++) {
      const pa = path[r * T + a]!;
      if (pa < 0) continue;
      for (let b = 0; b < T; b++) if (path[r * T + b] === pa) s++;
    }
    pathSelf[r] = s;
  }
  return { n, cat, num, path, pathSelf };
}

/**
 * Distance components between row i of `a` and row j of `b`: [categorical Hamming / P,
 * squared numeric distance / Q, squared path-count distance / T].
 */
export function distParts(enc: SpaceEncoder, a: EncodedBatch, i: number, b: EncodedBatch, j: number, out: Float64Array): void {
  const P = enc.cats.length;
  const Q = enc.nums.length;
  const T = enc.paths.length;
  let h = 0;
  for (let k = 0; k < P; k++) if (a.cat[i * P + k] !== b.cat[j * P + k]) h++;
  let d = 0;
  for (let k = 0; k < Q; k++) {
    const x = a.num[i * Q + k]!;
    const y = b.num[j * Q + k]!;
    if (Number.isNaN(x) || Number.isNaN(y)) d += Number.isNaN(x) === Number.isNaN(y) ? 0 : 1;
    else d += (x - y) * (x - y);
  }
  let cross = 0;
  for (let s = 0; s < T; s++) {
    const pa = a.path[i * T + s]!;
    if (pa < 0) continue;
    for (let t = 0; t < T; t++) if (b.path[j * T + t] === pa) cross++;
  }
  out[0] = P ? h / P : 0;
  out[1] = Q ? d / Q : 0;
  out[2] = T ? (a.pathSelf[i]! + b.pathSelf[j]! - 2 * cross) / T : 0;
}

/** Number of configurations of a space with only finite parameters, or Infinity (continuous float). */
export function finiteSize(space: SearchSpace): number {
  let n = 1;
  for (const spec of Object.values(space.params)) {
    if (spec.type === 'float' && spec.step === undefined && spec.low !== spec.high) return Infinity;
    if (spec.type === 'int' && spec.log && spec.step === undefined) n *= spec.high - spec.low + 1;
    else n *= gridAxis(spec).size;
    if (n > 1e7) return Infinity;
  }
  return n;
}

/** Every configuration of a finite space, respecting conditions (inactive branches not multiplied). */
export function enumerateFinite(space: SearchSpace): Params[] {
  const entries = Object.entries(space.params);
  const out: Params[] = [];
  const values = entries.map(([, spec]) => finiteValues(spec));
  const rec = (i: number, acc: Params) => {
    if (i === entries.length) {
      out.push({ ...acc });
      return;
    }
    const [name, spec] = entries[i]!;
    if (!isActive(spec, acc)) return rec(i + 1, acc);
    for (const v of values[i]!) {
      acc[name] = v;
      rec(i + 1, acc);
    }
    delete acc[name];
  };
  rec(0, {});
  return out;
}

function finiteValues(spec: ParamSpec): ParamValue[] {
  if (spec.type === 'int' && spec.log && spec.step === undefined) {
    return Array.from({ length: spec.high - spec.low + 1 }, (_, i) => spec.low + i);
  }
  return gridValues(spec);
}

/** Re-derives the active set after a change: drops parameters that became inactive, samples new ones. */
export function repair(space: SearchSpace, p: Params, rng: Rng): Params {
  const out: Params = {};
  for (const [name, spec] of Object.entries(space.params)) {
    if (!isActive(spec, out)) continue;
    out[name] = name in p ? p[name]! : sampleSpec(spec, rng);
  }
  return out;
}

/**
 * One-parameter neighbours of `p`: every other choice of each categorical, and for numerics `numSteps`
 * Gaussian moves in unit space (std `sigma`).
 */
export function neighbours(space: SearchSpace, p: Params, rng: Rng, numSteps = 4, sigma = 0.1): Params[] {
  const out: Params[] = [];
  for (const [name, spec] of Object.entries(space.params)) {
    if (!(name in p)) continue;
    if (spec.type === 'categorical') {
      for (const c of spec.choices) if (c !== p[name]) out.push(repair(space, { ...p, [name]: c }, rng));
    } else {
      const u = toUnit(spec, p[name] as number);
      for (let s = 0; s < numSteps; s++) {
        const v = fromUnit(spec, u + sigma * rng.normal());
        if (v !== p[name]) out.push(repair(space, { ...p, [name]: v }, rng));
      }
    }
  }
  return out;
}
