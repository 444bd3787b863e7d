/**
 * Define-by-run under every executor (issue 14): the same TPE search (same seed, 30 trials, an
 * objective that calls suggestCategorical/suggestFloat, one parameter conditional) in-process, in a
 * pool of 2 and on 2 BullMQ workers gets model-based proposals after the start-up trials in all three:
 * remote trials use the values the strategy proposed at ask time (shipped with the job).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { MemoryStore } from '../../src/store/memory.js';
import { TpeStrategy } from '../../src/strategy/tpe.js';
import { RandomStrategy } from '../../src/strategy/random.js';
import type { Strategy } from '../../src/core/strategy.js';
import type { TrialRecord } from '../../src/core/store.js';
import { LocalPoolExecutor } from '../../src/run/pool.js';
import { BullmqExecutor } from '../../src/run/bullmq.js';
import { startWorker } from '../../src/run/bullmq-worker.js';
import { quadratic } from './fixtures/dbr-quadratic.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'dbr-quadratic.ts');
const objective = { kind: 'module' as const, file: FILE, exportName: 'quadratic' };
const N = 30;
const SEEDS = [0, 1, 2, 3, 4];
const REMOTE_SEEDS = SEEDS;

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

function open(seed: number, strategy: Strategy = new TpeStrategy()): Experiment {
  return Experiment.open({ store: new MemoryStore(), name: 'dbr', strategy, directions: ['minimize'], seed });
}

const regret = (e: Experiment) => Math.min(...e.trials().map((t) => t.values?.[0] ?? Infinity));
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;

/**
 * After the start-up trials, each remote trial's conditional `z` is the strategy's ask-time proposal.
 * Returns how many late trials took c = 'a' and how many of those carried a proposal, so the caller
 * can check, over all seeds, that the check was not vacuous (one remote run's order of completions
 * is not reproducible, and a run may take c = 'a' only once or twice after trial 10).
 */
function expectModelBased(trials: readonly TrialRecord[]): { late: number; proposed: number } {
  const late = trials.filter((t) => t.number >= 10 && t.params.c === 'a');
  for (const t of late) {
    const z = t.system.dynamic?.z;
    if (z) expect(t.params.z).toBe(z.value);
  }
  return { late: late.length, proposed: late.filter((t) => t.system.dynamic?.z !== undefined).length };
}

function expectNotVacuous(counts: { late: number; proposed: number }[]): void {
  const sum = (k: 'late' | 'proposed') => counts.reduce((s, c) => s + c[k], 0);
  expect(sum('late')).toBeGreaterThan(2 * counts.length);
  expect(sum('proposed')).toBeGreaterThan(2 * counts.length);
}

describe('define-by-run under every executor', () => {
  it('a remote trial gets exactly the values the strategy gives in-process from the same history (pool of 1)', async () => {
    const strategy = new TpeStrategy();
    const e = open(0, strategy);
    await e.run(new LocalPoolExecutor({ size: 1, forwardStderr: false }), { objective, nTrials: N });
    const trials = e.trials();
    let fromAsk = 0;
    let fromSample = 0;
    for (const t of trials) {
      // One in flight: the history at its ask was every earlier trial, finished.
      const before = trials.filter((u) => u.number < t.number);
      const ctx = e.context(before, t.number);
      if (ctx.space) {
        const proposal = await strategy.ask(ctx);
        for (const name of Object.keys(t.params)) if (name in proposal) (expect(t.params[name]).toBe(proposal[name]), fromAsk++);
      }
      for (const [name, d] of Object.entries(t.system.dynamic ?? {})) {
        if (!(name in t.params)) continue;
        expect(t.params[name]).toBe(strategy.sampleParam(e.context(before, t.number), name, d.spec));
        fromSample++;
      }
    }
    expect(fromAsk).toBeGreaterThan(50);
    expect(fromSample).toBeGreaterThan(0);
  }, 60_000);

  it('TPE proposals are model-based in-process, in a pool of 2 and on 2 BullMQ workers (mean regret vs random)', async () => {
    const arms: Record<string, number[]> = { inprocess: [], inprocess2: [], random: [], pool2: [], bullmq2: [] };
    for (const seed of SEEDS) {
      const e = open(seed);
      await e.optimize(quadratic, { nTrials: N });
      arms.inprocess!.push(regret(e));
      const r = open(seed, new RandomStrategy());
      await r.optimize(quadratic, { nTrials: N });
      arms.random!.push(regret(r));
      // Two in flight, as in the pool and on the workers: each ask sees one result less.
      const e2 = open(seed);
      await e2.optimize(quadratic, { nTrials: N, parallelism: 2 });
      arms.inprocess2!.push(regret(e2));
    }
    const poolCounts = [];
    for (const seed of REMOTE_SEEDS) {
      const e = open(seed);
      await e.run(new LocalPoolExecutor({ size: 2, forwardStderr: false }), { objective, nTrials: N });
      poolCounts.push(expectModelBased(e.trials()));
      arms.pool2!.push(regret(e));
    }
    expectNotVacuous(poolCounts);
    const workers = await Promise.all([0, 1].map(() => startWorker({ url: redis.url, allowModules: [path.dirname(FILE)], queue: 'dbr', runner: 'inprocess', concurrency: 1 })));
    try {
      const bullCounts = [];
      for (const seed of REMOTE_SEEDS) {
        const e = open(seed);
        await e.run(new BullmqExecutor({ url: redis.url, queue: 'dbr', slots: 2, runKey: `dbr${seed}` }), { objective, nTrials: N });
        bullCounts.push(expectModelBased(e.trials()));
        arms.bullmq2!.push(regret(e));
      }
      expectNotVacuous(bullCounts);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
    const m = Object.fromEntries(Object.entries(arms).map(([k, v]) => [k, mean(v)])) as Record<keyof typeof arms, number>;
    const same = mean(arms.inprocess2!.slice(0, REMOTE_SEEDS.length));
    console.log(
      `define-by-run TPE, mean best regret after ${N} trials: in-process ${m.inprocess.toFixed(3)} (${SEEDS.length} seeds), ` +
        `in-process 2 in flight ${m.inprocess2.toFixed(3)} (${same.toFixed(3)} on seeds ${REMOTE_SEEDS.join(',')}), ` +
        `pool(2) ${m.pool2.toFixed(3)}, bullmq(2) ${m.bullmq2.toFixed(3)} (seeds ${REMOTE_SEEDS.join(',')}), random ${m.random.toFixed(3)} (${SEEDS.length} seeds)`,
    );
    // Clearly below random's (about a third of it); within noise of in-process with two in flight (the
    // same information per ask), and of one in flight, which sees one result more per ask (a looser
    // bound: 5 remote runs at 2 in flight measured 1.6-2.8 against 1.05 sequential; random 6.7).
    for (const k of ['inprocess', 'inprocess2', 'pool2', 'bullmq2'] as const) expect(m[k]).toBeLessThan(0.6 * m.random);
    for (const k of ['pool2', 'bullmq2'] as const) {
      expect(Math.abs(m[k] - same)).toBeLessThan(0.3 * m.random);
      expect(Math.abs(m[k] - m.inprocess)).toBeLessThan(0.45 * m.random);
    }
  }, 180_000);
});
