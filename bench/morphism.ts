/**
 * bench:morphism — does weight inheritance by network morphism save training?
 *
 * On a Fashion-MNIST subset, per seed: train a small chain CNN (the parent: two conv3x3(8)-BN-ReLU
 * blocks with max pooling) with Adam at a constant rate, keeping its weights after P epochs for
 * every P in --parent-epochs (default k and 3k: snapshots of one run). Morph it into a child
 * (Net2DeeperNet: identity conv3x3 + BN + ReLU after the second block; Net2WiderNet: every conv
 * twice as wide; or one of the two), fine-tune the child k epochs, and train the same child
 * architecture from scratch for 3k epochs (accuracy also read at k and 2k). Every arm uses the same
 * seeds, data subset and fine-tuning batches; test accuracy on the held-out test subset.
 *
 * Two protocols, both printed for every arm:
 *  (a) parent trained P = k epochs, child fine-tuned k: 2k epochs in all vs scratch 3k (compute
 *      counted from the parent's first step);
 *  (b) the search setting: the parent is a trial already trained at the search fidelity (its
 *      cost was paid by its own evaluation, printed separately); the child's own cost is its k
 *      fine-tuning epochs vs scratch 3k. P = 3k is a parent that itself trained as long as scratch.
 *
 * Fine-tuning arms (knobs, all reported): both morphisms at the training rate (baseline); cosine
 * annealing to 0 over the k epochs (scratch is then also run with cosine over 3k, and every arm is
 * compared with the best of the scratch schedules of its architecture); half the rate; a linear
 * warm-up of the rate over the first epoch (a fresh Adam meets trained weights);
 * the inserted BN without measured statistics (mean 0, variance 1); Net2Net noise (1% of each
 * widened kernel's std) on the widened kernels; deepen only; widen only.
 *
 *   npm run bench:morphism [-- --dataset fashion-mnist --train 2000 --test 2000 --k 2 --seeds 3 --parent-epochs 2,6 --arms all]
 *
 * Last line: JSON {k, seeds, arms: [{arm, parentEpochs, child, scratch3k, ratio, wins, cpu...}], ...}.
 */
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { loadNamedDataset } from '../src/data/registry.js';
import type { Dataset } from '../src/data/dataset.js';
import { initBackend } from '../src/nn/backend.js';
import { buildModel } from '../src/nn/builder.js';
import { chainSpace } from '../src/space/arch/chain.js';
import { type ArchGraph, checkGraph } from '../src/space/arch/graph.js';
import { Rng } from '../src/util/rng.js';
import { setLearningRate } from '../src/estimate/train-util.js';
import { activationStats, deepen, type GraphWeights, readWeights, widen, writeWeights } from '../src/estimate/morphism/index.js';

const { values: a } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'fashion-mnist' },
    train: { type: 'string', default: '2000' },
    test: { type: 'string', default: '2000' },
    k: { type: 'string', default: '2' },
    seeds: { type: 'string', default: '3' },
    backend: { type: 'string', default: 'auto' },
    /** Parent training lengths (comma-separated epochs); default k,3k. */
    'parent-epochs': { type: 'string' },
    /** Comma-separated arm names (see ARMS) or 'all'. */
    arms: { type: 'string', default: 'all' },
  },
});
const K = Number(a.k);
const SEEDS = Array.from({ length: Number(a.seeds) }, (_, i) => i);
const PS = (a['parent-epochs'] ?? `${K},${3 * K}`).split(',').map(Number);
const BATCH = 64;
const LR = 2e-3;

type Kind = 'both' | 'deepen' | 'widen';
type Schedule = 'constant' | 'cosine' | 'warmup';
interface Arm { name: string; kind: Kind; lr: number; schedule: Schedule; stats: boolean; noise: number }
const ALL_ARMS: Arm[] = [
  { name: 'both', kind: 'both', lr: LR, schedule: 'constant', stats: true, noise: 0 },
  { name: 'both cosine', kind: 'both', lr: LR, schedule: 'cosine', stats: true, noise: 0 },
  { name: 'both lr/2', kind: 'both', lr: LR / 2, schedule: 'constant', stats: true, noise: 0 },
  { name: 'both warmup', kind: 'both', lr: LR, schedule: 'warmup', stats: true, noise: 0 },
  { name: 'both bn-0/1', kind: 'both', lr: LR, schedule: 'constant', stats: false, noise: 0 },
  { name: 'both noise', kind: 'both', lr: LR, schedule: 'constant', stats: true, noise: 0.01 },
  { name: 'deepen', kind: 'deepen', lr: LR, schedule: 'constant', stats: true, noise: 0 },
  { name: 'widen', kind: 'widen', lr: LR, schedule: 'constant', stats: true, noise: 0 },
];
const ARMS = a.arms === 'all' ? ALL_ARMS : a.arms!.split(',').map((n) => ALL_ARMS.find((x) => x.name === n) ?? (() => { throw new Error(`--arms: no arm "${n}"; use ${ALL_ARMS.map((x) => x.name).join(', ')}`); })());

