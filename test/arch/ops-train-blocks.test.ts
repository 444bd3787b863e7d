/**
 * Every op of the arch spaces, as the decoders emit it (GraphBuilder blocks -> buildModel), trains
 * on the backend CI uses (wasm with the training-kernel pack). Model: input [8,8,2] -> a trainable
 * 1x1 conv -> THE OP -> global average pooling -> a FROZEN linear classifier. The only trainable
 * weights sit before the op (and in the op), so the loss can only fall if the op passes gradients
 * back correctly. Task: the sign of a shift of channel 0 against channel 1 (learnable through every op).
 * (Raw tfjs layer gradients are checked numerically in test/nn; this covers the space-level blocks,
 * merges and the builder.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/nn/backend.js';
import { buildModel } from '../../src/nn/builder.js';
import { withSeededMathRandom } from '../../src/estimate/train.js';
import { GraphBuilder, type OpSpec } from '../../src/space/arch/index.js';
import { cellOp, CELL_OPS } from '../../src/space/arch/cell.js';
import { nb201Cell, resnetReduction, NB201_OPS, type Nb201Op } from '../../src/space/arch/nb201.js';
import { Rng } from '../../src/util/rng.js';

const N = 32;
const STEPS = 30;

type Block = (b: GraphBuilder, x: string) => string;

/** Label l in {0, 1}; channel 0 is shifted by +-0.5 and channel 1 by -+0.5 on top of N(0, 1) noise. */
function toyData(seed: number, shape: number[]): { x: tf.Tensor; y: tf.Tensor } {
  const rng = new Rng(seed);
  const per = shape.reduce((a, b) => a * b, 1);
  const xs = new Float32Array(N * per);
  const ys = new Float32Array(N * 2);
  const c = shape[shape.length - 1]!;
  for (let i = 0; i < N; i++) {
    const l = i % 2;
    const shift = l === 1 ? 0.5 : -0.5;
    for (let j = 0; j < per; j++) xs[i * per + j] = rng.normal() + (j % c === 0 ? shift : j % c === 1 ? -shift : 0);
    ys[i * 2 + l] = 1;
  }
  return { x: tf.tensor(xs, [N, ...shape]), y: tf.tensor(ys, [N, 2]) };
}

/** Trains the probe model around `block`; returns the losses and how much the pre-op conv moved. */
function probe(block: Block, opts: { flat?: boolean; seed?: number; lr?: number } = {}): { losses: number[]; preMoved: number } {
  const shape = opts.flat ? [6] : [8, 8, 2];
  const b = new GraphBuilder();
  let x = b.input('input', shape);
  x = opts.flat
    ? b.op('pre', { type: 'dense', units: 4, bias: true }, x)
    : b.op('pre', { type: 'conv', filters: 4, kernel: 1, bias: true }, x);
  x = block(b, x);
  if (b.shape(x).length === 3) x = b.op('head/gap', { type: 'gap' }, x);
  x = b.op('head/classifier', { type: 'dense', units: 2, bias: true }, x);
  b.output(x);
  const model = withSeededMathRandom(new Rng(opts.seed ?? 1), () => buildModel(b.build()));
  model.getLayer('n_head_classifier').trainable = false;
  const pre = model.getLayer('n_pre').getWeights()[0]!.dataSync().slice();
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { x: xs, y } = toyData(2, shape);
  const opt = tf.train.adam(opts.lr ?? 0.03);
  const losses: number[] = [];
  try {
    for (let i = 0; i < STEPS; i++) {
      const l = withSeededMathRandom(new Rng(100 + i), () =>
        tf.tidy(() =>
          (opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar, true, vars) as tf.Scalar)
            .dataSync()[0]!,
        ),
      );
      losses.push(l);
    }
    const after = model.getLayer('n_pre').getWeights()[0]!.dataSync();
    let moved = 0;
    for (let i = 0; i < pre.length; i++) moved = Math.max(moved, Math.abs(after[i]! - pre[i]!));
    return { losses, preMoved: moved };
  } finally {
    model.dispose();
    opt.dispose();
    tf.dispose([xs, y]);
  }
}

function expectLearns(block: Block, opts: { flat?: boolean; seed?: number; lr?: number } = {}): void {
  const before = tf.memory().numTensors;
  const { losses, preMoved } = probe(block, opts);
  expect(losses.every(Number.isFinite)).toBe(true);
  const first = losses[0]!;
  const last = Math.min(...losses.slice(-3));
  expect(last, `loss ${first.toFixed(4)} -> ${last.toFixed(4)}`).toBeLessThan(0.7 * first);
  // Gradients reached the layer before the op.
  expect(preMoved).toBeGreaterThan(1e-3);
  expect(tf.memory().numTensors).toBe(before);
}

