/**
 * A scheduler's job is stored with the trial when it is created, and Experiment.ask creates a trial
 * only if no other trial was created since the history it decided from: concurrent asks (one
 * Experiment, or two Experiments on one SQLite file) never promote the same configuration twice.
 * Also: the pick of a scheduler's experiment is the best at the highest budget, and BOHB's GP model.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bestOf, Experiment } from '../../src/core/experiment.js';
import { Nb201Evaluator, type Nb201Epochs } from '../../src/estimate/nb201.js';
import { Asha, Bohb, jobObjective, type Job } from '../../src/strategy/schedulers/index.js';
import type { SearchSpace } from '../../src/space/params.js';
import { MemoryStore } from '../../src/store/memory.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { Store, TrialRecord } from '../../src/core/store.js';
import { createStrategy, StrategyOptionsError } from '../../src/strategy/index.js';

const X_SPACE: SearchSpace = { params: { x: { type: 'float', low: 0, high: 1 } } };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-sched-conc-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const jobs = (ts: readonly TrialRecord[]) => ts.map((t) => t.system.job as Job);

/** Promotions per parent trial number. */
function promotionsPerParent(ts: readonly TrialRecord[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const j of jobs(ts)) if (j.parent !== null) m.set(j.parent, (m.get(j.parent) ?? 0) + 1);
  return m;
}

/** Opens an ASHA experiment (budgets 1/3/9, eta 3) whose rung 0 has three finished jobs: one promotion is due. */
async function readyToPromote(store: Store) {
  const exp = Experiment.open({ store, name: 'asha', strategy: new Asha({ budgets: [1, 3, 9], eta: 3 }), space: X_SPACE, seed: 4 });
  for (const v of [0.2, 0.9, 0.5]) await exp.tell(await exp.ask(), v);
  return exp;
}

describe('concurrent asks never promote one trial twice', () => {
  it('the job is in the trial record from its creation', async () => {
    const exp = await readyToPromote(new MemoryStore());
    const t = await exp.ask();
    const rec = exp.store.getTrial(t.id)!;
    expect(rec.state).toBe('RUNNING');
    expect(rec.system.job).toMatchObject({ scheduler: 'asha', rung: 1, budget: 3, previousBudget: 1, parent: 1 });
    expect(t.system.job).toEqual(rec.system.job);
  });

  it('one Experiment, four asks at once: one promotion of the best, three new configurations', async () => {
    const exp = await readyToPromote(new MemoryStore());
    const ts = await Promise.all([exp.ask(), exp.ask(), exp.ask(), exp.ask()]);
    expect(new Set(ts.map((t) => t.number))).toEqual(new Set([3, 4, 5, 6]));
    const all = exp.trials();
    expect([...promotionsPerParent(all)]).toEqual([[1, 1]]);
    expect(jobs(all.slice(3)).map((j) => j.rung).sort()).toEqual([0, 0, 0, 1]);
    // Each decided from its own trial number: the three new configurations differ.
    expect(new Set(all.slice(3).map((t) => t.params.x)).size).toBe(4 - 1 + 1);
  });

  it('two Experiments on one SQLite file asking at the same time: the second decides again', async () => {
    const file = path.join(tmp, 'two.db');
    const a = new SqliteStore(file);
    const b = new SqliteStore(file);
    try {
      const expA = await readyToPromote(a);
      const expB = Experiment.open({ store: b, name: 'asha', strategy: new Asha({ budgets: [1, 3, 9], eta: 3 }), space: X_SPACE, seed: 4 });
      // Both read the same 3-trial history before either creates its trial.
      const [ta, tb] = await Promise.all([expA.ask(), expB.ask()]);
      expect([ta.number, tb.number].sort()).toEqual([3, 4]);
      const all = new SqliteStore(file);
      const ts = all.getTrials(expA.id);
      all.close();
      expect(ts).toHaveLength(5);
      expect([...promotionsPerParent(ts)]).toEqual([[1, 1]]);
      expect(jobs(ts.slice(3)).map((j) => j.rung).sort()).toEqual([0, 1]);
    } finally {
      a.close();
      b.close();
    }
  });

  it('ASHA with 2 workers over many trials: every parent promoted at most once per rung', async () => {
    const exp = Experiment.open({ store: new MemoryStore(), name: 'w2', strategy: new Asha({ budgets: [1, 3, 9], eta: 3 }), space: X_SPACE, seed: 7 });
    // A barrier releases the two workers' objectives together, so their tells and asks interleave.
    let waiting: Array<() => void> = [];
    const release = () => {
      const w = waiting;
      waiting = [];
      for (const f of w) f();
    };
    const barrier = () =>
      new Promise<void>((r) => {
        waiting.push(r);
        if (waiting.length === 2) release();
        else setTimeout(release, 20); // the other worker has stopped
      });
    const objective = jobObjective(async (trial, job) => {
      await barrier();
      return (trial.params.x as number) + job.budget / 100;
    });
    const worker = () => exp.optimize(objective, { nTrials: 60 });
    await Promise.all([worker(), worker()]);
    const ts = exp.trials();
    expect(ts.length).toBeGreaterThanOrEqual(60);
    const per = promotionsPerParent(ts);
    expect(per.size).toBeGreaterThan(8);
    for (const n of per.values()) expect(n).toBe(1);
    for (const t of ts) {
      const j = t.system.job as Job;
      if (j.parent === null) continue;
      const parent = ts[j.parent]!;
      expect(t.params).toEqual(parent.params);
      expect(j.previousBudget).toBe((parent.system.job as Job).budget);
      expect(j.rung).toBe((parent.system.job as Job).rung + 1);
    }
  });
});

