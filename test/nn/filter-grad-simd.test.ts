/**
 * The SIMD filter gradients (asm/conv.ts via Conv2DBackpropFilter and
 * DepthwiseConv2dNativeBackpropFilter on wasm) against the cpu backend's reference kernels and
 * against finite differences of the forward convolution, on shapes that hit every path of the
 * kernel: 4x8 blocks and their tails (K = kh*kw*ci or kh*kw taps, and co or C not multiples of 4
 * or 8), 1 and 3 input channels (blocks mixing taps), depthwise channel multipliers, strides 1 and
 * 2, 'same' / 'valid' / explicit padding, rounding modes, odd and non-square sizes, chunks of
 * output rows that cross images.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/nn/backend.js';
import { Rng } from '../../src/util/rng.js';
import { randn } from '../helpers/arrays.js';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
type Rounding = 'floor' | 'round' | 'ceil' | undefined;


const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

async function filterGrad(
  backend: string, x: Float32Array, xShape: number[], dy: Float32Array, dyShape: number[],
  filterShape: number[], strides: number | [number, number], pad: Pad, dimRoundingMode: Rounding,
  depthwise = false,
): Promise<Float32Array> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const out = tf.engine().runKernel(
      depthwise ? 'DepthwiseConv2dNativeBackpropFilter' : 'Conv2DBackpropFilter',
      { x: tf.tensor(x, xShape), dy: tf.tensor(dy, dyShape) },
      { strides, pad, dataFormat: 'NHWC', dimRoundingMode, filterShape, dilations: 1 } as unknown as tf.NamedAttrMap,
    ) as tf.Tensor;
    expect(out.shape).toEqual(filterShape);
    return out.dataSync() as Float32Array;
  });
}

/** sum(conv(x, w) * dy): linear in w, so its central difference along v is <dW, v>. */
async function loss(
  x: tf.Tensor4D, w: Float32Array, filterShape: number[], dy: tf.Tensor,
  strides: number | [number, number], pad: Pad, dimRoundingMode: Rounding, depthwise: boolean,
): Promise<number> {
  return tf.tidy(() => {
    const f = tf.tensor4d(w, filterShape as [number, number, number, number]);
    const y = depthwise
      ? tf.depthwiseConv2d(x, f, strides, pad as 'same', 'NHWC', 1, dimRoundingMode)
      : tf.conv2d(x, f, strides, pad as 'same', 'NHWC', 1, dimRoundingMode);
    return tf.sum(tf.mul(y, dy)).dataSync()[0]!;
  });
}

async function checkShape(
  seed: number, xShape: number[], filterShape: number[], strides: number | [number, number], pad: Pad,
  dimRoundingMode?: Rounding, forwardBackend = 'wasm', depthwise = false,
): Promise<void> {
  const rng = new Rng(seed);
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    strides, 1, pad as 'same', dimRoundingMode, depthwise);
  const dyShape = [xShape[0]!, info.outHeight, info.outWidth, info.outChannels];
  const x = randn(rng, size(xShape));
  const dy = randn(rng, size(dyShape));
  const got = await filterGrad('wasm', x, xShape, dy, dyShape, filterShape, strides, pad, dimRoundingMode, depthwise);
  const want = await filterGrad('cpu', x, xShape, dy, dyShape, filterShape, strides, pad, dimRoundingMode, depthwise);
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num = Math.max(num, Math.abs(got[i]! - want[i]!));
    den = Math.max(den, Math.abs(want[i]!));
  }
  expect(den).toBeGreaterThan(0);
  expect(num / den, 'wasm vs cpu, max error relative to max |dW|').toBeLessThan(1e-4);

  // Finite difference of the forward convolution, in float32: eps large, the loss is linear in w.
  await tf.setBackend(forwardBackend);
  const w = randn(rng, size(filterShape));
  const v = randn(rng, size(filterShape));
  const eps = 0.5;
  const xt = tf.tensor4d(x, xShape as [number, number, number, number]);
  const dyt = tf.tensor(dy, dyShape);
  const fd = (sign: number) => loss(xt, w.map((a, i) => a + sign * eps * v[i]!), filterShape, dyt,
    strides, pad, dimRoundingMode, depthwise);
  const plus = await fd(1);
  const minus = await fd(-1);
  tf.dispose([xt, dyt]);
  let dot = 0;
  let scale = 0;
  for (let i = 0; i < v.length; i++) {
    dot += got[i]! * v[i]!;
    scale += Math.abs(got[i]! * v[i]!);
  }
  expect(Math.abs((plus - minus) / (2 * eps) - dot) / scale, 'finite difference').toBeLessThan(1e-4);
}

