import { describe, expect, it } from 'vitest';
import {
  COST_SAFETY,
  estimateTrainMicrosPerSample,
  MIN_IMAGE_US,
  planFit,
  TRAIN_COST_MODEL,
  type DataProfile,
} from '../../src/fit/policy.js';
import { chainFlatSpace, chainSpace } from '../../src/space/arch/index.js';
import type { Params } from '../../src/space/params.js';

const fashion: DataProfile = { kind: 'image', task: 'classification', inputShape: [28, 28, 1], numClasses: 10, trainSize: 54000, valSize: 6000 };
const iris: DataProfile = { kind: 'tabular', task: 'classification', inputShape: [4], numClasses: 3, trainSize: 120 };
const synthetic: DataProfile = { kind: 'tabular', task: 'classification', inputShape: [20], numClasses: 2, trainSize: 4000 };
const bigCsv: DataProfile = { kind: 'tabular', task: 'regression', inputShape: [30], numClasses: 1, trainSize: 200000 };

const layer = (i: number, op: string, width: number) => ({
  [`layer_${i}_op`]: op,
  [`layer_${i}_width`]: width,
  [`layer_${i}_act`]: 'relu',
  [`layer_${i}_bn`]: false,
  [`layer_${i}_dropout`]: 0,
});
const pool = (i: number) => ({ [`layer_${i}_op`]: 'maxpool3x3', [`layer_${i}_dropout`]: 0 });
/** conv32-pool-conv64-pool-flatten: ~0.89 Fashion-MNIST validation accuracy after one epoch. */
const cnn = { depth: 4, ...layer(0, 'conv3x3', 32), ...pool(1), ...layer(2, 'conv3x3', 64), ...pool(3), head: 'flatten' };
const decode = (p: Params) => chainSpace.decode(p, { inputShape: [28, 28, 1], numClasses: 10 });

describe('planFit: images', () => {
  it('10 minutes on Fashion-MNIST: chain + TPE, 1-epoch half-width trials on 20,000 images, 3 final epochs under a cost cap (up to 12 as the winner speed allows)', () => {
    const p = planFit(fashion, { seconds: 600, cores: 2 });
    expect(p).toMatchObject({
      space: 'chain',
      strategy: 'tpe',
      searchShare: 0.3,
      searchFidelity: { epochs: 1, dataFraction: 0.37, widthMultiplier: 0.5 },
      finalFidelity: { epochs: 12, dataFraction: 1 },
      batchSize: 64,
      optimizer: 'adam',
      lr: 2e-3,
      lrSchedule: 'cosine',
      earlyStopping: 'none',
      finalThreads: 2,
    });
    expect(p.maxTrials).toBeUndefined();
    // F = 0.7 * 600 - 10 - 12 = 398 s for 3 epochs of 60,000 images with a 1.5x margin.
    expect(p.maxTrainMicrosPerSample).toBe(Math.round((398 / (3 * 60000 * COST_SAFETY)) * 1e6));
    // The measured 1-epoch CNN fits under the cap; a wide full-resolution stack does not.
    expect(estimateTrainMicrosPerSample(decode(cnn))).toBeLessThan(p.maxTrainMicrosPerSample!);
    const wide = { depth: 3, ...layer(0, 'conv3x3', 128), ...layer(1, 'conv3x3', 128), ...pool(2), head: 'gap' };
    expect(estimateTrainMicrosPerSample(decode(wide))).toBeGreaterThan(5 * p.maxTrainMicrosPerSample!);
    expect(p.reasons.join('\n')).toMatch(/search share 0\.3/);
    expect(p.reasons.join('\n')).toMatch(/cost cap 1474 us\/sample/);
  });

  it('longer budgets search longer trials, with early stopping, and retrain more epochs under a looser cap', () => {
    const half = planFit(fashion, { seconds: 1800, cores: 2 });
    expect(half).toMatchObject({ searchShare: 0.4, earlyStopping: 'median', finalFidelity: { epochs: 20, dataFraction: 1 } });
    expect(half.searchFidelity).toEqual({ epochs: 2, dataFraction: 0.37, widthMultiplier: 0.5 });
    const hour = planFit(fashion, { seconds: 3600, cores: 2 });
    expect(hour).toMatchObject({ searchShare: 0.5, earlyStopping: 'median', finalFidelity: { epochs: 28 } });
    expect(hour.searchFidelity).toEqual({ epochs: 3, dataFraction: 0.741, widthMultiplier: 0.5 });
    const day = planFit(fashion, { seconds: 4 * 3600, cores: 2 });
    expect(day).toMatchObject({ earlyStopping: 'lc', finalFidelity: { epochs: 30 } });
    expect(day.searchFidelity).toEqual({ epochs: 5, dataFraction: 1, widthMultiplier: 1 });
    const caps = [600, 1800, 3600, 4 * 3600].map((s) => planFit(fashion, { seconds: s }).maxTrainMicrosPerSample!);
    expect(caps).toEqual([...caps].sort((a, b) => a - b));
  });

  it('one minute: the final trains 2 (up to 8) epochs on the part of the data the smallest CNN can cover', () => {
    const p = planFit(fashion, { seconds: 60, cores: 2 });
    expect(p.maxTrainMicrosPerSample).toBe(MIN_IMAGE_US);
    expect(p.finalFidelity.epochs).toBe(8);
    // F = 42 - 10 - 1.2 = 30.8 s; 30.8 / (2 * 60000 * 1.5 * 320 us) = 0.535
    expect(p.finalFidelity.dataFraction).toBe(0.535);
    expect(p.reasons.join('\n')).toMatch(/final on 0\.535 of train\+val/);
  });

  it('a trials budget: 2-epoch trials with the median rule, 10 final epochs, the fixed cap; only images over 32 px are halved', () => {
    const p = planFit(fashion, { trials: 30, cores: 1 });
    expect(p).toMatchObject({ maxTrials: 30, earlyStopping: 'median', finalFidelity: { epochs: 10, dataFraction: 1 }, maxTrainMicrosPerSample: 4000, finalThreads: 1 });
    expect(p.searchFidelity.epochs).toBe(2);
    const tiny = planFit({ ...fashion, inputShape: [12, 12, 3], trainSize: 800, valSize: undefined }, { seconds: 600 });
    expect(tiny.searchFidelity.resolution).toBeUndefined();
    expect(tiny.searchFidelity.dataFraction).toBe(1);
    const large = planFit({ ...fashion, inputShape: [64, 64, 3] }, { seconds: 600 });
    expect(large.searchFidelity.resolution).toBe(32);
    expect(planFit(fashion, { seconds: 600 }).searchFidelity.resolution).toBeUndefined();
  });

  it('overrides win and say so', () => {
    const p = planFit(fashion, { seconds: 600 }, { space: 'cell', strategy: 'evolution' });
    expect(p.space).toBe('cell');
    expect(p.strategy).toBe('evolution');
    expect(p.reasons).toContain('space cell: asked for');
    expect(p.reasons).toContain('strategy evolution: asked for');
    const auto = planFit(fashion, { seconds: 600 }, { space: 'auto', strategy: 'auto' });
    expect([auto.space, auto.strategy]).toEqual(['chain', 'tpe']);
  });
});