describe('the pick and the options of scheduler experiments', () => {
  it('bestOf compares scheduler trials only at the largest budget completed', () => {
    const rec = (number: number, budget: number, v: number, state = 'COMPLETE'): TrialRecord =>
      ({ number, state, values: [v], attrs: {}, system: { job: { budget } } }) as unknown as TrialRecord;
    const ts = [rec(0, 12, 95), rec(1, 200, 90), rec(2, 200, 91), rec(3, 12, 99), rec(4, 400, 99, 'RUNNING')];
    expect(bestOf(ts, ['maximize'])!.number).toBe(2);
    expect(bestOf(ts.slice(0, 1).concat(ts[3]!), ['maximize'])!.number).toBe(3);
    expect(bestOf(ts, ['minimize'])!.number).toBe(1);
  });

  it('createStrategy makes the schedulers; bad options are user errors naming the scheduler', () => {
    expect(createStrategy('sh', { budgets: [12, 200] }).name).toBe('sh');
    expect(createStrategy('asha', { minBudget: 1, maxBudget: 10, eta: 3, integer: true }) as Asha).toMatchObject({ budgets: [1, 3, 10] });
    expect(() => createStrategy('hyperband', {})).toThrow(StrategyOptionsError);
    expect(() => createStrategy('hyperband', {})).toThrow(/^hyperband options: give budgets, or 0 < minBudget <= maxBudget/);
    expect(() => createStrategy('bohb', { budgets: [12, 200], model: 'gp' })).toThrow(/bohb options: bohb model must be "tpe", "bo"/);
  });

  it('BOHB with the GP model (model "bo") fits it on 12 and then 200 epochs, and never repeats a configuration', async () => {
    const ev = new Nb201Evaluator();
    const sched = new Bohb({ budgets: [12, 200], eta: 3, minPoints: 4, randomFraction: 0, model: 'bo' });
    const exp = Experiment.open({ store: new MemoryStore(), name: 'bohb-gp', strategy: sched, space: ev.space, seed: 2 });
    const used = new Set<number | null>();
    await exp.optimize(sched.wrap((trial, j) => ev.trainTo(trial, j.budget as Nb201Epochs, j.previousBudget as 0 | Nb201Epochs)), {
      nTrials: 40,
      onTrialEnd: () => used.add(sched.lastModelBudget),
    });
    expect(used.has(12) && used.has(200)).toBe(true);
    const fresh = exp.trials().filter((t) => (t.system.job as Job).parent === null);
    expect(new Set(fresh.map((t) => JSON.stringify(t.params))).size).toBe(fresh.length);
  });
});
