import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { isActive, paramsKey, validateParams, type Params, type SearchSpace } from '../../src/space/params.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { Direction, TrialRecord } from '../../src/core/store.js';
import { EvolutionStrategy, replayPopulation, tournament, memberRanks } from '../../src/strategy/evolution.js';
import { crossover, mutate } from '../../src/strategy/mutation.js';
import { RandomStrategy } from '../../src/strategy/random.js';
import type { Strategy, StrategyContext } from '../../src/core/strategy.js';
import { Rng } from '../../src/util/rng.js';
import { additive, CHOICES, COND_SPACE, condObjective, OPT, SPACE } from './fixtures.js';

/** 4 categorical parameters x 5 choices (625 points); additive objective, optimum at choice 3 everywhere. */
async function trialsToOptimum(strategy: Strategy, seed: number, cap = 625): Promise<number> {
  const exp = Experiment.open({ store: new MemoryStore(), name: 'synthetic', strategy, space: SPACE, seed });
  for (let n = 1; n <= cap; n++) {
    const t = await exp.ask();
    await exp.tell(t, additive(t.params));
    if (paramsKey(t.params) === OPT) return n;
  }
  return cap;
}


/** Wraps a strategy and keeps what its `ask` returned, before the experiment fills anything in. */
function recording(inner: Strategy): Strategy & { raw: Params[] } {
  const raw: Params[] = [];
  return {
    name: inner.name,
    raw,
    async ask(ctx: StrategyContext) {
      const p = await inner.ask(ctx);
      raw.push(p);
      return p;
    },
    tell: inner.tell ? (ctx, t) => inner.tell!(ctx, t) : undefined,
  };
}

function fakeTrial(number: number, values: number[] | null, state: TrialRecord['state'] = 'COMPLETE'): TrialRecord {
  return {
    id: 100 + number,
    experimentId: 1,
    number,
    state,
    params: { n: number },
    distributions: {},
    values,
    intermediate: [],
    cost: { wallSeconds: 0, cpuSeconds: 0, simulatedSeconds: 0 },
    attrs: {},
    error: null,
    createdAt: 0,
    finishedAt: 0,
    heartbeatAt: null,
    owner: null,
    system: {},
  };
}

describe('mutation operators', () => {
  it('mutate changes exactly one parameter of an unconditional space, to another value', () => {
    const rng = new Rng(1);
    const parent = { x0: 'a', x1: 'b', x2: 'c', x3: 'd' };
    for (let i = 0; i < 200; i++) {
      const child = mutate(SPACE, parent, rng);
      const diff = Object.keys(parent).filter((k) => child[k] !== parent[k as keyof typeof parent]);
      expect(diff.length).toBe(1);
    }
  });

  it('children of conditionals are complete and valid; numeric mutations are local', () => {
    const rng = new Rng(2);
    let p: Params = { kind: 'mlp', width: 64, lr: 0.01, dropout: 0.2 };
    const steps: number[] = [];
    let sawCnnKernel = false;
    for (let i = 0; i < 500; i++) {
      const c = mutate(COND_SPACE, p, rng);
      validateParams(COND_SPACE, c);
      if (c.kind === p.kind && c.lr !== p.lr) steps.push(Math.abs(Math.log(c.lr as number) - Math.log(p.lr as number)));
      if (c.kernel !== undefined) sawCnnKernel = true;
      p = c;
    }
    expect(sawCnnKernel).toBe(true);
    const meanStep = steps.reduce((a, b) => a + b, 0) / steps.length;
    // sigma 0.15 of the log range (ln 1000 = 6.9): mean |step| about 0.8, far below a uniform redraw (2.3).
    expect(meanStep).toBeGreaterThan(0.3);
    expect(meanStep).toBeLessThan(1.3);
    const x = crossover(COND_SPACE, { kind: 'cnn', layers: 4, kernel: 5, lr: 0.001, dropout: 0 }, { kind: 'mlp', width: 16, lr: 0.1, dropout: 0.5 }, rng);
    validateParams(COND_SPACE, x);
  });
});

describe('population replay', () => {
  const dirs: Direction[] = ['maximize'];
  // values by trial number; trial 3 failed, trial 6 still running
  const vals = [5, 1, 9, null, 2, 8, null, 7, 3];
  const history = vals.map((v, i) =>
    v === null ? fakeTrial(i, null, i === 3 ? 'FAILED' : 'RUNNING') : fakeTrial(i, [v]),
  );
  const numbers = (pop: TrialRecord[]) => pop.map((t) => t.number);

  it('aging: the first N complete trials, then each newcomer pushes out the oldest', () => {
    expect(numbers(replayPopulation(history, dirs, 3, 'oldest'))).toEqual([5, 7, 8]);
    expect(numbers(replayPopulation(history.slice(0, 5), dirs, 3, 'oldest'))).toEqual([1, 2, 4]);
  });

  it('worst removal keeps the best N (ties: the oldest worst leaves)', () => {
    expect(numbers(replayPopulation(history, dirs, 3, 'worst'))).toEqual([2, 5, 7]);
    const ties = [fakeTrial(0, [1]), fakeTrial(1, [1]), fakeTrial(2, [2])];
    expect(numbers(replayPopulation(ties, dirs, 2, 'worst'))).toEqual([1, 2]);
    expect(numbers(replayPopulation(history, ['minimize'], 3, 'worst'))).toEqual([1, 4, 8]);
  });

  it('several objectives: worst removal drops the last front first', () => {
    const d2: Direction[] = ['maximize', 'minimize'];
    const h = [fakeTrial(0, [1, 1]), fakeTrial(1, [0.5, 2]), fakeTrial(2, [2, 3]), fakeTrial(3, [0.4, 5])];
    // fronts: {0, 2}, {1}, {3}
    expect(numbers(replayPopulation(h, d2, 3, 'worst'))).toEqual([0, 1, 2]);
    const ranks = memberRanks(h, d2);
    const rng = new Rng(3);
    const wins = new Set<number>();
    for (let i = 0; i < 50; i++) wins.add(tournament(h, ranks, 30, rng).number);
    expect([...wins].every((n) => n === 0 || n === 2)).toBe(true);
  });
});

