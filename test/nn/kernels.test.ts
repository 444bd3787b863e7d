/**
 * Gradients of the tsnas training-kernel pack on `wasm` against the `cpu` backend (reference
 * kernels) and against finite differences, on small shapes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/nn/backend.js';
import { Rng } from '../../src/util/rng.js';
import { type Arr, randArr, relErr } from '../helpers/arrays.js';
import { StockKernels, withExec } from '../../src/nn/kernels/exec.js';


type Fn = (...xs: tf.Tensor[]) => tf.Tensor;

/** Gradients of sum(f(xs) * R) w.r.t. every x, on `backend`; R fixed random weights. */
async function gradsOn(backend: string, f: Fn, xs: Arr[], seed = 7): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const ts = xs.map((a) => tf.tensor(a.data, a.shape));
    const y = f(...ts);
    const r = tf.tensor(randArr(new Rng(seed), y.shape).data, y.shape);
    const g = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), r)))(ts);
    return g.map((t) => t.dataSync() as Float32Array);
  });
}

async function lossOn(backend: string, f: Fn, xs: Arr[], seed = 7): Promise<number> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const ts = xs.map((a) => tf.tensor(a.data, a.shape));
    const y = f(...ts);
    const r = tf.tensor(randArr(new Rng(seed), y.shape).data, y.shape);
    return tf.sum(tf.mul(y, r)).dataSync()[0]!;
  });
}


/** Checks wasm (pack) == cpu within 1e-4 relative, and a directional finite difference on wasm. */
async function check(f: Fn, xs: Arr[], opts: { fdEps?: number; fdTol?: number; fd?: boolean } = {}) {
  const gw = await gradsOn('wasm', f, xs);
  const gc = await gradsOn('cpu', f, xs);
  for (let i = 0; i < xs.length; i++) {
    expect(relErr(gw[i]!, gc[i]!), `input ${i} wasm vs cpu`).toBeLessThan(1e-4);
    expect(gw[i]!.some((v) => v !== 0), `input ${i} gradient is all zero`).toBe(true);
  }
  if (opts.fd === false) return;
  // Directional derivative: (L(x + eps v) - L(x - eps v)) / 2eps = <grad, v>, per input.
  const eps = opts.fdEps ?? 1e-2;
  for (let i = 0; i < xs.length; i++) {
    const v = randArr(new Rng(100 + i), xs[i]!.shape);
    const plus = xs.map((a, j) => (j === i ? { shape: a.shape, data: a.data.map((x, k) => x + eps * v.data[k]!) } : a));
    const minus = xs.map((a, j) => (j === i ? { shape: a.shape, data: a.data.map((x, k) => x - eps * v.data[k]!) } : a));
    const fd = ((await lossOn('wasm', f, plus)) - (await lossOn('wasm', f, minus))) / (2 * eps);
    let dot = 0;
    let scale = 0;
    for (let k = 0; k < v.data.length; k++) {
      dot += gw[i]![k]! * v.data[k]!;
      scale += Math.abs(gw[i]![k]! * v.data[k]!);
    }
    expect(Math.abs(fd - dot) / Math.max(scale, 1e-6), `input ${i} finite difference ${fd} vs ${dot}`)
      .toBeLessThan(opts.fdTol ?? 2e-3);
  }
}

beforeAll(async () => {
  expect(await initBackend({ backend: 'wasm' })).toBe('wasm');
});

