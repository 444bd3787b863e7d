/**
 * bench:morphism — does weight inheritance by network morphism save training?
 *
 * On a Fashion-MNIST subset, per seed: train a small chain CNN (parent) for k epochs; morph it into
 * a deeper and wider child (Net2DeeperNet: identity conv + BN (statistics from a data sample) +
 * ReLU; Net2WiderNet: every conv doubled); fine-tune the child for k epochs; train the same child
 * architecture from scratch for k and 3k epochs. Claim checked: the morphed child after k
 * fine-tuning epochs (2k epochs of compute with the parent's) matches or beats scratch at 3k.
 *
 *   npm run bench:morphism [-- --dataset mnist|fashion-mnist --train 2000 --test 2000 --k 2 --seeds 3]
 *
 * Last line: {"inherit_acc", "scratch_3k_acc", "inherit_epochs", "scratch_epochs", "seeds", ...}.
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { loadNamedDataset } from '../src/data/registry.js';
import type { Dataset } from '../src/data/dataset.js';
import { initBackend } from '../src/nn/backend.js';
import { buildModel } from '../src/nn/builder.js';
import { chainSpace } from '../src/space/arch/chain.js';
import { type ArchGraph, checkGraph } from '../src/space/arch/graph.js';
import { Rng } from '../src/util/rng.js';
import { activationStats, deepen, type GraphWeights, readWeights, widen, writeWeights } from '../src/estimate/morphism/index.js';

const { values: a } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'fashion-mnist' },
    train: { type: 'string', default: '2000' },
    test: { type: 'string', default: '2000' },
    k: { type: 'string', default: '2' },
    seeds: { type: 'string', default: '3' },
    backend: { type: 'string', default: 'auto' },
    /** Extra from-scratch budgets to report (comma-separated epochs), e.g. 4 = the inherited run's epochs. */
    'also-scratch': { type: 'string', default: '' },
    /** Which morphisms make the child: both (default), deepen, widen, or none (the parent itself, fine-tuned). */
    morph: { type: 'string', default: 'both' },
    /** Learning rate of the child's fine-tuning (default: the training rate). */
    'ft-lr': { type: 'string' },
  },
});
const K = Number(a.k);
const SEEDS = Array.from({ length: Number(a.seeds) }, (_, i) => i);
const EXTRA = (a['also-scratch'] ?? '').split(',').filter(Boolean).map(Number);
const BATCH = 64;
const LR = 2e-3;
const FT_LR = a['ft-lr'] !== undefined ? Number(a['ft-lr']) : LR;

const backend = await initBackend({ backend: a.backend as 'auto' });
const data = loadNamedDataset(a.dataset!, { trainCount: Math.round(Number(a.train) / 0.9), testCount: Number(a.test), seed: 0 });
const { train, test } = data;

// Parent: conv3x3(8)-BN-ReLU, maxpool, conv3x3(8)-BN-ReLU, maxpool, flatten, dense(10) (chain space, width 0.5).
const parentGraph = chainSpace.decode(
  {
    depth: 4, head: 'flatten',
    layer_0_op: 'conv3x3', layer_0_width: 16, layer_0_act: 'relu', layer_0_bn: true, layer_0_dropout: 0,
    layer_1_op: 'maxpool3x3', layer_1_dropout: 0,
    layer_2_op: 'conv3x3', layer_2_width: 16, layer_2_act: 'relu', layer_2_bn: true, layer_2_dropout: 0,
    layer_3_op: 'maxpool3x3', layer_3_dropout: 0,
  },
  { inputShape: [...train.shape], numClasses: 10, width: 0.5 },
);

function batchOf(ds: Dataset, idx: ArrayLike<number>, start: number, end: number): [tf.Tensor, tf.Tensor] {
  const size = ds.shape.reduce((p, d) => p * d, 1);
  const x = new Float32Array((end - start) * size);
  const y = new Float32Array((end - start) * 10);
  for (let j = start; j < end; j++) {
    const i = idx[j]!;
    x.set(ds.x.subarray(i * size, (i + 1) * size), (j - start) * size);
    y[(j - start) * 10 + ds.y[i]!] = 1;
  }
  return [tf.tensor(x, [end - start, ...ds.shape]), tf.tensor(y, [end - start, 10])];
}

