import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, modelParamCounts } from '../../src/nn/builder.js';
import { AvgPoolSameLayer } from '../../src/nn/ops.js';
import { countCost } from '../../src/nn/cost.js';
import { type ArchGraph, type ArchNode, checkGraph, GraphError } from '../../src/space/arch/graph.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const inp = (shape = [8, 8, 3]): ArchNode => ({ id: 'in', kind: 'input', shape });
const conv = (id: string, input: string, filters: number, stride = 1): ArchNode => ({
  id, kind: 'op', input, op: { type: 'conv', filters, kernel: 3, stride, padding: 'same' },
});
const head = (input: string): ArchNode[] => [
  { id: 'gap', kind: 'op', input, op: { type: 'gap' } },
  { id: 'fc', kind: 'op', input: 'gap', op: { type: 'dense', units: 4 } },
  { id: 'out', kind: 'output', input: 'fc' },
];
const reject = (g: ArchGraph, msg: RegExp) => {
  expect(() => checkGraph(g)).toThrow(GraphError);
  expect(() => checkGraph(g)).toThrow(msg);
};

describe('checkGraph', () => {
  it('infers NHWC shapes (TF same/valid padding) and orders nodes topologically', () => {
    const g = checkGraph({
      nodes: [
        ...head('cat'),
        { id: 'cat', kind: 'merge', mode: 'concat', inputs: ['a', 'p'] },
        inp([9, 9, 3]),
        conv('a', 'in', 8, 2),
        { id: 'p', kind: 'op', input: 'in', op: { type: 'pool', mode: 'max', size: 3, stride: 2, padding: 'same' } },
      ],
    });
    expect(g.shapes.get('a')).toEqual([5, 5, 8]);
    expect(g.shapes.get('cat')).toEqual([5, 5, 11]);
    expect(g.shapes.get('out')).toEqual([4]);
    expect(g.nodes[0]!.id).toBe('in');
    expect(g.nodes.at(-1)!.id).toBe('out');
  });

  it('rejects an add of mismatched shapes, naming the node, both inputs and the fix', () => {
    reject(
      { nodes: [inp(), conv('a', 'in', 8), conv('b', 'in', 8, 2), { id: 'sum', kind: 'merge', mode: 'add', inputs: ['a', 'b'] }, ...head('sum')] },
      /merge node "sum" \(add\): input shapes differ: "a" \[8,8,8\] vs "b" \[4,4,8\]; make them equal/,
    );
  });

  it('rejects a concat whose spatial sizes differ', () => {
    reject(
      { nodes: [inp(), conv('a', 'in', 8), conv('b', 'in', 8, 2), { id: 'c', kind: 'merge', mode: 'concat', inputs: ['a', 'b'] }, ...head('c')] },
      /merge node "c" \(concat\).*differ outside the channel \(last\) axis/,
    );
  });

  it('rejects a cycle, listing it', () => {
    reject(
      { nodes: [inp(), { id: 'm', kind: 'merge', mode: 'add', inputs: ['in', 'b'] }, { id: 'b', kind: 'op', input: 'm', op: { type: 'bn' } }, ...head('b')] },
      /cycle (m -> b -> m|b -> m -> b); edges must go from earlier to later nodes/,
    );
  });

  it('rejects a dangling node (output unused) and a dangling edge (unknown input)', () => {
    reject({ nodes: [inp(), conv('a', 'in', 8), conv('lost', 'in', 8), ...head('a')] }, /node "lost": its output is not used by any node \(dangling node\)/);
    reject({ nodes: [inp(), conv('a', 'nowhere', 8), ...head('a')] }, /node "a": input "nowhere" does not exist \(dangling edge\)/);
  });

  it('rejects unknown ops, duplicate ids, convs on flat tensors and a non-flat output', () => {
    reject(
      { nodes: [inp(), { id: 'x', kind: 'op', input: 'in', op: { type: 'conv7' } as never }, ...head('x')] },
      /node "x": unknown op "conv7"; use one of conv, sepconv, dense/,
    );
    reject({ nodes: [inp(), conv('a', 'in', 8), conv('a', 'in', 8), ...head('a')] }, /node "a": duplicate id/);
    reject(
      { nodes: [inp([10]), conv('c', 'in', 8), { id: 'out', kind: 'output', input: 'c' }] },
      /node "c": conv needs an image input \[H,W,C\] but "in" gives \[10\]/,
    );
    reject({ nodes: [inp(), conv('a', 'in', 8), { id: 'out', kind: 'output', input: 'a' }] }, /output node "out": shape \[8,8,8\] is not a flat vector; add gap or flatten/);
    reject(
      { nodes: [inp([2, 2, 3]), { id: 'v', kind: 'op', input: 'in', op: { type: 'conv', filters: 4, kernel: 3, padding: 'valid' } }, ...head('v')] },
      /node "v": conv window 3x3 is larger than its input 2x2; use padding "same"/,
    );
  });
});

