/**
 * Data-parallel training across worker threads (src/nn/parallel): 2 replicas give the weights of
 * single-thread training on the same batches, stay bitwise in sync, train batch norm, fail a run
 * (not hang it) when a worker dies, and leave no thread behind.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Experiment } from '../../src/core/experiment.js';
import type { Dataset } from '../../src/data/dataset.js';
import { disposeCheckpoint, TrainingEvaluator } from '../../src/estimate/train.js';
import { makeOptimizer } from '../../src/estimate/train-util.js';
import { makeBatch } from '../../src/nn/batch.js';
import { initBackend } from '../../src/nn/backend.js';
import { buildModel } from '../../src/nn/builder.js';
import { liveTrainingThreads, ParallelTrainer } from '../../src/nn/parallel/trainer.js';
import { trainingThreads } from '../../src/nn/parallel/threads.js';
import type { ArchGraph, OpSpec } from '../../src/space/arch/graph.js';
import { chainFlatSpace } from '../../src/space/arch/index.js';
import type { Params } from '../../src/space/params.js';
import { runWithExecutor } from '../../src/run/coordinator.js';
import { LocalPoolExecutor } from '../../src/run/pool.js';
import { MemoryStore } from '../../src/store/memory.js';
import { GridStrategy } from '../../src/strategy/grid.js';
import { RandomStrategy } from '../../src/strategy/random.js';
import { Rng } from '../../src/util/rng.js';

/** n samples of d features, 3 classes by the sign pattern of two features. */
function data(n: number, d: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) x[i * d + j] = rng.normal();
    y[i] = x[i * d]! > 0 ? (x[i * d + 1]! > 0 ? 2 : 1) : 0;
  }
  return { name: 'signs', task: 'classification', x, shape: [d], y, numClasses: 3, classNames: ['a', 'b', 'c'] };
}

function chain(d: number, ops: OpSpec[]): ArchGraph {
  const nodes: ArchGraph['nodes'] = [{ id: 'in', kind: 'input', shape: [d] }];
  ops.forEach((op, i) => nodes.push({ id: `o${i}`, kind: 'op', op, input: i === 0 ? 'in' : `o${i - 1}` }));
  nodes.push({ id: 'out', kind: 'output', input: `o${ops.length - 1}` });
  return { nodes };
}

const MLP = chain(12, [{ type: 'dense', units: 32 }, { type: 'act', fn: 'relu' }, { type: 'dense', units: 16 }, { type: 'act', fn: 'relu' }, { type: 'dense', units: 3 }]);
const MLP_BN = chain(12, [{ type: 'dense', units: 32 }, { type: 'bn' }, { type: 'act', fn: 'relu' }, { type: 'dense', units: 3 }]);

function build(graph: ArchGraph, seed: number): tf.LayersModel {
  const saved = Math.random;
  const rng = new Rng(seed);
  Math.random = () => rng.random();
  try {
    return buildModel(graph);
  } finally {
    Math.random = saved;
  }
}