describe('conv2d gradients (Conv2DBackpropFilter / Conv2DBackpropInput)', () => {
  const rng = new Rng(1);
  for (const k of [1, 3, 5]) {
    for (const s of [1, 2] as const) {
      for (const pad of ['same', 'valid'] as const) {
        it(`k=${k} stride=${s} ${pad}`, async () => {
          const x = randArr(rng, [2, 9, 8, 3]);
          const w = randArr(rng, [k, k, 3, 4]);
          await check((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad), [x, w]);
        });
      }
    }
  }
  // Stride 1 filter gradients (asm/conv.ts): row blocks mixing taps (ci = 1, 6), column tails
  // (co = 3, 12), and Winograd F(3x3, 2x2) for 3x3 with ci, co multiples of 4 (8 -> 12).
  const paths = [
    [1, 3, 3, 'same'], [6, 3, 3, 'same'], [6, 3, 5, 'valid'], [6, 3, 1, 'valid'],
    [6, 12, 3, 'same'], [6, 12, 3, 'valid'], [6, 12, 5, 'same'], [6, 12, 1, 'same'],
    [8, 12, 3, 'same'], [8, 12, 3, 'valid'],
  ] as const;
  for (const [ci, co, k, pad] of paths) {
    it(`stride 1, ${ci}->${co} channels, k=${k} ${pad}`, async () => {
      const x = randArr(rng, [2, 8, 9, ci]);
      const w = randArr(rng, [k, k, ci, co]);
      await check((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad), [x, w]);
    });
  }
  // Stride 1, few input channels (first layers): even kernels (asymmetric 'same' padding),
  // explicit numeric padding, and a batch large enough for several chunks of output rows.
  const wide = [
    [2, 2, 8, 4, 'same'], [3, 5, 8, 4, 'same'], [4, 4, 8, 1, 'valid'], [3, 3, 8, 2, 'valid'],
  ] as const;
  for (const [ci, k, co, n, pad] of wide) {
    it(`stride 1 first-layer shapes, ${ci}->${co} channels, k=${k} ${pad}, batch ${n}`, async () => {
      const x = randArr(rng, [n, 7, 10, ci]);
      const w = randArr(rng, [k, k, ci, co]);
      await check((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad), [x, w]);
    });
  }
  it('stride 1 over several chunks of output rows, 2->64 channels, k=3, explicit padding 1', async () => {
    const x = randArr(rng, [8, 20, 20, 2]);
    const w = randArr(rng, [3, 3, 2, 64]);
    await check((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 1), [x, w], { fdTol: 5e-3 });
  });
  it('fused conv2d with bias, linear (FusedConv2D stays fused under gradients)', async () => {
    const x = randArr(rng, [2, 6, 6, 5]);
    const w = randArr(rng, [3, 3, 5, 6]);
    const b = randArr(rng, [6]);
    await check(
      (a, f, c) => tf.fused.conv2d({ x: a as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: 'same', bias: c }),
      [x, w, b],
    );
    const dw = randArr(rng, [3, 3, 5, 1]);
    await check(
      (a, f, c) => tf.fused.depthwiseConv2d({ x: a as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 2, pad: 'same', bias: c }),
      [x, dw, randArr(rng, [5])],
    );
  });
  it('fused conv2d with bias and relu (the path tf.layers uses)', async () => {
    const x = randArr(rng, [2, 6, 6, 3]);
    const w = randArr(rng, [3, 3, 3, 5]);
    const b = randArr(rng, [5]);
    await check(
      (a, f, c) => tf.fused.conv2d({ x: a as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: 'same', bias: c, activation: 'relu' }),
      [x, w, b],
      { fdEps: 3e-4, fdTol: 1e-2 }, // small step, looser: relu kinks
    );
  });
});

describe('depthwise and separable conv gradients', () => {
  const rng = new Rng(2);
  for (const k of [3, 5]) {
    for (const s of [1, 2] as const) {
      for (const pad of ['same', 'valid'] as const) {
        it(`depthwise k=${k} stride=${s} ${pad}`, async () => {
          const x = randArr(rng, [2, 9, 8, 3]);
          const w = randArr(rng, [k, k, 3, 1]);
          await check((a, b) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad), [x, w]);
        });
      }
    }
  }
  for (const s of [1, 2] as const) {
    it(`depthwise channel multiplier 2, stride ${s}`, async () => {
      const x = randArr(rng, [2, 7, 7, 3]);
      const w = randArr(rng, [3, 3, 3, 2]);
      await check((a, b) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, 'same'), [x, w]);
    });
  }
  it('separable conv 3x3 stride 1 same', async () => {
    const x = randArr(rng, [2, 7, 7, 3]);
    const dw = randArr(rng, [3, 3, 3, 1]);
    const pw = randArr(rng, [1, 1, 3, 4]);
    await check(
      (a, b, c) => tf.separableConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, 1, 'same'),
      [x, dw, pw],
    );
  });
});

