/**
 * Learning-curve extrapolation on real training curves (MNIST subsets), and the stop rule built on it.
 *
 *   npm run bench:lc -- --curves 48 --epochs 20
 *   npm run bench:lc -- --source tfjs --curves 60 --searches 200
 *
 * 1. Records validation-accuracy curves (one value per epoch) of MLPs and small CNNs with varied
 *    width, depth, learning rate, optimizer and training-subset size, cached in runs/lc/ (git-ignored;
 *    the cache is keyed by source and epochs, and extended, not redone, on a later run). --source
 *    tsnas trains with tsnas's TrainingEvaluator (src/estimate/train.ts, chain-space MLP/CNN) when that
 *    module is present; --source tfjs (the fallback, and what `auto` uses when tsnas training cannot
 *    be loaded) trains tfjs layers models on the wasm backend via initBackend. Seeded throughout.
 * 2. MAE (accuracy points) of the final value predicted from the first 30% of epochs by the curve
 *    ensemble, the 90% interval's coverage, and the naive "last value" baseline.
 * 3. Repeated searches (random subsets of --search-size curves in random order): a curve is stopped
 *    at an epoch >= 30% when P(final > best finished so far) < --threshold. Reports the epochs saved
 *    and how often the search still finds the best final model (exactly, and within 0.5 points),
 *    with the median rule beside it. Last line: one JSON object.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { loadMnist } from '../src/data/mnist.js';
import { subset, type Dataset } from '../src/data/dataset.js';
import { CurveEnsemble } from '../src/estimate/lc/index.js';
import { median } from '../src/estimate/pruners/median.js';
import { initBackend } from '../src/nn/backend.js';
import { Rng } from '../src/util/rng.js';

interface CurveConfig {
  kind: 'mlp' | 'cnn';
  width: number;
  depth: number;
  lr: number;
  optimizer: 'adam' | 'sgd';
  nTrain: number;
  seed: number;
}
interface Curve {
  config: CurveConfig;
  source: string;
  values: number[];
  seconds: number;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function configFor(i: number): CurveConfig {
  const r = Rng.derive(1234, 'lc-config', i);
  return {
    kind: i % 5 < 3 ? 'mlp' : 'cnn',
    width: r.pick([16, 32, 64, 128]),
    depth: r.pick([1, 2]),
    lr: r.pick([0.0003, 0.001, 0.003, 0.01, 0.03, 0.1]),
    optimizer: r.pick(['adam', 'sgd'] as const),
    nTrain: r.pick([250, 500, 1000, 2000]),
    seed: i,
  };
}

function mnistParts(nTrain: number, seed: number): { train: Dataset; val: Dataset } {
  const { train } = loadMnist({ trainCount: 6000 });
  const order = new Rng(seed).shuffle(Array.from({ length: 5000 }, (_, i) => i));
  return { train: subset(train, order.slice(0, nTrain)), val: subset(train, Array.from({ length: 1000 }, (_, i) => 5000 + i)) };
}

/** tfjs layers model on wasm, seeded initialisers, seeded per-epoch shuffles. */
async function recordTfjs(c: CurveConfig, epochs: number): Promise<number[]> {
  const { train, val } = mnistParts(c.nTrain, c.seed);
  const toX = (d: Dataset) => tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(d.x, [d.y.length, 28, 28, 1]), [14, 14]));
  const xTr = toX(train);
  const yTr = tf.oneHot(tf.tensor1d(train.y, 'int32'), 10);
  const xVa = toX(val);
  const init = (k: number) => tf.initializers.glorotUniform({ seed: c.seed * 100 + k });
  const m = tf.sequential();
  if (c.kind === 'mlp') {
    m.add(tf.layers.flatten({ inputShape: [14, 14, 1] }));
    for (let l = 0; l < c.depth; l++) m.add(tf.layers.dense({ units: c.width, activation: 'relu', kernelInitializer: init(l) }));
  } else {
    m.add(tf.layers.conv2d({ inputShape: [14, 14, 1], filters: Math.max(4, c.width / 8), kernelSize: 3, activation: 'relu', kernelInitializer: init(0) }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    if (c.depth > 1) m.add(tf.layers.conv2d({ filters: Math.max(8, c.width / 4), kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }));
    m.add(tf.layers.flatten());
  }
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(9) }));
  m.compile({ optimizer: c.optimizer === 'adam' ? tf.train.adam(c.lr) : tf.train.sgd(c.lr * 10), loss: 'categoricalCrossentropy' });
  const rng = new Rng(c.seed + 7);
  const out: number[] = [];
  for (let e = 0; e < epochs; e++) {
    const idx = tf.tensor1d(rng.shuffle(Array.from({ length: c.nTrain }, (_, i) => i)), 'int32');
    const xs = tf.gather(xTr, idx);
    const ys = tf.gather(yTr, idx);
    await m.fit(xs, ys, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0 });
    tf.dispose([idx, xs, ys]);
    const pred = tf.tidy(() => (m.predict(xVa) as tf.Tensor).argMax(-1));
    const p = await pred.data();
    pred.dispose();
    let ok = 0;
    for (let i = 0; i < p.length; i++) if (p[i] === val.y[i]) ok++;
    out.push(ok / p.length);
  }
  tf.dispose([xTr, yTr, xVa]);
  m.dispose();
  return out;
}

