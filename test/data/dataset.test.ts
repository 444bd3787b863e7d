import { describe, expect, it } from 'vitest';
import {
  applyFeatureScaling,
  classCounts,
  type Dataset,
  fitFeatureScaling,
  split,
  splitIndices,
  stratifiedOrder,
  subset,
  takeFraction,
} from '../../src/data/dataset.js';
import { downscale } from '../../src/data/resize.js';
import { Rng } from '../../src/util/rng.js';

/** n samples, 2 features [i, -i], labels with class proportions 60% / 30% / 10%. */
function toy(n = 1000): Dataset {
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = i;
    x[2 * i + 1] = -i;
    const r = i % 10;
    y[i] = r < 6 ? 0 : r < 9 ? 1 : 2;
  }
  return { name: 'toy', task: 'classification', x, shape: [2], y, numClasses: 3, classNames: ['a', 'b', 'c'] };
}

describe('subset', () => {
  it('copies the rows at the indices, in order', () => {
    const s = subset(toy(), [5, 2, 9]);
    expect([...s.x]).toEqual([5, -5, 2, -2, 9, -9]);
    expect([...s.y]).toEqual([0, 0, 2]);
    expect(s.y).toBeInstanceOf(Int32Array);
    expect(() => subset(toy(10), [10])).toThrow(/index 10 outside \[0, 10\)/);
  });
});

describe('takeFraction', () => {
  it('keeps the fraction, stratified, deterministically per seed', () => {
    const ds = toy();
    const a = takeFraction(ds, 0.1, 7);
    expect(a.y.length).toBe(100);
    expect(classCounts(a)).toEqual([60, 30, 10]);
    const b = takeFraction(ds, 0.1, new Rng(7));
    expect([...b.x]).toEqual([...a.x]);
    const c = takeFraction(ds, 0.1, 8);
    expect([...c.x]).not.toEqual([...a.x]);
  });

  it('gives nested subsets for growing fractions with one seed', () => {
    const ds = toy();
    const small = new Set(takeFraction(ds, 0.05, 3).x.filter((_, i) => i % 2 === 0));
    const big = new Set(takeFraction(ds, 0.3, 3).x.filter((_, i) => i % 2 === 0));
    expect(small.size).toBe(50);
    expect([...small].every((v) => big.has(v))).toBe(true);
  });

  it('every prefix of the stratified order is within one sample per class of proportional', () => {
    const labels = toy(997).y;
    const order = stratifiedOrder(labels, 1);
    expect([...order].sort((p, q) => p - q)).toEqual(Array.from({ length: 997 }, (_, i) => i));
    const totals = [0, 0, 0];
    for (const i of labels) totals[i]! += 1;
    const counts = [0, 0, 0];
    order.forEach((i, k) => {
      counts[labels[i]!]! += 1;
      for (let c = 0; c < 3; c++) expect(Math.abs(counts[c]! - ((k + 1) * totals[c]!) / 997)).toBeLessThanOrEqual(1.01);
    });
  });

  it('keeps at least one sample per class and rejects bad fractions', () => {
    expect(takeFraction(toy(), 0.0001, 1).y.length).toBe(3);
    expect(classCounts(takeFraction(toy(), 0.0001, 1))).toEqual([1, 1, 1]);
    expect(() => takeFraction(toy(), 1.5, 1)).toThrow(/fraction must be in \[0, 1\], got 1.5/);
  });
});

