/**
 * fit vs a fixed baseline on a larger synthetic table (600 rows, 4-class checkerboard with
 * distractor features; see baseline.ts for the two baselines): the search finds architectures
 * that beat the default MLP even when the default is trained on every sample fit consumed.
 */
import { describe, expect, it } from 'vitest';
import { compare, syntheticCsv } from './baseline.js';

describe('fit vs a fixed baseline of the same budget: synthetic checkerboard', () => {
  it('fit beats the default architecture trained as long and trained on all of fit\'s samples', async () => {
    const m = await compare('synthetic 600 rows', syntheticCsv(600), 'kind', 16, [0, 1, 2]);
    expect(m.fit).toBeGreaterThan(m.sameEpochs);
    expect(m.fit).toBeGreaterThan(m.sameCompute);
  }, 300_000);
});
