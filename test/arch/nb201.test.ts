import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkRows, readCostRows, type CostRow } from '../../bench/check-nb201-cost.js';
import { buildModel, modelParamCounts } from '../../src/nn/builder.js';
import { countCost } from '../../src/nn/cost.js';
import { GraphBuilder } from '../../src/space/arch/blocks.js';
import {
  decodeNb201, nb201Cell, type Nb201Op, nb201ArchSpace, nb201ArchString, nb201ConfigId, NB201_EDGE_NAMES, parseNb201Arch,
} from '../../src/space/arch/nb201.js';
import { SpaceError } from '../../src/space/params.js';
import { gridSize } from '../../src/space/grid.js';
import { Rng } from '../../src/util/rng.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const CIFAR = { inputShape: [32, 32, 3], numClasses: 10 };
const arch = (ops: string[]) => Object.fromEntries(NB201_EDGE_NAMES.map((n, k) => [n, ops[k]!]));
const all = (op: string) => arch(Array(6).fill(op));

describe('nb201 space', () => {
  it('has 15,625 configurations and round-trips arch strings', () => {
    expect(gridSize(nb201ArchSpace.space)).toBe(15625);
    const s = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|';
    const p = parseNb201Arch(s);
    expect(p).toEqual(arch(['nor_conv_3x3', 'nor_conv_3x3', 'avg_pool_3x3', 'skip_connect', 'nor_conv_3x3', 'none']));
    expect(nb201ArchString(p)).toBe(s);
    expect(nb201ConfigId(p)).toBe('334130');
    expect(() => parseNb201Arch('|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|')).toThrow(/not an NB201 op/);
    expect(() => parseNb201Arch('|none~1|+|none~0|none~1|+|none~0|none~1|none~2|')).toThrow(/must have source ~0/);
    expect(() => nb201ArchSpace.decode({ ...all('none'), edge_9_0: 'none' }, CIFAR)).toThrow(SpaceError);
  });

  it('counts by hand: skeleton 73,306 params / 7.78305 MFLOPs; +28,000 per 1x1 and +243,040 per 3x3 edge', () => {
    const base = countCost(decodeNb201(all('none'), CIFAR));
    expect(base.trainableParams).toBe(73306);
    expect(base.flops).toBe(7783050);
    // none, skip and avg pool are parameter- and FLOP-free, wherever they sit.
    for (const op of ['skip_connect', 'avg_pool_3x3']) expect(countCost(decodeNb201(all(op), CIFAR)).trainableParams).toBe(73306);
    // 5 cells x (C^2 + 2C) over C = 16, 32, 64; convs count even when their node feeds only 'none' edges.
    const dead1x1 = countCost(decodeNb201(arch(['nor_conv_1x1', 'none', 'none', 'none', 'none', 'none']), CIFAR));
    expect(dead1x1.trainableParams - 73306).toBe(5 * (16 * 16 + 32 + 32 * 32 + 64 + 64 * 64 + 128));
    expect(dead1x1.flops - 7783050).toBe(5 * (1024 * 256 + 256 * 1024 + 64 * 4096));
    expect(countCost(decodeNb201(all('nor_conv_3x3'), CIFAR)).trainableParams).toBe(73306 + 6 * 243040);
    expect(countCost(decodeNb201(all('none'), { ...CIFAR, numClasses: 100 })).trainableParams).toBe(73306 + 64 * 90 + 90);
  });

  it('the really built tf model (C=16, N=5) has exactly the counted trainable weights', () => {
    for (const s of [
      '|nor_conv_1x1~0|+|none~0|none~1|+|avg_pool_3x3~0|none~1|none~2|',
      '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|',
      '|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|',
    ]) {
      const g = decodeNb201(parseNb201Arch(s), CIFAR);
      const m = buildModel(g);
      const c = countCost(g);
      expect(modelParamCounts(m)).toEqual({ trainable: c.trainableParams, nonTrainable: c.nonTrainableParams, total: c.totalParams });
      m.dispose();
    }
    expect(countCost(decodeNb201(parseNb201Arch('|nor_conv_1x1~0|+|none~0|none~1|+|avg_pool_3x3~0|none~1|none~2|'), CIFAR)).trainableParams).toBe(101306);
  });

  it('cell semantics: node j sums op(node i) over its incoming edges; the cell outputs node 3', () => {
    const run = (ops: string[]) => {
      const b = new GraphBuilder();
      const x = nb201Cell(b, 'c', ops as Nb201Op[], b.input('in', [2, 2, 1]));
      b.output(b.op('flat', { type: 'flatten' }, x));
      const m = buildModel(b.build());
      const y = Array.from((m.predict(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1])) as tf.Tensor).dataSync());
      m.dispose();
      return y;
    };
    const [n, s] = ['none', 'skip_connect'];
    expect(run([s, s, s, s, s, s])).toEqual([4, 8, 12, 16]); // n1 = x, n2 = 2x, n3 = x + x + 2x
    expect(run([n, n, n, s, n, n])).toEqual([1, 2, 3, 4]); // edge_3_0 only
    expect(run([n, s, n, n, n, s])).toEqual([1, 2, 3, 4]); // edge_2_0 then edge_3_2
    expect(run([n, n, s, n, n, s])).toEqual([0, 0, 0, 0]); // node 1 is zero, so is node 2
    expect(run([s, n, n, n, s, n])).toEqual([1, 2, 3, 4]); // edge_1_0 then edge_3_1
    // avg pool 3x3 (padding excluded) on a 2x2 input is the mean everywhere.
    expect(run([n, n, n, 'avg_pool_3x3', n, n])).toEqual([2.5, 2.5, 2.5, 2.5]);
  });

  it('fidelity knobs: width 0.5 and 1 cell per stage shrink the network and still output [batch, classes]', () => {
    const p = parseNb201Arch('|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|');
    const small = decodeNb201(p, { ...CIFAR, width: 0.5, cells: 1 });
    expect(countCost(small).trainableParams).toBeLessThan(countCost(decodeNb201(p, CIFAR)).trainableParams / 10);
    const m = buildModel(small);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 1);
    expect((m.predict(x) as tf.Tensor).shape).toEqual([2, 10]);
    m.dispose();
  });
});

describe('NAS-Bench-201 tables (shipped in data/nb201)', () => {
  for (const [dataset, classes] of [['cifar10', 10], ['cifar100', 100]] as const) {
    const file = `nb201_${dataset}`;
    it(`${file}: 600 seeded rows match n_params_mb (1e-6) and flops_m (1e-3)`, () => {
      const rows: CostRow[] = readCostRows(dataset);
      expect(rows.length).toBe(15625);
      const sample = new Rng(`nb201-${file}`).sampleIndices(rows.length, 600).map((i) => rows[i]!);
      const r = checkRows(sample, classes);
      expect(r.examples).toEqual([]);
      expect(r).toMatchObject({ checked: 600, param_mismatches: 0, flop_mismatches: 0 });
      // A wrong class count must show up as mismatches (the check can fail).
      expect(checkRows(sample.slice(0, 20), classes === 10 ? 100 : 10).param_mismatches).toBe(20);
    });
  }
});
