/**
 * fit vs a fixed baseline on a larger synthetic table (600 rows, 4-class checkerboard with
 * distractor features; see baseline.ts for the two baselines).
 *
 * Measured (8 trials, seeds 0-2, plan of commit a7760fc: ~1000-step trials, final 3x the search
 * epochs): mean test accuracy fit 0.6583, default architecture same epochs 0.6806, same compute
 * 0.6722; per seed fit 0.5750/0.7417/0.6583. The search's pick beats the default on validation by
 * more than one standard error on seeds 0 and 1 but generalises worse on seed 0 after the 201-epoch
 * final. With the earlier plan (27-epoch trials, 54-epoch final, 16 trials) fit won: 0.7333 vs 0.7139
 * and 0.7083. So fit does not yet beat the baseline here; this test guards against a loss of more
 * than 0.05 and prints the numbers.
 */
import { describe, expect, it } from 'vitest';
import { compare, syntheticCsv } from './baseline.js';

describe('fit vs a fixed baseline of the same budget: synthetic checkerboard', () => {
  it("fit is within 0.05 of the default architecture trained as long and trained on all of fit's samples", async () => {
    const m = await compare('synthetic 600 rows', syntheticCsv(600), 'kind', 8, [0, 1, 2]);
    expect(m.fit).toBeGreaterThanOrEqual(m.sameEpochs - 0.05);
    expect(m.fit).toBeGreaterThanOrEqual(m.sameCompute - 0.05);
    expect(m.fit).toBeGreaterThan(0.55);
  }, 400_000);
});
