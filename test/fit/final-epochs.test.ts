/**
 * The final retraining's epoch count for tables comes from the retrained trial's validation curve
 * (finalEpochs), and the search starts with the default architecture then the warm-start portfolio.
 */
import { describe, expect, it } from 'vitest';
import { startParams } from '../../src/fit/defaults.js';
import { finalEpochs } from '../../src/fit/final.js';
import { planFit } from '../../src/fit/policy.js';
import { Experiment } from '../../src/core/experiment.js';
import { MemoryStore } from '../../src/store/memory.js';
import { chainFlatSpace } from '../../src/space/arch/index.js';
import type { TrialRecord } from '../../src/core/store.js';
import type { Strategy } from '../../src/core/strategy.js';

const trial = (val: number[], valSamples = 600, number = 3) =>
  ({ number, attrs: { training: { metric: 'accuracy', val, valSamples } } }) as unknown as TrialRecord;
const table = planFit({ kind: 'tabular', task: 'classification', inputShape: [16], numClasses: 4, trainSize: 2400, valSize: 600 }, { trials: 5 });

describe('finalEpochs', () => {
  it('tables: the plan asks for it, with 3x the trial length as the upper bound', () => {
    expect(table.finalEpochs).toBe('search');
    expect(table.finalFidelity.epochs).toBe(3 * table.searchFidelity.epochs!);
    expect(table.reasons.join('\n')).toMatch(/best validation epoch x \(train\+val\)\/train/);
  });

  it('a curve still at its best (within one standard error) keeps the trial length, scaled by train+val / train', () => {
    // best 0.80 at epoch 4, last 0.79: 0.01 < sqrt(0.8 * 0.2 / 600) = 0.0163
    const r = finalEpochs(table, trial([0.5, 0.7, 0.75, 0.8, 0.78, 0.79]), 1800, 2400);
    expect(r.epochs).toBe(8); // 6 x 4/3
    expect(r.rule).toMatch(/trial #3's 6 epochs .*one standard error.* x 1\.33/);
  });

  it('a curve that overfitted (last more than one standard error under the best) stops at the best epoch', () => {
    const r = finalEpochs(table, trial([0.5, 0.7, 0.8, 0.78, 0.76, 0.75]), 1800, 2400);
    expect(r.epochs).toBe(4); // epoch 3 x 4/3
    expect(r.rule).toMatch(/peaked at epoch 3 of 6/);
    // The first of equal best values; a larger validation set makes a smaller drop significant.
    expect(finalEpochs(table, trial([0.8, 0.8, 0.79, 0.79], 1e6), 1000, 1000).epochs).toBe(1);
  });

  it('capped by finalFidelity.epochs; the plan rule, or no curve: finalFidelity.epochs', () => {
    const cap = table.finalFidelity.epochs!;
    expect(finalEpochs(table, trial(Array.from({ length: cap }, (_, i) => i / cap)), 1800, 2400)).toMatchObject({ epochs: cap });
    expect(finalEpochs(table, null, 1800, 2400)).toEqual({ epochs: cap, rule: `the plan's ${cap}` });
    expect(finalEpochs({ ...table, finalEpochs: 'plan' }, trial([0.9, 0.1]), 1800, 2400).epochs).toBe(cap);
  });
});

describe('warm start', () => {
  it('chain-flat: the default (dense64 x2), then dropout 0.2 of it and 3x256 with dropout 0.3; the strategy after them', async () => {
    const ps = startParams(chainFlatSpace, [16], 4);
    expect(ps).toHaveLength(3);
    expect(ps[0]).toMatchObject({ depth: 2, layer_0_width: 64, layer_0_dropout: 0 });
    expect(ps[1]).toMatchObject({ depth: 2, layer_0_width: 64, layer_1_dropout: 0.2 });
    expect(ps[2]).toMatchObject({ depth: 3, layer_2_width: 256, layer_2_dropout: 0.3 });
    // Enqueued (as fit's search does), they are the first trials; the strategy is asked only after them.
    let asked = 0;
    const inner: Strategy = { name: 'x', ask: () => (asked++, { depth: 1 }) };
    const exp = Experiment.open({ store: new MemoryStore(), name: 'w', strategy: inner, space: chainFlatSpace.space });
    for (const p of ps) exp.enqueue(p);
    const params = [];
    for (let i = 0; i < 4; i++) {
      const t = await exp.ask();
      params.push(t.params);
      await exp.tell(t, 0.5);
    }
    expect(params.slice(0, 3)).toEqual(ps);
    expect([params[3]!.depth, asked]).toEqual([1, 1]);
  });
});
