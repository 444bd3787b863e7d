/** The one trial loop's pieces: enqueue, skipped trials, system attrs written by strategies and trials, the history cache across connections, one write per created trial. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { InProcessExecutor } from '../../src/core/inprocess.js';
import { TrialSkipped, type Trial } from '../../src/core/trial.js';
import { runTrialJob } from '../../src/core/job-trial.js';
import type { TrialEvent } from '../../src/core/executor.js';
import type { Strategy } from '../../src/core/strategy.js';
import type { InheritRecord, SchedulerJob } from '../../src/core/store.js';
import { MemoryStore } from '../../src/store/memory.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { RandomStrategy } from '../../src/strategy/random.js';
import type { SearchSpace } from '../../src/space/params.js';

const space: SearchSpace = { params: { x: { type: 'float', low: 0, high: 1 }, k: { type: 'categorical', choices: ['a', 'b'] } } };

describe('Experiment.enqueue', () => {
  it('WAITING trials are claimed in order before the strategy is asked; missing params are drawn and checked', async () => {
    let asked = 0;
    const inner = new RandomStrategy();
    const exp = Experiment.open({ store: new MemoryStore(), name: 'q', strategy: { name: 'random', ask: (c) => (asked++, inner.ask(c)) }, space, seed: 1 });
    exp.enqueue({ x: 0.25, k: 'b' });
    exp.enqueue({ x: 0.75 });
    expect(() => exp.enqueue({ x: 2 })).toThrow(/enqueued params/);
    expect(exp.trials().map((t) => [t.state, t.system.enqueued])).toEqual([
      ['WAITING', true],
      ['WAITING', true],
    ]);
    await exp.optimize((t) => t.params.x as number, { nTrials: 4 });
    const ts = exp.trials();
    expect(ts.map((t) => t.state)).toEqual(['COMPLETE', 'COMPLETE', 'COMPLETE', 'COMPLETE']);
    expect(ts[0]!.params).toEqual({ x: 0.25, k: 'b' });
    expect(ts[1]!.params.x).toBe(0.75);
    expect(['a', 'b']).toContain(ts[1]!.params.k);
    expect(asked).toBe(2);
  });

  it('define-by-run: trial.suggest* returns the enqueued values', async () => {
    const exp = Experiment.open({ store: new MemoryStore(), name: 'd', strategy: new RandomStrategy(), seed: 2 });
    exp.enqueue({ lr: 0.01, opt: 'sgd' });
    const seen: unknown[] = [];
    await exp.optimize((t) => (seen.push([t.suggestFloat('lr', 1e-4, 1, { log: true }), t.suggestCategorical('opt', ['adam', 'sgd'])]), 1), { nTrials: 2 });
    expect(seen[0]).toEqual([0.01, 'sgd']);
    expect(exp.trials()[0]!.params).toEqual({ lr: 0.01, opt: 'sgd' });
  });
});

describe('the loop', () => {
  it('a skipped trial is PRUNED with its own marker; catchErrors: false rethrows after recording', async () => {
    const exp = Experiment.open({ store: new MemoryStore(), name: 's', strategy: new RandomStrategy(), space, seed: 3 });
    await exp.optimize(
      (t) => {
        if (t.number === 1) throw new TrialSkipped('over the cap');
        return 1;
      },
      { nTrials: 3 },
    );
    const t1 = exp.trials()[1]!;
    expect([t1.state, t1.values, t1.error, t1.system.skipped]).toEqual(['PRUNED', null, 'over the cap', 'over the cap']);
    expect(exp.trials()[0]!.system.skipped).toBeUndefined();
    const boom = new Error('boom');
    await expect(exp.optimize(() => Promise.reject(boom), { nTrials: 5, catchErrors: false })).rejects.toBe(boom);
    expect(exp.trials().at(-1)).toMatchObject({ state: 'FAILED', error: 'boom' });
  });

  it('creates each trial with its executor system attrs in one write, nothing written after but the run', async () => {
    const store = new MemoryStore();
    const calls: string[] = [];
    for (const m of ['createTrial', 'setAttrs', 'setParams', 'finishTrial'] as const) {
      const orig = store[m].bind(store) as (...a: unknown[]) => unknown;
      (store as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => (calls.push(m), orig(...a));
    }
    const exp = Experiment.open({ store, name: 'w', strategy: new RandomStrategy(), space, seed: 4 });
    await exp.run(new InProcessExecutor({ objective: () => 1, slots: 2 }), { nTrials: 4, objective: { kind: 'spec' } });
    expect(calls.filter((c) => c !== 'finishTrial')).toEqual(['createTrial', 'createTrial', 'createTrial', 'createTrial']);
    for (const t of exp.trials()) expect(t.system).toMatchObject({ executor: 'inprocess', objective: { kind: 'spec' } });
  });

  it("the history cache reads only changed rows and sees another connection's writes", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-cache-')), 'runs.db');
    const a = new SqliteStore(file);
    const b = new SqliteStore(file);
    try {
      const exp = Experiment.open({ store: a, name: 'c', strategy: new RandomStrategy(), space, seed: 5 });
      await exp.optimize(() => 0.5, { nTrials: 3 });
      const first = exp.trials();
      expect(exp.trials()).toBe(first); // nothing changed: the same array, no rows decoded
      const other = Experiment.open({ store: b, name: 'c', strategy: new RandomStrategy(), space, seed: 5 });
      const t = await other.ask();
      t.report(0.1, 1);
      expect(exp.trials()).toHaveLength(4);
      expect(exp.trials()[3]!.intermediate).toEqual([{ step: 1, value: 0.1 }]);
      await other.tell(t, 0.9);
      expect(exp.trials()[3]!.state).toBe('COMPLETE');
      expect(exp.bestTrial()!.number).toBe(3);
      expect(exp.trials()[0]).toBe(first[0]); // unchanged rows are not read again
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('system attrs written by strategies and trials', () => {
  const job: SchedulerJob = { scheduler: 'test', bracket: 0, s: 0, rung: 0, budget: 3, previousBudget: 0, parent: null };
  const inherit: InheritRecord = { parent: 0, parentEpochs: 1, functionPreserving: true, counts: { copied: 1 }, nodes: [] };

  it("a strategy's ctx.setSystem is stored at ask; the trial sees it, and its trial.setSystem reaches the store, not attrs", async () => {
    const inner = new RandomStrategy();
    const strategy: Strategy = { name: 'sys', ask: (c) => (c.setSystem!({ job: { ...job, budget: 10 + c.trialNumber } }), inner.ask(c)) };
    const exp = Experiment.open({ store: new MemoryStore(), name: 's', strategy, space, seed: 2 });
    const objective = (t: Trial) => (t.setSystem({ inherit: { ...inherit, parent: 100 + t.number } }), t.system.job!.budget);
    await exp.run(new InProcessExecutor({ objective, slots: 2 }), { nTrials: 3, objective: { kind: 'spec' } });
    expect(exp.trials().map((t) => [t.values, t.system.job?.budget, t.system.inherit?.parent, Object.keys(t.attrs)])).toEqual([
      [[10], 10, 100, []],
      [[11], 11, 101, []],
      [[12], 12, 102, []],
    ]);
  });

  it('a job run away from the store gets the system attrs it was sent and reports its own as an event and with the outcome', async () => {
    const events: TrialEvent[] = [];
    const o = await runTrialJob(
      { experimentId: 1, experimentName: 'x', trialId: 7, number: 0, seed: 1, params: { x: 0.5 }, distributions: {}, proposed: {}, objective: null, system: { job } },
      (t) => (t.setSystem({ inherit }), t.system.job!.budget),
      (e) => events.push(e),
    );
    expect([o.state, o.values, o.system, o.attrs]).toEqual(['COMPLETE', [3], { inherit }, {}]);
    expect(events).toEqual([{ type: 'attrs', attrs: {}, system: { inherit } }]);
  });
});
