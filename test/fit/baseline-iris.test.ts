/**
 * fit vs a fixed baseline on iris (see baseline.ts for the two baselines). Measured (3 seeds, 6 trials):
 * the search keeps the default architecture on every seed, so fit equals the same-epochs baseline;
 * the same-compute baseline (the default trained ~3x longer) is at most one test row per seed better.
 */
import { describe, expect, it } from 'vitest';
import { compare } from './baseline.js';

describe('fit vs a fixed baseline of the same budget: iris', () => {
  it('fit >= the default architecture trained as long; within 0.05 of it trained on all of fit\'s samples', async () => {
    const m = await compare('iris', 'iris', undefined, 6, [0, 1, 2]);
    expect(m.fit).toBeGreaterThanOrEqual(m.sameEpochs);
    expect(m.fit).toBeGreaterThanOrEqual(m.sameCompute - 0.05);
    expect(m.fit).toBeGreaterThan(0.9);
  }, 300_000);
});