describe('split', () => {
  it('has the requested sizes, is disjoint and stratified', () => {
    const { train, val, test } = split(toy(), { valFraction: 0.2, testFraction: 0.1, seed: 42 });
    expect([train.y.length, val.y.length, test.y.length]).toEqual([700, 200, 100]);
    expect(classCounts(val)).toEqual([120, 60, 20]);
    expect(classCounts(test)).toEqual([60, 30, 10]);
    expect(classCounts(train)).toEqual([420, 210, 70]);
    const ids = [train, val, test].flatMap((d) => [...d.x.filter((_, i) => i % 2 === 0)]);
    expect(new Set(ids).size).toBe(1000);
  });

  it('is deterministic per seed and differs across seeds', () => {
    const a = splitIndices(100, undefined, { valFraction: 0.3, seed: 1 });
    const b = splitIndices(100, undefined, { valFraction: 0.3, seed: 1 });
    const c = splitIndices(100, undefined, { valFraction: 0.3, seed: 2 });
    expect(a).toEqual(b);
    expect(a.val).not.toEqual(c.val);
    expect(a.val.length).toBe(30);
    expect(a.test.length).toBe(0);
  });

  it('unstratified splits of a rare class can be unbalanced; stratified ones never are', () => {
    const ds = toy(100); // class c: 10 samples
    const strat = new Set<number>();
    const plain = new Set<number>();
    for (let seed = 0; seed < 20; seed++) {
      strat.add(classCounts(split(ds, { valFraction: 0.5, seed }).val)[2]!);
      plain.add(classCounts(split(ds, { valFraction: 0.5, seed, stratify: false }).val)[2]!);
    }
    expect([...strat]).toEqual([5]);
    expect(plain.size).toBeGreaterThan(1);
  });

  it('rejects fractions that do not fit', () => {
    expect(() => split(toy(), { valFraction: 0.7, testFraction: 0.4 })).toThrow(/valFraction \+ testFraction = 1.1 > 1/);
  });
});

describe('feature scaling', () => {
  it('standardises with statistics of the fitted dataset', () => {
    const ds = toy(5); // features 0..4 and 0..-4
    const s = fitFeatureScaling(ds);
    expect(s.mean[0]).toBeCloseTo(2, 6);
    expect(s.std[0]).toBeCloseTo(Math.SQRT2, 6);
    const z = applyFeatureScaling(ds, s);
    expect(z.x[0]).toBeCloseTo(-Math.SQRT2, 5);
    expect(z.x[1]).toBeCloseTo(Math.SQRT2, 5);
  });
});

describe('downscale', () => {
  function image(h: number, w: number, c: number, n = 2): Dataset {
    const x = Float32Array.from({ length: n * h * w * c }, (_, i) => (i * 37) % 11);
    return { name: 'img', task: 'classification', x, shape: [h, w, c], y: new Int32Array(n), numClasses: 1, classNames: ['a'] };
  }

  it('integer factors give exact block means', () => {
    const ds = image(4, 4, 2);
    const d = downscale(ds, 2);
    expect(d.shape).toEqual([2, 2, 2]);
    expect(d.x.length).toBe(2 * 2 * 2 * 2);
    // second image, output (1, 0), channel 1 = mean of input rows 2-3, cols 0-1, channel 1
    const at = (y: number, x: number, ch: number) => ds.x[16 * 2 + (y * 4 + x) * 2 + ch]!;
    const expected = (at(2, 0, 1) + at(2, 1, 1) + at(3, 0, 1) + at(3, 1, 1)) / 4;
    expect(d.x[8 + (1 * 2 + 0) * 2 + 1]).toBeCloseTo(expected, 5);
  });

  it('preserves the image mean for non-integer ratios and explicit sizes', () => {
    const ds = image(28, 28, 1, 1);
    const mean = (x: Float32Array) => x.reduce((a, b) => a + b, 0) / x.length;
    for (const t of [{ factor: 3 }, { size: 10 }, { size: [7, 5] as [number, number] }]) {
      const d = downscale(ds, t);
      expect(mean(d.x)).toBeCloseTo(mean(ds.x), 4);
    }
    expect(downscale(ds, { factor: 3 }).shape).toEqual([9, 9, 1]);
    expect(downscale(ds, { size: [7, 5] }).shape).toEqual([7, 5, 1]);
  });

  it('rejects non-image datasets', () => {
    expect(() => downscale(toy(), 2)).toThrow(/expected an image shape/);
  });
});
