import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import type { Trial } from '../../src/core/trial.js';
import { Nb201Evaluator, type Nb201Epochs } from '../../src/estimate/nb201.js';
import { AshaPruner } from '../../src/estimate/pruners/asha.js';
import {
  Asha,
  Bohb,
  bracket,
  bracketCost,
  hyperbandBrackets,
  Hyperband,
  rungBudgets,
  SuccessiveHalving,
  type Job,
  type JobScheduler,
} from '../../src/strategy/schedulers/index.js';
import type { SearchSpace } from '../../src/space/params.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { TrialRecord } from '../../src/core/store.js';
import { RandomStrategy } from '../../src/strategy/random.js';

const X_SPACE: SearchSpace = { params: { x: { type: 'float', low: 0, high: 1 } } };
const shape = (b: ReturnType<typeof bracket>) => b.rungs.map((r) => [r.n, r.budget]);

describe('bracket arithmetic', () => {
  it('reproduces the Hyperband paper table for R = 81, eta = 3', () => {
    const o = { minBudget: 1, maxBudget: 81, eta: 3 };
    expect(rungBudgets(o)).toEqual([1, 3, 9, 27, 81]);
    expect(hyperbandBrackets(o).map(shape)).toEqual([
      [[81, 1], [27, 3], [9, 9], [3, 27], [1, 81]],
      [[34, 3], [11, 9], [3, 27], [1, 81]],
      [[15, 9], [5, 27], [1, 81]],
      [[8, 27], [2, 81]],
      [[5, 81]],
    ]);
  });

  it('rounds log_eta(R/r) safely, takes explicit ladders and counts resumed cost', () => {
    expect(rungBudgets({ minBudget: 1, maxBudget: 27, eta: 3 })).toEqual([1, 3, 9, 27]);
    expect(rungBudgets({ minBudget: 0.1, maxBudget: 1, eta: 2 }).map((b) => +b.toFixed(4))).toEqual([0.125, 0.25, 0.5, 1]);
    const nb = { budgets: [12, 200], eta: 3 };
    expect(hyperbandBrackets(nb).map(shape)).toEqual([[[3, 12], [1, 200]], [[2, 200]]]);
    expect(shape(bracket(nb, 1, 16))).toEqual([[16, 12], [5, 200]]);
    expect(bracketCost(bracket(nb, 1))).toBe(3 * 12 + 188);
    expect(bracketCost(bracket(nb, 1), false)).toBe(3 * 12 + 200);
    expect(() => rungBudgets({ budgets: [12, 12] })).toThrow(/increasing/);
    expect(() => rungBudgets({ minBudget: 1, maxBudget: 9, eta: 1 })).toThrow(/eta/);
  });
});

/** Sequential loop: value = x (configs with larger x win every rung), reported at the job's budget. */
async function runX(sched: JobScheduler, nTrials: number, seed = 1) {
  const exp = Experiment.open({ store: new MemoryStore(), name: 'x', strategy: sched, space: X_SPACE, seed });
  await exp.optimize(
    sched.wrap((trial, job) => {
      const v = (trial.params.x as number) + job.budget / 1000;
      trial.report(v, job.budget);
      return v;
    }),
    { nTrials },
  );
  return { exp, jobs: sched.jobs({ history: exp.trials(), directions: exp.directions }) };
}