describe('planFit: tables', () => {
  it('iris: most of the budget searches, ~1000-step trials on all rows, median rule, no cost cap, one thread', () => {
    const p = planFit(iris, { seconds: 60, cores: 2 });
    expect(p).toMatchObject({
      space: 'chain',
      searchShare: 0.7,
      batchSize: 16,
      searchFidelity: { epochs: 100, dataFraction: 1 },
      finalFidelity: { epochs: 300, dataFraction: 1 },
      earlyStopping: 'median',
      finalThreads: 1,
    });
    expect(p.maxTrainMicrosPerSample).toBeUndefined();
  });

  it('a few thousand rows: batch 64, 16-epoch trials; a large CSV searches on 20,000 rows', () => {
    expect(planFit(synthetic, { seconds: 600 })).toMatchObject({ searchShare: 0.5, batchSize: 64, searchFidelity: { epochs: 16, dataFraction: 1 }, finalFidelity: { epochs: 48 } });
    expect(planFit(bigCsv, { trials: 20 })).toMatchObject({ maxTrials: 20, searchFidelity: { epochs: 5, dataFraction: 0.1 }, finalFidelity: { epochs: 15, dataFraction: 1 } });
  });
});

describe('estimateTrainMicrosPerSample', () => {
  it('is the measured linear model in FLOPs and activations', () => {
    // conv32-pool-conv64-pool-flatten: 3.91 MFLOPs, 87.8 k activations; bench:fit-cost measured 672 CPU us/sample.
    expect(estimateTrainMicrosPerSample(decode(cnn))).toBeCloseTo(745, -1);
    // A 2-layer MLP on iris costs little more than the per-sample base.
    const mlp = chainFlatSpace.decode({ depth: 2, ...layer(0, 'dense', 64), ...layer(1, 'dense', 64) }, { inputShape: [4], numClasses: 3 });
    const us = estimateTrainMicrosPerSample(mlp);
    expect(us).toBeGreaterThan(TRAIN_COST_MODEL.baseUs);
    expect(us).toBeLessThan(TRAIN_COST_MODEL.baseUs + 5);
  });
});
