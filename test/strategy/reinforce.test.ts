import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { isActive, paramsKey, validateParams, type Params, type SearchSpace } from '../../src/space/params.js';
import { MemoryStore } from '../../src/store/memory.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/core/store.js';
import { RandomStrategy } from '../../src/strategy/random.js';
import { REINFORCE_STATE_KEY, ReinforceStrategy, type ReinforceOptions, type ReinforceState } from '../../src/strategy/reinforce.js';
import { decisionsOf, decodeOption, encodeValue } from '../../src/strategy/rl/decisions.js';
import { FactorizedController } from '../../src/strategy/rl/factorized.js';
import type { Strategy, StrategyContext } from '../../src/core/strategy.js';
import { Rng } from '../../src/util/rng.js';
import { additive, CHOICES, COND_SPACE, condObjective, OPT, SPACE } from './fixtures.js';

/** Additive objective in "accuracy %" units; optimum at choice 'd' everywhere. */
const objective = (p: Params) => 20 * additive(p);


function recording(inner: Strategy, skipTellAt = -1): Strategy & { raw: Params[] } {
  const raw: Params[] = [];
  return {
    name: inner.name,
    raw,
    async ask(ctx: StrategyContext) {
      const p = await inner.ask(ctx);
      raw.push(p);
      return p;
    },
    async tell(ctx, t) {
      if (t.number !== skipTellAt) await inner.tell!(ctx, t);
    },
  };
}

