/**
 * The Winograd convolutions F(4x4,3x3) and F(2x2,3x3) (asm/winograd4.ts, asm/winograd.ts via
 * conv-forward.ts; each shape runs both) on wasm: the forward
 * Conv2D and the stride-1 input gradient (Conv2DBackpropInput) against the cpu backend's reference
 * kernels and against finite differences, on shapes that hit every path: odd and non-square sizes
 * (tiles past the bottom/right edge), 'same' / 'valid' / explicit padding (tiles reading the
 * padding), channel counts not multiples of 4 (input-transform tails) or 8 (GEMM panels, output
 * tails), several blocks of 32 tiles with a partial last one; the direct kernel of first layers
 * (1-3 input channels: overlapping edge blocks); and the stock fallbacks (stride 2, 5x5, outputs
 * narrower than 4 or with fewer than 8 channels after 1-3 input channels).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/nn/backend.js';
import { tileFor, winogradConv2d } from '../../src/nn/kernels/conv-forward.js';
import { StockKernels, withExec } from '../../src/nn/kernels/exec.js';
import { Rng } from '../../src/util/rng.js';
import { randn, relErr } from '../helpers/arrays.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];


const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

async function run(
  backend: string, kernel: string, inputs: Record<string, [Float32Array, number[]]>, attrs: object, shape: number[],
): Promise<Float32Array> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const ins: Record<string, tf.Tensor> = {};
    for (const [k, [v, s]] of Object.entries(inputs)) ins[k] = tf.tensor(v, s);
    const out = tf.engine().runKernel(kernel, ins, attrs as tf.NamedAttrMap) as tf.Tensor;
    expect(out.shape).toEqual(shape);
    return out.dataSync() as Float32Array;
  });
}


async function checkShape(seed: number, xShape: number[], fShape: number[], strides: number, pad: Pad): Promise<void> {
  const rng = new Rng(seed);
  const info = tf.backend_util.computeConv2DInfo(xShape as Shape4, fShape as Shape4, strides, 1, pad as 'same');
  const yShape = [xShape[0]!, info.outHeight, info.outWidth, fShape[3]!];
  const x = randn(rng, size(xShape));
  const w = randn(rng, size(fShape));
  const dy = randn(rng, size(yShape));
  const attrs = { strides, pad, dataFormat: 'NHWC', dilations: 1 };

  // Forward.
  const fwd = async (b: string) => run(b, 'Conv2D', { x: [x, xShape], filter: [w, fShape] }, attrs, yShape);
  const y = await fwd('wasm');
  expect(relErr(y, await fwd('cpu')), 'Conv2D wasm vs cpu').toBeLessThan(1e-4);

  // Input gradient.
  const bwd = async (b: string) => run(b, 'Conv2DBackpropInput', { dy: [dy, yShape], filter: [w, fShape] },
    { ...attrs, inputShape: xShape }, xShape);
  const dx = await bwd('wasm');
  expect(relErr(dx, await bwd('cpu')), 'Conv2DBackpropInput wasm vs cpu').toBeLessThan(1e-4);

  // Both tile sizes on the same data, whichever the kernel picked (3x3 stride 1, >= 4 channels).
  if (strides === 1 && fShape[0] === 3 && fShape[2]! >= 4) {
    await tf.setBackend('wasm');
    for (const tile of [2, 4] as const) {
      const got = tf.tidy(() => {
        const out = withExec(tf.backend(), new StockKernels('wasm'), (e) => winogradConv2d(e,
          tf.tensor(x, xShape), tf.tensor(w, fShape), info.padInfo.top, info.padInfo.left, info.outHeight,
          info.outWidth, { tile }));
        return tf.engine().makeTensorFromTensorInfo(out).dataSync() as Float32Array;
      });
      expect(relErr(got, y), `F(${tile}x${tile},3x3) vs the Conv2D kernel`).toBeLessThan(1e-4);
    }
  }

  // Finite differences on wasm: sum(conv2d(x, w) * dy) is linear in x (and in w), so its central
  // difference along v is <dx, v>; and the forward is checked against the same linear form in w.
  await tf.setBackend('wasm');
  const loss = (xv: Float32Array) => tf.tidy(() => {
    const out = tf.conv2d(tf.tensor4d(xv, xShape as Shape4), tf.tensor4d(w, fShape as Shape4), strides, pad as 'same');
    return tf.sum(tf.mul(out, tf.tensor(dy, yShape))).dataSync()[0]!;
  });
  const v = randn(rng, x.length);
  const eps = 0.5;
  const plus = loss(x.map((a, i) => a + eps * v[i]!));
  const minus = loss(x.map((a, i) => a - eps * v[i]!));
  let dot = 0;
  let scale = 0;
  for (let i = 0; i < v.length; i++) {
    dot += dx[i]! * v[i]!;
    scale += Math.abs(dx[i]! * v[i]!);
  }
  expect(Math.abs((plus - minus) / (2 * eps) - dot) / scale, 'finite difference').toBeLessThan(1e-4);
}

/** tf.fused.conv2d (no gradient tape: the FusedConv2D kernel) on wasm vs cpu, every variant. */
async function checkFused(rng: Rng, ci: number): Promise<void> {
  const xShape: Shape4 = [3, 7, 6, ci];
  const fShape: Shape4 = [3, 3, ci, 11];
  const x = randn(rng, size(xShape));
  const w = randn(rng, size(fShape));
  const b = randn(rng, 11);
  const alpha = randn(rng, 11);
  // bias: 'b' = [11], 'b4' = [1, 1, 1, 11]; preluActivationWeights: 'a' = [11].
  const variants: [string, Record<string, string>][] = [
    ['bias + relu', { bias: 'b', activation: 'relu' }],
    ['bias + linear', { bias: 'b', activation: 'linear' }],
    ['no bias + relu', { activation: 'relu' }],
    ['bias [1,1,1,11] + relu', { bias: 'b4', activation: 'relu' }],
    ['bias + elu (stock)', { bias: 'b', activation: 'elu' }],
    ['prelu (stock)', { bias: 'b', activation: 'prelu', preluActivationWeights: 'a' }],
    ['valid padding', { bias: 'b', activation: 'relu', pad: 'valid' }],
  ];
  for (const [name, cfg] of variants) {
    const outs: Float32Array[] = [];
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend);
      outs.push(tf.tidy(() => tf.fused.conv2d({
        x: tf.tensor4d(x, xShape), filter: tf.tensor4d(w, fShape), strides: 1,
        pad: (cfg.pad as 'valid' | undefined) ?? 'same',
        bias: cfg.bias === 'b' ? tf.tensor1d(b) : cfg.bias === 'b4' ? tf.tensor4d(b, [1, 1, 1, 11]) : undefined,
        activation: cfg.activation as 'relu',
        preluActivationWeights: cfg.preluActivationWeights ? tf.tensor1d(alpha) : undefined,
      }).dataSync() as Float32Array));
    }
    expect(relErr(outs[0]!, outs[1]!), `${name}, ${ci} input channels`).toBeLessThan(1e-4);
    if (name.includes('relu') && !name.includes('prelu')) expect(outs[0]!.some((a) => a === 0), name).toBe(true);
  }
}

