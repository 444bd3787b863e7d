import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, modelParamCounts } from '../../src/nn/builder.js';
import { countCost } from '../../src/nn/cost.js';
import { ARCH_SPACES, type ArchGraph, type ArchSpace, checkGraph, GraphError } from '../../src/space/arch/index.js';
import { sampleSpace, SpaceError, validateParams } from '../../src/space/params.js';
import { Rng } from '../../src/util/rng.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const IMAGE = { inputShape: [16, 16, 3], numClasses: 7 };
const FLAT = { inputShape: [12], numClasses: 3 };
const cases: [string, typeof IMAGE][] = [
  ['chain', IMAGE],
  ['chain-flat', FLAT],
  ['dag', IMAGE],
  ['cell', IMAGE],
  ['nb201', IMAGE],
];

function opCount(g: ArchGraph, type: string): number {
  return g.nodes.filter((n) => n.kind === 'op' && n.op.type === type).length;
}

describe.each(cases)('space %s', (name, io) => {
  const arch: ArchSpace = ARCH_SPACES[name]!;

  it('decodes 40 seeded random configurations into valid graphs with a flat [numClasses] output', () => {
    const rng = new Rng(`decode-${name}`);
    const sizes = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const params = sampleSpace(arch.space, rng);
      validateParams(arch.space, params);
      const g = checkGraph(arch.decode(params, { ...io, width: 0.5, cells: 1 }));
      expect(g.shapes.get(g.outputId)).toEqual([io.numClasses]);
      const c = countCost(g);
      expect(c.trainableParams).toBeGreaterThan(0);
      expect(c.flops).toBeGreaterThan(0);
      sizes.add(c.trainableParams);
    }
    // The space really varies the architecture.
    expect(sizes.size).toBeGreaterThan(5);
  });

  it('builds 8 tf models whose output is [batch, numClasses] and whose weights match countCost', () => {
    const rng = new Rng(`build-${name}`);
    for (let i = 0; i < 8; i++) {
      const params = sampleSpace(arch.space, rng);
      const g = arch.decode(params, { ...io, width: 0.5, cells: 1 });
      const cost = countCost(g);
      const model = buildModel(g);
      const counts = modelParamCounts(model);
      expect(counts.trainable).toBe(cost.trainableParams);
      expect(counts.nonTrainable).toBe(cost.nonTrainableParams);
      expect(counts.total).toBe(cost.totalParams);
      const x = tf.randomNormal([2, ...io.inputShape], 0, 1, 'float32', 7);
      const y = model.predict(x) as tf.Tensor;
      expect(y.shape).toEqual([2, io.numClasses]);
      expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
      tf.dispose([x, y]);
      model.dispose();
    }
  });
});

