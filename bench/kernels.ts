/**
 * Per-kernel benchmark of the training-kernel pack (npm run bench:kernels): the kernels that
 * dominate a training step of bench:train's models, each timed on tsnas's path (wasm + the pack,
 * fused optimizer and loss) and on stock tfjs wasm, side by side in one run; child processes so
 * that the pack is not registered for the stock column. CPU milliseconds of the calling thread,
 * median of --reps (default 9) after 3 warm-ups, FRESH input tensors for every repetition
 * (XNNPACK caches the packing of an operand it has seen, which training never reuses).
 * Internal: --worker=stock|tsnas.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { makeOptimizer } from '../src/estimate/train-util.js';
import { initBackend } from '../src/nn/backend.js';
import { softmaxCrossEntropy } from '../src/nn/losses.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const REPS = Number(args.get('reps') ?? 9);

type Case = { name: string; inputs: () => tf.Tensor[]; run: (xs: tf.Tensor[], stock: boolean) => tf.Tensor | tf.Tensor[] | void };

const rnd = (shape: number[]) => () => tf.randomNormal(shape);
const kernel = (name: string, inputs: Record<string, number>, attrs: object) => (xs: tf.Tensor[]) =>
  tf.engine().runKernel(name, Object.fromEntries(Object.entries(inputs).map(([k, i]) => [k, xs[i]!])), attrs as tf.NamedAttrMap) as tf.Tensor;
const conv = (x: number[], f: number[]): Case => ({
  name: `Conv2D ${x.join('x')} * ${f.join('x')}`,
  inputs: () => [rnd(x)(), rnd(f)()],
  run: kernel('Conv2D', { x: 0, filter: 1 }, { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 }),
});

const CASES: Case[] = [
  conv([128, 28, 28, 1], [3, 3, 1, 32]),
  conv([128, 14, 14, 32], [3, 3, 32, 64]),
  conv([128, 32, 32, 3], [3, 3, 3, 32]),
  conv([128, 16, 16, 32], [3, 3, 32, 64]),
  {
    name: 'Conv2DBackpropInput dy 128x14x14x64 -> 32',
    inputs: () => [rnd([128, 14, 14, 64])(), rnd([3, 3, 32, 64])()],
    run: kernel('Conv2DBackpropInput', { dy: 0, filter: 1 }, { strides: 1, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: [128, 14, 14, 32] }),
  },
  {
    name: 'Conv2DBackpropFilter x 128x14x14x32, dy ..x64',
    inputs: () => [rnd([128, 14, 14, 32])(), rnd([128, 14, 14, 64])()],
    run: kernel('Conv2DBackpropFilter', { x: 0, dy: 1 }, { strides: 1, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [3, 3, 32, 64] }),
  },
  {
    name: 'Conv2DBackpropFilter x 128x28x28x1, dy ..x32',
    inputs: () => [rnd([128, 28, 28, 1])(), rnd([128, 28, 28, 32])()],
    run: kernel('Conv2DBackpropFilter', { x: 0, dy: 1 }, { strides: 1, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [3, 3, 1, 32] }),
  },
  { name: 'MatMul 128x784 . 784x256', inputs: () => [rnd([128, 784])(), rnd([784, 256])()], run: ([a, b]) => tf.matMul(a!, b!) },
  { name: 'MatMul 784x128^T . 128x256 (weight grad)', inputs: () => [rnd([128, 784])(), rnd([128, 256])()], run: ([a, b]) => tf.matMul(a!, b!, true, false) },
  { name: 'MatMul 128x256 . 784x256^T (input grad)', inputs: () => [rnd([128, 256])(), rnd([784, 256])()], run: ([a, b]) => tf.matMul(a!, b!, false, true) },
  { name: 'MaxPool 2x2 128x28x28x32', inputs: () => [rnd([128, 28, 28, 32])()], run: ([x]) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid') },
  {
    name: 'MaxPoolGrad 2x2 128x28x28x32',
    inputs: () => {
      const x = rnd([128, 28, 28, 32])();
      return [x, tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), rnd([128, 14, 14, 32])()];
    },
    run: kernel('MaxPoolGrad', { input: 0, output: 1, dy: 2 }, { filterSize: 2, strides: 2, pad: 'valid' }),
  },
  {
    name: 'relu + its gradient 128x28x28x32',
    inputs: () => [rnd([128, 28, 28, 32])()],
    run: ([x]) => tf.grad((a: tf.Tensor) => tf.relu(a))(x!),
  },
  {
    name: 'softmax cross-entropy + gradient 128x10',
    inputs: () => [rnd([128, 10])(), tf.oneHot(tf.tensor1d(Array.from({ length: 128 }, (_, i) => i % 10), 'int32'), 10).toFloat()],
    run: ([x, y], stock) => tf.grad((l: tf.Tensor) => (stock ? (tf.losses.softmaxCrossEntropy(y!, l) as tf.Tensor) : softmaxCrossEntropy(y!, l)))(x!),
  },
];

/** The Adam update of the MLP 784-256-256-10's 269k weights (tfjs's optimizer vs tsnas's fused one). */
function adamUpdate(stock: boolean): number {
  const shapes = [[784, 256], [256], [256, 256], [256], [256, 10], [10]];
  const vars = shapes.map((s) => tf.variable(tf.randomNormal(s)));
  const opt = stock ? tf.train.adam(1e-3) : makeOptimizer('adam', 1e-3);
  const ts: number[] = [];
  for (let r = 0; r < REPS + 30; r++) {
    const grads = vars.map((v) => ({ name: v.name, tensor: tf.randomNormal(v.shape) }));
    const c = process.cpuUsage();
    tf.tidy(() => opt.applyGradients(grads));
    const d = process.cpuUsage(c);
    if (r >= 30) ts.push((d.user + d.system) / 1000); // tfjs's update needs ~30 calls to warm up
    tf.dispose(grads.map((g) => g.tensor));
  }
  tf.dispose(vars);
  opt.dispose();
  return median(ts);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function worker(kind: 'stock' | 'tsnas'): Promise<void> {
  if (kind === 'tsnas') await initBackend({ backend: 'wasm' });
  else {
    await tf.setBackend('wasm');
    await tf.ready();
  }
  const out: Record<string, number | string> = {};
  for (const c of CASES) {
    const ts: number[] = [];
    try {
      for (let r = 0; r < REPS + 3; r++) {
        const xs = c.inputs();
        const t0 = process.cpuUsage();
        const y = c.run(xs, kind === 'stock');
        const d = process.cpuUsage(t0);
        if (r >= 3) ts.push((d.user + d.system) / 1000);
        tf.dispose([...xs, ...(y ? (Array.isArray(y) ? y : [y]) : [])]);
      }
      out[c.name] = median(ts);
    } catch (e) {
      out[c.name] = `not available (${(e as Error).message.split('\n')[0]!.slice(0, 60)})`;
    }
  }
  out['Adam update, MLP 269k weights'] = adamUpdate(kind === 'stock');
  console.log('RESULT ' + JSON.stringify(out));
}

function child(kind: string): Record<string, number | string> {
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), `--worker=${kind}`, `--reps=${REPS}`], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${kind} worker failed:\n${r.stderr.slice(-2000)}`);
  return JSON.parse(line.slice(7));
}

async function main(): Promise<void> {
  const w = args.get('worker');
  if (w === 'stock' || w === 'tsnas') return worker(w);
  console.log(`bench:kernels  CPU ms per call, median of ${REPS}, fresh inputs; node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const tsnas = child('tsnas');
  const stock = child('stock');
  const rows = [['kernel', 'tsnas', 'stock tfjs wasm', 'stock / tsnas']];
  for (const k of Object.keys(tsnas)) {
    const a = tsnas[k];
    const b = stock[k];
    const fmt = (v: unknown) => (typeof v === 'number' ? v.toFixed(2) : String(v ?? '-').slice(0, 34));
    rows.push([k, fmt(a), fmt(b), typeof a === 'number' && typeof b === 'number' ? `${(b / a).toFixed(1)}x` : '-']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  console.log(JSON.stringify({ tsnas, stock }));
}

void main();