const backend = await initBackend({ backend: a.backend as 'auto' });
const data = loadNamedDataset(a.dataset!, { trainCount: Math.round(Number(a.train) / 0.9), testCount: Number(a.test), seed: 0 });
const { train, test } = data;

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

const cpuNow = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};

/**
 * Builds `graph` (seeded init), sets `weights` if given, trains `epochs` epochs with Adam (the rate
 * constant, or cosine-annealed to 0 over the run, per batch); `at(epoch, model, trainCpu)` after
 * every epoch (training CPU seconds so far, evaluation excluded). Disposes the model.
 */
function fit(graph: ArchGraph, weights: GraphWeights | null, epochs: number, seed: number, lr: number, schedule: Schedule,
  at: (epoch: number, model: tf.LayersModel, cpu: number) => void): void {
  const rng = Rng.derive(seed, 'bench-morphism');
  const saved = Math.random;
  Math.random = () => rng.random();
  const model = buildModel(graph);
  Math.random = saved;
  if (weights) writeWeights(model, graph, weights, tf);
  const opt = tf.train.adam(lr);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let cpu = 0;
  const n = train.y.length;
  for (let ep = 0; ep < epochs; ep++) {
    const c0 = cpuNow();
    const order = Rng.derive(seed, 'shuffle', ep).shuffle(Array.from({ length: n }, (_, i) => i));
    for (let s = 0; s + 2 <= n; s += BATCH) {
      if (schedule === 'cosine') setLearningRate(opt, 0.5 * lr * (1 + Math.cos((Math.PI * (ep + s / n)) / epochs)));
      if (schedule === 'warmup') setLearningRate(opt, lr * Math.min(1, (ep + (s + BATCH) / n) / 1));
      const [x, y] = batchOf(train, order, s, Math.min(n, s + BATCH));
      Math.random = () => rng.random();
      tf.tidy(() => {
        opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, false, vars);
      });
      Math.random = saved;
      tf.dispose([x, y]);
    }
    cpu += cpuNow() - c0;
    at(ep + 1, model, cpu);
  }
  opt.dispose();
  model.dispose();
}

const WIDENED = (kind: Kind) => (kind === 'widen' ? ['layer0/conv3x3', 'layer2/conv3x3'] : ['layer0/conv3x3', 'layer2/conv3x3', 'layer2/relu/deep1/conv']);

/** The child of `kind` from the parent's weights; `stats` for the inserted BN (null: mean 0, variance 1). */
function morph(kind: Kind, pw: GraphWeights, stats: Map<string, { mean: Float32Array; variance: Float32Array }> | null, seed: number, noise: number) {
  let r = kind === 'widen'
    ? { graph: parentGraph, weights: pw, inherit: { functionPreserving: true } }
    : deepen(parentGraph, pw, 'layer2/relu', { op: 'conv', kernel: 3, bn: true, act: 'relu', ...(stats ? { stats } : {}), seed });
  let exact = r.inherit.functionPreserving;
  if (kind !== 'deepen') {
    for (const id of WIDENED(kind)) {
      const g = checkGraph(r.graph);
      const node = g.nodes.find((x) => x.id === id)!;
      const f = node.kind === 'op' && node.op.type === 'conv' ? node.op.filters : 0;
      r = widen(g, r.weights, id, 2 * f, { seed, split: 'random' });
      exact &&= r.inherit.functionPreserving;
    }
  }
  if (noise > 0) {
    // Net2Net: a little noise on the replicated units' incoming weights breaks their symmetry.
    const rng = Rng.derive(seed, 'net2net-noise');
    for (const id of WIDENED(kind)) {
      const w = r.weights.get(id)!.kernel!;
      const mean = w.data.reduce((s, v) => s + v, 0) / w.data.length;
      const std = Math.sqrt(w.data.reduce((s, v) => s + (v - mean) ** 2, 0) / w.data.length);
      for (let i = 0; i < w.data.length; i++) w.data[i]! += noise * std * rng.normal();
    }
    exact = false;
  }
  return { graph: r.graph, weights: r.weights, exact };
}

