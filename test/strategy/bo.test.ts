/**
 * BO (GP over the encoding): faster than random on the synthetic space of tpe.test.ts (pool + local
 * search path) and on its finite version (exhaustive path); encoding; conditional parameters; resume;
 * no repeats, including running a finite space to exhaustion.
 */
import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { NB201_SPACE } from '../../src/space/nb201.js';
import { paramsKey, validateParams, type Params, type SearchSpace } from '../../src/space/params.js';
import { MemoryStore } from '../../src/store/memory.js';
import { BoStrategy, copula, expectedImprovement } from '../../src/strategy/bo.js';
import { distParts, encode, enumerateFinite, finiteSize, makeEncoder } from '../../src/strategy/encoding.js';
import { RandomStrategy } from '../../src/strategy/random.js';
import type { Strategy } from '../../src/core/strategy.js';
import { mean, search, SYN_SPACE, synthetic } from './fixtures.js';

const FAST = { nRandom: 150, localRounds: 2 };

describe('bo', () => {
  it('finds the optimum faster than random, numeric + categorical space (10 seeds)', async () => {
    const seeds = Array.from({ length: 10 }, (_, i) => i);
    const run = (make: () => Strategy) => Promise.all(seeds.map((s) => search(make, SYN_SPACE, s, 50)));
    const rnd = await run(() => new RandomStrategy());
    const bo = await run(() => new BoStrategy(FAST));
    // Measured (seeds 0-11, cap 80): BO within 0.1 of the optimum after 27 trials on average, random never.
    expect(mean(bo.map((r) => r.hit))).toBeLessThan(mean(rnd.map((r) => r.hit)) - 10);
    expect(bo.filter((r) => r.hit <= 50).length).toBeGreaterThanOrEqual(7);
  });

  it('finds the optimum of the finite (categorical) space faster than random, exhaustive acquisition (10 seeds)', async () => {
    const space: SearchSpace = { params: { c0: SYN_SPACE.params.c0!, c1: SYN_SPACE.params.c1!, c2: SYN_SPACE.params.c2!, c3: SYN_SPACE.params.c3! } };
    expect(finiteSize(space)).toBe(625);
    const seeds = Array.from({ length: 10 }, (_, i) => i);
    const run = (make: () => Strategy) => Promise.all(seeds.map((s) => search(make, space, s, 60, 3, 1e-9)));
    const rnd = await run(() => new RandomStrategy());
    const bo = await run(() => new BoStrategy());
    expect(mean(bo.map((r) => r.hit))).toBeLessThan(mean(rnd.map((r) => r.hit)) - 10);
  });

  it('encodes NB201 with one-hot and BANANAS path features', () => {
    const enc = makeEncoder(NB201_SPACE);
    expect(enc.cats.length).toBe(6);
    expect(enc.paths.length).toBe(4); // 0-3, 0-1-3, 0-2-3, 0-1-2-3
    const conv = Object.fromEntries(Object.keys(NB201_SPACE.params).map((k) => [k, 'nor_conv_3x3']));
    const none = Object.fromEntries(Object.keys(NB201_SPACE.params).map((k) => [k, 'none']));
    const X = encode(enc, [conv, none, { ...conv, edge_3_0: 'none' }]);
    expect(Array.from(X.path.slice(4, 8))).toEqual([-1, -1, -1, -1]);
    const d = new Float64Array(3);
    distParts(enc, X, 0, X, 2, d);
    expect(d[0]).toBeCloseTo(1 / 6); // one edge differs
    expect(d[2]).toBeCloseTo(1 / 4); // the direct path 0-3 is gone
    expect(enumerateFinite(NB201_SPACE).length).toBe(15625);
  });

  it('helpers: EI, copula', () => {
    expect(expectedImprovement(1, 0, 0.5)).toBeCloseTo(0.5);
    expect(expectedImprovement(0, 1, 0)).toBeCloseTo(0.3989, 3);
    const c = copula([3, 1, 2, 2]);
    expect(c[1]!).toBeLessThan(c[2]!);
    expect(c[2]).toBe(c[3]);
    expect(c[0]!).toBeGreaterThan(0);
  });

  it('never proposes an inactive parameter (conditional space)', async () => {
    const space: SearchSpace = {
      params: {
        kind: { type: 'categorical', choices: ['a', 'b'] },
        pa: { type: 'int', low: 1, high: 64, log: true, when: { kind: ['a'] } },
        pb: { type: 'float', low: 1e-4, high: 1, log: true, when: { kind: ['b'] } },
      },
    };
    const strategy = new BoStrategy({ ...FAST, nStartup: 5 });
    const exp = Experiment.open({ store: new MemoryStore(), name: 'c', strategy, space, seed: 3 });
    const f = (p: Params) => (p.kind === 'a' ? Math.log(p.pa as number) / 5 : 1 - Math.abs(Math.log10(p.pb as number) + 2) / 4);
    for (let i = 0; i < 25; i++) {
      const proposal = strategy.ask(exp.context());
      validateParams(space, proposal);
      const t = await exp.ask(proposal);
      await exp.tell(t, f(t.params));
    }
    expect(exp.bestTrial()!.values![0]!).toBeGreaterThan(0.9);
  });

  it('resumed from the same store, makes the same next proposals as an uninterrupted run', async () => {
    for (const space of [SYN_SPACE, NB201_SPACE]) {
      const f = space === SYN_SPACE ? (p: Params) => synthetic(p) : (p: Params) => Object.values(p).filter((v) => v === 'nor_conv_3x3').length + (p.edge_3_0 === 'skip_connect' ? 2 : 0);
      const full = Experiment.open({ store: new MemoryStore(), name: 'r', strategy: new BoStrategy(FAST), space, seed: 5 });
      await full.optimize((t) => f(t.params), { nTrials: 20 });
      const store = new MemoryStore();
      const a = Experiment.open({ store, name: 'r', strategy: new BoStrategy(FAST), space, seed: 5 });
      await a.optimize((t) => f(t.params), { nTrials: 13 });
      const b = Experiment.open({ store, name: 'r', strategy: new BoStrategy(FAST), space, seed: 5 });
      await b.optimize((t) => f(t.params), { nTrials: 20 });
      expect(b.trials().map((t) => t.params)).toEqual(full.trials().map((t) => t.params));
      expect(new BoStrategy(FAST).ask(b.context())).toEqual(new BoStrategy(FAST).ask(full.context()));
    }
  });

  it('proposes no configuration twice, up to exhausting a finite space', async () => {
    const space: SearchSpace = { params: { a: { type: 'categorical', choices: [0, 1, 2] }, b: { type: 'int', low: 0, high: 3 } } };
    const exp = Experiment.open({ store: new MemoryStore(), name: 'd', strategy: new BoStrategy({ nStartup: 3 }), space, seed: 1 });
    await exp.optimize((t) => -(((t.params.a as number) - 1) ** 2) - ((t.params.b as number) - 2) ** 2, { nTrials: 12 });
    expect(new Set(exp.trials().map((t) => paramsKey(t.params))).size).toBe(12);
  });
});
