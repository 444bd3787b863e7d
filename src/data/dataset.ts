/**
 * In-memory datasets and the operations NAS needs on them: subsets, the "data subset" fidelity
 * (`takeFraction`), train/val/test splits, and per-feature standardisation.
 *
 * Features are stored row-major in one Float32Array: sample i occupies
 * `x.subarray(i * sampleSize(ds), (i + 1) * sampleSize(ds))`, laid out as `shape` (images are
 * height x width x channels, i.e. NHWC).
 */
import { Rng } from '../util/rng.js';

export type Task = 'classification' | 'regression';

export interface Dataset {
  /** Human-readable name, e.g. "mnist/train" or "iris". */
  name: string;
  task: Task;
  /** Row-major features, N x prod(shape). */
  x: Float32Array;
  /** Shape of one sample: [28, 28, 1] for MNIST, [d] for tabular data. */
  shape: number[];
  /** Class indices (Int32Array) for classification, targets (Float32Array) for regression. */
  y: Int32Array | Float32Array;
  /** Number of classes; 0 for regression. */
  numClasses: number;
  /** Label of each class index as it appears in the source (CSV strings, folder names); [] for regression. */
  classNames: string[];
}

export function sampleSize(ds: Pick<Dataset, 'shape'>): number {
  return ds.shape.reduce((a, b) => a * b, 1);
}

export function numSamples(ds: Pick<Dataset, 'y'>): number {
  return ds.y.length;
}

/** Units of a model's output layer: numClasses for classification, 1 for regression. */
export function outputUnits(ds: Pick<Dataset, 'task' | 'numClasses'>): number {
  return ds.task === 'classification' ? ds.numClasses : 1;
}

/** Number of samples of each class (classification only). */
export function classCounts(ds: Pick<Dataset, 'y' | 'numClasses'>): number[] {
  const counts = new Array<number>(ds.numClasses).fill(0);
  for (let i = 0; i < ds.y.length; i++) counts[ds.y[i]!]! += 1;
  return counts;
}

/** Throws if x, y, shape and numClasses disagree. Loaders call it before returning. */
export function assertValidDataset(ds: Dataset): void {
  const size = sampleSize(ds);
  if (ds.shape.length === 0 || ds.shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new Error(`dataset ${ds.name}: invalid sample shape [${ds.shape.join(', ')}]`);
  }
  if (ds.x.length !== ds.y.length * size) {
    throw new Error(
      `dataset ${ds.name}: x has ${ds.x.length} values but ${ds.y.length} samples x ${size} values per sample need ${ds.y.length * size}`,
    );
  }
  if (ds.task === 'classification') {
    if (!(ds.y instanceof Int32Array)) throw new Error(`dataset ${ds.name}: classification labels must be an Int32Array`);
    if (ds.classNames.length !== ds.numClasses) {
      throw new Error(`dataset ${ds.name}: ${ds.classNames.length} class names for ${ds.numClasses} classes`);
    }
    for (let i = 0; i < ds.y.length; i++) {
      const c = ds.y[i]!;
      if (c < 0 || c >= ds.numClasses) throw new Error(`dataset ${ds.name}: label ${c} of sample ${i} outside [0, ${ds.numClasses})`);
    }
  } else if (!(ds.y instanceof Float32Array)) {
    throw new Error(`dataset ${ds.name}: regression targets must be a Float32Array`);
  }
}

/** The samples at `indices`, in that order (copies). */
export function subset(ds: Dataset, indices: ArrayLike<number>, name = ds.name): Dataset {
  const size = sampleSize(ds);
  const n = ds.y.length;
  const x = new Float32Array(indices.length * size);
  const y = ds.y instanceof Int32Array ? new Int32Array(indices.length) : new Float32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new Error(`subset of ${ds.name}: index ${i} outside [0, ${n})`);
    x.set(ds.x.subarray(i * size, (i + 1) * size), k * size);
    y[k] = ds.y[i]!;
  }
  return { ...ds, name, x, y, shape: [...ds.shape], classNames: [...ds.classNames] };
}

