import { describe, expect, it } from 'vitest';
import { classCounts, type Dataset, split } from '../../src/data/dataset.js';
import { loadIris, makeSyntheticTabular } from '../../src/data/tabular.js';

/** Softmax regression by full-batch gradient descent: the best a linear model does here. */
function linearAccuracy(train: Dataset, test: Dataset, epochs = 300, lr = 0.5): number {
  const d = train.shape[0]!;
  const c = train.numClasses;
  const w = new Float64Array((d + 1) * c);
  const n = train.y.length;
  const logits = (x: Float32Array, i: number) =>
    Array.from({ length: c }, (_, k) => {
      let s = w[d * c + k]!;
      for (let j = 0; j < d; j++) s += x[i * d + j]! * w[j * c + k]!;
      return s;
    });
  for (let e = 0; e < epochs; e++) {
    const g = new Float64Array(w.length);
    for (let i = 0; i < n; i++) {
      const z = logits(train.x, i);
      const m = Math.max(...z);
      const p = z.map((v) => Math.exp(v - m));
      const sum = p.reduce((a, b) => a + b, 0);
      for (let k = 0; k < c; k++) {
        const err = p[k]! / sum - (train.y[i] === k ? 1 : 0);
        for (let j = 0; j < d; j++) g[j * c + k]! += err * train.x[i * d + j]!;
        g[d * c + k]! += err;
      }
    }
    for (let q = 0; q < w.length; q++) w[q]! -= (lr * g[q]!) / n;
  }
  let ok = 0;
  for (let i = 0; i < test.y.length; i++) {
    const z = logits(test.x, i);
    if (z.indexOf(Math.max(...z)) === test.y[i]) ok++;
  }
  return ok / test.y.length;
}

/** 5-nearest-neighbour accuracy: a nonlinear learner. */
function knnAccuracy(train: Dataset, test: Dataset, k = 5): number {
  const d = train.shape[0]!;
  let ok = 0;
  for (let i = 0; i < test.y.length; i++) {
    const dist: [number, number][] = [];
    for (let t = 0; t < train.y.length; t++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (test.x[i * d + j]! - train.x[t * d + j]!) ** 2;
      dist.push([s, train.y[t]!]);
    }
    dist.sort((a, b) => a[0] - b[0]);
    const votes = new Array(train.numClasses).fill(0);
    for (const [, y] of dist.slice(0, k)) votes[y]++;
    if (votes.indexOf(Math.max(...votes)) === test.y[i]) ok++;
  }
  return ok / test.y.length;
}

describe('loadIris', () => {
  it('has 150 x 4 samples in 3 balanced classes', () => {
    const ds = loadIris();
    expect(ds.shape).toEqual([4]);
    expect(ds.y.length).toBe(150);
    expect(ds.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(classCounts(ds)).toEqual([50, 50, 50]);
    expect([...ds.x.subarray(0, 4)].map((v) => +v.toFixed(2))).toEqual([5.1, 3.5, 1.4, 0.2]);
    const { train, val } = split(ds, { valFraction: 0.3, seed: 0 });
    expect(linearAccuracy(train, val)).toBeGreaterThan(0.9);
  });
});

describe('makeSyntheticTabular', () => {
  it('is seeded and balanced', () => {
    const a = makeSyntheticTabular({ n: 2000, features: 6, classes: 3, seed: 5 });
    const b = makeSyntheticTabular({ n: 2000, features: 6, classes: 3, seed: 5 });
    const c = makeSyntheticTabular({ n: 2000, features: 6, classes: 3, seed: 6 });
    expect([...a.x]).toEqual([...b.x]);
    expect([...a.y]).toEqual([...b.y]);
    expect([...a.x]).not.toEqual([...c.x]);
    expect(a.shape).toEqual([6]);
    for (const count of classCounts(a)) expect(Math.abs(count - 2000 / 3)).toBeLessThan(80);
  });

  it('is nonlinear: kNN beats the best linear model by a wide margin', () => {
    const ds = makeSyntheticTabular({ n: 1200, features: 4, classes: 2, seed: 1 });
    const { train, val } = split(ds, { valFraction: 0.25, seed: 1 });
    const lin = linearAccuracy(train, val);
    const knn = knnAccuracy(train, val);
    expect(lin).toBeLessThan(0.65);
    expect(knn).toBeGreaterThan(0.85);
  });

  it('label noise relabels about noise * (1 - 1/classes) of the samples, features unchanged', () => {
    const clean = makeSyntheticTabular({ n: 1200, features: 4, classes: 2, seed: 1, noise: 0 });
    const noisy = makeSyntheticTabular({ n: 1200, features: 4, classes: 2, seed: 1, noise: 0.4 });
    expect([...noisy.x]).toEqual([...clean.x]);
    let changed = 0;
    for (let i = 0; i < 1200; i++) if (clean.y[i] !== noisy.y[i]) changed++;
    expect(Math.abs(changed / 1200 - 0.2)).toBeLessThan(0.04); // 0.4 * 1/2 land on another class
    expect(() => makeSyntheticTabular({ features: 1 })).toThrow(/features must be an integer >= 2, got 1/);
  });
});
