import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classCounts } from '../../src/data/dataset.js';
import { fashionMnistAvailable, FASHION_MNIST_DEFAULT_DIR, loadFashionMnist, loadMnist, parseIdx } from '../../src/data/mnist.js';

function meanOf(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s / x.length;
}

function range(x: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i]! < lo) lo = x[i]!;
    if (x[i]! > hi) hi = x[i]!;
  }
  return [lo, hi];
}

describe('loadMnist', () => {
  it('loads all 70,000 digits quickly with the published label counts', () => {
    const t0 = performance.now();
    const { train, test } = loadMnist();
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(5000); // ~1 s on a laptop core; generous for CI
    expect(train.shape).toEqual([28, 28, 1]);
    expect(train.y.length).toBe(60000);
    expect(test.y.length).toBe(10000);
    expect(train.x.length).toBe(60000 * 784);
    expect(range(train.x)).toEqual([0, 1]);
    expect(meanOf(train.x)).toBeCloseTo(0.1307, 3);
    expect(classCounts(train)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(classCounts(test)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(train.y[0]).toBe(5);
    expect(test.y[0]).toBe(7);
    expect(train.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('limits counts to the first samples', () => {
    const full = loadMnist({ trainCount: 100, testCount: 10 });
    expect(full.train.y.length).toBe(100);
    expect(full.test.y.length).toBe(10);
    expect(full.train.x.length).toBe(100 * 784);
    expect(full.train.y[0]).toBe(5);
    // pixel 152 of the first image (row 5, col 12) is 3/255 in the original file
    expect(full.train.x[5 * 28 + 12]).toBeCloseTo(3 / 255, 6);
  });
});

describe('loadFashionMnist', () => {
  const available = fashionMnistAvailable();
  it.skipIf(!available)(
    `loads 60,000 + 10,000 balanced images (skipped when ${FASHION_MNIST_DEFAULT_DIR} is missing: apt-get install dataset-fashion-mnist)`,
    () => {
      const t0 = performance.now();
      const { train, test } = loadFashionMnist();
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(train.shape).toEqual([28, 28, 1]);
      expect(train.y.length).toBe(60000);
      expect(test.y.length).toBe(10000);
      expect(classCounts(train)).toEqual(new Array(10).fill(6000));
      expect(classCounts(test)).toEqual(new Array(10).fill(1000));
      expect(range(test.x)).toEqual([0, 1]);
      expect(meanOf(train.x)).toBeCloseTo(0.286, 2);
      expect(train.classNames[train.y[0]!]).toBe('Ankle boot');
    },
  );

  it('names the Debian package when the files are missing', () => {
    const empty = mkdtempSync(join(tmpdir(), 'tsnas-fmnist-'));
    expect(() => loadFashionMnist({ dir: empty })).toThrow(/apt-get install dataset-fashion-mnist/);
    expect(() => loadFashionMnist({ dir: empty })).toThrow(empty);
  });
});

describe('parseIdx', () => {
  it('reads dims and bytes, rejects bad magic and truncation', () => {
    const buf = Uint8Array.from([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]);
    const idx = parseIdx(buf, 'mem');
    expect(idx.dims).toEqual([2, 3]);
    expect([...idx.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => parseIdx(Uint8Array.from([1, 2, 3, 4]), 'bad')).toThrow(/bad: not an IDX file/);
    expect(() => parseIdx(buf.subarray(0, 15), 'short')).toThrow(/short: truncated IDX file/);
  });
});