describe('countCost and the built model', () => {
  it('counts params and multiply-adds by hand on a small graph, equal to the tf model', () => {
    const g: ArchGraph = {
      nodes: [
        inp([8, 8, 3]),
        { id: 'c', kind: 'op', input: 'in', op: { type: 'conv', filters: 4, kernel: 3, stride: 2, bias: true } },
        { id: 'bn', kind: 'op', input: 'c', op: { type: 'bn' } },
        { id: 's', kind: 'op', input: 'bn', op: { type: 'sepconv', filters: 6, kernel: 3 } },
        { id: 'd', kind: 'op', input: 's', op: { type: 'dense', units: 5 } },
        ...head('d'),
      ],
    };
    const c = countCost(g);
    const conv = 3 * 3 * 3 * 4 + 4;
    const sep = 3 * 3 * 4 + 4 * 6;
    const dense = 6 * 5 + 5;
    const fc = 5 * 4 + 4;
    expect(c.trainableParams).toBe(conv + 8 + sep + dense + fc);
    expect(c.nonTrainableParams).toBe(8);
    expect(c.flops).toBe(16 * conv + 16 * sep + 16 * dense + fc);
    const m = buildModel(g);
    expect(modelParamCounts(m)).toEqual({ trainable: c.trainableParams, nonTrainable: 8, total: c.totalParams });
    m.dispose();
  });

  it('zero, identity, avg pool excluding padding, and a merge taking one tensor twice compute what they say', () => {
    const g: ArchGraph = {
      nodes: [
        inp([3, 3, 1]),
        { id: 'p', kind: 'op', input: 'in', op: { type: 'pool', mode: 'avg', size: 3, stride: 1, padding: 'same' } },
        { id: 'z', kind: 'op', input: 'in', op: { type: 'zero' } },
        { id: 'i', kind: 'op', input: 'p', op: { type: 'identity' } },
        { id: 'sum', kind: 'merge', mode: 'add', inputs: ['p', 'i', 'z'] },
        { id: 'f', kind: 'op', input: 'sum', op: { type: 'flatten' } },
        { id: 'out', kind: 'output', input: 'f' },
      ],
    };
    const m = buildModel(g);
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const y = Array.from((m.predict(x) as tf.Tensor).dataSync());
    // corner (0,0): mean of 1,2,4,5 = 3 (padding excluded), doubled by p + identity(p).
    expect(y[0]).toBeCloseTo(6, 5);
    expect(y[4]).toBeCloseTo(10, 5); // centre: mean 5, doubled
    expect(y[1]).toBeCloseTo(7, 5); // top edge: mean of 1,2,3,4,5,6 = 3.5
    m.dispose();
  });

  it("'same' average pooling: same values as tfjs's layer, and a correct gradient at the borders", () => {
    for (const [h, k, st] of [[7, 3, 2], [8, 3, 2], [5, 3, 1], [6, 2, 2]] as const) {
      const x = tf.randomNormal([2, h, h, 3], 0, 1, 'float32', h * 10 + k);
      const ours = new AvgPoolSameLayer({ poolSize: k, strides: st }).apply(x) as tf.Tensor;
      const ref = tf.layers.averagePooling2d({ poolSize: k, strides: st, padding: 'same' }).apply(x) as tf.Tensor;
      expect(ours.shape).toEqual(ref.shape);
      expect(tf.max(tf.abs(tf.sub(ours, ref))).dataSync()[0]).toBeLessThan(1e-6);
    }
    // d(sum of 3x3 stride-1 pool)/d x at a corner of a 3x3 input: windows of 4, 6, 6 and 9 cells.
    const layer = new AvgPoolSameLayer({ poolSize: 3, strides: 1 });
    const g = tf.grad((x: tf.Tensor) => tf.sum(layer.apply(x) as tf.Tensor))(tf.ones([1, 3, 3, 1]));
    const gv = g.dataSync();
    expect(gv[0]).toBeCloseTo(1 / 4 + 1 / 6 + 1 / 6 + 1 / 9, 5);
    expect(gv[4]).toBeCloseTo(4 / 4 + 4 / 6 + 1 / 9 + 0, 5); // centre: every window (4 corners, 4 edges, centre)
  });
});
