/**
 * The builder folds a relu into the conv/dense layer before it when that layer feeds nothing else
 * (src/nn/fold.ts): same function as the unfolded graph, one layer fewer, and training no longer
 * computes the gradient of the input data (tfjs's fused-op gradient computes every input's).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/nn/backend.js';
import { buildModel } from '../../src/nn/builder.js';
import { foldedRelus } from '../../src/nn/fold.js';
import { softmaxCrossEntropy } from '../../src/nn/losses.js';
import { type ArchGraph, checkGraph, type OpSpec } from '../../src/space/arch/graph.js';
import { activationStats } from '../../src/estimate/morphism/stats.js';

function chain(shape: number[], ops: OpSpec[]): ArchGraph {
  const nodes: ArchGraph['nodes'] = [{ id: 'in', kind: 'input', shape }];
  ops.forEach((op, i) => nodes.push({ id: `o${i}`, kind: 'op', op, input: i === 0 ? 'in' : `o${i - 1}` }));
  nodes.push({ id: 'out', kind: 'output', input: `o${ops.length - 1}` });
  return { nodes };
}
const relu: OpSpec = { type: 'act', fn: 'relu' };
const mlp = chain([12], [{ type: 'dense', units: 16 }, relu, { type: 'dense', units: 16 }, relu, { type: 'dense', units: 3 }]);

/** Kernel names run by one training step of `model` on a batch of 8. */
function stepKernels(model: tf.LayersModel, shape: number[]): Promise<string[]> {
  const x = tf.randomNormal([8, ...shape], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3).toFloat();
  const opt = tf.train.sgd(0.1);
  return tf.profile(() => {
    tf.tidy(() => {
      opt.minimize(() => softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor));
    });
  }).then((p) => {
    tf.dispose([x, y]);
    opt.dispose();
    return p.kernels.map((k) => k.name);
  });
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('relu folding', () => {
  it('folds a relu only when its producer is a conv/sepconv/dense that feeds nothing else', () => {
    expect([...foldedRelus(checkGraph(mlp))]).toEqual([['o1', 'o0'], ['o3', 'o2']]);
    // o0 also feeds the merge: not folded.
    const branchy: ArchGraph = { nodes: [
      { id: 'in', kind: 'input', shape: [6] },
      { id: 'd', kind: 'op', op: { type: 'dense', units: 6 }, input: 'in' },
      { id: 'r', kind: 'op', op: relu, input: 'd' },
      { id: 'm', kind: 'merge', mode: 'add', inputs: ['d', 'r'] },
      { id: 'out', kind: 'output', input: 'm' },
    ] };
    expect(foldedRelus(checkGraph(branchy)).size).toBe(0);
    const bnFirst = chain([8, 8, 3], [{ type: 'conv', filters: 4, kernel: 3 }, { type: 'bn' }, relu, { type: 'gap' }, { type: 'dense', units: 2 }]);
    expect(foldedRelus(checkGraph(bnFirst)).size).toBe(0);
  });

  it('the folded MLP computes what relu layers compute, with one matmul fewer per training step', async () => {
    const model = buildModel(mlp);
    expect(model.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Dense', 'Dense', 'Dense']);
    const x = tf.randomNormal([5, 12], 0, 1, 'float32', 2);
    const [w0, b0, w1, b1, w2, b2] = model.getWeights();
    const want = tf.tidy(() => tf.relu(tf.relu(x.matMul(w0!).add(b0!)).matMul(w1!).add(b1!)).matMul(w2!).add(b2!).dataSync());
    const got = (model.predict(x) as tf.Tensor).dataSync();
    for (let i = 0; i < want.length; i++) expect(got[i]!).toBeCloseTo(want[i]!, 5);
    // 3 forward products + 3 weight gradients + 2 input gradients; the unfolded graph also takes the
    // first layer's input-data gradient (9).
    const matmuls = (await stepKernels(model, [12])).filter((k) => k === 'BatchMatMul' || k === '_FusedMatMul');
    expect(matmuls.length).toBe(8);
    tf.dispose([x]);
    model.dispose();
  });

  it('a conv net trains without the first convolution input gradient', async () => {
    const g = chain([8, 8, 1], [{ type: 'conv', filters: 4, kernel: 3, bias: true }, relu, { type: 'conv', filters: 4, kernel: 3 }, relu, { type: 'gap' }, { type: 'dense', units: 3 }]);
    const kernels = await stepKernels(buildModel(g), [8, 8, 1]);
    expect(kernels.filter((k) => k === 'Conv2DBackpropInput').length).toBe(1); // the second conv's only
    expect(kernels.filter((k) => k === 'Conv2DBackpropFilter').length).toBe(2);
  });

  it('morphism statistics of a folded relu read its producer layer; the pre-relu output is refused by name', () => {
    const model = buildModel(mlp);
    const x = tf.randomNormal([6, 12], 0, 1, 'float32', 3);
    const s = activationStats(tf, model, mlp, ['o1'], x).get('o1')!;
    expect(s.mean.length).toBe(16);
    expect(Math.min(...s.mean)).toBeGreaterThanOrEqual(0); // post-relu
    expect(() => activationStats(tf, model, mlp, ['o0'], x)).toThrow(/node "o0": its output is fused with the relu "o1"/);
    x.dispose();
    model.dispose();
  });
});