const order = (n: number, epoch: number) => Rng.derive(7, 'shuffle', epoch).shuffle(Array.from({ length: n }, (_, i) => i));

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('ParallelTrainer', () => {
  it('2 threads give the single-thread weights on the same batches (sgd, 1e-5 relative) and the replicas stay identical', async () => {
    const ds = data(100, 12, 1);
    const batch = 32; // 4 steps per epoch, the last one of 4 samples (shards of 2)
    const single = build(MLP, 3);
    const sOpt = makeOptimizer('sgd', 0.1);
    const sVars = single.trainableWeights.map((w) => w.read() as tf.Variable);
    const par = build(MLP, 3);
    const pOpt = makeOptimizer('sgd', 0.1);
    const t = await ParallelTrainer.start({ threads: 2, backend: 'wasm', graph: MLP, model: par, optimizer: pOpt, data: ds, seed: 0 });
    try {
      const lossesS: number[] = [];
      const lossesP: number[] = [];
      for (let epoch = 1; epoch <= 2; epoch++) {
        const ord = order(ds.y.length, epoch);
        t.epoch(epoch, ord);
        for (let start = 0; start < ds.y.length; start += batch) {
          const end = Math.min(ds.y.length, start + batch);
          const [xb, yb] = makeBatch(ds, ord, start, end);
          const l = tf.tidy(() => sOpt.minimize(() => tf.losses.softmaxCrossEntropy(yb, single.apply(xb, { training: true }) as tf.Tensor) as tf.Scalar, true, sVars)!.dataSync()[0]!);
          tf.dispose([xb, yb]);
          lossesS.push(l);
          lossesP.push(await t.step(start, end));
        }
      }
      expect(lossesP.length).toBe(8);
      for (let i = 0; i < lossesS.length; i++) expect(Math.abs(lossesP[i]! - lossesS[i]!)).toBeLessThan(1e-5 * Math.abs(lossesS[i]!));
      const ws = single.getWeights().map((w) => w.dataSync());
      const [main, worker] = await t.replicaWeights();
      let maxRel = 0;
      ws.forEach((w, k) => {
        const scale = Math.max(...Array.from(w, Math.abs));
        for (let i = 0; i < w.length; i++) maxRel = Math.max(maxRel, Math.abs(main![k]![i]! - w[i]!) / scale);
      });
      expect(maxRel).toBeLessThan(1e-5);
      expect(maxRel).toBeGreaterThan(0); // the sums really were split (else the test compares a path with itself)
      expect(worker!.map((w) => Array.from(w))).toEqual(main!.map((w) => Array.from(w)));
      // The weights moved: training happened.
      expect(lossesS.at(-1)!).toBeLessThan(lossesS[0]!);
    } finally {
      await t.close();
      single.dispose();
      par.dispose();
      sOpt.dispose();
      pOpt.dispose();
    }
    expect(liveTrainingThreads()).toBe(0);
  });

  it('trains batch norm (loss decreases) and averages the moving statistics into every replica', async () => {
    const ds = data(256, 12, 2);
    const model = build(MLP_BN, 4);
    const opt = makeOptimizer('adam', 0.01);
    const t = await ParallelTrainer.start({ threads: 2, backend: 'wasm', graph: MLP_BN, model, optimizer: opt, data: ds, seed: 0 });
    try {
      const epochLoss: number[] = [];
      for (let epoch = 1; epoch <= 4; epoch++) {
        t.epoch(epoch, order(ds.y.length, epoch));
        let sum = 0;
        for (let start = 0; start < ds.y.length; start += 32) sum += await t.step(start, start + 32);
        epochLoss.push(sum / 8);
        await t.sync();
      }
      expect(epochLoss[3]!).toBeLessThan(0.7 * epochLoss[0]!);
      const [main, worker] = await t.replicaWeights();
      expect(worker!.map((w) => Array.from(w))).toEqual(main!.map((w) => Array.from(w)));
      const movingMean = model.nonTrainableWeights[0]!.read().dataSync();
      expect(Math.max(...Array.from(movingMean, Math.abs))).toBeGreaterThan(0); // moved from its zero init
    } finally {
      await t.close();
      model.dispose();
      opt.dispose();
    }
  });

  it('a worker that dies fails the step with its error instead of hanging; no thread is left', async () => {
    const ds = data(64, 12, 3);
    const model = build(MLP, 5);
    const opt = makeOptimizer('sgd', 0.1);
    const t = await ParallelTrainer.start({ threads: 3, backend: 'wasm', graph: MLP, model, optimizer: opt, data: ds, seed: 0 });
    expect(liveTrainingThreads()).toBe(2);
    try {
      t.epoch(1, order(64, 1));
      await t.step(0, 32);
      await t.workers[1]!.terminate();
      await expect(t.step(32, 64)).rejects.toThrow(/training thread 2 exited/);
      await expect(t.step(0, 32)).rejects.toThrow(/training thread 2 exited/);
    } finally {
      await t.close();
      model.dispose();
      opt.dispose();
    }
    expect(liveTrainingThreads()).toBe(0);
  });

  it("'auto' threads divide the cores among the pool's trial processes", async () => {
    const cores = os.availableParallelism();
    expect(trainingThreads('auto', {})).toBe(cores);
    expect(trainingThreads('auto', { TSNAS_POOL_WORKERS: '1000' })).toBe(1);
    expect(trainingThreads('auto', { TSNAS_POOL_WORKERS: '2' })).toBe(Math.max(1, Math.floor(cores / 2)));
    expect(trainingThreads(3)).toBe(3);
    expect(() => trainingThreads(0)).toThrow(/threads must be an integer >= 1/);
    // A pool of 2 children tells each trial process so.
    const exp = Experiment.open({ store: new MemoryStore(), name: 't', strategy: new GridStrategy({ ordered: true }), space: { params: { x: { type: 'categorical', choices: [1, 2] } } }, seed: 1 });
    const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'threads-objective.ts');
    await runWithExecutor(exp, new LocalPoolExecutor({ size: 2 }), { objective: { kind: 'module', file, exportName: 'autoThreads' }, nTrials: 2 });
    expect(exp.trials().map((t) => t.values)).toEqual([[Math.max(1, Math.floor(cores / 2))], [Math.max(1, Math.floor(cores / 2))]]);
  });
});

