/**
 * The data-parallel columns of bench:train: the bench's models as tsnas graphs, trained on one
 * thread and by src/nn/parallel (the main thread plus threads - 1 worker replicas), side by side;
 * Adam, synthetic data.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../../src/data/dataset.js';
import { makeOptimizer } from '../../src/estimate/train-util.js';
import { makeBatch } from '../../src/nn/batch.js';
import { buildModel } from '../../src/nn/builder.js';
import { softmaxCrossEntropy } from '../../src/nn/losses.js';
import { ParallelTrainer } from '../../src/nn/parallel/trainer.js';
import type { ArchGraph, OpSpec } from '../../src/space/arch/graph.js';
import { Rng } from '../../src/util/rng.js';

export type BenchModel = 'mlp' | 'cnn28' | 'cnn32';

function chain(shape: number[], ops: OpSpec[]): ArchGraph {
  const nodes: ArchGraph['nodes'] = [{ id: 'in', kind: 'input', shape }];
  ops.forEach((op, i) => nodes.push({ id: `o${i}`, kind: 'op', op, input: i === 0 ? 'in' : `o${i - 1}` }));
  nodes.push({ id: 'out', kind: 'output', input: `o${ops.length - 1}` });
  return { nodes };
}

/** The same models as bench/train.ts's tf.sequential ones (biases everywhere, relu, logits). */
export function benchGraph(name: BenchModel): { graph: ArchGraph; shape: number[] } {
  const relu: OpSpec = { type: 'act', fn: 'relu' };
  if (name === 'mlp') {
    const shape = [784];
    return { shape, graph: chain(shape, [{ type: 'dense', units: 256 }, relu, { type: 'dense', units: 256 }, relu, { type: 'dense', units: 10 }]) };
  }
  const shape = name === 'cnn28' ? [28, 28, 1] : [32, 32, 3];
  return {
    shape,
    graph: chain(shape, [
      { type: 'conv', filters: 32, kernel: 3, padding: 'same', bias: true }, relu, { type: 'pool', mode: 'max', size: 2, stride: 2, padding: 'valid' },
      { type: 'conv', filters: 64, kernel: 3, padding: 'same', bias: true }, relu, { type: 'pool', mode: 'max', size: 2, stride: 2, padding: 'valid' },
      { type: 'flatten' }, { type: 'dense', units: 128 }, relu, { type: 'dense', units: 10 },
    ]),
  };
}

function synthetic(shape: number[], n: number): Dataset {
  const rng = new Rng(1);
  const size = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * size);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const y = Int32Array.from({ length: n }, () => rng.int(0, 9));
  return { name: 'synthetic', task: 'classification', x, shape, y, numClasses: 10, classNames: [] };
}

export interface Speed {
  /** Samples/s of the median step. */
  sps: number;
  /** Samples/s of the fastest step. */
  best: number;
  /** Samples per CPU-second of the whole process (all threads). */
  cpu: number;
  steps: number;
}

function summary(times: number[], cpu: number[], batch: number): Speed {
  const t = [...times].sort((a, b) => a - b);
  const c = [...cpu].sort((a, b) => a - b);
  return {
    sps: (batch * 1000) / t[Math.floor(t.length / 2)]!,
    best: (batch * 1000) / t[0]!,
    cpu: (batch * 1000) / Math.max(c[Math.floor(c.length / 2)]!, 1e-3),
    steps: t.length,
  };
}

/**
 * Adam steps of batch `batch` on one thread (tfjs optimizer.minimize, as the evaluator's 1-thread
 * path) and data-parallel on `threads`, in alternating blocks of about half a second for `seconds`
 * each, so that both see the same load on a shared machine.
 */
export async function measureSideBySide(name: BenchModel, threads: number, seconds: number, batch: number): Promise<{ one: Speed; many: Speed }> {
  const { graph, shape } = benchGraph(name);
  const batches = 4;
  const data = synthetic(shape, batch * batches);
  const order = Array.from({ length: data.y.length }, (_, i) => i);
  const single = buildModel(graph);
  const sOpt = makeOptimizer('adam', 1e-3);
  const vars = single.trainableWeights.map((w) => w.read() as tf.Variable);
  const xs: [tf.Tensor, tf.Tensor][] = Array.from({ length: batches }, (_, b) => makeBatch(data, order, b * batch, (b + 1) * batch));
  const model = buildModel(graph);
  const optimizer = makeOptimizer('adam', 1e-3);
  const t = await ParallelTrainer.start({ threads, backend: 'wasm', graph, model, optimizer, data, seed: 0 });
  try {
    t.epoch(1, order);
    let k = 0;
    const one = async (): Promise<number> => {
      const [x, y] = xs[k++ % batches]!;
      return tf.tidy(() => sOpt.minimize(() => softmaxCrossEntropy(y, single.apply(x, { training: true }) as tf.Tensor), true, vars)!.dataSync()[0]!);
    };
    const many = (): Promise<number> => t.step((k % batches) * batch, ((k++ % batches) + 1) * batch);
    for (const f of [one, many]) {
      const first = await f();
      if (!Number.isFinite(first)) throw new Error(`loss is ${first}`);
      await f();
      await f();
    }
    const times = { one: [] as number[], many: [] as number[] };
    const cpu = { one: [] as number[], many: [] as number[] };
    const spent = { one: 0, many: 0 };
    while (spent.one < seconds * 1000 || spent.many < seconds * 1000 || times.one.length < 5 || times.many.length < 5) {
      for (const which of ['one', 'many'] as const) {
        const f = which === 'one' ? one : many;
        const b0 = performance.now();
        while (performance.now() - b0 < 500 || times[which].length < 1) {
          const s = performance.now();
          const c = process.cpuUsage(); // the whole process: main thread and workers
          await f();
          const d = process.cpuUsage(c);
          cpu[which].push((d.user + d.system) / 1000);
          times[which].push(performance.now() - s);
        }
        spent[which] += performance.now() - b0;
      }
    }
    return { one: summary(times.one, cpu.one, batch), many: summary(times.many, cpu.many, batch) };
  } finally {
    await t.close();
    tf.dispose(xs.flat());
    for (const m of [model, single]) m.dispose();
    for (const o of [optimizer, sOpt]) o.dispose();
  }
}