describe('successive halving and Hyperband', () => {
  it('SH fills rung 0, then promotes the best 1/eta of it with their parameters and budgets', async () => {
    const { jobs } = await runX(new SuccessiveHalving({ minBudget: 1, maxBudget: 9, eta: 3 }), 13 + 2);
    expect(jobs.map((j) => [j.job.bracket, j.job.rung, j.job.budget])).toEqual([
      ...Array(9).fill([0, 0, 1]),
      ...Array(3).fill([0, 1, 3]),
      [0, 2, 9],
      [1, 0, 1],
      [1, 0, 1],
    ]);
    const rung0 = jobs.slice(0, 9).sort((a, b) => (b.trial.params.x as number) - (a.trial.params.x as number));
    const promoted = jobs.slice(9, 12);
    expect(promoted.map((j) => j.job.parent)).toEqual(rung0.slice(0, 3).map((j) => j.trial.number));
    for (const p of promoted) {
      const parent = jobs.find((j) => j.trial.number === p.job.parent)!;
      expect(p.trial.params).toEqual(parent.trial.params);
      expect(p.job.previousBudget).toBe(1);
    }
    expect(jobs[12]!.job.parent).toBe(promoted[0]!.trial.number);
  });

  it('Hyperband cycles brackets s = 2, 1, 0 with their rung sizes', async () => {
    const { jobs } = await runX(new Hyperband({ minBudget: 1, maxBudget: 9, eta: 3 }), 13 + 6 + 3 + 1);
    const sig = jobs.map((j) => `${j.job.bracket}/${j.job.s}/${j.job.rung}@${j.job.budget}`);
    const count = (s: string) => sig.filter((x) => x === s).length;
    expect([count('0/2/0@1'), count('0/2/1@3'), count('0/2/2@9')]).toEqual([9, 3, 1]);
    expect([count('1/1/0@3'), count('1/1/1@9')]).toEqual([5, 1]);
    expect(count('2/0/0@9')).toBe(3);
    expect(sig.at(-1)).toBe('3/2/0@1');
  });

  it('a fixed bracket s (with n0 starting configurations) turns Hyperband or BOHB into successive halving', () => {
    const o = { budgets: [12, 200], eta: 16 };
    expect([0, 1, 2].map((k) => shape(new Hyperband(o).bracketAt(k)))).toEqual([[[16, 12], [1, 200]], [[2, 200]], [[16, 12], [1, 200]]]);
    expect([0, 1].map((k) => shape(new Bohb({ ...o, s: 1, n0: 64 }).bracketAt(k)))).toEqual([[[64, 12], [4, 200]], [[64, 12], [4, 200]]]);
    expect(shape(new SuccessiveHalving({ ...o, n0: 32 }).bracketAt(3))).toEqual([[32, 12], [2, 200]]);
    expect(shape(new SuccessiveHalving({ ...o, s: 0 }).bracketAt(0))).toEqual([[2, 200]]);
    expect(() => new Hyperband({ ...o, s: 2 })).toThrow(/bracket s must be an integer in \[0, 1\]/);
    expect(() => new SuccessiveHalving({ ...o, n0: 0 })).toThrow(/n0 must be a whole number/);
  });

  it('a synchronous rung waits for its running jobs; the next job comes from a new bracket', async () => {
    const sched = new Hyperband({ budgets: [1, 3], eta: 3 });
    const exp = Experiment.open({ store: new MemoryStore(), name: 'wait', strategy: sched, space: X_SPACE, seed: 2 });
    const start = async () => {
      const t = await exp.ask();
      return { t, job: t.system.job as Job };
    };
    const a = [await start(), await start(), await start()];
    expect(a.map((x) => x.job.rung)).toEqual([0, 0, 0]);
    await exp.tell(a[0]!.t, 0.3);
    await exp.tell(a[1]!.t, 0.8);
    const d = await start(); // a[2] still running: bracket 0 cannot promote yet
    expect([d.job.bracket, d.job.rung, d.job.budget]).toEqual([1, 0, 3]);
    await exp.tell(a[2]!.t, 0.5);
    const e = await start();
    expect([e.job.bracket, e.job.rung, e.job.parent]).toEqual([0, 1, a[1]!.t.number]);
  });
});

describe('ASHA', () => {
  it('promotes as soon as a finished job is in the top 1/eta of its rung, with trials in flight', async () => {
    const sched = new Asha({ budgets: [1, 3, 9], eta: 3 });
    const exp = Experiment.open({ store: new MemoryStore(), name: 'asha', strategy: sched, space: X_SPACE, seed: 3 });
    const start = async () => {
      const t = await exp.ask();
      return { t, job: t.system.job as Job };
    };
    const [a, b, c] = [await start(), await start(), await start()];
    await exp.tell(a.t, 0.2);
    await exp.tell(b.t, 0.9);
    const d = await start(); // 2 finished at rung 0: floor(2/3) = 0 promotable
    expect(d.job.rung).toBe(0);
    await exp.tell(c.t, 0.5);
    const e = await start(); // 3 finished: the best (b) goes up at once, d still running
    expect([e.job.rung, e.job.budget, e.job.parent, e.job.previousBudget]).toEqual([1, 3, b.t.number, 1]);
    expect(e.t.params).toEqual(b.t.params);
    const f = await start(); // b's promotion is in flight: not promoted twice
    expect(f.job.rung).toBe(0);
    await exp.tell(d.t, 0.95);
    await exp.tell(f.t, 0.1);
    const g = await start(); // 5 finished at rung 0: top 1 is d, unpromoted
    expect([g.job.rung, g.job.parent]).toEqual([1, d.t.number]);
  });

  it('the stopping variant keeps the top 1/eta at a rung step and stops the rest', () => {
    const p = new AshaPruner({ budgets: [12, 200], eta: 3 });
    const rec = (id: number, v: number): TrialRecord =>
      ({ id, number: id, state: 'RUNNING', intermediate: [{ step: 12, value: v }], attrs: {}, values: null }) as unknown as TrialRecord;
    const hist = [0.5, 0.7, 0.9, 0.6, 0.8].map((v, i) => rec(i, v));
    const ask = (i: number) => p.shouldPrune({ trial: hist[i]!, history: hist, directions: ['maximize'] });
    expect([0, 1, 2, 3, 4].map(ask)).toEqual([true, true, false, true, true]); // floor(5/3) = 1 continues
    expect(p.shouldPrune({ trial: hist[0]!, history: hist, directions: ['minimize'] })).toBe(false);
    expect(p.shouldPrune({ trial: hist[0]!, history: hist.slice(0, 2), directions: ['maximize'] })).toBe(false);
  });
});

