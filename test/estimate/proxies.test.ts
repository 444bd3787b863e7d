import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { logAbsDet, proxyScores, proxyWarmStart, spearman, symmetricEigenvalues, type ProxyBatch } from '../../src/estimate/proxies/index.js';
import { initBackend } from '../../src/nn/backend.js';
import { decodeNb201, parseNb201Arch } from '../../src/space/arch/index.js';
import { MemoryStore } from '../../src/store/memory.js';
import { Rng } from '../../src/util/rng.js';

const CONV = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';
const NONE = '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|';
const graph = (a: string) => decodeNb201(parseNb201Arch(a), { inputShape: [8, 8, 1], numClasses: 3, width: 0.25, cells: 1 });

function batch(seed: number): ProxyBatch {
  const r = new Rng(seed);
  const x = tf.tensor(Array.from({ length: 8 * 64 }, () => r.normal()), [8, 8, 8, 1]);
  return { x, y: tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3).toFloat() };
}

describe('proxy linear algebra', () => {
  it('log|det|, eigenvalues and Spearman on known cases', () => {
    expect(logAbsDet(Float64Array.from([2, 1, 1, 3]), 2)).toBeCloseTo(Math.log(5), 12);
    expect(logAbsDet(Float64Array.from([0, 2, 3, 0]), 2)).toBeCloseTo(Math.log(6), 12);
    expect(logAbsDet(Float64Array.from([1, 2, 2, 4]), 2)).toBe(-Infinity);
    const ev = symmetricEigenvalues(Float64Array.from([2, 1, 0, 1, 2, 0, 0, 0, 5]), 3);
    expect(ev.map((v) => +v.toFixed(9))).toEqual([1, 3, 5]);
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])).toBeCloseTo(0.8, 12);
  });
});

describe('zero-cost proxies', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('scores a conv cell above the all-zero cell, deterministically, and synflow ignores the data', () => {
    const b1 = batch(1);
    const b2 = batch(2);
    const conv = proxyScores(graph(CONV), b1);
    const again = proxyScores(graph(CONV), b1);
    const none = proxyScores(graph(NONE), b1);
    for (const k of ['synflow', 'naswot', 'snip', 'grad_norm', 'jacob_cov']) {
      expect(conv[k]!.score).toBe(again[k]!.score);
      expect(conv[k]!.seconds).toBeGreaterThan(0);
      expect(Number.isFinite(conv[k]!.score)).toBe(true);
    }
    expect(none.synflow!.score).toBe(0); // no path from input to output
    expect(none.naswot!.score).toBe(-Infinity); // every sample has the same (empty) code
    expect(conv.synflow!.score).toBeGreaterThan(0);
    expect(conv.snip!.score).toBeGreaterThan(none.snip!.score);
    expect(conv.jacob_cov!.score).toBeGreaterThan(none.jacob_cov!.score);
    expect(proxyScores(graph(CONV), b2, ['synflow']).synflow!.score).toBeCloseTo(conv.synflow!.score, 3);
    expect(proxyScores(graph(CONV), b2, ['naswot']).naswot!.score).not.toBe(conv.naswot!.score);
  });

  it('warm-start proposes the best-scored candidates first, then hands over to the inner strategy', async () => {
    const space = { params: { x: { type: 'int' as const, low: 0, high: 999 } } };
    let scored = 0;
    const strategy = proxyWarmStart({ score: (p) => -Math.abs((p.x as number) - 500), candidates: 50, warmup: 5, onScored: (i) => (scored = i.candidates) });
    const exp = Experiment.open({ store: new MemoryStore(), name: 'w', strategy, space, seed: 3 });
    await exp.optimize((t) => t.params.x as number, { nTrials: 8 });
    const xs = exp.trials().map((t) => t.params.x as number);
    const d = xs.slice(0, 5).map((x) => Math.abs(x - 500));
    expect(d).toEqual([...d].sort((a, b) => a - b));
    expect(scored).toBe(50);
    // The five closest to 500 of 50 uniform draws are much closer than random draws on average.
    expect(Math.max(...d)).toBeLessThan(100);
  });
});