beforeAll(async () => {
  expect(await initBackend({ backend: 'wasm' })).toBe('wasm');
});

describe('SIMD conv filter gradient (asm/conv.ts)', () => {
  // [x shape, filter shape, strides, pad]
  const cases: [number[], number[], number | [number, number], Pad][] = [
    [[2, 9, 8, 1], [3, 3, 1, 8], 1, 'same'], // K = 9: blocks mixing taps, one row in the last
    [[2, 9, 8, 3], [3, 3, 3, 16], 1, 'same'], // K = 27
    [[2, 7, 11, 3], [3, 3, 3, 12], 2, 'same'], // an 8 block + a 4 block, odd sizes
    [[3, 8, 8, 4], [3, 3, 4, 8], 1, 'valid'], // 4 consecutive channels per block, no pad copy
    [[2, 9, 9, 8], [3, 3, 8, 5], 2, 'valid'], // co tail: 4 block + 1 scalar column
    [[2, 10, 7, 6], [3, 3, 6, 3], 1, 'same'], // co < 4: scalar columns only; ci = 6 blocks mixing taps
    [[2, 10, 7, 5], [5, 5, 5, 7], 2, 'same'], // 5x5, co = 7
    [[2, 6, 9, 12], [1, 1, 12, 20], 1, 'valid'], // pointwise, co = 20
    [[2, 11, 10, 4], [2, 3, 4, 9], [2, 1], 'same'], // even kernel (asymmetric 'same' pad), mixed strides
    [[2, 8, 9, 2], [3, 2, 2, 4], [1, 2], 'valid'],
    [[2, 10, 10, 3], [4, 4, 3, 6], 2, 'valid'],
    // No padded copy, and the forward pass never reads the last x rows: images are H rows apart.
    [[2, 6, 8, 8], [1, 1, 8, 14], [2, 1], 'valid'],
    [[3, 5, 4, 10], [4, 4, 10, 19], 3, 'valid'],
    [[2, 7, 7, 4], [3, 3, 4, 8], 1, 2], // explicit numeric padding
    [[2, 7, 9, 4], [3, 3, 4, 8], 1, [[0, 0], [2, 0], [1, 3], [0, 0]]], // explicit asymmetric padding
  ];
  for (const [i, [xs, fs, s, pad]] of cases.entries()) {
    it(`x ${xs.join('x')} filter ${fs.join('x')} stride ${String(s)} pad ${JSON.stringify(pad)}`, async () => {
      await checkShape(10 + i, xs, fs, s, pad);
    });
  }
  it('stride larger than the kernel, no padded copy (cpu forward for the finite difference)', async () => {
    // The stock wasm forward Conv2D gives a different y here (12.3 max abs difference to cpu), so
    // the finite difference uses the cpu forward convolution; the gradient matches cpu's kernel.
    await checkShape(45, [3, 3, 3, 8], [2, 1, 8, 18], 3, 'same', undefined, 'cpu');
  });
  it('rounding modes with a numeric pad that does not divide evenly', async () => {
    // With 'round' / 'ceil' the output here has a row and column more than the padded input fills;
    // the stock wasm forward Conv2D gets those wrong (XNNPACK sizes its output from the padding), so
    // the finite difference uses the cpu forward convolution.
    for (const mode of ['floor', 'round', 'ceil'] as const) {
      await checkShape(40, [2, 8, 9, 3], [3, 3, 3, 8], 2, 1, mode, mode === 'floor' ? 'wasm' : 'cpu');
    }
  });
  it('chunks of output rows that cross image boundaries, co = 20 (8 + 8 + 4)', async () => {
    // 16 KiB of dy per chunk = 15 output rows of 13x20 floats: chunks start mid-image (ci = 6: not
    // the Winograd path).
    await checkShape(50, [4, 13, 13, 6], [3, 3, 6, 20], 1, 'same');
  });
  it('first-layer shapes: 1 and 3 input channels, 32 output channels, several chunks', async () => {
    await checkShape(60, [4, 28, 28, 1], [3, 3, 1, 32], 1, 'same');
    await checkShape(61, [3, 32, 32, 3], [3, 3, 3, 32], 1, 'same');
  });
  it('an empty batch gives a zero gradient', async () => {
    const got = await filterGrad('wasm', new Float32Array(0), [0, 5, 5, 2], new Float32Array(0), [0, 5, 5, 4],
      [3, 3, 2, 4], 1, 'same', undefined);
    expect(Array.from(got)).toEqual(new Array(72).fill(0));
  });
});