describe('max pool gradient (MaxPoolGrad)', () => {
  const rng = new Rng(3);
  const cases: [number, number, 'same' | 'valid'][] = [
    [2, 2, 'valid'], [2, 2, 'same'], [3, 2, 'same'], [3, 2, 'valid'], [3, 1, 'same'],
    [1, 1, 'valid'], // degenerate: the gradient is dy itself (a pass-through inside the kernel)
  ];
  // 3 channels: the scalar tail only; 9: two 4-channel SIMD groups and a tail.
  for (const [k, s, pad] of cases) for (const c of [3, 9]) {
    it(`k=${k} stride=${s} ${pad} channels=${c}`, async () => {
      const x = randArr(rng, [2, 7, 6, c]);
      await check((a) => tf.maxPool(a as tf.Tensor4D, k, s, pad), [x], { fdEps: 1e-4, fdTol: 1e-2 });
    });
  }
  it('windows whose maximum is negative (stock wasm loses this gradient)', async () => {
    const x = randArr(rng, [2, 6, 6, 3], (r) => -1 - Math.abs(r.normal()));
    await check((a) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), [x], { fdEps: 1e-4, fdTol: 1e-2 });
    // Every window passes exactly one dy to x: the gradient of sum(maxpool) has one 1 per window.
    const [g] = await gradsOn('wasm', (a) => tf.div(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), tf.scalar(1)), [x]);
    const w = await gradsOn('cpu', (a) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), [x]);
    expect(relErr(g!, w[0]!)).toBeLessThan(1e-6);
  });
  it('ties (all-zero windows after relu) go to the first maximum, like cpu', async () => {
    const x = randArr(rng, [1, 6, 6, 6], (r) => Math.max(0, r.normal() - 0.8));
    // No finite differences here: at a tie the loss is not differentiable.
    await check((a) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), [x], { fd: false });
  });
});

describe('avg pool gradient', () => {
  const rng = new Rng(4);
  for (const [k, s, pad] of [[2, 2, 'valid'], [3, 1, 'same'], [3, 2, 'same'], [3, 1, 'valid']] as const) {
    it(`k=${k} stride=${s} ${pad}`, async () => {
      const x = randArr(rng, [2, 7, 6, 3]);
      await check((a) => tf.avgPool(a as tf.Tensor4D, k, s, pad), [x]);
    });
  }
  it("'same' border: corner gradient is 1/4+1/6+1/6+1/9 on wasm and cpu", async () => {
    const x = { shape: [1, 3, 3, 1], data: new Float32Array(9).fill(1) };
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend);
      const g = tf.tidy(() =>
        tf.grad((a: tf.Tensor) => tf.sum(tf.avgPool(a as tf.Tensor4D, 3, 1, 'same')))(tf.tensor(x.data, x.shape)).dataSync(),
      );
      expect(g[0], backend).toBeCloseTo(1 / 4 + 1 / 6 + 1 / 6 + 1 / 9, 5);
      // The centre is in all 9 windows: 4 corner windows (4 valid), 4 edge (6), the middle (9).
      expect(g[4], backend).toBeCloseTo(4 / 4 + 4 / 6 + 1 / 9, 5);
    }
  });
});

describe('reductions over leading axes (Sum / Mean via ones-matmul)', () => {
  const rng = new Rng(6);
  it('sum and mean over [0,1,2] and [0] match cpu, forward and gradient', async () => {
    const x = randArr(rng, [4, 8, 8, 32]);
    for (const f of [
      (a: tf.Tensor) => tf.sum(a, [0, 1, 2]),
      (a: tf.Tensor) => tf.mean(a, [0, 1, 2], true),
      (a: tf.Tensor) => tf.sum(a, 0),
      (a: tf.Tensor) => tf.sum(a, [1, 2]), // not leading: stock kernel
    ]) {
      const yw = await lossOn('wasm', f, [x]);
      const yc = await lossOn('cpu', f, [x]);
      expect(Math.abs(yw - yc)).toBeLessThan(1e-4 * Math.max(1, Math.abs(yc)));
      await check(f, [x]);
    }
  });
});

describe('Identity / same-dtype Cast return references (no copy), safely', () => {
  it('clone and cast survive disposing the source; int cast still converts', async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor1d([1.5, -2, 3]);
    const b = tf.clone(a);
    const c = tf.cast(a, 'float32');
    const d = tf.cast(a, 'int32');
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1.5, -2, 3]);
    expect(Array.from(c.dataSync())).toEqual([1.5, -2, 3]);
    expect(Array.from(d.dataSync())).toEqual([1, -2, 3]);
    b.dispose();
    expect(Array.from(c.dataSync())).toEqual([1.5, -2, 3]);
    tf.dispose([c, d]);
  });
});