/** The samples of `a` then those of `b` (same sample shape) as one dataset. */
export function concatDatasets(a: Dataset, b: Dataset, name: string): Dataset {
  if (sampleSize(a) !== sampleSize(b)) throw new Error(`concatDatasets: ${a.name} and ${b.name} differ in sample shape`);
  const x = new Float32Array(a.x.length + b.x.length);
  x.set(a.x);
  x.set(b.x, a.x.length);
  const y = a.y instanceof Int32Array ? new Int32Array(a.y.length + b.y.length) : new Float32Array(a.y.length + b.y.length);
  y.set(a.y);
  y.set(b.y, a.y.length);
  return { ...a, name, x, y };
}

function toRng(rng: Rng | number): Rng {
  return typeof rng === 'number' ? new Rng(rng) : rng;
}

/**
 * A seeded permutation of [0, labels.length) in which every prefix is stratified: each class is
 * shuffled, then the classes are interleaved so that class c's j-th sample sits at relative
 * position (j + u) / count(c) (u random in [0,1)). Any prefix of length k therefore holds each
 * class within about one sample of k * count(c) / n. Used by `takeFraction` and `split`.
 */
export function stratifiedOrder(labels: ArrayLike<number>, rng: Rng | number): number[] {
  const r = toRng(rng);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    let list = byClass.get(c);
    if (!list) byClass.set(c, (list = []));
    list.push(i);
  }
  const keyed: { key: number; index: number }[] = [];
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const list = r.shuffle(byClass.get(c)!);
    const offset = r.random();
    list.forEach((index, j) => keyed.push({ key: (j + offset) / list.length, index }));
  }
  keyed.sort((a, b) => a.key - b.key || a.index - b.index);
  return keyed.map((k) => k.index);
}

/** A seeded permutation of [0, n). */
export function randomOrder(n: number, rng: Rng | number): number[] {
  return toRng(rng).shuffle(Array.from({ length: n }, (_, i) => i));
}

/**
 * If `chosen` (a prefix of `order`) lacks a class present in `order`, swap in that class's first
 * sample from the rest of `order` in place of the last chosen sample of a class with several.
 */
function ensureEveryClass(chosen: number[], order: number[], labels: ArrayLike<number>, numClasses: number): void {
  const counts = new Array<number>(numClasses).fill(0);
  for (const i of chosen) counts[labels[i]!]! += 1;
  for (let p = chosen.length; p < order.length && counts.includes(0); p++) {
    const c = labels[order[p]!]!;
    if (counts[c] !== 0) continue;
    let q = chosen.length - 1;
    while (q >= 0 && counts[labels[chosen[q]!]!]! < 2) q--;
    if (q < 0) return;
    counts[labels[chosen[q]!]!]! -= 1;
    chosen.splice(q, 1);
    chosen.push(order[p]!);
    counts[c] = 1;
  }
}

function checkFraction(what: string, f: number): void {
  if (!(f >= 0 && f <= 1)) throw new Error(`${what} must be in [0, 1], got ${f}`);
}

/**
 * A seeded random `fraction` of the samples (the "data subset" fidelity): stratified by class for
 * classification, plain random for regression. At least one sample (and, for classification,
 * at least one per class when fraction > 0 and there are enough samples) is kept.
 * With the same seed, a smaller fraction is a prefix, hence a subset, of a larger one.
 */
export function takeFraction(ds: Dataset, fraction: number, rng: Rng | number): Dataset {
  checkFraction('takeFraction: fraction', fraction);
  const n = ds.y.length;
  const order = ds.task === 'classification' ? stratifiedOrder(ds.y, rng) : randomOrder(n, rng);
  const minKeep = Math.min(n, ds.task === 'classification' ? Math.max(1, ds.numClasses) : 1);
  let k = Math.round(n * fraction);
  if (fraction > 0) k = Math.max(k, minKeep);
  const chosen = order.slice(0, k);
  if (ds.task === 'classification' && k > 0) ensureEveryClass(chosen, order, ds.y, ds.numClasses);
  return subset(ds, chosen, `${ds.name}[${fraction}]`);
}

