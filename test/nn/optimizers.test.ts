/**
 * The fused optimizer update on wasm (src/nn/optimizers.ts, asm/optim.ts) against tfjs's own
 * tf.train.adam: the same weights after 1, 5 and 20 training steps of an MLP and a conv net (the same
 * bits in practice; the bar is 1e-6 relative to the largest weight), the same state layout, resumes
 * from a checkpoint, learning-rate changes, no tensor leak, no write into buffers it does not own,
 * and tfjs's own update on a backend other than wasm.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { makeOptimizer, setLearningRate } from '../../src/estimate/train-util.js';
import { initBackend } from '../../src/nn/backend.js';
import { FusedAdamOptimizer, fusedOptimizerActive } from '../../src/nn/optimizers.js';
import { Rng } from '../../src/util/rng.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});
afterAll(async () => {
  await tf.setBackend('wasm');
});

type Net = 'mlp' | 'cnn';

/** Same seed, same initial weights. Shapes with SIMD tails (sizes not multiples of 8). */
function build(net: Net, seed: number): tf.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 10 + k });
  const bias = (k: number) => tf.initializers.randomNormal({ stddev: 0.1, seed: seed * 10 + k + 5 });
  const m = tf.sequential();
  if (net === 'mlp') {
    m.add(tf.layers.dense({ inputShape: [5], units: 7, activation: 'relu', kernelInitializer: init(0), biasInitializer: bias(0) }));
    m.add(tf.layers.dense({ units: 3, kernelInitializer: init(1), biasInitializer: bias(1) }));
  } else {
    m.add(tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 5, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(0), biasInitializer: bias(0) }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 3, kernelInitializer: init(1), biasInitializer: bias(1) }));
  }
  return m;
}

function batches(net: Net, steps: number, seed: number): { x: Float32Array; y: Float32Array }[] {
  const rng = new Rng(seed);
  const size = net === 'mlp' ? 5 : 72;
  return Array.from({ length: steps }, () => {
    const x = Float32Array.from({ length: 8 * size }, () => rng.normal());
    const y = new Float32Array(8 * 3);
    for (let i = 0; i < 8; i++) y[i * 3 + rng.int(0, 2)] = 1;
    return { x, y };
  });
}

function step(net: Net, model: tf.LayersModel, opt: tf.Optimizer, b: { x: Float32Array; y: Float32Array }): void {
  tf.tidy(() => {
    const x = tf.tensor(b.x, net === 'mlp' ? [8, 5] : [8, 6, 6, 2]);
    const y = tf.tensor(b.y, [8, 3]);
    opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
  });
}

const flat = (model: tf.LayersModel) => Float32Array.from(model.getWeights().flatMap((w) => Array.from(w.dataSync())));

/** max |a - b| / max |a|. */
function relErr(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]!));
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
  }
  return d / scale;
}

/** Weights after `steps` steps with `opt`. */
function train(net: Net, opt: tf.Optimizer, steps: number, seed = 1): Float32Array {
  const model = build(net, seed);
  for (const b of batches(net, steps, seed)) step(net, model, opt, b);
  const w = flat(model);
  model.dispose();
  opt.dispose();
  return w;
}