const op = (o: OpSpec): Block => (b, x) => b.op('op', o, x);
const seq = (...ops: OpSpec[]): Block => (b, x) => b.seq('op', x, ops.map((o, i) => [`${i}`, o] as [string, OpSpec]));

beforeAll(async () => {
  expect(await initBackend({ backend: 'wasm' })).toBe('wasm');
});

describe('chain-space ops train through the builder (wasm + pack)', () => {
  const cases: [string, Block][] = [
    ['dense (per pixel on an image)', op({ type: 'dense', units: 4 })],
    ['conv3x3', op({ type: 'conv', filters: 4, kernel: 3, padding: 'same', bias: true })],
    ['conv5x5', op({ type: 'conv', filters: 4, kernel: 5, padding: 'same', bias: true })],
    ['sepconv3x3', op({ type: 'sepconv', filters: 4, kernel: 3, padding: 'same', bias: true })],
    ['maxpool3x3 stride 2', op({ type: 'pool', mode: 'max', size: 3, stride: 2, padding: 'same' })],
    ['avgpool3x3 stride 2', op({ type: 'pool', mode: 'avg', size: 3, stride: 2, padding: 'same' })],
    ['identity', op({ type: 'identity' })],
    ['batch norm', seq({ type: 'conv', filters: 4, kernel: 3 }, { type: 'bn' })],
    ['dropout 0.3', op({ type: 'dropout', rate: 0.3 })],
    ['flatten', op({ type: 'flatten' })],
  ];
  for (const a of ['relu', 'elu', 'tanh', 'selu', 'swish'] as const) {
    cases.push([`conv3x3 + BN + ${a}`, seq({ type: 'conv', filters: 4, kernel: 3 }, { type: 'bn' }, { type: 'act', fn: a })]);
  }
  for (const [name, block] of cases) it(name, () => expectLearns(block));
  it('dense on flat input', () => expectLearns(seq({ type: 'dense', units: 8 }, { type: 'act', fn: 'relu' }), { flat: true }));
});

describe('DAG-space blocks and merges', () => {
  it('ReLU-Conv5x5-BN and ReLU-SepConv5x5-BN', () => {
    expectLearns((b, x) => b.reluConvBn('a', x, 4, 5));
    expectLearns(seq({ type: 'act', fn: 'relu' }, { type: 'sepconv', filters: 4, kernel: 5 }, { type: 'bn' }));
  });
  it('maxpool/avgpool 3x3 stride 1', () => {
    expectLearns(op({ type: 'pool', mode: 'max', size: 3, stride: 1, padding: 'same' }));
    expectLearns(op({ type: 'pool', mode: 'avg', size: 3, stride: 1, padding: 'same' }));
  });
  it('add merge (then BN) of a conv branch and a skip', () => {
    expectLearns((b, x) => b.op('bn', { type: 'bn' }, b.merge('add', 'add', [b.reluConvBn('c', x, 4, 3), x])));
  });
  it('concat merge then ReLU-Conv1x1-BN back to C channels', () => {
    expectLearns((b, x) => b.reluConvBn('mix', b.merge('cat', 'concat', [b.reluConvBn('c', x, 4, 3), x]), 4, 1));
  });
  it('add of the same tensor twice (the builder routes the repeat through a linear layer)', () => {
    expectLearns((b, x) => b.merge('add', 'add', [b.op('s1', { type: 'identity' }, x), b.op('s2', { type: 'identity' }, x)]));
  });
});

describe('cell-space ops (DARTS), at stride 1 and 2', () => {
  for (const name of CELL_OPS) {
    for (const stride of [1, 2]) {
      it(`${name} stride ${stride}`, () => expectLearns((b, x) => cellOp(b, 'e', name, x, 4, stride)));
    }
  }
});

describe('NAS-Bench-201 ops inside the real cell wiring', () => {
  const uniform = (o: Nb201Op): Nb201Op[] => new Array(6).fill(o);
  for (const o of NB201_OPS.filter((o) => o !== 'none')) {
    it(`cell with every edge ${o}`, () => expectLearns((b, x) => nb201Cell(b, 'cell', uniform(o), x)));
  }
  it('none edges (zeros) next to conv edges', () => {
    const ops: Nb201Op[] = ['nor_conv_3x3', 'none', 'none', 'none', 'skip_connect', 'none'];
    expectLearns((b, x) => nb201Cell(b, 'cell', ops, x));
  });
  it('ResNet reduction block between stages', () => expectLearns((b, x) => resnetReduction(b, 'red', x, 8)));
});

describe('the probe tells a blocked gradient', () => {
  it('a lone zero op (no gradient to the layer before it) does not learn', () => {
    const { losses, preMoved } = probe(op({ type: 'zero' }));
    expect(preMoved).toBe(0);
    expect(Math.min(...losses.slice(-3))).toBeGreaterThan(0.95 * losses[0]!);
  });
});
