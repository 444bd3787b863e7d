/**
 * The fused optimizer updates (src/nn/optimizers.ts) against tfjs's own, on the wasm backend with the
 * tsnas kernel pack: `npx tsx bench/optimizers.ts [--reps=30]`.
 *   1. The update alone (applyGradients) on the variables of bench/train.ts's MLP 784-256-256-10
 *      (269,322 floats) and on 40 small variables of 100 floats (per-variable overhead), fresh
 *      gradient tensors every repetition; CPU-time median of --reps after as many warm-ups (tfjs's
 *      ops need ~30 calls to warm up).
 *   2. A whole training step of that MLP (batch 128) with tf.train.adam vs makeOptimizer('adam'),
 *      alternating blocks of 10 steps (16 blocks, the first 3 are warm-up); CPU-time medians.
 * CPU time is process.cpuUsage() (all threads of the process); print `cat /proc/loadavg` alongside.
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { makeOptimizer } from '../src/estimate/train-util.js';
import { initBackend } from '../src/nn/backend.js';
import { fused } from '../src/nn/optimizers.js';
import { Rng } from '../src/util/rng.js';

const REPS = Number(process.argv.find((a) => a.startsWith('--reps='))?.slice(7) ?? 30);
const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1]!;
const cpuMs = (f: () => void) => {
  const c = process.cpuUsage();
  f();
  const d = process.cpuUsage(c);
  return (d.user + d.system) / 1000;
};

const PAIRS: [string, () => tf.Optimizer, () => tf.Optimizer][] = [
  ['adam', () => tf.train.adam(1e-3), () => fused.adam(1e-3)],
  ['sgd', () => tf.train.sgd(1e-3), () => fused.sgd(1e-3)],
  ['momentum', () => tf.train.momentum(1e-3, 0.9), () => fused.momentum(1e-3, 0.9)],
  ['rmsprop', () => tf.train.rmsprop(1e-3), () => fused.rmsprop(1e-3)],
];

function updateAlone(label: string, shapes: number[][]): void {
  const rng = new Rng(1);
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const vars = shapes.map((s, k) => tf.variable(tf.tensor(Float32Array.from({ length: sizes[k]! }, () => rng.normal() * 0.05), s)));
  const grads = sizes.map((n) => Float32Array.from({ length: n }, () => rng.normal()));
  const time = (make: () => tf.Optimizer) => {
    const opt = make();
    const ms: number[] = [];
    for (let r = 0; r < 2 * REPS; r++) {
      const g = vars.map((v, k) => ({ name: v.name, tensor: tf.tensor(grads[k]!, shapes[k]) }));
      const t = cpuMs(() => opt.applyGradients(g));
      tf.dispose(g.map((e) => e.tensor));
      if (r >= REPS) ms.push(t);
    }
    opt.dispose();
    return median(ms);
  };
  console.log(`update alone, ${label} (${sizes.reduce((a, b) => a + b, 0)} floats), CPU ms median of ${REPS}:`);
  for (const [name, stock, mine] of PAIRS) {
    const [s, f] = [time(stock), time(mine)];
    console.log(`  ${name.padEnd(9)} tfjs ${s.toFixed(3).padStart(7)}  fused ${f.toFixed(3).padStart(7)}  (${(s / f).toFixed(1)}x)`);
  }
  tf.dispose(vars);
}

function wholeStep(): void {
  const rng = new Rng(1);
  const x = tf.tensor(Float32Array.from({ length: 128 * 784 }, () => rng.normal()), [128, 784]);
  const y = tf.oneHot(tf.tensor1d(Int32Array.from({ length: 128 }, () => rng.int(0, 9)), 'int32'), 10);
  const setup = (opt: tf.Optimizer) => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }));
    m.add(tf.layers.dense({ units: 256, activation: 'relu' }));
    m.add(tf.layers.dense({ units: 10 }));
    return () =>
      tf.tidy(() => {
        opt.minimize(() => tf.losses.softmaxCrossEntropy(y, m.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
      });
  };
  const runs = [setup(tf.train.adam(1e-3)), setup(makeOptimizer('adam', 1e-3))];
  const ms: number[][] = [[], []];
  const blocks = 16;
  for (let b = 0; b < blocks; b++) {
    runs.forEach((run, k) => {
      for (let i = 0; i < 10; i++) {
        const t = cpuMs(run);
        if (b >= 3) ms[k]!.push(t);
      }
    });
  }
  const [s, f] = ms.map(median) as [number, number];
  console.log(`training step, MLP 784-256-256-10 batch 128, CPU ms median of ${ms[0]!.length}: tf.train.adam ${s.toFixed(2)}, makeOptimizer('adam') ${f.toFixed(2)} (${(128000 / s).toFixed(0)} -> ${(128000 / f).toFixed(0)} samples per CPU-second)`);
}

await initBackend({ backend: 'wasm' });
console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
updateAlone('MLP 784-256-256-10', [[784, 256], [256], [256, 256], [256], [256, 10], [10]]);
updateAlone('40 variables of 100', Array.from({ length: 40 }, () => [100]));
wholeStep();
console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
