import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { TrialPruned } from '../../src/core/trial.js';
import { MemoryStore } from '../../src/store/memory.js';
import { RandomStrategy } from '../../src/strategy/random.js';
import { GridStrategy } from '../../src/strategy/grid.js';
import { createStrategy } from '../../src/strategy/index.js';
import { paramsKey, validateSpace, type SearchSpace } from '../../src/space/params.js';
import type { Pruner } from '../../src/core/pruner.js';

const space: SearchSpace = validateSpace({
  params: {
    kind: { type: 'categorical', choices: ['lin', 'sq'] },
    a: { type: 'float', low: -2, high: 2 },
    b: { type: 'int', low: 1, high: 4, when: { kind: ['sq'] } },
  },
});

const f = (p: Record<string, unknown>) => (p.kind === 'sq' ? -((p.a as number) ** 2) * (p.b as number) : -Math.abs(p.a as number));

describe('Experiment ask/tell', () => {
  it('records proposals, results and costs; FAILED trials keep their error and the search goes on', async () => {
    const store = new MemoryStore();
    const exp = Experiment.open({ store, name: 'e', strategy: new RandomStrategy(), space, seed: 5 });
    const ran = await exp.optimize(
      (t) => {
        if (t.number === 3) throw new Error('diverged: loss is NaN');
        t.charge(10);
        return f(t.params);
      },
      { nTrials: 12 },
    );
    expect(ran).toHaveLength(12);
    const trials = exp.trials();
    expect(trials.map((t) => t.state).filter((s) => s === 'FAILED')).toHaveLength(1);
    expect(trials[3]!.error).toBe('diverged: loss is NaN');
    for (const t of trials.filter((t) => t.state === 'COMPLETE')) {
      expect(t.values![0]).toBeCloseTo(f(t.params));
      expect(t.cost.simulatedSeconds).toBe(10);
      expect(t.cost.wallSeconds).toBeGreaterThanOrEqual(0);
      expect('b' in t.params).toBe(t.params.kind === 'sq');
    }
    const best = exp.bestTrial()!;
    expect(best.values![0]).toBe(Math.max(...trials.filter((t) => t.values).map((t) => t.values![0]!)));
  });

  it('supports explicit ask and tell, including non-number results', async () => {
    const exp = Experiment.open({ store: new MemoryStore(), name: 'e', strategy: new RandomStrategy(), space, seed: 1 });
    const t = await exp.ask();
    expect((await exp.tell(t, 0.5)).state).toBe('COMPLETE');
    const u = await exp.ask();
    const rec = await exp.tell(u, Number.NaN);
    expect(rec.state).toBe('FAILED');
    expect(rec.error).toMatch(/non-finite value/);
    expect(exp.trials().map((x) => x.number)).toEqual([0, 1]);
  });

  it('stops at a simulated-seconds budget, counting the trial that crosses it', async () => {
    const exp = Experiment.open({ store: new MemoryStore(), name: 'e', strategy: new RandomStrategy(), space, seed: 2 });
    await exp.optimize((t) => (t.charge(30), 1), { budgetSeconds: 100 });
    expect(exp.trials()).toHaveLength(4);
  });

  it('runs define-by-run objectives with conditional suggestions', async () => {
    const exp = Experiment.open({ store: new MemoryStore(), name: 'd', strategy: new RandomStrategy(), seed: 3, directions: ['minimize'] });
    await exp.optimize(
      (t) => {
        const opt = t.suggestCategorical('opt', ['sgd', 'adam']);
        const lr = t.suggestFloat('lr', 1e-4, 1, { log: true });
        const mom = opt === 'sgd' ? t.suggestFloat('momentum', 0, 0.99) : 0;
        expect(t.suggestFloat('lr', 1e-4, 1, { log: true })).toBe(lr); // same name, same value
        expect(() => t.suggestInt('lr', 0, 3)).toThrow(/two different ranges/);
        return Math.abs(Math.log10(lr) + 2) + mom;
      },
      { nTrials: 20 },
    );
    const trials = exp.trials();
    expect(trials.every((t) => t.state === 'COMPLETE')).toBe(true);
    for (const t of trials) expect('momentum' in t.params).toBe(t.params.opt === 'sgd');
    expect(trials[0]!.distributions.lr).toEqual({ type: 'float', low: 1e-4, high: 1, log: true });
    // the inferred space is what every completed trial shares
    expect(Object.keys(exp.searchSpace(trials)!.params).sort()).toEqual(['lr', 'opt']);
  });

  it('records pruned trials with their last intermediate value', async () => {
    const pruner: Pruner = { name: 'after2', shouldPrune: ({ trial }) => trial.intermediate.length >= 2 && trial.number % 2 === 1 };
    const exp = Experiment.open({ store: new MemoryStore(), name: 'p', strategy: new RandomStrategy(), space, seed: 4, pruner });
    await exp.optimize(
      (t) => {
        for (let step = 1; step <= 5; step++) {
          t.report(step / 10, step);
          if (t.shouldPrune()) throw new TrialPruned();
        }
        return 0.5;
      },
      { nTrials: 6 },
    );
    const trials = exp.trials();
    expect(trials.filter((t) => t.state === 'PRUNED').map((t) => t.number)).toEqual([1, 3, 5]);
    expect(trials[1]!.values).toEqual([0.2]);
    expect(trials[1]!.intermediate).toHaveLength(2);
    expect(trials[0]!.intermediate).toHaveLength(5);
  });

  it('resumes from the store with the same next decision as an uninterrupted run', async () => {
    for (const name of ['random', 'grid']) {
      const uninterrupted = Experiment.open({ store: new MemoryStore(), name: 'u', strategy: createStrategy(name), space, seed: 11 });
      await uninterrupted.optimize((t) => f(t.params), { nTrials: 10 });
      const store = new MemoryStore();
      const first = Experiment.open({ store, name: 'r', strategy: createStrategy(name), space, seed: 11 });
      await first.optimize((t) => f(t.params), { nTrials: 6 });
      const resumed = Experiment.open({ store, name: 'r', strategy: createStrategy(name), space, seed: 11 });
      await resumed.optimize((t) => f(t.params), { nTrials: 10 });
      expect(resumed.trials().map((t) => t.params)).toEqual(uninterrupted.trials().map((t) => t.params));
    }
  });

  it('refuses to reopen an experiment with another space', () => {
    const store = new MemoryStore();
    Experiment.open({ store, name: 'x', strategy: new RandomStrategy(), space, seed: 1 });
    const other = validateSpace({ params: { a: { type: 'int', low: 0, high: 1 } } });
    expect(() => Experiment.open({ store, name: 'x', strategy: new RandomStrategy(), space: other, seed: 1 })).toThrow(
      /already exists in this storage with a different search space/,
    );
  });
});

describe('grid search', () => {
  it('visits every point once and then stops', async () => {
    const exp = Experiment.open({ store: new MemoryStore(), name: 'g', strategy: new GridStrategy({ floatPoints: 3 }), space, seed: 0 });
    await exp.optimize((t) => f(t.params), { nTrials: 1000 });
    const keys = exp.trials().map((t) => paramsKey(t.params));
    expect(keys).toHaveLength(3 + 3 * 4);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
