/**
 * The training evaluator as a job objective for the multi-fidelity schedulers: resuming from a
 * checkpoint equals training straight through, and a Hyperband run promotes by continuing the
 * parent's training, leaking nothing once disposed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Experiment } from '../../src/core/experiment.js';
import { Hyperband } from '../../src/strategy/schedulers/index.js';
import { createStrategy } from '../../src/strategy/index.js';
import { disposeCheckpoint, TrainingEvaluator, type TrainingData } from '../../src/estimate/train.js';
import { trainingJobObjective } from '../../src/estimate/train-jobs.js';
import { initBackend } from '../../src/nn/backend.js';
import { makeChainArchSpace } from '../../src/space/arch/index.js';
import type { Params } from '../../src/space/params.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { Dataset } from '../../src/data/dataset.js';
import { Rng } from '../../src/util/rng.js';

/** Two classes: which half (top/bottom) of a 6x6 image holds a bright row. */
function rows(n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = new Float32Array(n * 36);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    const r = y[i] === 0 ? rng.int(0, 2) : rng.int(3, 5);
    for (let j = 0; j < 36; j++) x[i * 36 + j] = 0.3 * rng.normal() + (Math.floor(j / 6) === r ? 1 : 0);
  }
  return { name: 'rows', task: 'classification', x, shape: [6, 6, 1], y, numClasses: 2, classNames: ['top', 'bottom'] };
}

