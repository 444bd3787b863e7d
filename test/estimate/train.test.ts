/**
 * TrainingEvaluator: per-epoch reports, pruning, cost and fidelity records, determinism under a
 * seed, regression metric, and no tensor leak over 30 trials in one process. Tiny models and
 * datasets on the wasm backend (with the training-kernel pack), as in CI.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Experiment } from '../../src/core/experiment.js';
import { TrialPruned } from '../../src/core/trial.js';
import type { Pruner } from '../../src/core/pruner.js';
import { TrainingEvaluator, type TrainingData } from '../../src/estimate/train.js';
import { makeOptimizer, setLearningRate } from '../../src/estimate/train-util.js';
import { initBackend } from '../../src/nn/backend.js';
import { chainFlatSpace, chainSpace, cellSpace, makeChainArchSpace } from '../../src/space/arch/index.js';
import type { Params } from '../../src/space/params.js';
import { MemoryStore } from '../../src/store/memory.js';
import { RandomStrategy } from '../../src/strategy/random.js';
import type { Dataset } from '../../src/data/dataset.js';
import { Rng } from '../../src/util/rng.js';

/** n images [s, s, 1] of 3 classes: a bright blob in the left third, middle third or right third. */
function blobs(n: number, s: number, seed: number, name: string): Dataset {
  const rng = new Rng(seed);
  const x = new Float32Array(n * s * s);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    y[i] = c;
    const cx = Math.floor(((c + 0.5) * s) / 3);
    const cy = rng.int(1, s - 2);
    for (let r = 0; r < s; r++) {
      for (let q = 0; q < s; q++) {
        const d2 = (r - cy) ** 2 + (q - cx) ** 2;
        x[i * s * s + r * s + q] = Math.exp(-d2 / 2) + 0.2 * rng.normal();
      }
    }
  }
  return { name, task: 'classification', x, shape: [s, s, 1], y, numClasses: 3, classNames: ['l', 'm', 'r'] };
}

function imageData(s = 8, nTrain = 96, nVal = 48): TrainingData {
  return { train: blobs(nTrain, s, 1, 'blobs/train'), val: blobs(nVal, s, 2, 'blobs/val'), test: blobs(nVal, s, 3, 'blobs/test') };
}

/** Flat regression: y = sin(2 x0) + 0.5 x1 (+ an irrelevant x2). */
function regression(n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = new Float32Array(n * 3);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 3; j++) x[i * 3 + j] = rng.normal();
    y[i] = Math.sin(2 * x[i * 3]!) + 0.5 * x[i * 3 + 1]!;
  }
  return { name: 'reg', task: 'regression', x, shape: [3], y, numClasses: 0, classNames: [] };
}

/** A small conv chain: conv3x3(8)+BN+relu, maxpool, gap head. */
const SMALL_CONV: Params = {
  depth: 2,
  layer_0_op: 'conv3x3', layer_0_width: 16, layer_0_act: 'relu', layer_0_bn: true, layer_0_dropout: 0,
  layer_1_op: 'maxpool3x3', layer_1_dropout: 0.1,
  head: 'flatten',
};