const fmt = (v: number) => v.toFixed(4);
const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
const load0 = os.loadavg()[0]!;
console.log(`bench:morphism  backend=${backend}  dataset=${a.dataset} train=${train.y.length} test=${test.y.length}  k=${K}  parent epochs ${PS.join(',')}  ` +
  `seeds=${SEEDS.length}  Adam lr=${LR} batch=${BATCH}  load average ${load0.toFixed(2)} (CPU seconds are this process's training steps only)`);

interface Scratch { acc: Map<number, number>; cpu: Map<number, number> }
interface Row { arm: string; P: number; seed: number; before: number; exact: boolean; acc: number; cpu: number; parentAcc: number; parentCpu: number; scratch: Scratch }
const rows: Row[] = [];
const scratchOf = new Map<string, Scratch>();
const kinds = [...new Set(ARMS.map((x) => x.kind))];
const maxP = Math.max(...PS);
for (const seed of SEEDS) {
  // Parent: one run, snapshots after each P.
  const snaps = new Map<number, { w: GraphWeights; stats: ReturnType<typeof activationStats>; acc: number; cpu: number }>();
  fit(parentGraph, null, maxP, seed, LR, 'constant', (ep, model, cpu) => {
    if (!PS.includes(ep)) return;
    const sample = batchOf(train, Rng.derive(seed, 'stats').sampleIndices(train.y.length, 512), 0, 512)[0];
    snaps.set(ep, { w: readWeights(model, parentGraph), stats: activationStats(tf, model, parentGraph, ['layer2/relu'], sample), acc: accuracy(model, test), cpu });
    sample.dispose();
  });
  // Scratch: each child architecture for 3k epochs (read at k, 2k, 3k); under cosine too where an arm fine-tunes with it
  // (the table compares every arm with the best of them).
  const scratch = new Map<string, Scratch>();
  for (const kind of kinds) {
    for (const schedule of new Set(ARMS.filter((x) => x.kind === kind).map((x) => x.schedule))) {
      const s: Scratch = { acc: new Map(), cpu: new Map() };
      const g = morph(kind, snaps.get(PS[0]!)!.w, null, seed, 0).graph;
      fit(g, null, 3 * K, seed + 200, LR, schedule, (ep, model, cpu) => {
        if (ep % K !== 0) return;
        s.acc.set(ep, accuracy(model, test));
        s.cpu.set(ep, cpu);
      });
      scratch.set(`${kind}/${schedule}`, s);
      scratchOf.set(`${seed}/${kind}/${schedule}`, s);
      console.log(`seed ${seed}: scratch ${kind} (${schedule}) ${[...s.acc].map(([e, v]) => `${e} ep ${fmt(v)}`).join(', ')} (${s.cpu.get(3 * K)!.toFixed(1)} CPU s for ${3 * K} ep)`);
    }
  }
  for (const P of PS) {
    const p = snaps.get(P)!;
    for (const arm of ARMS) {
      const child = morph(arm.kind, p.w, arm.stats ? p.stats : null, seed, arm.noise);
      const check = buildModel(child.graph);
      writeWeights(check, child.graph, child.weights, tf);
      const before = accuracy(check, test);
      check.dispose();
      let acc = 0;
      let cpu = 0;
      fit(child.graph, child.weights, K, seed + 100, arm.lr, arm.schedule, (ep, model, c) => {
        if (ep === K) [acc, cpu] = [accuracy(model, test), c];
      });
      const s = scratch.get(`${arm.kind}/${arm.schedule}`)!;
      rows.push({ arm: arm.name, P, seed, before, exact: child.exact, acc, cpu, parentAcc: p.acc, parentCpu: p.cpu, scratch: s });
      console.log(`seed ${seed} P=${P} ${arm.name.padEnd(12)} parent ${fmt(p.acc)} -> child before ${fmt(before)} (exact: ${child.exact}) -> ft ${K} ep ${fmt(acc)} ` +
        `(${cpu.toFixed(1)} CPU s) | scratch ${3 * K} ep (${arm.schedule}) ${fmt(s.acc.get(3 * K)!)}`);
    }
  }
}