/** tsnas's TrainingEvaluator: chain-flat space on flattened pixels for the MLP, chain space (conv + pool) for the CNN. */
async function recordTsnas(c: CurveConfig, epochs: number): Promise<number[]> {
  const trainMod = './../src/estimate/train.js';
  type Ev = new (o: unknown) => { train(p: unknown): Promise<{ epochs: { value: number }[] }> };
  const { TrainingEvaluator } = (await import(trainMod)) as { TrainingEvaluator: Ev };
  const { chainSpace, chainFlatSpace } = await import('../src/space/arch/chain.js');
  const layer = (i: number, op: string, w: number) => ({ [`layer_${i}_op`]: op, [`layer_${i}_width`]: w, [`layer_${i}_act`]: 'relu', [`layer_${i}_bn`]: false, [`layer_${i}_dropout`]: 0 });
  const parts = mnistParts(c.nTrain, c.seed);
  const common = { seed: c.seed, lr: c.optimizer === 'sgd' ? c.lr * 10 : c.lr, optimizer: c.optimizer, batchSize: 32, backend: 'wasm' };
  if (c.kind === 'mlp') {
    const flat = (d: Dataset): Dataset => ({ ...d, shape: [784] });
    const ev = new TrainingEvaluator({ ...common, archSpace: chainFlatSpace, data: { train: flat(parts.train), val: flat(parts.val) }, fidelity: { epochs } });
    const params = { depth: c.depth, ...layer(0, 'dense', c.width), ...(c.depth > 1 ? layer(1, 'dense', c.width) : {}) };
    return (await ev.train(params)).epochs.map((e) => e.value);
  }
  const ev = new TrainingEvaluator({ ...common, archSpace: chainSpace, data: parts, fidelity: { epochs, resolution: 14 } });
  const params = { depth: 2, ...layer(0, 'conv3x3', c.width >= 64 ? 32 : 16), layer_1_op: 'maxpool3x3', layer_1_dropout: 0, head: 'flatten' };
  return (await ev.train(params)).epochs.map((e) => e.value);
}

async function tsnasAvailable(): Promise<boolean> {
  try {
    await import('./../src/estimate/train.js' as string);
    return true;
  } catch {
    return false;
  }
}

/** Predictive members of a curve's ensemble after its first `k` epochs, targeting the last epoch. */
function membersAfter(values: number[], k: number, seed: number) {
  const xs = values.slice(0, k).map((_, i) => i + 1);
  const ens = new CurveEnsemble(xs, values.slice(0, k), { seed, lower: 0, upper: 1 });
  return ens.predict(values.length);
}

function pGreater(members: { weight: number; mean: number; sd: number }[], v: number): number {
  const cdf = (z: number) => 0.5 * (1 + erf(z / Math.SQRT2));
  return members.reduce((s, m) => s + m.weight * (1 - cdf((v - m.mean) / Math.max(m.sd, 1e-12))), 0);
}
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