beforeAll(async () => {
  expect(await initBackend({ backend: 'wasm' })).toBe('wasm');
});

describe('SIMD 3x3 stride-1 convolutions (Winograd F(4x4)/F(2x2), direct for 1-3 channels): forward and input gradient', () => {
  // [x shape, filter shape, strides, pad]
  const cases: [number[], number[], number, Pad][] = [
    [[2, 8, 8, 4], [3, 3, 4, 8], 1, 'same'], // whole tiles, one panel
    [[2, 7, 9, 5], [3, 3, 5, 3], 1, 'same'], // odd sizes: last tile row/column half outside; ci, co tails
    [[3, 9, 4, 7], [3, 3, 7, 13], 1, 'valid'], // valid: odd output 7x2; co = 8 + 5
    [[2, 6, 5, 8], [3, 3, 8, 12], 1, [[0, 0], [2, 0], [1, 2], [0, 0]]], // explicit asymmetric padding
    [[2, 5, 5, 6], [3, 3, 6, 4], 1, 2], // numeric pad 2 (output 7x7, tiles reading only padding)
    [[1, 1, 1, 4], [3, 3, 4, 4], 1, 'same'], // one pixel: a tile of mostly padding
    [[1, 3, 3, 4], [3, 3, 4, 9], 1, 'valid'], // a single output pixel
    [[5, 11, 13, 12], [3, 3, 12, 20], 1, 'same'], // 210 tiles: 7 blocks of 32, partial last block
    [[2, 9, 9, 3], [3, 3, 3, 8], 1, 'same'], // 3 input channels: direct forward, Winograd input gradient
    [[2, 7, 6, 1], [3, 3, 1, 13], 1, 'same'], // direct, 1 channel: overlapping channel (8 + 5) and pixel blocks
    [[3, 6, 9, 2], [3, 3, 2, 8], 1, [[0, 0], [0, 2], [2, 1], [0, 0]]], // direct, explicit asymmetric padding
    [[2, 7, 5, 3], [3, 3, 3, 16], 1, 'valid'], // direct, output 5x3 (< 4 wide): stock forward
    [[2, 6, 6, 3], [3, 3, 3, 4], 1, 'same'], // 4 output channels (< 8): stock forward
    [[2, 9, 9, 8], [3, 3, 8, 2], 1, 'same'], // 2 output channels: Winograd forward, stock input gradient
    [[2, 9, 8, 6], [3, 3, 6, 8], 2, 'same'], // stride 2: stock forward, sub-pixel input gradient
    [[2, 9, 8, 6], [5, 5, 6, 8], 1, 'same'], // 5x5: stock
  ];
  for (const [i, [xs, fs, s, pad]] of cases.entries()) {
    it(`x ${xs.join('x')} filter ${fs.join('x')} stride ${s} pad ${JSON.stringify(pad)}`, async () => {
      await checkShape(100 + i, xs, fs, s, pad);
    });
  }

  it('tile choice: F(4x4) unless its edge tiles waste the gain', () => {
    expect(tileFor(14, 14)).toBe(4);
    expect(tileFor(16, 16)).toBe(4);
    expect(tileFor(8, 8)).toBe(4);
    expect(tileFor(7, 7)).toBe(4);
    expect(tileFor(6, 6)).toBe(2);
    expect(tileFor(5, 5)).toBe(2);
    expect(tileFor(2, 30)).toBe(2);
  });

  it('an empty batch gives an empty output', async () => {
    const y = await run('wasm', 'Conv2D', { x: [new Float32Array(0), [0, 5, 5, 4]], filter: [new Float32Array(144), [3, 3, 4, 4]] },
      { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 }, [0, 5, 5, 4]);
    expect(y.length).toBe(0);
  });

  it('FusedConv2D: bias and relu fused, other activations and PReLU weights on the stock kernel', async () => {
    await checkFused(new Rng(9), 5); // Winograd
    await checkFused(new Rng(10), 3); // direct
  });

  it('FusedConv2D with a linear activation under a gradient tape: gradients match cpu', async () => {
    const rng = new Rng(11);
    const xShape: Shape4 = [2, 9, 7, 6];
    const fShape: Shape4 = [3, 3, 6, 10];
    const x = randn(rng, size(xShape));
    const w = randn(rng, size(fShape));
    const b = randn(rng, 10);
    const grads: Float32Array[][] = [];
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend);
      grads.push(tf.tidy(() => {
        const f = (xt: tf.Tensor4D, wt: tf.Tensor4D, bt: tf.Tensor1D) =>
          tf.sum(tf.square(tf.fused.conv2d({ x: xt, filter: wt, bias: bt, strides: 1, pad: 'same' })));
        const g = tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([tf.tensor4d(x, xShape), tf.tensor4d(w, fShape), tf.tensor1d(b)]);
        return g.map((t) => t.dataSync() as Float32Array);
      }));
    }
    for (let i = 0; i < 3; i++) expect(relErr(grads[0]![i]!, grads[1]![i]!), `gradient ${i}`).toBeLessThan(1e-4);
  });

  it('large magnitudes and a constant input keep their relative accuracy (float32 transforms)', async () => {
    // F(2x2,3x3)'s transforms only add, subtract and halve: no growth beyond a few ulps.
    const rng = new Rng(7);
    const xShape = [2, 10, 10, 16];
    const fShape = [3, 3, 16, 16];
    const x = randn(rng, size(xShape)).map((a) => 1000 + a);
    const w = randn(rng, size(fShape)).map((a) => a * 1e3);
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 };
    const got = await run('wasm', 'Conv2D', { x: [x, xShape], filter: [w, fShape] }, attrs, [2, 10, 10, 16]);
    const want = await run('cpu', 'Conv2D', { x: [x, xShape], filter: [w, fShape] }, attrs, [2, 10, 10, 16]);
    expect(relErr(got, want)).toBeLessThan(1e-4);
  });
});
