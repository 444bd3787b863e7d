/**
 * The fused optimizer updates on wasm (src/nn/optimizers.ts, asm/optim.ts) against tfjs's own
 * tf.train.adam (and sgd, momentum, rmsprop): the same weights after 1, 5 and 20 training steps of an MLP and a conv net (the same
 * bits in practice; the bar is 1e-6 relative to the largest weight), the same state layout, resumes
 * from a checkpoint, learning-rate changes, no tensor leak, no write into buffers it does not own,
 * and tfjs's own update on a backend other than wasm.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { makeOptimizer, OPTIMIZER_NAMES, setLearningRate } from '../../src/estimate/train-util.js';
import { initBackend } from '../../src/nn/backend.js';
import { fused, FusedAdamOptimizer, fusedOptimizerActive } from '../../src/nn/optimizers.js';
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

  it('never writes into buffers it shares: clones of the weights and of the state (checkpoints) keep their values', async () => {
    const model = build('mlp', 2);
    const opt = makeOptimizer('adam', 1e-2);
    const data = batches('mlp', 2, 2);
    step('mlp', model, opt, data[0]!);
    // As train-step.ts checkpoints: clones, which share the data of the variables.
    const before = [...model.weights.map((w) => tf.clone(w.read())), ...(await opt.getWeights()).slice(1).map((w) => w.tensor.clone())];
    const values = before.map((t) => t.dataSync().slice());
    step('mlp', model, opt, data[1]!);
    before.forEach((t, i) => expect(Array.from(t.dataSync())).toEqual(Array.from(values[i]!)));
    expect(relErr(values[0]! as Float32Array, model.weights[0]!.read().dataSync() as Float32Array)).toBeGreaterThan(1e-4);
    const m0 = (await opt.getWeights())[1]!.tensor.dataSync() as Float32Array;
    expect(relErr(values[4]! as Float32Array, m0)).toBeGreaterThan(1e-3); // the state moved
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

/** tfjs's own optimizers, as makeOptimizer configures them. */
const STOCK: Record<string, (lr: number) => tf.Optimizer> = {
  adam: (lr) => tf.train.adam(lr),
  sgd: (lr) => tf.train.sgd(lr),
  momentum: (lr) => tf.train.momentum(lr, 0.9),
  rmsprop: (lr) => tf.train.rmsprop(lr),
};

describe('fused sgd, momentum and rmsprop on wasm', () => {
  for (const name of OPTIMIZER_NAMES.filter((n) => n !== 'adam')) {
    it(`${name}: after 5 and 20 steps (mlp, cnn) weights and state equal tfjs's`, async () => {
      expect(makeOptimizer(name, 0.05).constructor.name).toMatch(/^Fused/);
      for (const net of ['mlp', 'cnn'] as Net[]) {
        for (const steps of [5, 20]) {
          const ref = train(net, STOCK[name]!(0.05), steps);
          const got = train(net, makeOptimizer(name, 0.05), steps);
          const err = relErr(ref, got);
          console.log(`${name} ${net} ${steps} steps: max error relative to the largest weight ${err}`);
          expect(err).toBeLessThan(1e-6);
          expect(relErr(ref, train(net, STOCK[name]!(0.05), 0))).toBeGreaterThan(1e-3);
        }
      }
      // State (getWeights) after 3 steps, and no tensor leak across steps.
      const [m1, m2] = [build('cnn', 7), build('cnn', 7)];
      const [o1, o2] = [STOCK[name]!(0.05), makeOptimizer(name, 0.05)];
      const data = batches('cnn', 4, 7);
      for (const b of data.slice(0, 3)) {
        step('cnn', m1, o1, b);
        step('cnn', m2, o2, b);
      }
      const [w1, w2] = [await o1.getWeights(), await o2.getWeights()];
      expect(w2.length).toBe(w1.length);
      w1.forEach((w, i) => expect(Array.from(w2[i]!.tensor.dataSync())).toEqual(Array.from(w.tensor.dataSync())));
      const n = tf.memory().numTensors;
      const info = await tf.profile(() => step('cnn', m2, o2, data[3]!));
      expect(tf.memory().numTensors).toBe(n);
      const kernel = { sgd: 'TsnasSGD', momentum: 'TsnasMomentum', rmsprop: 'TsnasRMSProp' }[name];
      expect(info.kernels.filter((k) => k.name === kernel)).toHaveLength(4); // one per variable
      for (const m of [m1, m2]) m.dispose();
      o1.dispose();
      o2.dispose();
    });
  }

  it('nesterov momentum and rmsprop with momentum equal tfjs\'s; centered rmsprop is tfjs\'s own update', async () => {
    const pairs: [() => tf.Optimizer, () => tf.Optimizer][] = [
      [() => tf.train.momentum(0.05, 0.8, true), () => fused.momentum(0.05, 0.8, true)],
      [() => tf.train.rmsprop(0.01, 0.8, 0.5), () => fused.rmsprop(0.01, 0.8, 0.5)],
    ];
    for (const [stock, mine] of pairs) expect(relErr(train('cnn', stock(), 10), train('cnn', mine(), 10))).toBeLessThan(1e-6);
    const model = build('mlp', 8);
    const opt = fused.rmsprop(0.01, 0.9, 0.5, undefined, true);
    const info = await tf.profile(() => step('mlp', model, opt, batches('mlp', 1, 8)[0]!));
    expect(info.kernelNames).not.toContain('TsnasRMSProp');
    model.dispose();
    opt.dispose();
  });

  it('dispose() frees every tensor the optimizers made (tfjs\'s momentum keeps its learning-rate scalar)', () => {
    for (const name of OPTIMIZER_NAMES) {
      const model = build('cnn', 9);
      const before = tf.memory().numTensors;
      const opt = makeOptimizer(name, 0.05);
      for (const b of batches('cnn', 2, 9)) step('cnn', model, opt, b);
      opt.dispose();
      expect(tf.memory().numTensors, name).toBe(before);
      model.dispose();
    }
  });

  for (const name of OPTIMIZER_NAMES) {
    it(`${name}: learning-rate changes (setLearningRate) between steps act as on tfjs's optimizer`, () => {
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
      const got = run(makeOptimizer(name, 1e-1), true);
      expect(relErr(run(STOCK[name]!(1e-1), true), got)).toBeLessThan(1e-6);
      expect(relErr(run(makeOptimizer(name, 1e-1), false), got)).toBeGreaterThan(1e-3);
    });
  }
});