describe('schedulers on NAS-Bench-201 (12/200 epochs)', () => {
  const ev = new Nb201Evaluator();
  const objective = (sched: JobScheduler) =>
    sched.wrap((trial: Trial, j: Job) => ev.trainTo(trial, j.budget as Nb201Epochs, j.previousBudget as 0 | Nb201Epochs));
  const trace = (exp: Experiment) => exp.trials().map((t) => [JSON.stringify(t.params), (t.system.job as Job).budget, t.cost.simulatedSeconds]);
  const make: Record<string, () => JobScheduler> = {
    hyperband: () => new Hyperband({ budgets: [12, 200], eta: 3 }),
    asha: () => new Asha({ budgets: [12, 200], eta: 3 }),
    bohb: () => new Bohb({ budgets: [12, 200], eta: 3, minPoints: 4 }),
  };

  for (const [name, mk] of Object.entries(make)) {
    it(`${name}: same seed, same search; a resumed search equals an uninterrupted one`, async () => {
      const run = async (store: MemoryStore, n: number) => {
        const sched = mk();
        const exp = Experiment.open({ store, name: 'nb', strategy: sched, space: ev.space, seed: 5 });
        await exp.optimize(objective(sched), { nTrials: n });
        return exp;
      };
      const a = trace(await run(new MemoryStore(), 24));
      expect(trace(await run(new MemoryStore(), 24))).toEqual(a);
      const store = new MemoryStore();
      await run(store, 10);
      expect(trace(await run(store, 24))).toEqual(a);
      // Continuations pay only the 188 remaining epochs.
      const promos = (await run(new MemoryStore(), 24)).trials().filter((t) => (t.system.job as Job).parent !== null);
      expect(promos.length).toBeGreaterThan(0);
      for (const t of promos) {
        const row = ev.row(t.params);
        expect(t.cost.simulatedSeconds).toBeCloseTo(row.seconds200 - 12 * row.secondsPerEpoch, 6);
        expect(t.intermediate).toEqual([{ step: 200, value: row.validAcc200 }]);
      }
    });
  }

  it('stopping ASHA with the staged objective: stopped trials pay 12 epochs, survivors 200', async () => {
    const run = async () => {
      const exp = Experiment.open({ store: new MemoryStore(), name: 'stop', strategy: new RandomStrategy(), space: ev.space, seed: 9, pruner: new AshaPruner({ budgets: [12, 200], eta: 4 }) });
      await exp.optimize(ev.stagedObjective, { nTrials: 30 });
      return exp.trials();
    };
    const ts = await run();
    const pruned = ts.filter((t) => t.state === 'PRUNED');
    const done = ts.filter((t) => t.state === 'COMPLETE');
    expect(pruned.length).toBeGreaterThan(15);
    expect(done.length).toBeGreaterThan(3);
    for (const t of pruned) expect(t.cost.simulatedSeconds).toBeCloseTo(12 * ev.row(t.params).secondsPerEpoch, 6);
    for (const t of done) {
      expect(t.cost.simulatedSeconds).toBeCloseTo(ev.row(t.params).seconds200, 6);
      expect(t.values![0]).toBe(ev.row(t.params).validAcc200);
    }
    expect((await run()).map((t) => [t.params, t.state])).toEqual(ts.map((t) => [t.params, t.state]));
  });

  it('BOHB fits its model on the largest budget with enough observations', async () => {
    const sched = new Bohb({ budgets: [12, 200], eta: 3, minPoints: 3, randomFraction: 0 });
    const exp = Experiment.open({ store: new MemoryStore(), name: 'bohb', strategy: sched, space: ev.space, seed: 1 });
    const used = new Set<number | null>();
    await exp.optimize(objective(sched), { nTrials: 40, onTrialEnd: () => used.add(sched.lastModelBudget) });
    expect(used.has(12)).toBe(true);
    expect(used.has(200)).toBe(true);
  });
});
