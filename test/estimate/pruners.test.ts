import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { median, MedianPruner, valueAtStep } from '../../src/estimate/pruners/median.js';
import { MemoryStore } from '../../src/store/memory.js';
import { RandomStrategy } from '../../src/strategy/random.js';
import type { TrialRecord } from '../../src/core/store.js';

const rec = (id: number, state: TrialRecord['state'], curve: [number, number][]): TrialRecord =>
  ({ id, number: id, state, intermediate: curve.map(([step, value]) => ({ step, value })), attrs: {}, values: null }) as unknown as TrialRecord;

describe('median stopping rule', () => {
  const done = [1, 2, 3, 4, 5].map((v, i) => rec(i, 'COMPLETE', [[1, v / 2], [3, v], [5, v + 1]]));

  it('stops a trial whose best value is below the completed trials median at its step', () => {
    const p = new MedianPruner({ warmupSteps: 2, minCompleted: 5 });
    const ask = (curve: [number, number][], dir: 'maximize' | 'minimize' = 'maximize') => {
      const t = rec(99, 'RUNNING', curve);
      return p.shouldPrune({ trial: t, history: [...done, t], directions: [dir] });
    };
    expect(median([5, 1, 3, 2, 4])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(ask([[1, 0], [3, 2.5]])).toBe(true); // median at step 3 is 3
    expect(ask([[1, 0], [3, 3.5]])).toBe(false);
    expect(ask([[1, 3.2], [3, 2.5]])).toBe(false); // its best so far (3.2) counts
    expect(ask([[1, 0]])).toBe(false); // warm-up
    expect(ask([[1, 0], [4, 2.9]])).toBe(true); // no report at 4: completed trials' last value before it (step 3)
    expect(ask([[1, 0], [3, 2.5]], 'minimize')).toBe(false); // smaller is better
    expect(ask([[1, 9], [3, 3.5]], 'minimize')).toBe(true);
    expect(valueAtStep(done[0]!, 0)).toBeNull();
  });

  it('needs minCompleted finished trials and ignores running and pruned ones', () => {
    const p = new MedianPruner({ minCompleted: 5 });
    const t = rec(99, 'RUNNING', [[3, 0]]);
    const hist = [...done.slice(0, 4), rec(7, 'PRUNED', [[3, 10]]), rec(8, 'RUNNING', [[3, 10]]), t];
    expect(p.shouldPrune({ trial: t, history: hist, directions: ['maximize'] })).toBe(false);
    expect(p.shouldPrune({ trial: t, history: [...done, t], directions: ['maximize'] })).toBe(true);
  });

  it('prunes bad curves in a seeded search through Experiment.optimize', async () => {
    const exp = Experiment.open({ store: new MemoryStore(), name: 'med', strategy: new RandomStrategy(), seed: 4, pruner: new MedianPruner({ warmupSteps: 2, minCompleted: 3 }) });
    await exp.optimize(
      (trial) => {
        const q = trial.suggestFloat('q', 0, 1);
        let v = 0;
        for (let s = 1; s <= 10; s++) {
          v = q * (1 - Math.exp(-s / 3));
          trial.report(v, s);
          trial.pruneIfNeeded();
        }
        return v;
      },
      { nTrials: 30 },
    );
    const ts = exp.trials();
    const pruned = ts.filter((t) => t.state === 'PRUNED');
    expect(pruned.length).toBeGreaterThan(5);
    const complete = ts.filter((t) => t.state === 'COMPLETE');
    const bestQ = Math.max(...ts.map((t) => t.params.q as number));
    expect(Math.max(...complete.map((t) => t.params.q as number))).toBe(bestQ); // the best config was never stopped
    for (const t of pruned) expect(t.intermediate.at(-1)!.step).toBeGreaterThanOrEqual(2);
  });
});