describe('regularized evolution', () => {
  it('finds the optimum of a synthetic space faster than random search (12 seeds)', async () => {
    const seeds = Array.from({ length: 12 }, (_, i) => i);
    const evo: number[] = [];
    const rnd: number[] = [];
    for (const s of seeds) {
      evo.push(await trialsToOptimum(new EvolutionStrategy(), s));
      rnd.push(await trialsToOptimum(new RandomStrategy(), s));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(`trials to optimum: evolution ${mean(evo).toFixed(1)}, random ${mean(rnd).toFixed(1)}`);
    // Random needs about 313 trials on average here; evolution a fraction of that.
    expect(mean(evo)).toBeLessThan(0.5 * mean(rnd));
    expect(seeds.filter((i) => evo[i]! < rnd[i]!).length).toBeGreaterThanOrEqual(9);
  });

  it('proposes complete configurations of a conditional space, never inactive or repeated ones', async () => {
    for (const opts of [{}, { crossover: 0.5, removal: 'worst' as const }]) {
      const strategy = recording(new EvolutionStrategy({ populationSize: 8, ...opts }));
      const exp = Experiment.open({ store: new MemoryStore(), name: 'cond', strategy, space: COND_SPACE, seed: 4 });
      await exp.optimize((t) => condObjective(t.params), { nTrials: 80 });
      expect(strategy.raw.length).toBe(80);
      for (const p of strategy.raw) {
        validateParams(COND_SPACE, p); // no missing active, no inactive parameter
        for (const [k, spec] of Object.entries(COND_SPACE.params)) expect(k in p).toBe(isActive(spec, p));
      }
      expect(new Set(strategy.raw.map(paramsKey)).size).toBe(80);
      expect(exp.bestTrial()!.params.kind).toBe('cnn');
    }
  });

  it('several objectives: proposals valid and unique; the final front beats random search in hypervolume', async () => {
    // maximise the synthetic objective, minimise a cost that grows with the choice index
    const cost = (p: Params) => Object.values(p).reduce((s: number, v) => s + CHOICES.indexOf(v as string), 0);
    const hv = async (strategy: Strategy, seed: number) => {
      const exp = Experiment.open({ store: new MemoryStore(), name: 'mo', strategy, space: SPACE, seed, directions: ['maximize', 'minimize'] });
      await exp.optimize((t) => [additive(t.params), cost(t.params)], { nTrials: 60 });
      expect(new Set(exp.trials().map((t) => paramsKey(t.params))).size).toBe(60);
      // 2-D hypervolume w.r.t. (objective 0, cost 16), points sorted by cost
      const pts = exp.trials().map((t) => [t.values![0]!, t.values![1]!] as const).sort((a, b) => a[1] - b[1] || b[0] - a[0]);
      let area = 0;
      let best = 0;
      for (let i = 0; i < pts.length; i++) {
        best = Math.max(best, pts[i]![0]);
        const next = i + 1 < pts.length ? pts[i + 1]![1] : 16;
        area += best * (next - pts[i]![1]);
      }
      return area;
    };
    let evo = 0;
    let rnd = 0;
    for (const s of [0, 1, 2, 3, 4, 5]) {
      evo += await hv(new EvolutionStrategy({ removal: 'worst' }), s);
      rnd += await hv(new RandomStrategy(), s);
    }
    expect(evo).toBeGreaterThan(rnd);
  });

  it('resume: reopening the store gives the same next proposal as an uninterrupted run, running trials included', async () => {
    const run = async (stopAt: number | null) => {
      const store = new MemoryStore();
      const open = () => Experiment.open({ store, name: 'r', strategy: new EvolutionStrategy({ populationSize: 5 }), space: SPACE, seed: 9 });
      let exp = open();
      const proposals: string[] = [];
      for (let n = 0; n < 30; n++) {
        if (n === stopAt) exp = open();
        const t = await exp.ask();
        proposals.push(paramsKey(t.params));
        if (n !== 12) await exp.tell(t, additive(t.params)); // trial 12 stays RUNNING (pending)
      }
      return proposals;
    };
    const straight = await run(null);
    expect(await run(13)).toEqual(straight);
    expect(await run(20)).toEqual(straight);
  });
});