export interface SplitOptions {
  /** Fraction of samples for validation (default 0.2). */
  valFraction?: number;
  /** Fraction of samples for test (default 0). */
  testFraction?: number;
  seed?: number;
  /** Keep class proportions in every part (default true; ignored for regression). */
  stratify?: boolean;
}

export interface SplitIndices {
  train: number[];
  val: number[];
  test: number[];
}

/**
 * Seeded train/val/test index split of n samples; `labels` (class indices) enable stratification.
 * Sizes: test = round(n * testFraction), val = round(n * valFraction), train = the rest.
 */
export function splitIndices(n: number, labels: ArrayLike<number> | undefined, opts: SplitOptions = {}): SplitIndices {
  const valFraction = opts.valFraction ?? 0.2;
  const testFraction = opts.testFraction ?? 0;
  checkFraction('split: valFraction', valFraction);
  checkFraction('split: testFraction', testFraction);
  if (valFraction + testFraction > 1) throw new Error(`split: valFraction + testFraction = ${valFraction + testFraction} > 1`);
  const rng = new Rng(opts.seed ?? 0);
  const order = labels && (opts.stratify ?? true) ? stratifiedOrder(labels, rng) : randomOrder(n, rng);
  const nTest = Math.round(n * testFraction);
  const nVal = Math.min(n - nTest, Math.round(n * valFraction));
  return {
    test: order.slice(0, nTest),
    val: order.slice(nTest, nTest + nVal),
    train: order.slice(nTest + nVal),
  };
}

/** Seeded train/val/test split of a dataset (see `splitIndices`). */
export function split(ds: Dataset, opts: SplitOptions = {}): { train: Dataset; val: Dataset; test: Dataset } {
  const labels = ds.task === 'classification' ? ds.y : undefined;
  const idx = splitIndices(ds.y.length, labels, opts);
  return {
    train: subset(ds, idx.train, `${ds.name}/train`),
    val: subset(ds, idx.val, `${ds.name}/val`),
    test: subset(ds, idx.test, `${ds.name}/test`),
  };
}

export interface FeatureScaling {
  mean: Float32Array;
  std: Float32Array;
}

/** Per-feature mean and std (std 0 replaced by 1) of a dataset, e.g. of the training part. */
export function fitFeatureScaling(ds: Dataset): FeatureScaling {
  const size = sampleSize(ds);
  const n = ds.y.length;
  const mean = new Float64Array(size);
  const sq = new Float64Array(size);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < size; j++) mean[j]! += ds.x[i * size + j]!;
  }
  for (let j = 0; j < size; j++) mean[j]! /= Math.max(1, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < size; j++) {
      const d = ds.x[i * size + j]! - mean[j]!;
      sq[j]! += d * d;
    }
  }
  const std = new Float32Array(size);
  for (let j = 0; j < size; j++) {
    const s = Math.sqrt(sq[j]! / Math.max(1, n));
    std[j] = s > 1e-12 ? s : 1;
  }
  return { mean: Float32Array.from(mean), std };
}

/** (x - mean) / std per feature; returns a new dataset. */
export function applyFeatureScaling(ds: Dataset, scaling: FeatureScaling): Dataset {
  const size = sampleSize(ds);
  if (scaling.mean.length !== size) throw new Error(`feature scaling has ${scaling.mean.length} features, ${ds.name} has ${size}`);
  const x = new Float32Array(ds.x.length);
  for (let i = 0; i < x.length; i++) {
    const j = i % size;
    x[i] = (ds.x[i]! - scaling.mean[j]!) / scaling.std[j]!;
  }
  return { ...ds, x };
}
