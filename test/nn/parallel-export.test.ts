/**
 * Issue 19's root cause, kept fixed: data-parallel training must never write a variable's buffer
 * in place. tfjs's wasm backend keys XNNPACK operators (stock Conv2D with 5x5 filters, depthwise
 * convolutions, ...) by their weights' tensor id and packs the weights once per id, so in-place
 * weight writes left those layers computing with their initial filters for the whole run, and a
 * model rebuilt from the checkpoint predicted with stale filters in the training process but not
 * after export. Here a graph holding every op the image spaces emit trains on 2 threads; the model
 * built from its checkpoint (sharing the checkpoint's tensors, as the bug needed), a model built from
 * copies, and the same model saved and reloaded compute the same outputs bit for bit.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/data/dataset.js';
import { disposeCheckpoint, TrainingEvaluator } from '../../src/estimate/train.js';
import { dirHandler } from '../../src/fit/export.js';
import { modelOutputs } from '../../src/fit/predict.js';
import { buildModel } from '../../src/nn/builder.js';
import type { ArchGraph, ArchNode, OpSpec } from '../../src/space/arch/graph.js';
import type { ArchSpace } from '../../src/space/arch/types.js';
import { Rng } from '../../src/util/rng.js';

const H = 12;
const C = 3;
const CLASSES = 3;

/** Every op type and activation the image spaces emit, with branches, an add and a concat merge. */
function everyOpGraph(): ArchGraph {
  const nodes: ArchNode[] = [{ id: 'in', kind: 'input', shape: [H, H, C] }];
  let last = 'in';
  const op = (id: string, spec: OpSpec, input = last) => {
    nodes.push({ id, kind: 'op', op: spec, input });
    last = id;
    return id;
  };
  op('c5', { type: 'conv', filters: 8, kernel: 5, padding: 'same' });
  op('bn1', { type: 'bn' });
  op('tanh', { type: 'act', fn: 'tanh' });
  const trunk = op('c3', { type: 'conv', filters: 8, kernel: 3, padding: 'same', bias: true });
  op('relu', { type: 'act', fn: 'relu' }, trunk);
  const a = op('sep3', { type: 'sepconv', filters: 8, kernel: 3, padding: 'same' });
  op('sep5', { type: 'sepconv', filters: 8, kernel: 5, padding: 'same' }, trunk);
  const b = op('bn2', { type: 'bn' });
  const z = op('zero', { type: 'zero' }, trunk);
  const id = op('id', { type: 'identity' }, trunk);
  nodes.push({ id: 'add', kind: 'merge', mode: 'add', inputs: [a, b, z, id] });
  last = 'add';
  op('elu', { type: 'act', fn: 'elu' });
  const s2 = op('c3s2', { type: 'conv', filters: 8, kernel: 3, stride: 2, padding: 'same' });
  const sh = op('shift', { type: 'shift' }, 'elu');
  op('c1', { type: 'conv', filters: 8, kernel: 1, stride: 2, padding: 'same' }, sh);
  nodes.push({ id: 'cat', kind: 'merge', mode: 'concat', inputs: [s2, 'c1'] });
  last = 'cat';
  op('selu', { type: 'act', fn: 'selu' });
  const mp = op('maxpool', { type: 'pool', mode: 'max', size: 3, stride: 1, padding: 'same' });
  op('avgpool', { type: 'pool', mode: 'avg', size: 3, stride: 2, padding: 'same' }, mp);
  op('swish', { type: 'act', fn: 'swish' });
  op('dense1x1', { type: 'dense', units: 8 });
  op('gelu', { type: 'act', fn: 'gelu' });
  op('sigmoid', { type: 'act', fn: 'sigmoid' });
  op('drop', { type: 'dropout', rate: 0.2 });
  const flat = op('flatten', { type: 'flatten' });
  op('fc', { type: 'dense', units: CLASSES }, flat);
  nodes.push({ id: 'out', kind: 'output', input: 'fc' });
  return { nodes };
}

function dataset(n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: n * H * H * C }, () => rng.random());
  const y = Int32Array.from({ length: n }, (_, i) => i % CLASSES);
  // A learnable signal: each class brightens its own channel.
  for (let i = 0; i < n; i++) for (let p = 0; p < H * H; p++) x[(i * H * H + p) * C + y[i]!] += 0.5;
  return { name: `synthetic-${seed}`, task: 'classification', x, y, shape: [H, H, C], numClasses: CLASSES, classNames: ['a', 'b', 'c'] };
}

describe('training writes no weight in place (issue 19)', () => {
  it.each([1, 2])('every image op, %i thread(s): the checkpoint, a copy and a save/reload of the trained model compute the same outputs', async (threads) => {
    const graph = everyOpGraph();
    const space: ArchSpace = { name: 'every-op', space: { params: { k: { type: 'categorical', choices: [0] } } }, decode: () => graph };
    const ev = new TrainingEvaluator({
      archSpace: space,
      data: { train: dataset(96, 1), val: dataset(32, 2) },
      fidelity: { epochs: 2 },
      batchSize: 16,
      lr: 0.01,
      seed: 3,
      backend: 'wasm',
      threads,
    });
    const r = await ev.train({ k: 0 }, { epochs: 2 }, { checkpoint: true });
    expect(r.epochs).toHaveLength(2);
    const ck = r.checkpoint!;
    // As fit did: the exported model set from the checkpoint's tensors (sharing their ids).
    const shared = buildModel(graph, { outputActivation: 'softmax' });
    shared.setWeights(ck.weights);
    const copy = buildModel(graph, { outputActivation: 'softmax' });
    const copies = ck.weights.map((w) => tf.tensor(w.dataSync().slice(), w.shape));
    copy.setWeights(copies);
    tf.dispose(copies);
    disposeCheckpoint(ck);
    const probe = dataset(24, 4);
    const a = modelOutputs(shared, probe.x, probe.shape).values;
    const b = modelOutputs(copy, probe.x, probe.shape).values;
    expect(Array.from(a)).toEqual(Array.from(b));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-every-op-'));
    await shared.save(dirHandler(dir));
    const reloaded = await tf.loadLayersModel(dirHandler(dir));
    expect(Array.from(modelOutputs(reloaded, probe.x, probe.shape).values)).toEqual(Array.from(a));
    // The stock XNNPACK layers trained: their weights moved away from the initial ones.
    expect(r.epochs[1]!.loss).toBeLessThan(r.epochs[0]!.loss);
    tf.dispose([shared, copy, reloaded].flatMap((m) => m.getWeights()));
  }, 60_000);
});