function accuracy(model: tf.LayersModel, ds: Dataset): number {
  const idx = Array.from({ length: ds.y.length }, (_, i) => i);
  let correct = 0;
  for (let s = 0; s < idx.length; s += 500) {
    const e = Math.min(idx.length, s + 500);
    const [x, y] = batchOf(ds, idx, s, e);
    const pred = tf.tidy(() => tf.argMax(model.predict(x) as tf.Tensor, -1));
    const p = pred.dataSync();
    for (let j = 0; j < e - s; j++) correct += p[j] === ds.y[idx[s + j]!] ? 1 : 0;
    tf.dispose([x, y, pred]);
  }
  return correct / ds.y.length;
}

/** Builds `graph` (seeded init), sets `weights` if given, trains `epochs` epochs with Adam. */
function fit(graph: ArchGraph, weights: GraphWeights | null, epochs: number, seed: number, lr = LR): { model: tf.LayersModel; seconds: number; cpu: number } {
  const rng = Rng.derive(seed, 'bench-morphism');
  const saved = Math.random;
  Math.random = () => rng.random();
  const model = buildModel(graph);
  Math.random = saved;
  if (weights) writeWeights(model, graph, weights, tf);
  const opt = tf.train.adam(lr);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let ep = 0; ep < epochs; ep++) {
    const order = Rng.derive(seed, 'shuffle', ep).shuffle(Array.from({ length: train.y.length }, (_, i) => i));
    for (let s = 0; s + 2 <= order.length; s += BATCH) {
      const [x, y] = batchOf(train, order, s, Math.min(order.length, s + BATCH));
      Math.random = () => rng.random();
      tf.tidy(() => {
        opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, false, vars);
      });
      Math.random = saved;
      tf.dispose([x, y]);
    }
  }
  opt.dispose();
  const c = process.cpuUsage(c0);
  return { model, seconds: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

/** Deeper (identity conv3x3 + BN + ReLU after the second conv block) and every conv twice as wide. */
function morph(pg: ArchGraph, pw: GraphWeights, parentModel: tf.LayersModel, seed: number) {
  const sample = batchOf(train, Rng.derive(seed, 'stats').sampleIndices(train.y.length, 512), 0, 512)[0];
  const stats = activationStats(tf, parentModel, pg, ['layer2/relu'], sample);
  sample.dispose();
  const mode = a.morph!;
  if (mode === 'none') return { graph: pg, weights: pw, exact: true };
  let r = mode === 'widen' ? { graph: pg, weights: pw, inherit: { functionPreserving: true } }
    : deepen(pg, pw, 'layer2/relu', { op: 'conv', kernel: 3, bn: true, act: 'relu', stats, seed });
  const exact = [r.inherit.functionPreserving];
  if (mode === 'deepen') return { graph: r.graph, weights: r.weights, exact: exact[0]! };
  for (const id of ['layer0/conv3x3', 'layer2/conv3x3', ...(mode === 'both' ? ['layer2/relu/deep1/conv'] : [])]) {
    const g = checkGraph(r.graph);
    const node = g.nodes.find((n) => n.id === id)!;
    const f = node.kind === 'op' && node.op.type === 'conv' ? node.op.filters : 0;
    r = widen(g, r.weights, id, 2 * f, { seed, split: 'random' });
    exact.push(r.inherit.functionPreserving);
  }
  return { graph: r.graph, weights: r.weights, exact: exact.every(Boolean) };
}

const fmt = (v: number) => v.toFixed(4);
console.log(`bench:morphism  morph=${a.morph}  backend=${backend}${backend === 'wasm' ? ' (tsnas training-kernel pack: conv training on wasm)' : ''}  dataset=${a.dataset} ` +
  `train=${train.y.length} test=${test.y.length}  k=${K}  seeds=${SEEDS.length}  Adam lr=${LR} (fine-tuning ${FT_LR}) batch=${BATCH}`);
const extras: { ep: number; acc: number; cpu: number }[][] = [];
const rows: { inherit: number; s3k: number; sk: number; before: number; parent: number; tInh: number; tS3k: number; tSk: number; cInh: number; cS3k: number; cSk: number }[] = [];
for (const seed of SEEDS) {
  const parent = fit(parentGraph, null, K, seed);
  const parentAcc = accuracy(parent.model, test);
  const pw = readWeights(parent.model, parentGraph);
  const child = morph(parentGraph, pw, parent.model, seed);
  parent.model.dispose();
  const check = buildModel(child.graph);
  writeWeights(check, child.graph, child.weights, tf);
  const before = accuracy(check, test);
  check.dispose();
  const ft = fit(child.graph, child.weights, K, seed + 100, FT_LR);
  const inheritAcc = accuracy(ft.model, test);
  ft.model.dispose();
  const s3 = fit(child.graph, null, 3 * K, seed + 200);
  const s3Acc = accuracy(s3.model, test);
  s3.model.dispose();
  const s1 = fit(child.graph, null, K, seed + 300);
  const s1Acc = accuracy(s1.model, test);
  s1.model.dispose();
  const extra = EXTRA.map((ep) => {
    const r = fit(child.graph, null, ep, seed + 400 + ep);
    const acc = accuracy(r.model, test);
    r.model.dispose();
    console.log(`seed ${seed}: scratch ${ep} ep ${fmt(acc)} (${r.seconds.toFixed(1)} s, ${r.cpu.toFixed(1)} CPU s)`);
    return { ep, acc, cpu: r.cpu };
  });
  extras.push(extra);
  rows.push({ inherit: inheritAcc, s3k: s3Acc, sk: s1Acc, before, parent: parentAcc, tInh: parent.seconds + ft.seconds, tS3k: s3.seconds, tSk: s1.seconds, cInh: parent.cpu + ft.cpu, cS3k: s3.cpu, cSk: s1.cpu });
  console.log(`seed ${seed}: parent ${fmt(parentAcc)} (${K} ep, ${parent.seconds.toFixed(1)} s, ${parent.cpu.toFixed(1)} CPU s) -> morphed child before fine-tuning ${fmt(before)} ` +
    `(function-preserving: ${child.exact}) -> fine-tuned ${fmt(inheritAcc)} (${K} ep, ${ft.seconds.toFixed(1)} s, ${ft.cpu.toFixed(1)} CPU s) | ` +
    `scratch ${3 * K} ep ${fmt(s3Acc)} (${s3.seconds.toFixed(1)} s, ${s3.cpu.toFixed(1)} CPU s) | scratch ${K} ep ${fmt(s1Acc)} (${s1.seconds.toFixed(1)} s)`);
}
const mean = (f: (r: (typeof rows)[number]) => number) => rows.reduce((s, r) => s + f(r), 0) / rows.length;
console.log('\nmeans over seeds          test acc   epochs (parent+child)   wall s   CPU s (training)');
const line = (name: string, acc: number, ep: string, t: number, c: number) =>
  console.log(`${name.padEnd(26)}${fmt(acc)}     ${ep.padEnd(24)}${t.toFixed(1).padStart(6)}   ${c.toFixed(1).padStart(6)}`);
line('inherit (morph + ft)', mean((r) => r.inherit), `${K} + ${K}`, mean((r) => r.tInh), mean((r) => r.cInh));
line(`scratch ${3 * K} epochs`, mean((r) => r.s3k), `0 + ${3 * K}`, mean((r) => r.tS3k), mean((r) => r.cS3k));
line(`scratch ${K} epochs`, mean((r) => r.sk), `0 + ${K}`, mean((r) => r.tSk), mean((r) => r.cSk));
EXTRA.forEach((ep, i) => {
  const m = (f: (e: { acc: number; cpu: number }) => number) => extras.reduce((s, e) => s + f(e[i]!), 0) / extras.length;
  line(`scratch ${ep} epochs`, m((e) => e.acc), `0 + ${ep}`, NaN, m((e) => e.cpu));
});
console.log(`claim (inherit >= scratch 3k): ${mean((r) => r.inherit) >= mean((r) => r.s3k) ? 'holds' : 'does not hold'} on the mean; ` +
  `per seed ${rows.filter((r) => r.inherit >= r.s3k).length}/${rows.length}`);
console.log(JSON.stringify({
  inherit_acc: +mean((r) => r.inherit).toFixed(4),
  scratch_3k_acc: +mean((r) => r.s3k).toFixed(4),
  inherit_epochs: 2 * K,
  scratch_epochs: 3 * K,
  seeds: SEEDS.length,
  scratch_k_acc: +mean((r) => r.sk).toFixed(4),
  parent_acc: +mean((r) => r.parent).toFixed(4),
  child_before_finetune_acc: +mean((r) => r.before).toFixed(4),
  inherit_seconds: +mean((r) => r.tInh).toFixed(1),
  scratch_3k_seconds: +mean((r) => r.tS3k).toFixed(1),
  inherit_cpu_seconds: +mean((r) => r.cInh).toFixed(1),
  scratch_3k_cpu_seconds: +mean((r) => r.cS3k).toFixed(1),
  backend,
  dataset: a.dataset,
  morph: a.morph,
  ft_lr: FT_LR,
  per_seed: rows.map((r) => ({ inherit: r.inherit, scratch_3k: r.s3k })),
}));