const best = new Map<Kind, Schedule>();
for (const kind of kinds) {
  const m = (sch: Schedule) => mean(SEEDS.map((sd) => scratchOf.get(`${sd}/${kind}/${sch}`)?.acc.get(3 * K) ?? -1));
  best.set(kind, (['constant', 'cosine', 'warmup'] as const).reduce((b, sch) => (m(sch) > m(b) ? sch : b)));
}
console.log(`\nmeans over ${SEEDS.length} seeds; acc = test accuracy; scratch = the same architecture from scratch under its best schedule ` +
  `(${[...best].map(([kd, sch]) => `${kd}: ${sch}`).join(', ')}); ratio = child / scratch ${3 * K} ep; wins = seeds with child >= scratch ${3 * K} ep`);
console.log(`(a) all compute: parent P + child ${K} ep vs scratch ${3 * K} ep   (b) search setting: the child's ${K} ep only (parent paid by its own trial)`);
console.log('arm           P   parent   before   child    scr k    scr 2k   scr 3k   ratio   wins | (a) CPU s  vs 3k | (b) CPU s  vs 3k');
const summary = [];
for (const P of PS) {
  for (const arm of ARMS) {
    const rs = rows.filter((r) => r.arm === arm.name && r.P === P);
    // The baseline is the better scratch schedule of this architecture (mean over seeds), whichever the arm fine-tunes with.
    const base = best.get(arm.kind)!;
    for (const r of rs) r.scratch = scratchOf.get(`${r.seed}/${arm.kind}/${base}`)!;
    const sc = (e: number) => mean(rs.map((r) => r.scratch.acc.get(e)!));
    const s3cpu = mean(rs.map((r) => r.scratch.cpu.get(3 * K)!));
    const child = mean(rs.map((r) => r.acc));
    const aCpu = mean(rs.map((r) => r.parentCpu + r.cpu));
    const bCpu = mean(rs.map((r) => r.cpu));
    const wins = rs.filter((r) => r.acc >= r.scratch.acc.get(3 * K)!).length;
    const o = {
      arm: arm.name, parentEpochs: P, scratchSchedule: base, parent: +mean(rs.map((r) => r.parentAcc)).toFixed(4), before: +mean(rs.map((r) => r.before)).toFixed(4),
      exact: rs.every((r) => r.exact), child: +child.toFixed(4), scratchK: +sc(K).toFixed(4), scratch2k: +sc(2 * K).toFixed(4), scratch3k: +sc(3 * K).toFixed(4),
      ratio: +(child / sc(3 * K)).toFixed(4), wins, cpuA: +aCpu.toFixed(1), cpuB: +bCpu.toFixed(1), cpuScratch3k: +s3cpu.toFixed(1),
      perSeed: rs.map((r) => [+r.acc.toFixed(4), +r.scratch.acc.get(3 * K)!.toFixed(4)]),
    };
    summary.push(o);
    console.log(`${arm.name.padEnd(12)}${String(P).padStart(3)}   ${fmt(o.parent)}   ${fmt(o.before)}   ${fmt(child)}   ${fmt(o.scratchK)}   ${fmt(o.scratch2k)}   ${fmt(o.scratch3k)}   ${o.ratio.toFixed(3)}   ${wins}/${rs.length} |` +
      ` ${aCpu.toFixed(1).padStart(8)}  ${(aCpu / s3cpu).toFixed(2).padStart(5)} | ${bCpu.toFixed(1).padStart(8)}  ${(bCpu / s3cpu).toFixed(2).padStart(5)}`);
  }
}
const holds = summary.filter((o) => o.ratio >= 1);
console.log(`claim (child after ${K} ep >= scratch ${3 * K} ep, mean over seeds): holds for ${holds.length ? holds.map((o) => `${o.arm} P=${o.parentEpochs}`).join('; ') : 'no arm'}` +
  ` (of ${summary.length}); load average now ${os.loadavg()[0]!.toFixed(2)}`);
console.log(JSON.stringify({ dataset: a.dataset, train: train.y.length, test: test.y.length, k: K, seeds: SEEDS.length, backend, lr: LR, loadavg: [+load0.toFixed(2), +os.loadavg()[0]!.toFixed(2)], arms: summary }));
