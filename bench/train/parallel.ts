/**
 * The data-parallel column of bench:train: the bench's models as tsnas graphs, trained by
 * src/nn/parallel (the main thread plus threads - 1 worker replicas), batch 128, Adam, synthetic data.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../../src/data/dataset.js';
import { makeOptimizer } from '../../src/estimate/train-util.js';
import { buildModel } from '../../src/nn/builder.js';
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

/** Median samples/s of data-parallel Adam steps (batch `batch`) with `threads` replicas, and its CPU time. */
export async function measureParallel(name: BenchModel, threads: number, seconds: number, batch: number): Promise<{ sps: number; best: number; cpu: number; steps: number }> {
  const { graph, shape } = benchGraph(name);
  const batches = 4;
  const data = synthetic(shape, batch * batches);
  const model = buildModel(graph);
  const optimizer = makeOptimizer('adam', 1e-3);
  const t = await ParallelTrainer.start({ threads, backend: 'wasm', graph, model, optimizer, data, seed: 0 });
  try {
    t.epoch(1, Array.from({ length: data.y.length }, (_, i) => i));
    let k = 0;
    const step = () => t.step((k % batches) * batch, ((k++ % batches) + 1) * batch);
    const first = await step();
    if (!Number.isFinite(first)) throw new Error(`loss is ${first}`);
    await step();
    await step();
    const times: number[] = [];
    const cpu: number[] = [];
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000 || times.length < 5) {
      const s = performance.now();
      const c = process.cpuUsage(); // the whole process: main thread and workers
      await step();
      const d = process.cpuUsage(c);
      cpu.push((d.user + d.system) / 1000);
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    cpu.sort((a, b) => a - b);
    return {
      sps: (batch * 1000) / times[Math.floor(times.length / 2)]!,
      best: (batch * 1000) / times[0]!,
      cpu: (batch * 1000) / Math.max(cpu[Math.floor(cpu.length / 2)]!, 1e-3),
      steps: times.length,
    };
  } finally {
    await t.close();
    model.dispose();
    optimizer.dispose();
    tf.dispose();
  }
}