async function trialsToOptimum(strategy: Strategy, seed: number, cap = 625): Promise<number> {
  const exp = Experiment.open({ store: new MemoryStore(), name: 'synthetic', strategy, space: SPACE, seed });
  for (let n = 1; n <= cap; n++) {
    const t = await exp.ask();
    await exp.tell(t, objective(t.params));
    if (paramsKey(t.params) === OPT) return n;
  }
  return cap;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('decisions', () => {
  it('enumerates small numeric ranges, bins large ones, and encodes what it decodes', () => {
    const ds = decisionsOf(COND_SPACE, 10);
    expect(ds.map((d) => d.size)).toEqual([2, 10, 4, 2, 10, 6]);
    const rng = new Rng(1);
    for (const d of ds) {
      for (let k = 0; k < d.size; k++) expect(encodeValue(d, decodeOption(d, k, rng))).toBe(k);
    }
  });

  it('a factorised update raises the probability of a rewarded action and lowers a penalised one', () => {
    const ds = decisionsOf(SPACE, 10);
    const c = FactorizedController.create(ds, new Rng(2));
    const p0 = c.probs(0)[3]!;
    for (let i = 0; i < 5; i++) c.update([[0, 3]], +1, 0, 0.1);
    expect(c.probs(0)[3]!).toBeGreaterThan(p0 + 0.1);
    const q0 = c.probs(1)[2]!;
    for (let i = 0; i < 5; i++) c.update([[1, 2]], -1, 0, 0.1);
    expect(c.probs(1)[2]!).toBeLessThan(q0 - 0.05);
  });
});

describe('REINFORCE', () => {
  it('factorised: finds the optimum of a synthetic space faster than random search (12 seeds)', async () => {
    const seeds = Array.from({ length: 12 }, (_, i) => i);
    const rl: number[] = [];
    const rnd: number[] = [];
    for (const s of seeds) {
      rl.push(await trialsToOptimum(new ReinforceStrategy(), s));
      rnd.push(await trialsToOptimum(new RandomStrategy(), s));
    }
    console.log(`trials to optimum: reinforce ${mean(rl).toFixed(1)}, random ${mean(rnd).toFixed(1)}`);
    expect(mean(rl)).toBeLessThan(0.6 * mean(rnd));
    expect(seeds.filter((i) => rl[i]! < rnd[i]!).length).toBeGreaterThanOrEqual(8);
  });

  it('lstm: its proposals improve over random ones on the synthetic space (4 seeds x 60 trials)', async () => {
    const late: number[] = [];
    const rand: number[] = [];
    for (const seed of [0, 1, 2, 3]) {
      const strategy = recording(new ReinforceStrategy({ controller: 'lstm' }));
      const exp = Experiment.open({ store: new MemoryStore(), name: 'lstm', strategy, space: SPACE, seed });
      await exp.optimize((t) => objective(t.params), { nTrials: 60 });
      late.push(mean(strategy.raw.slice(40).map(objective)));
      const r = new Rng(seed);
      rand.push(mean(Array.from({ length: 200 }, () => objective(Object.fromEntries(Object.keys(SPACE.params).map((k) => [k, r.pick(CHOICES)]))))));
    }
    console.log(`mean objective of trials 40-59: lstm ${mean(late).toFixed(2)}, random ${mean(rand).toFixed(2)}`);
    expect(mean(late)).toBeGreaterThan(mean(rand) + 8);
  });

  it('conditional parameters: decisions only when active, proposals complete (both controllers)', async () => {
    for (const opts of [{ controller: 'factorized' }, { controller: 'lstm' }] as ReinforceOptions[]) {
      const strategy = recording(new ReinforceStrategy(opts));
      const exp = Experiment.open({ store: new MemoryStore(), name: 'cond', strategy, space: COND_SPACE, seed: 5 });
      const n = opts.controller === 'lstm' ? 30 : 80;
      await exp.optimize((t) => condObjective(t.params), { nTrials: n });
      expect(strategy.raw.length).toBe(n);
      for (const p of strategy.raw) {
        validateParams(COND_SPACE, p);
        for (const [k, spec] of Object.entries(COND_SPACE.params)) expect(k in p).toBe(isActive(spec, p));
      }
      expect(new Set(strategy.raw.map(paramsKey)).size).toBe(n);
      const st = exp.store.getStrategyState(exp.id, REINFORCE_STATE_KEY) as ReinforceState;
      expect(st.next).toBe(n);
      expect(st.updates).toBe(n);
    }
  });

  it('a stored policy of another layout is replaced by one relearned from the whole history', async () => {
    const store = new MemoryStore();
    const open = (opts: ReinforceOptions) =>
      Experiment.open({ store, name: 'switch', strategy: new ReinforceStrategy(opts), space: COND_SPACE, seed: 1 });
    await open({}).optimize((t) => condObjective(t.params), { nTrials: 10 });
    const exp = open({ bins: 5 });
    await exp.optimize((t) => condObjective(t.params), { nTrials: 12 });
    const st = store.getStrategyState(exp.id, REINFORCE_STATE_KEY) as ReinforceState;
    expect(st.signature).toContain('lr:5');
    expect(st.updates).toBe(12);
  });

  describe('resume', () => {
    /** Proposals of 12 trials; the process "stops" before trial `stopAt` (and may skip the last tell before it). */
    async function run(store: () => Store, opts: ReinforceOptions, stopAt: number | null, crashBeforeTell = false) {
      let s = store();
      const open = () =>
        Experiment.open({
          store: s,
          name: 'resume',
          strategy: recording(new ReinforceStrategy(opts), crashBeforeTell && stopAt !== null ? stopAt - 1 : -1),
          space: COND_SPACE,
          seed: 3,
        });
      let exp = open();
      const out: string[] = [];
      for (let n = 0; n < 12; n++) {
        if (n === stopAt) {
          s.close();
          s = store();
          exp = Experiment.open({ store: s, name: 'resume', strategy: new ReinforceStrategy(opts), space: COND_SPACE, seed: 3 });
        }
        const t = await exp.ask();
        out.push(paramsKey(t.params));
        await exp.tell(t, condObjective(t.params));
      }
      return out;
    }

    it('factorised, memory store: same next proposals after reopening, even if the last update was lost', async () => {
      const mem = new MemoryStore();
      const straight = await run(() => new MemoryStore(), {}, null);
      expect(await run(() => mem, {}, 7)).toEqual(straight);
      const mem2 = new MemoryStore();
      expect(await run(() => mem2, {}, 7, true)).toEqual(straight);
    });

    it('lstm, SQLite file reopened: the stored policy continues exactly', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-rl-'));
      try {
        const file = (name: string) => path.join(dir, name);
        const straight = await run(() => new SqliteStore(file('a.db')), { controller: 'lstm' }, null);
        expect(await run(() => new SqliteStore(file('b.db')), { controller: 'lstm' }, 6)).toEqual(straight);
        expect(await run(() => new SqliteStore(file('c.db')), { controller: 'lstm' }, 6, true)).toEqual(straight);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