describe('space details', () => {
  it('chain: layer params are conditional on depth and op; width multiplier scales units', () => {
    const chain = ARCH_SPACES.chain!;
    const params = {
      depth: 2,
      layer_0_op: 'conv3x3', layer_0_width: 32, layer_0_act: 'relu', layer_0_bn: true, layer_0_dropout: 0,
      layer_1_op: 'maxpool3x3', layer_1_dropout: 0.2,
      head: 'gap',
    };
    validateParams(chain.space, params);
    expect(() => validateParams(chain.space, { ...params, layer_1_width: 16 })).toThrow(/layer_1_width: not active/);
    expect(() => validateParams(chain.space, { ...params, layer_2_op: 'dense' })).toThrow(/layer_2_op: not active/);
    const g = checkGraph(chain.decode(params, { inputShape: [8, 8, 3], numClasses: 5 }));
    // conv3x3 3->32 no bias (BN follows) 864 + BN gamma/beta 64 + classifier 32*5+5.
    expect(countCost(g).trainableParams).toBe(864 + 64 + 165);
    expect(g.shapes.get('layer1/maxpool3x3')).toEqual([4, 4, 32]);
    expect(opCount(g, 'dropout')).toBe(1);
    const half = checkGraph(chain.decode(params, { inputShape: [8, 8, 3], numClasses: 5, width: 0.5 }));
    expect(half.shapes.get('layer0/conv3x3')).toEqual([8, 8, 16]);
  });

  it('chain: dense on an image acts per pixel (like a 1x1 conv); flatten head; save/load keeps the model', async () => {
    const chain = ARCH_SPACES.chain!;
    const params = {
      depth: 2,
      layer_0_op: 'dense', layer_0_width: 16, layer_0_act: 'swish', layer_0_bn: false, layer_0_dropout: 0,
      layer_1_op: 'avgpool3x3', layer_1_dropout: 0,
      head: 'flatten',
    };
    const g = checkGraph(chain.decode(params, { inputShape: [6, 6, 3], numClasses: 2 }));
    expect(g.shapes.get('layer0/dense')).toEqual([6, 6, 16]);
    expect(g.shapes.get('head/flatten')).toEqual([3 * 3 * 16]);
    const c = countCost(g);
    expect(c.trainableParams).toBe(3 * 16 + 16 + 144 * 2 + 2);
    expect(c.flops).toBe(36 * (3 * 16 + 16) + 144 * 2 + 2);
    const m = buildModel(g);
    expect(m.countParams()).toBe(c.totalParams);
    let saved: tf.io.ModelArtifacts | undefined;
    await m.save(tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const m2 = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const x = tf.randomNormal([3, 6, 6, 3], 0, 1, 'float32', 5);
    const d = (m.predict(x) as tf.Tensor).sub(m2.predict(x) as tf.Tensor).abs().max().dataSync()[0];
    expect(d).toBe(0);
  });

  it('chain (image) rejects flat input and points to chain-flat', () => {
    const chain = ARCH_SPACES.chain!;
    const params = sampleSpace(chain.space, new Rng(1));
    expect(() => chain.decode(params, { inputShape: [10], numClasses: 2 })).toThrow(SpaceError);
    expect(() => chain.decode(params, { inputShape: [10], numClasses: 2 })).toThrow(/use the chain-flat space/);
  });

  it('chain-flat: dense/identity only; dense 12->64 relu then classifier', () => {
    const flat = ARCH_SPACES['chain-flat']!;
    expect(flat.space.params.layer_0_op).toMatchObject({ choices: ['dense', 'identity'] });
    const g = flat.decode(
      { depth: 1, layer_0_op: 'dense', layer_0_width: 64, layer_0_act: 'tanh', layer_0_bn: false, layer_0_dropout: 0.1 },
      FLAT,
    );
    const c = countCost(g);
    expect(c.trainableParams).toBe(12 * 64 + 64 + 64 * 3 + 3);
    expect(c.flops).toBe(12 * 64 + 64 + 64 * 3 + 3);
  });

  it('dag: skip connections merge by add (then BN) or concat (then 1x1 conv); pooling positions', () => {
    const dag = ARCH_SPACES.dag!;
    const params: Record<string, string | number | boolean> = { num_layers: 3, filters: 16 };
    for (let i = 0; i < 3; i++) {
      params[`layer_${i}_op`] = 'identity';
      for (let k = 0; k < i; k++) params[`layer_${i}_skip_${k}`] = k === 0;
      if (i > 0) params[`layer_${i}_merge`] = i === 1 ? 'add' : 'concat';
    }
    const g = checkGraph(dag.decode(params, { inputShape: [16, 16, 3], numClasses: 4 }));
    expect(g.nodes.filter((n) => n.kind === 'merge').map((n) => (n.kind === 'merge' ? n.mode : ''))).toEqual(['add', 'concat']);
    // reduction after layer round(3/3)-1 = 0 and round(6/3)-1 = 1: 16 -> 8 -> 4.
    expect(g.shapes.get('layer2/concat')).toEqual([4, 4, 32]);
    // stem 3*3*3*16 + 32; layer1 bn 32; layer2 1x1 conv 32->16 + bn 32; classifier 16*4+4.
    expect(countCost(g).trainableParams).toBe(432 + 32 + 32 + 512 + 32 + 68);
  });

  it('cell: cells_per_stage and the cells override change depth; unread cell outputs are pruned', () => {
    const cell = ARCH_SPACES.cell!;
    const params = sampleSpace(cell.space, new Rng('cell-detail'));
    const g1 = checkGraph(cell.decode(params, { ...IMAGE, cells: 1 }));
    const g2 = checkGraph(cell.decode(params, { ...IMAGE, cells: 2 }));
    const cellsOf = (g: ReturnType<typeof checkGraph>) => new Set(g.nodes.map((n) => n.id.split('/')[0]).filter((s) => s!.startsWith('cell'))).size;
    expect(cellsOf(g1)).toBe(5);
    const own = checkGraph(cell.decode({ ...params, cells_per_stage: 3 }, IMAGE));
    expect(cellsOf(own)).toBe(11);
    expect(cellsOf(g2)).toBe(8);
    expect(g1.shapes.get(g1.nodes.find((n) => n.kind === 'output')!.id)).toEqual([7]);
    // Normal cells that read only node outputs and input 0 leave the previous cell's output unread.
    const p2 = { ...params };
    for (let b = 0; b < 4; b++) {
      p2[`normal_${b}_in0`] = 0;
      p2[`normal_${b}_in1`] = 0;
    }
    const g3 = checkGraph(cell.decode(p2, { ...IMAGE, cells: 2 }));
    expect(g3.nodes.some((n) => n.id.startsWith('cell2_normal'))).toBe(false); // last cell, nothing reads it
  });
});

describe('decode errors', () => {
  it('rejects configurations outside the space', () => {
    expect(() => ARCH_SPACES.nb201!.decode({ edge_1_0: 'conv9' }, IMAGE)).toThrow(SpaceError);
    expect(() => ARCH_SPACES.dag!.decode({}, IMAGE)).toThrow(/num_layers: missing/);
  });
  it('rejects image-only spaces on flat input with a GraphError or SpaceError naming the fix', () => {
    for (const name of ['dag', 'cell']) {
      const s = ARCH_SPACES[name]!;
      const p = sampleSpace(s.space, new Rng(3));
      expect(() => s.decode(p, FLAT)).toThrow(/not an image \[H,W,C\]; use chain-flat/);
    }
    expect(GraphError).toBeDefined();
  });
});