describe('SIMD depthwise conv filter gradient (asm/conv.ts)', () => {
  // [x shape, filter shape [kh, kw, C, multiplier], strides, pad]
  const cases: [number[], number[], number | [number, number], Pad][] = [
    [[2, 9, 8, 8], [3, 3, 8, 1], 1, 'same'], // taps 4 + 4 + 1, one 8-channel block
    [[2, 9, 8, 12], [3, 3, 12, 1], 2, 'same'], // 8 + 4 channels
    [[2, 9, 9, 3], [3, 3, 3, 1], 1, 'valid'], // scalar channels only, no pad copy
    [[2, 10, 7, 7], [5, 5, 7, 1], 2, 'same'], // 25 taps, 4 + 3 channels
    [[2, 11, 10, 13], [2, 3, 13, 1], [2, 1], 'same'], // even kernel, mixed strides, 8 + 4 + 1
    [[2, 8, 8, 3], [3, 3, 3, 2], 1, 'same'], // channel multiplier 2: 6 channels
    [[2, 7, 9, 5], [3, 3, 5, 3], 2, 'valid'], // multiplier 3: 15 channels
    [[2, 7, 7, 4], [3, 3, 4, 1], 1, [[0, 0], [2, 0], [1, 3], [0, 0]]], // explicit asymmetric padding
    [[2, 12, 11, 2], [3, 1, 2, 1], 2, 'valid'], // no copy, last x row never read
  ];
  for (const [i, [xs, fs, s, pad]] of cases.entries()) {
    it(`x ${xs.join('x')} filter ${fs.join('x')} stride ${String(s)} pad ${JSON.stringify(pad)}`, async () => {
      await checkShape(100 + i, xs, fs, s, pad, undefined, 'wasm', true);
    });
  }
  it('chunks of output rows that cross image boundaries, 20 channels', async () => {
    // 16 KiB of dy per chunk = 15 output rows of 13x20 floats.
    await checkShape(150, [4, 13, 13, 20], [3, 3, 20, 1], 1, 'same', undefined, 'wasm', true);
  });
});

describe('Winograd filter gradients (asm/filter-winograd.ts: 3x3, stride 1, ci and co % 4 == 0)', () => {
  // F(3x3, 4x4) is chosen when 4x4 tiles cover at most 1.5x the outputs 2x2 tiles cover
  // (filter-grad.ts winogradTile); the outputs (OH x OW) below pick each on purpose.
  const f2: [number[], number[], Pad][] = [
    [[2, 6, 5, 8], [3, 3, 8, 8], 'same'], // 6x5: odd columns, half-empty dy tiles
    [[3, 1, 2, 8], [3, 3, 8, 8], 'same'], // a single output row
    [[8, 6, 6, 12], [3, 3, 12, 20], 'same'], // 72 tiles: a full block of 64 and a partial one, co = 8 + 8 + 4
  ];
  const f4: [number[], number[], Pad][] = [
    [[2, 14, 14, 12], [3, 3, 12, 20], 'same'], // 14x14: 2 valid rows / columns in the last tiles
    [[2, 8, 8, 8], [3, 3, 8, 8], 'same'], // 8x8: whole tiles
    [[2, 7, 9, 8], [3, 3, 8, 12], 'same'], // 7x9: 3 valid rows / 1 valid column in the last tiles
    [[3, 6, 5, 12], [3, 3, 12, 20], 'valid'], // 4x3
    [[2, 8, 8, 16], [3, 3, 16, 12], [[0, 0], [2, 0], [1, 3], [0, 0]]], // 8x10, explicit asymmetric pad
    [[2, 5, 5, 8], [3, 3, 8, 8], 2], // 7x7, numeric padding
    [[4, 20, 20, 8], [3, 3, 8, 16], 'same'], // 100 tiles: 3 full blocks of 32 and a partial one
  ];
  for (const [name, cases, seed] of [['2x2', f2, 200], ['4x4', f4, 300]] as const) {
    for (const [i, [xs, fs, pad]] of cases.entries()) {
      it(`${name} tiles: x ${xs.join('x')} filter ${fs.join('x')} pad ${JSON.stringify(pad)}`, async () => {
        await checkShape(seed + i, xs, fs, 1, pad);
      });
    }
  }
});