describe('fused Adam on wasm', () => {
  it('is active on wasm with the kernel pack, and runs as one kernel per variable', async () => {
    expect(fusedOptimizerActive()).toBe(true);
    const model = build('mlp', 1);
    const opt = makeOptimizer('adam', 1e-2);
    expect(opt).toBeInstanceOf(FusedAdamOptimizer);
    const [b] = batches('mlp', 1, 1);
    const info = await tf.profile(() => step('mlp', model, opt, b!));
    expect(info.kernels.filter((k) => k.name === 'TsnasAdam')).toHaveLength(4);
    expect(info.kernelNames).not.toContain('Sqrt'); // tfjs's update is gone
    model.dispose();
    opt.dispose();
  });

  for (const net of ['mlp', 'cnn'] as Net[]) {
    for (const steps of [1, 5, 20]) {
      it(`${net}: after ${steps} steps the weights equal tf.train.adam's`, () => {
        const init = train(net, tf.train.adam(1e-2), 0);
        const ref = train(net, tf.train.adam(1e-2), steps);
        const got = train(net, makeOptimizer('adam', 1e-2), steps);
        const err = relErr(ref, got);
        console.log(`${net} ${steps} steps: fused vs tf.train.adam, max error relative to the largest weight ${err}`);
        expect(err).toBeLessThan(1e-6);
        expect(relErr(ref, init)).toBeGreaterThan(1e-3); // training moved the weights
      });
    }
  }

  it('keeps tf.train.adam\'s class, config and state layout', async () => {
    const ref = tf.train.adam(1e-2);
    const fused = makeOptimizer('adam', 1e-2);
    expect(fused.getClassName()).toBe('Adam');
    expect(fused.getConfig()).toEqual(ref.getConfig());
    const m1 = build('mlp', 1);
    const m2 = build('mlp', 1);
    const [b] = batches('mlp', 1, 1);
    step('mlp', m1, ref, b!);
    step('mlp', m2, fused, b!);
    const [wr, wf] = [await ref.getWeights(), await fused.getWeights()];
    // Variable names differ between the two models (layer counters): compare the suffixes and values.
    expect(wf.map((w) => w.name.replace(/^.*\//, ''))).toEqual(wr.map((w) => w.name.replace(/^.*\//, '')));
    expect(wf.map((w) => w.tensor.shape)).toEqual(wr.map((w) => w.tensor.shape));
    wr.forEach((w, i) => expect(Array.from(wf[i]!.tensor.dataSync())).toEqual(Array.from(w.tensor.dataSync())));
    tf.dispose([m1, m2].flatMap((m) => m.weights.map((w) => w.read())));
    ref.dispose();
    fused.dispose();
  });

  it('resumes from a checkpoint (getWeights -> setWeights on a new optimizer) exactly as the straight run', async () => {
    const data = batches('cnn', 12, 3);
    const straight = build('cnn', 3);
    const sOpt = makeOptimizer('adam', 1e-2);
    for (const b of data) step('cnn', straight, sOpt, b);

    const first = build('cnn', 3);
    const fOpt = makeOptimizer('adam', 1e-2);
    for (const b of data.slice(0, 6)) step('cnn', first, fOpt, b);
    // The checkpoint: plain arrays, as a file would hold them.
    const saved = (await fOpt.getWeights()).map((w) => ({ name: w.name, values: w.tensor.dataSync().slice(), shape: w.tensor.shape, dtype: w.tensor.dtype }));
    const savedModel = first.getWeights().map((w) => tf.tensor(w.dataSync().slice(), w.shape));
    fOpt.dispose();

    const resumed = build('cnn', 99); // other initial weights, overwritten by the checkpoint
    resumed.setWeights(savedModel);
    const rOpt = makeOptimizer('adam', 1e-2);
    // The caller keeps the tensors given to setWeights: the optimizer must not update them in place.
    const given = saved.map((s) => ({ name: s.name, tensor: tf.tensor(s.values, s.shape, s.dtype) }));
    await rOpt.setWeights(given);
    for (const b of data.slice(6)) step('cnn', resumed, rOpt, b);
    expect(Array.from(flat(resumed))).toEqual(Array.from(flat(straight)));
    given.forEach((g, i) => expect(Array.from(g.tensor.dataSync())).toEqual(Array.from(saved[i]!.values)));
    // ... and the state continues as the straight run's.
    const [ws, wr] = [await sOpt.getWeights(), await rOpt.getWeights()];
    expect(wr.length).toBe(ws.length);
    ws.forEach((w, i) => expect(Array.from(wr[i]!.tensor.dataSync())).toEqual(Array.from(w.tensor.dataSync())));
    // A stock tf.train.adam state resumes too (the state format is tfjs's).
    const stockOpt = tf.train.adam(1e-2);
    const stock = build('cnn', 99);
    stock.setWeights(savedModel);
    await stockOpt.setWeights(saved.map((s) => ({ name: s.name, tensor: tf.tensor(s.values, s.shape, s.dtype) })));
    for (const b of data.slice(6)) step('cnn', stock, stockOpt, b);
    expect(relErr(flat(straight), flat(stock))).toBeLessThan(1e-6);
    tf.dispose([...savedModel, ...given.map((g) => g.tensor)]);
    for (const m of [straight, first, resumed, stock]) m.dispose();
    sOpt.dispose();
    rOpt.dispose();
    stockOpt.dispose();
  });

  it('never writes into the variable\'s current buffer (a clone taken before a step keeps its values)', () => {
    const model = build('mlp', 2);
    const opt = makeOptimizer('adam', 1e-2);
    const data = batches('mlp', 2, 2);
    step('mlp', model, opt, data[0]!);
    const before = model.weights.map((w) => tf.clone(w.read()));
    const values = before.map((t) => t.dataSync().slice());
    step('mlp', model, opt, data[1]!);
    before.forEach((t, i) => expect(Array.from(t.dataSync())).toEqual(Array.from(values[i]!)));
    expect(relErr(values[0]!, model.weights[0]!.read().dataSync() as Float32Array)).toBeGreaterThan(1e-4);
    tf.dispose(before);
    model.dispose();
    opt.dispose();
  });

  it('leaks no tensor across steps', () => {
    const model = build('cnn', 4);
    const opt = makeOptimizer('adam', 1e-2);
    const data = batches('cnn', 6, 4);
    step('cnn', model, opt, data[0]!); // creates the state
    const n = tf.memory().numTensors;
    const bytes = tf.memory().numBytes;
    for (const b of data.slice(1)) step('cnn', model, opt, b);
    expect(tf.memory().numTensors).toBe(n);
    expect(tf.memory().numBytes).toBe(bytes);
    model.dispose();
    opt.dispose();
  });

  it('takes learning-rate changes (setLearningRate) between steps, as tf.train.adam does', () => {
    const run = (opt: tf.Optimizer, change: boolean) => {
      const model = build('mlp', 5);
      batches('mlp', 6, 5).forEach((b, i) => {
        if (change && i === 3) setLearningRate(opt, 1e-3);
        step('mlp', model, opt, b);
      });
      const w = flat(model);
      model.dispose();
      opt.dispose();
      return w;
    };
    const fused = run(makeOptimizer('adam', 1e-1), true);
    expect(relErr(run(tf.train.adam(1e-1), true), fused)).toBeLessThan(1e-6);
    expect(relErr(run(makeOptimizer('adam', 1e-1), false), fused)).toBeGreaterThan(1e-3);
  });

  it('uses tfjs\'s own update on a backend other than wasm', async () => {
    await tf.setBackend('cpu');
    try {
      expect(fusedOptimizerActive()).toBe(false);
      const model = build('mlp', 6);
      const opt = makeOptimizer('adam', 1e-2);
      const [b] = batches('mlp', 1, 6);
      const info = await tf.profile(() => step('mlp', model, opt, b!));
      expect(info.kernelNames).not.toContain('TsnasAdam');
      expect(info.kernelNames).toContain('Sqrt');
      model.dispose();
      opt.dispose();
      expect(Array.from(train('mlp', makeOptimizer('adam', 1e-2), 5))).toEqual(Array.from(train('mlp', tf.train.adam(1e-2), 5)));
    } finally {
      await tf.setBackend('wasm');
    }
  });
});
