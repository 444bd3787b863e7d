/**
 * Calibrates fit's per-sample training cost model (src/fit/policy.ts TRAIN_COST_MODEL): trains 8
 * chain-space architectures for one epoch on a Fashion-MNIST subset on the wasm backend, measures
 * CPU microseconds per training sample (CPU time, so a busy machine does not distort it; the
 * validation pass is counted at 1/3 of a training step per sample and removed), least-squares fits
 * us = base + a * MFLOPs + b * k activations, and prints it next to the model in the code.
 *
 *   npm run bench:fit-cost -- [--fraction 0.05]
 *
 * With --rank, it also trains the conv32-pool-conv64-pool CNN and a one-conv net at the search
 * fidelities fit's policy chose between (the ranking that decides whether a search finds the CNN).
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { createTrainingEvaluator } from '../src/estimate/train-setup.js';
import type { Fidelity } from '../src/estimate/fidelity.js';
import { estimateTrainMicrosPerSample, TRAIN_COST_MODEL } from '../src/fit/policy.js';
import { countCost } from '../src/nn/cost.js';
import { checkGraph } from '../src/space/arch/graph.js';
import type { Params } from '../src/space/params.js';

const o = new Command()
  .option('--fraction <f>', 'training fraction of Fashion-MNIST per architecture', '0.05')
  .option('--rank', 'also rank the CNN and the one-conv net at several search fidelities')
  .parse()
  .opts();

const L = (i: number, op: string, width: number, bn = false, act = 'relu'): Params => ({
  [`layer_${i}_op`]: op, [`layer_${i}_width`]: width, [`layer_${i}_act`]: act, [`layer_${i}_bn`]: bn, [`layer_${i}_dropout`]: 0,
});
const P = (i: number): Params => ({ [`layer_${i}_op`]: 'maxpool3x3', [`layer_${i}_dropout`]: 0 });
const CNN: Params = { depth: 4, ...L(0, 'conv3x3', 32), ...P(1), ...L(2, 'conv3x3', 64), ...P(3), head: 'flatten' };
const ONE_CONV: Params = { depth: 1, ...L(0, 'conv3x3', 32, true, 'tanh'), head: 'flatten' };
const ARCHS: Record<string, Params> = {
  cnn: CNN,
  cnn_bn: { depth: 4, ...L(0, 'conv3x3', 32, true), ...P(1), ...L(2, 'conv3x3', 64, true), ...P(3), head: 'flatten' },
  small: { depth: 4, ...L(0, 'conv3x3', 16), ...P(1), ...L(2, 'conv3x3', 32), ...P(3), head: 'flatten' },
  pool_first: { depth: 4, ...P(0), ...L(1, 'conv3x3', 64), ...P(2), ...L(3, 'conv3x3', 128), head: 'flatten' },
  wide28: { depth: 3, ...L(0, 'conv3x3', 64), ...L(1, 'conv3x3', 64), ...P(2), head: 'gap' },
  dense_pixel: { depth: 2, ...L(0, 'dense', 64), ...P(1), head: 'flatten' },
  c5_sep: { depth: 4, ...L(0, 'conv5x5', 32), ...P(1), ...L(2, 'sepconv3x3', 128), ...P(3), head: 'flatten' },
  tiny: { depth: 2, ...P(0), ...L(1, 'conv3x3', 16), head: 'flatten' },
};

const load = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
const fraction = Number(o.fraction);
const fid: Fidelity = { epochs: 1, dataFraction: fraction };
const { evaluator: ev } = await createTrainingEvaluator({
  space: 'chain', dataset: 'fashion-mnist', fidelity: fid, batchSize: 64, optimizer: 'adam', lr: 2e-3, lrSchedule: 'cosine', seed: 0, backend: 'wasm',
});
await ev.ready();
console.log(`fit cost model calibration: 1 epoch on ${fraction} of Fashion-MNIST, batch 64, wasm; load average ${load()}`);
const rows: { name: string; mflops: number; kacts: number; us: number; model: number }[] = [];
for (const [name, params] of Object.entries(ARCHS)) {
  const g = checkGraph(ev.graph(params, fid));
  let acts = 0;
  for (const n of g.nodes) if (n.kind === 'op' || n.kind === 'merge') acts += g.shapes.get(n.id)!.reduce((a, b) => a * b, 1);
  const c0 = process.cpuUsage();
  const r = await ev.train(params, fid);
  const c = process.cpuUsage(c0);
  const cpuUs = c.user + c.system;
  // A validation sample costs about a third of a training sample (forward only).
  const us = cpuUs / (r.trainSamples + r.valSamples / 3);
  const row = { name, mflops: countCost(g).flops / 1e6, kacts: acts / 1e3, us, model: estimateTrainMicrosPerSample(g) };
  rows.push(row);
  console.log(`${name.padEnd(12)} ${row.mflops.toFixed(2).padStart(6)} MFLOPs ${row.kacts.toFixed(1).padStart(6)} k acts: ${us.toFixed(0).padStart(5)} us/sample CPU (model in the code: ${row.model.toFixed(0)}) val ${r.value.toFixed(3)}`);
}

// Least squares for us = base + a * mflops + b * kacts (normal equations, 3x3).
const X = rows.map((r) => [1, r.mflops, r.kacts]);
const A = [0, 1, 2].map((i) => [0, 1, 2].map((j) => X.reduce((s, x) => s + x[i]! * x[j]!, 0)));
const y = [0, 1, 2].map((i) => X.reduce((s, x, k) => s + x[i]! * rows[k]!.us, 0));
for (let i = 0; i < 3; i++) {
  for (let k = i + 1; k < 3; k++) {
    const f = A[k]![i]! / A[i]![i]!;
    for (let j = i; j < 3; j++) A[k]![j]! -= f * A[i]![j]!;
    y[k]! -= f * y[i]!;
  }
}
const beta = [0, 0, 0];
for (let i = 2; i >= 0; i--) beta[i] = (y[i]! - [0, 1, 2].slice(i + 1).reduce((s, j) => s + A[i]![j]! * beta[j]!, 0)) / A[i]![i]!;
console.log(`fitted: us = ${beta[0]!.toFixed(0)} + ${beta[1]!.toFixed(0)} * MFLOPs + ${beta[2]!.toFixed(2)} * k acts; in the code: ${TRAIN_COST_MODEL.baseUs} + ${TRAIN_COST_MODEL.usPerMflop} * MFLOPs + ${TRAIN_COST_MODEL.usPerKact} * k acts`);

const ranks: Record<string, { cnn: number; oneConv: number }> = {};
if (o.rank) {
  const fids: Record<string, Fidelity> = {
    '14px w0.5 5k 1ep': { epochs: 1, dataFraction: 0.093, resolution: 14, widthMultiplier: 0.5 },
    '14px w0.5 10k 2ep': { epochs: 2, dataFraction: 0.185, resolution: 14, widthMultiplier: 0.5 },
    '28px w0.5 5k 2ep': { epochs: 2, dataFraction: 0.093, widthMultiplier: 0.5 },
    '28px w0.5 20k 1ep': { epochs: 1, dataFraction: 0.37, widthMultiplier: 0.5 },
    'full 1ep (test)': { epochs: 1, dataFraction: 1 },
  };
  for (const [label, f] of Object.entries(fids)) {
    const full = f.dataFraction === 1;
    const run = async (p: Params) => (full ? (await ev.evaluateTest(p, f)).test : (await ev.train(p, f)).value);
    ranks[label] = { cnn: await run(CNN), oneConv: await run(ONE_CONV) };
    console.log(`${label.padEnd(18)} CNN ${ranks[label]!.cnn.toFixed(4)}  one-conv ${ranks[label]!.oneConv.toFixed(4)}  (load ${load()})`);
  }
}
console.log(JSON.stringify({ fitted: { baseUs: beta[0], usPerMflop: beta[1], usPerKact: beta[2] }, code: TRAIN_COST_MODEL, rows, ...(o.rank ? { ranks } : {}), load: load() }));