describe('Tile', () => {
  it('whole-tensor repeats (fast path) and other tiles (stock) match cpu, forward and gradient', async () => {
    const rng = new Rng(8);
    const cases: [number[], number[]][] = [
      [[1, 1, 1, 5], [3, 4, 2, 1]], // batch-norm style
      [[1, 6], [7, 1]],
      [[2, 3], [1, 4]], // inner tiling: stock kernel
      [[1, 2, 3], [2, 3, 1]], // axis 1 has size 2 but is tiled: stock kernel
    ];
    for (const [shape, reps] of cases) {
      const x = randArr(rng, shape);
      const f = (a: tf.Tensor) => tf.tile(a, reps);
      const yw = await lossOn('wasm', f, [x]);
      const yc = await lossOn('cpu', f, [x]);
      expect(Math.abs(yw - yc), `${shape} x ${reps}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(yc)));
      await check(f, [x]);
    }
  });
});

describe('batch norm and dense', () => {
  const rng = new Rng(5);
  it('batch norm in training mode (moments + batchNorm)', async () => {
    const x = randArr(rng, [4, 3, 3, 5]);
    const gamma = randArr(rng, [5], (r) => 1 + 0.1 * r.normal());
    const beta = randArr(rng, [5]);
    await check((a, g, b) => {
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return tf.batchNorm(a, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-3);
    }, [x, gamma, beta], { fdEps: 1e-2, fdTol: 5e-3 });
  });
  it('dense (fused matmul + bias + relu)', async () => {
    const x = randArr(rng, [6, 20]);
    const w = randArr(rng, [20, 7]);
    const b = randArr(rng, [7]);
    await check(
      (a, k, c) => tf.fused.matMul({ a: a as tf.Tensor2D, b: k as tf.Tensor2D, bias: c, activation: 'relu' }),
      [x, w, b],
      { fdEps: 1e-3, fdTol: 5e-3 },
    );
  });
  it('fused matmul, linear, with transposes', async () => {
    const x = randArr(rng, [20, 6]);
    const w = randArr(rng, [7, 20]);
    const b = randArr(rng, [7]);
    await check(
      (a, k, c) => tf.fused.matMul({ a: a as tf.Tensor2D, b: k as tf.Tensor2D, transposeA: true, transposeB: true, bias: c }),
      [x, w, b],
    );
  });
  it('matmul with transposeA / transposeB and batched matmul', async () => {
    const a = randArr(rng, [20, 6]);
    const b = randArr(rng, [7, 20]);
    await check((p, q) => tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D, true, true), [a, b]);
    const c = randArr(rng, [3, 40, 30]);
    const d = randArr(rng, [3, 30, 40]);
    await check((p, q) => tf.matMul(p as tf.Tensor3D, q as tf.Tensor3D), [c, d]);
  });
});

describe('large transposes and large dense-layer products', () => {
  const rng = new Rng(5);
  it('Exec.transpose by blocked heap copies equals the stock kernel bitwise ([1,0], [0,2,1], [2,1,0] after merging axes)', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend();
    const stock = new StockKernels('wasm');
    const cases: [number[], number[]][] = [
      [[1100, 300], [1, 0]], // [1,0]
      [[3, 300, 350], [0, 2, 1]], // [0,2,1]
      [[40, 9, 11, 70], [3, 1, 2, 0]], // [A, M, B] -> [B, M, A]
      [[37, 61, 130], [1, 0, 2]], // keeps the innermost axis: stock
    ];
    for (const [shape, perm] of cases) {
      const x = tf.tensor(randArr(rng, shape).data, shape);
      const want = tf.transpose(x, perm); // the engine's Transpose: the stock kernel
      const got = withExec(backend, stock, (e) => e.transpose(x, perm));
      expect(got.shape).toEqual(want.shape);
      expect(Array.from(backend.readSync(got.dataId) as Float32Array)).toEqual(Array.from(want.dataSync()));
      backend.disposeData(got.dataId);
      tf.dispose([x, want]);
    }
  });
  it('dense-layer products large enough to swap match cpu and finite differences', async () => {
    // dy [64, 96] x W^T with W [1100, 96] (the input gradient's shape): packs dy, not W.
    await check((p, q) => tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D, false, true), [randArr(rng, [64, 96]), randArr(rng, [1100, 96])], { fdTol: 5e-3 });
    // Rank 3 with batch 1, plain product with a large right-hand operand.
    await check((p, q) => tf.matMul(p as tf.Tensor3D, q as tf.Tensor3D), [randArr(rng, [1, 8, 300]), randArr(rng, [1, 300, 400])], { fd: false });
  });
});