function experiment(space = chainSpace.space, pruner?: Pruner, seed = 0) {
  return Experiment.open({ store: new MemoryStore(), name: 't', strategy: new RandomStrategy(), space, seed, pruner });
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('TrainingEvaluator', () => {
  it('reports the validation accuracy after every epoch, returns the last, records cost and fidelity', async () => {
    const ev = new TrainingEvaluator({ archSpace: chainSpace, data: imageData(), fidelity: { epochs: 4 }, batchSize: 16, lr: 0.01, backend: 'wasm' });
    const exp = experiment();
    const trial = await exp.ask(SMALL_CONV);
    const value = await ev.objective(trial);
    const rec = await exp.tell(trial, value);
    expect(rec.state).toBe('COMPLETE');
    expect(rec.intermediate.map((i) => i.step)).toEqual([1, 2, 3, 4]);
    expect(rec.values![0]).toBe(rec.intermediate.at(-1)!.value);
    // The blob task is easy: the conv chain learns it within 4 epochs of 96 samples.
    expect(value).toBeGreaterThan(0.8);
    // Cost from the graph counter, by hand: conv3x3 1->16 without bias (BN follows) 144, BN 2*16 trainable
    // + 2*16 moving, maxpool stride 2 -> 4x4x16 flattened to 256, classifier 256*3 + 3.
    const graph = ev.graph(SMALL_CONV);
    expect(graph.nodes.length).toBeGreaterThan(3);
    expect(rec.cost.params).toBe(144 + 64 + (4 * 4 * 16 * 3 + 3));
    // FLOPs (multiply-adds): conv 8*8 positions * 144, classifier 768 + 3 for the bias.
    expect(rec.cost.flops).toBe(8 * 8 * 144 + 4 * 4 * 16 * 3 + 3);
    expect(rec.cost.backend).toBe('wasm');
    expect(rec.cost.peakMemoryBytes).toBeGreaterThan(0);
    expect(rec.attrs.fidelity).toEqual({ epochs: 4, dataFraction: 1, widthMultiplier: 1 });
    const tr = rec.attrs.training as { val: number[]; trainLoss: number[]; trainSamples: number };
    expect(tr.val).toEqual(rec.intermediate.map((i) => i.value));
    expect(tr.trainSamples).toBe(96);
    expect(tr.trainLoss.at(-1)!).toBeLessThan(tr.trainLoss[0]!);
  });

  it('stops with TrialPruned when the pruner says so, after reporting that epoch', async () => {
    const ev = new TrainingEvaluator({ archSpace: chainSpace, data: imageData(), fidelity: { epochs: 5 }, batchSize: 32, backend: 'wasm' });
    const stopAt2: Pruner = { name: 'at2', shouldPrune: ({ trial }) => (trial.intermediate.at(-1)?.step ?? 0) >= 2 };
    const exp = experiment(chainSpace.space, stopAt2);
    const before = tf.memory().numTensors;
    const t = await exp.ask(SMALL_CONV);
    await expect(ev.objective(t)).rejects.toBeInstanceOf(TrialPruned);
    const rec = exp.store.getTrial(t.id)!;
    expect(rec.intermediate.map((i) => i.step)).toEqual([1, 2]);
    expect((rec.attrs.training as { epochs: number }).epochs).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a stop requested mid-epoch (trial.requestStop, as executors do) ends the epoch early and prunes', async () => {
    const exp = experiment();
    const t = await exp.ask(SMALL_CONV);
    let batches = 0;
    const ev = new TrainingEvaluator({ archSpace: chainSpace, data: imageData(), fidelity: { epochs: 3 }, batchSize: 8, backend: 'wasm' });
    const timer = setInterval(() => {
      if (++batches === 3) t.requestStop('executor stop');
    }, 0);
    try {
      await expect(ev.objective(t)).rejects.toBeInstanceOf(TrialPruned);
    } finally {
      clearInterval(timer);
    }
    const rec = exp.store.getTrial(t.id)!;
    expect(rec.intermediate.map((i) => i.step)).toEqual([1]);
  });

  it('applies the fidelity knobs: data fraction (stratified), resolution, width and cells', async () => {
    const data = imageData(12, 120, 30);
    const ev = new TrainingEvaluator({ archSpace: cellSpace, data, fidelity: { epochs: 1, dataFraction: 0.25, resolution: 6 }, backend: 'wasm' });
    const p = ev.prepare();
    expect(p.train.y.length).toBe(30);
    expect([0, 1, 2].map((c) => p.train.y.filter((v) => v === c).length)).toEqual([10, 10, 10]);
    expect(p.train.shape).toEqual([6, 6, 1]);
    expect(p.val.shape).toEqual([6, 6, 1]);
    expect(p.test!.shape).toEqual([6, 6, 1]);
    const params: Params = { ...Object.fromEntries(Object.entries(cellSpace.space.params).map(([k, s]) => [k, s.type === 'int' ? 0 : 'skip_connect'])) };
    params.cells_per_stage = 3;
    params.init_filters = 16;
    const full = ev.graph(params, { epochs: 1 });
    const small = ev.graph(params, { epochs: 1, cells: 1, widthMultiplier: 0.5 });
    const stem = (g: typeof full) => g.nodes.find((n) => n.id === 'stem/conv') as { op: { filters: number } };
    expect(stem(full).op.filters).toBe(48);
    expect(stem(small).op.filters).toBe(24);
    expect(small.nodes.filter((n) => n.id.endsWith('/out')).length).toBeLessThan(full.nodes.filter((n) => n.id.endsWith('/out')).length);
    const input = (g: typeof full) => g.nodes.find((n) => n.kind === 'input') as { shape: number[] };
    expect(input(full).shape).toEqual([6, 6, 1]);
    // A trial records the fidelity it ran at.
    const exp = experiment(cellSpace.space);
    const t = await exp.ask({ ...params, cells_per_stage: 1, init_filters: 8 });
    await ev.objectiveAt({ widthMultiplier: 0.5 })(t);
    const rec = await exp.tell(t, 0);
    expect(rec.attrs.fidelity).toEqual({ epochs: 1, dataFraction: 0.25, resolution: 6, widthMultiplier: 0.5 });
    expect((rec.attrs.training as { inputShape: number[]; trainSamples: number }).inputShape).toEqual([6, 6, 1]);
  });

  it('is deterministic under a seed: two runs give identical per-epoch losses and metrics; another seed differs', async () => {
    const data = imageData();
    const withDropout: Params = { ...SMALL_CONV, layer_0_dropout: 0.3 };
    const run = async (seed: number) => {
      const ev = new TrainingEvaluator({ archSpace: chainSpace, data, fidelity: { epochs: 2 }, batchSize: 16, seed, backend: 'wasm' });
      const r = await ev.train(withDropout);
      return r.epochs.map((e) => [e.loss, e.value]);
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('setLearningRate takes effect on the next step of every optimizer; cosine schedule trains and differs from constant', async () => {
    for (const name of ['sgd', 'momentum', 'adam', 'rmsprop'] as const) {
      const opt = makeOptimizer(name, 0.5);
      const v = tf.variable(tf.scalar(1));
      setLearningRate(opt, 0.01);
      opt.minimize(() => tf.mul(v, 3) as tf.Scalar, false, [v]); // gradient 3
      const moved = 1 - v.dataSync()[0]!;
      // First step: sgd/momentum move lr * grad; adam moves lr; rmsprop lr * grad / sqrt((1 - rho) grad^2).
      const expected = { sgd: 0.03, momentum: 0.03, adam: 0.01, rmsprop: 0.01 / Math.sqrt(0.1) }[name];
      expect(moved, name).toBeCloseTo(expected, 4);
      opt.dispose();
      v.dispose();
    }
    const data = imageData();
    const run = (lrSchedule: 'constant' | 'cosine') =>
      new TrainingEvaluator({ archSpace: chainSpace, data, fidelity: { epochs: 3 }, batchSize: 16, lr: 0.01, lrSchedule, backend: 'wasm' }).train(SMALL_CONV);
    const cos = await run('cosine');
    const flat = await run('constant');
    expect(cos.epochs.map((e) => e.loss)).not.toEqual(flat.epochs.map((e) => e.loss));
    expect(cos.epochs[2]!.loss).toBeLessThan(cos.epochs[0]!.loss);
  });

  it('regression: returns the negative validation MSE, which improves with training', async () => {
    const data = { train: regression(256, 1), val: regression(64, 2) };
    const params: Params = {
      depth: 2,
      layer_0_op: 'dense', layer_0_width: 64, layer_0_act: 'tanh', layer_0_bn: false, layer_0_dropout: 0,
      layer_1_op: 'dense', layer_1_width: 64, layer_1_act: 'tanh', layer_1_bn: false, layer_1_dropout: 0,
    };
    const ev = new TrainingEvaluator({ archSpace: chainFlatSpace, data, fidelity: { epochs: 8 }, batchSize: 32, lr: 0.01, backend: 'wasm' });
    const r = await ev.train(params);
    const vals = r.epochs.map((e) => e.value);
    expect(vals.every((v) => v < 0)).toBe(true);
    expect(vals.at(-1)!).toBeGreaterThan(vals[0]!);
    // Predicting 0 scores -mean(y^2) (about -0.7); the trained MLP does much better.
    const zeroMse = Array.from(data.val.y).reduce((a, v) => a + v * v, 0) / data.val.y.length;
    expect(-vals.at(-1)!).toBeLessThan(0.5 * zeroMse);
  });

  it('evaluateTest retrains the same model (same seed) and scores the test set', async () => {
    const ev = new TrainingEvaluator({ archSpace: chainSpace, data: imageData(), fidelity: { epochs: 2 }, batchSize: 16, backend: 'wasm' });
    const a = await ev.train(SMALL_CONV);
    const r = await ev.evaluateTest(SMALL_CONV);
    expect(r.value).toBe(a.value);
    expect(r.testSamples).toBe(48);
    expect(r.test).toBeGreaterThanOrEqual(0);
    expect(r.test).toBeLessThanOrEqual(1);
    const noTest = new TrainingEvaluator({ archSpace: chainSpace, data: { train: imageData().train, val: imageData().val }, backend: 'wasm' });
    await expect(noTest.evaluateTest(SMALL_CONV)).rejects.toThrow(/no test set/);
  });

  it('testEachEpoch records the test accuracy after every epoch, the last one equal to evaluateTest', async () => {
    const seen: (number | undefined)[] = [];
    const ev = new TrainingEvaluator({
      archSpace: chainSpace, data: imageData(), fidelity: { epochs: 3 }, batchSize: 16, backend: 'wasm', testEachEpoch: true, onEpoch: (e) => seen.push(e.test),
    });
    const r = await ev.evaluateTest(SMALL_CONV);
    expect(seen).toHaveLength(3);
    expect(r.epochs.map((e) => e.test)).toEqual(seen);
    expect(seen[2]).toBe(r.test);
    const plain = new TrainingEvaluator({ archSpace: chainSpace, data: imageData(), fidelity: { epochs: 3 }, batchSize: 16, backend: 'wasm' });
    const q = await plain.evaluateTest(SMALL_CONV);
    expect(q.epochs.every((e) => e.test === undefined)).toBe(true);
    expect(q.test).toBe(r.test); // evaluating the test set on the way does not change training
  });

  it('30 trials in one process: tensors back to baseline after every trial, RSS bounded', async () => {
    // Small random chain architectures on 6x6 images (widths 4-16, depth <= 3), one epoch each.
    const archSpace = makeChainArchSpace('chain-tiny', { input: 'image', maxDepth: 3, widths: [4, 8, 16] });
    const data = imageData(6, 48, 24);
    const ev = new TrainingEvaluator({ archSpace, data, fidelity: { epochs: 1 }, batchSize: 16, backend: 'wasm' });
    const exp = Experiment.open({ store: new MemoryStore(), name: 'leak', strategy: new RandomStrategy(), space: archSpace.space, seed: 3 });
    const baseline = tf.memory().numTensors;
    const counts: number[] = [];
    const rss: number[] = [];
    await exp.optimize(ev.objective, {
      nTrials: 30,
      onTrialEnd: () => {
        counts.push(tf.memory().numTensors);
        rss.push(process.memoryUsage.rss());
      },
    });
    const trials = exp.trials();
    expect(trials.length).toBe(30);
    expect(trials.filter((t) => t.state === 'COMPLETE').length).toBe(30);
    expect(counts).toEqual(new Array(30).fill(baseline));
    // RSS after warm-up (trial 5) to the end grows by less than 150 MB.
    expect(rss[29]! - rss[4]!).toBeLessThan(150 * 2 ** 20);
  });
});
