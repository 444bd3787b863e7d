import { describe, expect, it } from 'vitest';
import { classCounts, fitFeatureScaling } from '../../src/data/dataset.js';
import { loadNamedDataset } from '../../src/data/registry.js';

describe('loadNamedDataset', () => {
  it('mnist: stratified val carved from train, official test', () => {
    const { train, val, test } = loadNamedDataset('mnist', { trainCount: 1000, testCount: 200, valFraction: 0.2, seed: 1 });
    expect([train.y.length, val.y.length, test.y.length]).toEqual([800, 200, 200]);
    expect(test.y[0]).toBe(7);
    expect(train.shape).toEqual([28, 28, 1]);
  });

  it('iris: standardised with training statistics, stratified 90/30/30', () => {
    const { train, val, test } = loadNamedDataset('iris', { seed: 2 });
    expect([train.y.length, val.y.length, test.y.length]).toEqual([90, 30, 30]);
    expect(classCounts(test)).toEqual([10, 10, 10]);
    const s = fitFeatureScaling(train);
    for (let j = 0; j < 4; j++) {
      expect(s.mean[j]!).toBeCloseTo(0, 5);
      expect(s.std[j]!).toBeCloseTo(1, 5);
    }
  });

  it('synthetic takes its options and the seed; unknown names list the known ones', () => {
    const a = loadNamedDataset('synthetic', { seed: 3, synthetic: { n: 100, features: 3 } });
    expect(a.train.shape).toEqual([3]);
    expect(a.train.y.length + a.val.y.length + a.test.y.length).toBe(100);
    expect(() => loadNamedDataset('cifar10')).toThrow("unknown dataset 'cifar10'; known datasets: mnist, fashion-mnist, iris, synthetic");
  });
});