describe('TrainingEvaluator threads', () => {
  const params = (bn: boolean): Params => ({
    depth: 2,
    layer_0_op: 'dense', layer_0_width: 32, layer_0_act: 'relu', layer_0_bn: bn, layer_0_dropout: 0,
    layer_1_op: 'dense', layer_1_width: 16, layer_1_act: 'relu', layer_1_bn: false, layer_1_dropout: 0,
  });
  const evaluator = (threads: number, optimizer: 'sgd' | 'adam', lrSchedule: 'cosine' | 'constant' = 'cosine') =>
    new TrainingEvaluator({
      archSpace: chainFlatSpace, data: { train: data(150, 12, 1), val: data(60, 12, 2) }, fidelity: { epochs: 3 },
      batchSize: 32, optimizer, lr: optimizer === 'sgd' ? 0.1 : 0.01, lrSchedule, backend: 'wasm', threads,
    });

  it('threads: 2 trains the weights and losses of threads: 1 (sgd, cosine schedule; 1e-5 relative) and stops its thread', async () => {
    const one = await evaluator(1, 'sgd').train(params(false), undefined, { checkpoint: true });
    const two = await evaluator(2, 'sgd').train(params(false), undefined, { checkpoint: true });
    expect(liveTrainingThreads()).toBe(0);
    try {
      for (let e = 0; e < 3; e++) expect(Math.abs(two.epochs[e]!.loss - one.epochs[e]!.loss)).toBeLessThan(1e-5 * one.epochs[e]!.loss);
      expect(two.value).toBe(one.value);
      one.checkpoint!.weights.forEach((w, k) => {
        const a = w.dataSync();
        const b = two.checkpoint!.weights[k]!.dataSync();
        const scale = Math.max(...Array.from(a, Math.abs));
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-5 * scale);
      });
    } finally {
      disposeCheckpoint(one.checkpoint!);
      disposeCheckpoint(two.checkpoint!);
    }
  });

  it('threads: 2 with batch norm learns (validation accuracy well above chance)', async () => {
    const ev = evaluator(2, 'adam');
    const exp = Experiment.open({ store: new MemoryStore(), name: 't', strategy: new RandomStrategy(), space: chainFlatSpace.space, seed: 0 });
    const trial = await exp.ask(params(true));
    const r = await ev.train(params(true), undefined, { trial });
    expect((trial.attrs.training as { threads: number }).threads).toBe(2);
    expect(r.epochs[2]!.loss).toBeLessThan(r.epochs[0]!.loss);
    expect(r.value).toBeGreaterThan(0.6);
    expect(liveTrainingThreads()).toBe(0);
  });

  it('threads: 2 resumed from its own checkpoint (adam) equals training straight through', async () => {
    // (constant rate: a cosine schedule depends on the run's total epochs)
    const straight = await evaluator(2, 'adam', 'constant').train(params(false), { epochs: 3 }, { checkpoint: true });
    const part = await evaluator(2, 'adam', 'constant').train(params(false), { epochs: 2 }, { checkpoint: true });
    const resumed = await evaluator(2, 'adam', 'constant').train(params(false), { epochs: 3 }, { resume: part.checkpoint!, checkpoint: true });
    try {
      expect(resumed.epochs.map((e) => e.loss)).toEqual([straight.epochs[2]!.loss]);
      resumed.checkpoint!.weights.forEach((w, k) => expect(Array.from(w.dataSync())).toEqual(Array.from(straight.checkpoint!.weights[k]!.dataSync())));
      resumed.checkpoint!.optimizer.forEach((w, k) => expect(Array.from(w.tensor.dataSync())).toEqual(Array.from(straight.checkpoint!.optimizer[k]!.tensor.dataSync())));
    } finally {
      for (const r of [straight, part, resumed]) disposeCheckpoint(r.checkpoint!);
    }
  });

  it('regression data (float targets) trains the same on 2 threads as on 1 (sgd, 1e-5 relative)', async () => {
    const reg = (n: number, seed: number): Dataset => {
      const rng = new Rng(seed);
      const x = Float32Array.from({ length: n * 3 }, () => rng.normal());
      const y = Float32Array.from({ length: n }, (_, i) => Math.sin(2 * x[i * 3]!) + 0.5 * x[i * 3 + 1]!);
      return { name: 'reg', task: 'regression', x, shape: [3], y, numClasses: 0, classNames: [] };
    };
    const run = (threads: number) =>
      new TrainingEvaluator({
        archSpace: chainFlatSpace, data: { train: reg(128, 1), val: reg(32, 2) }, fidelity: { epochs: 2 }, batchSize: 32, optimizer: 'sgd', lr: 0.05, backend: 'wasm', threads,
      }).train(params(false));
    const [one, two] = [await run(1), await run(2)];
    for (let e = 0; e < 2; e++) expect(Math.abs(two.epochs[e]!.loss - one.epochs[e]!.loss)).toBeLessThan(1e-5 * one.epochs[e]!.loss);
    expect(Math.abs(two.value - one.value)).toBeLessThan(1e-5 * Math.abs(one.value));
  });

  it('rejects a bad thread count with the field name', () => {
    expect(() => evaluator(0, 'sgd')).toThrow(/threads must be an integer >= 1 or 'auto' \(got 0\)/);
  });
});