async function main(): Promise<void> {
  const o = new Command()
    .name('bench:lc')
    .option('--curves <n>', 'curves to record/evaluate', (v) => parseInt(v, 10), 48)
    .option('--epochs <n>', 'epochs per curve', (v) => parseInt(v, 10), 20)
    .option('--source <s>', 'auto | tsnas | tfjs', 'auto')
    .option('--fraction <f>', 'share of epochs seen before predicting', (v) => parseFloat(v), 0.3)
    .option('--threshold <p>', 'stop when P(final > best) is below this', (v) => parseFloat(v), 0.05)
    .option('--searches <n>', 'repeated searches for the stop rule', (v) => parseInt(v, 10), 200)
    .option('--search-size <n>', 'curves per search', (v) => parseInt(v, 10), 16)
    .option('--cache-dir <dir>', 'curve cache folder', path.join(ROOT, 'runs', 'lc'))
    .parse()
    .opts();
  const E: number = o.epochs;
  let source: string = o.source;
  if (source === 'auto') source = (await tsnasAvailable()) ? 'tsnas' : 'tfjs';
  const backend = await initBackend({ backend: 'wasm' });
  fs.mkdirSync(o.cacheDir, { recursive: true });
  const file = path.join(o.cacheDir, `curves-${source}-${E}ep.json`);
  const curves: Curve[] = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Curve[]) : [];
  for (let i = curves.length; i < o.curves; i++) {
    const c = configFor(i);
    const t0 = Date.now();
    const values = source === 'tsnas' ? await recordTsnas(c, E) : await recordTfjs(c, E);
    curves.push({ config: c, source: `${source}/${backend}`, values, seconds: (Date.now() - t0) / 1000 });
    fs.writeFileSync(file, JSON.stringify(curves));
    console.error(`curve ${i + 1}/${o.curves} ${c.kind} w${c.width} d${c.depth} ${c.optimizer} lr ${c.lr} n ${c.nTrain}: ${values.at(-1)!.toFixed(3)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  const use = curves.slice(0, o.curves);
  const k = Math.max(3, Math.round(o.fraction * E));

  // 2. Final-value prediction from the first k epochs.
  let mae = 0;
  let naive = 0;
  let covered = 0;
  const t0 = Date.now();
  const preds = use.map((c, i) => membersAfter(c.values, k, i));
  use.forEach((c, i) => {
    const f = c.values.at(-1)!;
    mae += Math.abs(preds[i]!.mean - f);
    naive += Math.abs(c.values[k - 1]! - f);
    if (f >= preds[i]!.lower && f <= preds[i]!.upper) covered++;
  });
  const fitSeconds = (Date.now() - t0) / 1000 / use.length;

  // 3. Stop rule in repeated searches. Predictions depend only on (curve, epoch): computed once.
  const table = use.map((c, i) => Array.from({ length: E }, (_, e) => (e + 1 >= k && e + 1 < E ? membersAfter(c.values, e + 1, i * 1000 + e).members : null)));
  const rng = new Rng(99);
  const S = Math.min(o.searchSize, use.length);
  const stats = { lc: { saved: 0, exact: 0, within: 0 }, median: { saved: 0, exact: 0, within: 0 } };
  for (let s = 0; s < o.searches; s++) {
    const pick = rng.sampleIndices(use.length, S);
    const trueBest = Math.max(...pick.map((i) => use[i]!.values.at(-1)!));
    for (const rule of ['lc', 'median'] as const) {
      let used = 0;
      const done: number[] = [];
      for (const i of pick) {
        const v = use[i]!.values;
        let stopAt = E;
        for (let e = k; e < E && done.length > 0; e++) {
          const stop =
            rule === 'lc'
              ? pGreater(table[i]![e - 1]!, Math.max(...done.map((j) => use[j]!.values.at(-1)!))) < o.threshold
              : done.length >= 3 && Math.max(...v.slice(0, e)) < median(done.map((j) => use[j]!.values[e - 1]!));
          if (stop) {
            stopAt = e;
            break;
          }
        }
        used += stopAt;
        if (stopAt === E) done.push(i);
      }
      const found = Math.max(...done.map((j) => use[j]!.values.at(-1)!));
      stats[rule].saved += 1 - used / (S * E);
      if (found >= trueBest - 1e-12) stats[rule].exact++;
      if (found >= trueBest - 0.005) stats[rule].within++;
    }
  }
  const n = o.searches;
  const mlp = use.filter((c) => c.config.kind === 'mlp').length;
  console.log(`\nLearning curves: ${use.length} MNIST curves (${mlp} MLP, ${use.length - mlp} CNN), ${E} epochs, source ${use[0]?.source}, recorded in ${use.reduce((s, c) => s + c.seconds, 0).toFixed(0)} s`);
  console.log(`final accuracies: min ${Math.min(...use.map((c) => c.values.at(-1)!)).toFixed(3)}, median ${median(use.map((c) => c.values.at(-1)!)).toFixed(3)}, max ${Math.max(...use.map((c) => c.values.at(-1)!)).toFixed(3)}`);
  console.log(`prediction from the first ${k}/${E} epochs: MAE ${((100 * mae) / use.length).toFixed(2)} points (last-value baseline ${((100 * naive) / use.length).toFixed(2)}), 90% interval covers ${((100 * covered) / use.length).toFixed(0)}%, ${fitSeconds.toFixed(2)} s per fit`);
  console.log(`stop rule over ${n} searches of ${S} curves (threshold ${o.threshold}, from epoch ${k}):`);
  for (const r of ['lc', 'median'] as const) {
    console.log(`  ${r.padEnd(6)} epochs saved ${((100 * stats[r].saved) / n).toFixed(1)}%, best final found ${((100 * stats[r].exact) / n).toFixed(1)}%, within 0.5 points ${((100 * stats[r].within) / n).toFixed(1)}%`);
  }
  console.log(
    JSON.stringify({
      curves: use.length,
      epochs: E,
      source: use[0]?.source,
      mae_points: +((100 * mae) / use.length).toFixed(3),
      mae_last_value_points: +((100 * naive) / use.length).toFixed(3),
      interval90_coverage: +(covered / use.length).toFixed(3),
      lc_epochs_saved: +(stats.lc.saved / n).toFixed(3),
      lc_best_found: +(stats.lc.exact / n).toFixed(3),
      lc_within_0_5: +(stats.lc.within / n).toFixed(3),
      median_epochs_saved: +(stats.median.saved / n).toFixed(3),
      median_within_0_5: +(stats.median.within / n).toFixed(3),
    }),
  );
}

main().catch((e) => {
  console.error((e as Error).stack ?? String(e));
  process.exit(1);
});