const data: TrainingData = { train: rows(64, 1), val: rows(32, 2) };
const space = makeChainArchSpace('chain-small', { input: 'image', maxDepth: 2, widths: [4, 8] });
const ARCH: Params = {
  depth: 2,
  layer_0_op: 'conv3x3', layer_0_width: 8, layer_0_act: 'relu', layer_0_bn: true, layer_0_dropout: 0.2,
  layer_1_op: 'dense', layer_1_width: 8, layer_1_act: 'relu', layer_1_bn: false, layer_1_dropout: 0,
  head: 'gap',
};

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('training job objective', () => {
  it('resuming after epoch 2 gives exactly the epochs 3-4 of training straight through', async () => {
    const ev = new TrainingEvaluator({ archSpace: space, data, batchSize: 16, seed: 4, backend: 'wasm' });
    const before = tf.memory().numTensors;
    const straight = await ev.train(ARCH, { epochs: 4 });
    const first = await ev.train(ARCH, { epochs: 2 }, { checkpoint: true });
    const rest = await ev.train(ARCH, { epochs: 4 }, { resume: first.checkpoint! });
    disposeCheckpoint(first.checkpoint!);
    expect(tf.memory().numTensors).toBe(before);
    expect(first.epochs.map((e) => [e.loss, e.value])).toEqual(straight.epochs.slice(0, 2).map((e) => [e.loss, e.value]));
    expect(rest.epochs.map((e) => e.epoch)).toEqual([3, 4]);
    expect(rest.epochs.map((e) => [e.loss, e.value])).toEqual(straight.epochs.slice(2).map((e) => [e.loss, e.value]));
  });

  it('cosine: a job 0->3 then resumed 3->10 on a 10-epoch schedule trains at the rates, and to the weights, of one 0->10 run', async () => {
    const ev = new TrainingEvaluator({ archSpace: space, data, batchSize: 16, seed: 4, backend: 'wasm', lr: 0.01, lrSchedule: 'cosine', fidelity: { epochs: 10 } });
    const straight = await ev.train(ARCH, { epochs: 10 }, { checkpoint: true });
    const jobs = trainingJobObjective(ev);
    const exp = Experiment.open({ store: new MemoryStore(), name: 'cos', strategy: createStrategy('random'), space: space.space, seed: 2 });
    const [a, b] = [await exp.ask(ARCH), await exp.ask(ARCH)];
    await jobs.objective(a, { budget: 3, previousBudget: 0, parent: null });
    await jobs.objective(b, { budget: 10, previousBudget: 3, parent: a.number });
    const losses = (t: { attrs: Record<string, unknown> }) => (t.attrs.training as { trainLoss: number[] }).trainLoss;
    expect(b.attrs.resumedFrom).toEqual({ trial: a.number, epochs: 3 });
    // The rates: epoch e starts at 0.005 (1 + cos(pi (e - 1) / 10)), in both runs.
    const expected = Array.from({ length: 10 }, (_, i) => 0.005 * (1 + Math.cos((Math.PI * i) / 10)));
    expect(straight.epochs.map((e) => e.lr)).toEqual(expected);
    expect([...losses(a), ...losses(b)]).toEqual(straight.epochs.map((e) => e.loss));
    const w = jobs.kept.get(b.number)!.weights.map((t) => Array.from(t.dataSync()));
    expect(w).toEqual(straight.checkpoint!.weights.map((t) => Array.from(t.dataSync())));
    // Each job on its own schedule (the old behaviour): the 3-epoch job anneals to 0 by epoch 3, the resumed one restarts.
    const own = trainingJobObjective(ev, { scheduleEpochs: 'job' });
    const c = await exp.ask(ARCH);
    await own.objective(c, { budget: 3, previousBudget: 0, parent: null });
    expect((c.attrs.training as { scheduleEpochs: number }).scheduleEpochs).toBe(3);
    expect(losses(c)).not.toEqual(straight.epochs.slice(0, 3).map((e) => e.loss));
    own.dispose();
    jobs.dispose();
    disposeCheckpoint(straight.checkpoint!);
    await expect(ev.train(ARCH, { epochs: 3 }, { scheduleEpochs: 2 })).rejects.toThrow(/^scheduleEpochs must be a whole number >= the epochs trained \(3\); got 2$/);
    expect(() => trainingJobObjective(ev, { scheduleEpochs: 0 })).toThrow(/scheduleEpochs must be a whole number >= 1 or 'job'; got 0/);
  });

  it('Hyperband over budgets [1, 3] epochs: the promoted job continues its parent and reports epochs 2..3', async () => {
    const ev = new TrainingEvaluator({ archSpace: space, data, batchSize: 16, backend: 'wasm' });
    const hb = new Hyperband({ budgets: [1, 3], eta: 3 });
    const exp = Experiment.open({ store: new MemoryStore(), name: 'hb', strategy: hb, space: space.space, seed: 2 });
    const baseline = tf.memory().numTensors;
    const jobs = trainingJobObjective(ev);
    await exp.optimize(hb.wrap(jobs.objective), { nTrials: 4 });
    const trials = exp.trials();
    expect(trials.map((t) => t.state)).toEqual(['COMPLETE', 'COMPLETE', 'COMPLETE', 'COMPLETE']);
    const promoted = trials.find((t) => (t.system.job as { rung: number }).rung === 1)!;
    const parent = (promoted.system.job as { parent: number }).parent;
    expect(promoted.attrs.resumedFrom).toEqual({ trial: parent, epochs: 1 });
    expect(promoted.intermediate.map((i) => i.step)).toEqual([2, 3]);
    expect(promoted.params).toEqual(trials[parent]!.params);
    expect((promoted.attrs.fidelity as { epochs: number }).epochs).toBe(3);
    expect(jobs.kept.size).toBe(4);
    jobs.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('a value hook ranks jobs by what it returns (here minus the summed training losses) and test runs only where asked', async () => {
    const ev = new TrainingEvaluator({ archSpace: space, data: { ...data, test: rows(16, 3) }, batchSize: 16, backend: 'wasm' });
    const seen: { budget: number; test: number | undefined; epochs: number[] }[] = [];
    const jobs = trainingJobObjective(ev, {
      test: (job) => job.budget === 3,
      value: (r, _trial, job) => {
        seen.push({ budget: job.budget, test: r.test, epochs: r.epochs.map((e) => e.epoch) });
        return -r.epochs.reduce((s, e) => s + e.loss, 0);
      },
    });
    const hb = new Hyperband({ budgets: [1, 3], eta: 3 });
    const exp = Experiment.open({ store: new MemoryStore(), name: 'hook', strategy: hb, space: space.space, seed: 2 });
    await exp.optimize(hb.wrap(jobs.objective), { nTrials: 4 });
    jobs.dispose();
    const trials = exp.trials();
    for (const [i, t] of trials.entries()) {
      const losses = (t.attrs.training as { trainLoss: number[] }).trainLoss;
      expect(t.values![0]).toBeCloseTo(-losses.reduce((a, b) => a + b, 0), 12);
      expect(seen[i]!.test === undefined).toBe(seen[i]!.budget === 1);
    }
    // The promoted job is the rung-0 job with the largest value (the smallest loss), not the best validation accuracy.
    const rung0 = trials.filter((t) => (t.system.job as { rung: number }).rung === 0);
    const promoted = trials.find((t) => (t.system.job as { rung: number }).rung === 1)!;
    const top = rung0.reduce((a, b) => (b.values![0]! > a.values![0]! ? b : a));
    expect((promoted.system.job as { parent: number }).parent).toBe(top.number);
  });
});
