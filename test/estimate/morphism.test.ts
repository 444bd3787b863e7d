/**
 * Function-preserving morphisms: on seeded random architectures of the chain, dag and cell spaces
 * with random non-trivial weights (batch-norm moving statistics far from their defaults), the
 * child's outputs on random inputs equal the parent's within 1e-4 (cpu backend, inference mode).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/nn/builder.js';
import { chainSpace } from '../../src/space/arch/chain.js';
import { makeCellArchSpace } from '../../src/space/arch/cell.js';
import { makeDagArchSpace } from '../../src/space/arch/dag.js';
import { type ArchGraph, type CheckedGraph, checkGraph } from '../../src/space/arch/graph.js';
import type { ArchSpace } from '../../src/space/arch/types.js';
import { sampleSpace } from '../../src/space/params.js';
import { Rng } from '../../src/util/rng.js';
import {
  addBranch,
  deepen,
  enlargeKernel,
  type GraphWeights,
  type MorphResult,
  randomWeights,
  widen,
  widenGroup,
  writeWeights,
} from '../../src/estimate/morphism/index.js';

const INPUT = [8, 8, 2];

function forward(g: ArchGraph, w: GraphWeights, x: tf.Tensor, seed = 0): Float32Array {
  const rng = new Rng(seed);
  const saved = Math.random;
  Math.random = () => rng.random();
  let model: tf.LayersModel;
  try {
    model = buildModel(g);
  } finally {
    Math.random = saved;
  }
  try {
    writeWeights(model, g, w, tf);
    const y = model.predict(x) as tf.Tensor;
    const out = Float32Array.from(y.dataSync());
    y.dispose();
    return out;
  } finally {
    model.dispose();
  }
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

const SPACES: { space: ArchSpace; width: number }[] = [
  { space: chainSpace, width: 0.25 },
  { space: makeDagArchSpace('dag', 4, [4, 6]), width: 1 },
  { space: makeCellArchSpace('cell', { nodes: 2, maxCellsPerStage: 1, initFilters: [2, 3] }), width: 1 },
];
const SEEDS = [0, 1, 2];

interface Case {
  graph: CheckedGraph;
  weights: GraphWeights;
  x: tf.Tensor;
  y: Float32Array;
  rng: Rng;
}

function makeCase(s: ArchSpace, width: number, seed: number): Case {
  const rng = Rng.derive(seed, 'morphism-test', s.name);
  const graph = checkGraph(s.decode(sampleSpace(s.space, rng), { inputShape: INPUT, numClasses: 3, width }));
  const weights = randomWeights(graph, seed);
  const x = tf.randomNormal([3, ...INPUT], 0, 1, 'float32', seed + 1);
  return { graph, weights, x, y: forward(graph, weights, x), rng };
}

function expectPreserved(c: Case, r: MorphResult, what: string): void {
  expect(r.inherit.functionPreserving, `${what}: claims function preservation`).toBe(true);
  const y = forward(r.graph, r.weights, c.x, 7);
  expect(maxDiff(c.y, y), what).toBeLessThan(1e-4);
}

const ops = (g: CheckedGraph) => g.nodes.filter((n) => n.kind === 'op') as (CheckedGraph['nodes'][number] & { kind: 'op' })[];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.each(SPACES)('morphisms on the $space.name space', ({ space, width }) => {
  const counts = { widen: 0, deepen: 0, add: 0, concat: 0, kernel: 0 };

  it.each(SEEDS)('seed %i: widen, deepen, branch and kernel enlargement preserve the function', (seed) => {
    const c = makeCase(space, width, seed);
    const all = ops(c.graph);
    // Widen (Net2WiderNet): up to two producers whose channel group can be widened.
    const producers = c.rng.shuffle(all.filter((n) => ['conv', 'sepconv', 'dense'].includes(n.op.type) && n.id !== 'head/classifier'));
    let widened = 0;
    for (const n of producers) {
      if (widened === 2) break;
      try {
        widenGroup(c.graph, n.id);
      } catch {
        continue;
      }
      const old = n.op.type === 'dense' ? n.op.units : (n.op as { filters: number }).filters;
      const r = widen(c.graph, c.weights, n.id, old + 3, { seed, split: widened === 0 ? 'equal' : 'random' });
      const child = checkGraph(r.graph);
      expect(child.shapes.get(n.id)!.at(-1)).toBe(old + 3);
      expect(r.inherit.nodes.find((x) => x.id === n.id)!.status).toBe('morphed');
      expectPreserved(c, r, `widen ${n.id}`);
      widened++;
      counts.widen++;
    }
    // Deepen (Net2DeeperNet): conv/dense + BN + ReLU after a ReLU; conv/dense + BN after anything.
    const relu = all.find((n) => n.op.type === 'act' && n.op.fn === 'relu');
    if (relu) {
      const r = deepen(c.graph, c.weights, relu.id, { bn: true, act: 'relu' });
      expect(r.inherit.nodes.filter((x) => x.status === 'identity').length).toBe(2);
      expectPreserved(c, r, `deepen after ${relu.id}`);
      counts.deepen++;
    }
    const other = c.rng.pick(all.filter((n) => n.op.type !== 'act' || n.op.fn !== 'relu'));
    const rOther = deepen(c.graph, c.weights, other.id, { bn: true, op: c.graph.shapes.get(other.id)!.length === 3 ? 'sepconv' : 'dense' });
    expectPreserved(c, rOther, `deepen after ${other.id}`);
    counts.deepen++;
    // Branches: from an earlier image node into a later one, merged by add (zeroed BN) and concat.
    const images = all.filter((n) => c.graph.shapes.get(n.id)!.length === 3);
    const order = new Map(c.graph.nodes.map((n, i) => [n.id, i]));
    for (const merge of ['add', 'concat'] as const) {
      for (let tries = 0; tries < 20; tries++) {
        const a = c.rng.pick(images);
        const b = c.rng.pick(images);
        const [from, to] = order.get(a.id)! <= order.get(b.id)! ? [a, b] : [b, a];
        const fs = c.graph.shapes.get(from.id)!;
        const ts = c.graph.shapes.get(to.id)!;
        if (fs[0]! % ts[0]! !== 0) continue;
        let r: MorphResult;
        try {
          r = addBranch(c.graph, c.weights, from.id, to.id, { merge, kernel: 3, filters: 2 });
        } catch (e) {
          if ((e as Error).name === "GraphError") continue; // e.g. a concat whose channels reach an add
          throw e;
        }
        const st = r.inherit.nodes.filter((x) => x.id.startsWith(`${to.id}/branch`)).map((x) => x.status);
        if (merge === 'add') expect(st).toContain('zeroed');
        expectPreserved(c, r, `${merge} branch ${from.id} -> ${to.id}`);
        counts[merge]++;
        break;
      }
    }
    // Kernel 3x3 -> 5x5 (zero padding).
    for (const n of all.filter((x) => (x.op.type === 'conv' || x.op.type === 'sepconv') && x.op.kernel === 3).slice(0, 2)) {
      const r = enlargeKernel(c.graph, c.weights, n.id, 5);
      expect(r.weights.get(n.id)![n.op.type === 'conv' ? 'kernel' : 'depthwise']!.shape.slice(0, 2)).toEqual([5, 5]);
      expectPreserved(c, r, `kernel ${n.id}`);
      counts.kernel++;
    }
    c.x.dispose();
  });

  it('covered every morphism', () => {
    expect(counts.widen).toBeGreaterThan(0);
    expect(counts.deepen).toBeGreaterThan(0);
    expect(counts.add).toBeGreaterThan(0);
    expect(counts.concat).toBeGreaterThan(0);
    if (space.name !== 'chain') expect(counts.kernel).toBeGreaterThan(0);
  });
});

describe('morphism guards', () => {
  it('refuse what cannot preserve the function, with messages naming the fix', () => {
    const g = checkGraph(chainSpace.decode(
      { depth: 1, layer_0_op: 'conv3x3', layer_0_width: 16, layer_0_act: 'relu', layer_0_bn: true, layer_0_dropout: 0, head: 'gap' },
      { inputShape: INPUT, numClasses: 3 },
    ));
    const w = randomWeights(g, 0);
    expect(() => widen(g, w, 'head/classifier', 5)).toThrow(/network output/);
    expect(() => widen(g, w, 'layer0/conv3x3', 8)).toThrow(/>= 16/);
    expect(() => widen(g, w, 'layer0/bn', 20)).toThrow(/no width/);
    expect(() => enlargeKernel(g, w, 'layer0/conv3x3', 4)).toThrow(/even step/);
    // A ReLU after a node that can be negative is not an identity: the result says so.
    expect(deepen(g, w, 'layer0/bn', { act: 'relu' }).inherit.functionPreserving).toBe(false);
  });
});
