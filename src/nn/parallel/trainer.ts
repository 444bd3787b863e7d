/**
 * Data-parallel training across worker threads (one core each), for one training run.
 *
 * The main thread holds replica 0 (the caller's model and optimizer); `threads - 1` worker threads
 * (worker.ts) each build the same model and take replica 0's weights and optimizer state. Training
 * data is copied once into SharedArrayBuffers (cached per dataset object); each epoch's sample order
 * is written to a shared array. Every step splits the batch into `threads` contiguous shards of
 * order[start..end): each replica computes the gradient of its shard's mean loss (workers into their
 * shared gradient slot), the main thread averages them weighted by shard size into a shared buffer,
 * and every replica applies that same averaged gradient with the same optimizer, so the replicas stay
 * bitwise identical and the update is that of the whole batch (up to float summation order).
 *
 * Batch norm: each shard normalises with its own batch statistics (like PyTorch DDP without
 * SyncBatchNorm); the moving statistics of the replicas are averaged at each `syncStats()` (the
 * evaluator calls it at the end of every epoch). Dropout: each replica draws from its own seeded
 * stream. The reported loss is the shard losses' mean weighted by shard size.
 *
 * A worker that fails or exits fails the pending and every later call with its error; `close()`
 * terminates the workers (the caller runs it in a `finally`).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../../data/dataset.js';
import type { OptimizerName } from '../../estimate/train-util.js';
import type { ArchGraph } from '../../space/arch/graph.js';
import { Rng } from '../../util/rng.js';
import type { BackendChoice } from '../backend.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { getLr, Replica } from './replica.js';

const shared = new WeakMap<Dataset, { x: Float32Array; y: Int32Array | Float32Array }>();

/** The dataset's arrays copied into SharedArrayBuffers (once per dataset object). */
function shareData(ds: Dataset): { x: Float32Array; y: Int32Array | Float32Array } {
  let hit = shared.get(ds);
  if (!hit) {
    const x = new Float32Array(new SharedArrayBuffer(ds.x.byteLength));
    x.set(ds.x);
    const buf = new SharedArrayBuffer(ds.y.byteLength);
    const y = ds.y instanceof Int32Array ? new Int32Array(buf) : new Float32Array(buf);
    y.set(ds.y);
    hit = { x, y };
    shared.set(ds, hit);
  }
  return hit;
}

/**
 * How to start a worker: the compiled worker.js; from TypeScript sources (tsx, vitest), a bootstrap
 * that registers tsx in the worker first (a worker does not inherit `--import tsx` hooks in Node 20).
 */
function workerEntry(): { entry: string | URL; eval: boolean } {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return { entry: pathToFileURL(path.join(path.dirname(here), 'worker.js')), eval: false };
  // tsx's ESM API (its 'import' export; createRequire would resolve the CommonJS one).
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  const exp = (JSON.parse(readFileSync(pkg, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api']!;
  const api = pathToFileURL(path.join(path.dirname(pkg), exp.import.default)).href;
  const file = pathToFileURL(path.join(path.dirname(here), 'worker.ts')).href;
  return { entry: `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(file)}); })`, eval: true };
}

let live = 0;
/** Worker threads of data-parallel runs alive in this process (for tests: 0 after every run). */
export function liveTrainingThreads(): number {
  return live;
}

interface Handle {
  worker: Worker;
  rank: number;
  /** Resolvers of the replies this worker owes, in order. */
  waiting: { resolve: (m: FromWorker) => void; reject: (e: Error) => void }[];
  grad: Float32Array;
}

export interface ParallelOptions {
  threads: number;
  backend: BackendChoice;
  graph: ArchGraph;
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  optimizerName: OptimizerName;
  data: Dataset;
  seed: number;
}

export class ParallelTrainer {
  readonly threads: number;
  private readonly main: Replica;
  private readonly handles: Handle[] = [];
  private readonly order: Int32Array;
  private readonly mean: Float32Array;
  private readonly own: Float32Array;
  private rng: Rng;
  private failure: Error | null = null;
  private closed = false;

  private constructor(private readonly o: ParallelOptions) {
    this.threads = o.threads;
    this.main = new Replica(o.model, o.optimizer, o.data.task);
    this.order = new Int32Array(new SharedArrayBuffer(4 * o.data.y.length));
    this.mean = new Float32Array(new SharedArrayBuffer(4 * this.main.size));
    this.own = new Float32Array(this.main.size);
    this.rng = Rng.derive(o.seed, 'dropout', 0);
  }

  /** Starts `threads - 1` workers from the model's current weights and optimizer state. */
  static async start(o: ParallelOptions): Promise<ParallelTrainer> {
    if (!(Number.isInteger(o.threads) && o.threads >= 2)) throw new Error(`ParallelTrainer needs threads >= 2 (got ${o.threads})`);
    const t = new ParallelTrainer(o);
    try {
      await t.spawn();
    } catch (e) {
      await t.close();
      throw e;
    }
    return t;
  }

  private async spawn(): Promise<void> {
    const o = this.o;
    const weights = o.model.getWeights().map((w) => w.dataSync() as Float32Array);
    const state = await o.optimizer.getWeights();
    const optimizerState = state.map((s) => ({ name: s.name, shape: s.tensor.shape, values: Float32Array.from(s.tensor.dataSync()) }));
    // getWeights returns the optimizer's variables and a fresh iteration-count scalar: free the latter.
    tf.dispose(state.map((s) => s.tensor).filter((t) => !(t instanceof tf.Variable)));
    const { x, y } = shareData(o.data);
    const { entry, eval: evalEntry } = workerEntry();
    const ready: Promise<FromWorker>[] = [];
    for (let rank = 1; rank < o.threads; rank++) {
      const grad = new Float32Array(new SharedArrayBuffer(4 * this.main.size));
      const init: WorkerInit = {
        rank,
        backend: o.backend,
        graph: o.graph,
        optimizer: o.optimizerName,
        lr: getLr(o.optimizer),
        seed: o.seed,
        data: { name: o.data.name, task: o.data.task, shape: o.data.shape, numClasses: o.data.numClasses, x, y },
        order: this.order,
        grad,
        mean: this.mean,
        weights,
        optimizerState,
      };
      const worker = new Worker(entry, { eval: evalEntry, workerData: init, stdout: false, stderr: false });
      live++;
      const h: Handle = { worker, rank, waiting: [], grad };
      this.handles.push(h);
      ready.push(this.reply(h));
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'error') return this.fail(new Error(`training thread ${rank}: ${m.message}`));
        h.waiting.shift()?.resolve(m);
      });
      worker.on('error', (e) => this.fail(new Error(`training thread ${rank} crashed: ${e.message}`)));
      worker.on('exit', (code) => {
        live--;
        if (!this.closed) this.fail(new Error(`training thread ${rank} exited (code ${code})`));
      });
    }
    await Promise.all(ready);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const h of this.handles) for (const w of h.waiting.splice(0)) w.reject(this.failure);
  }

  private reply(h: Handle): Promise<FromWorker> {
    const p = this.failure ? Promise.reject(this.failure) : new Promise<FromWorker>((resolve, reject) => h.waiting.push({ resolve, reject }));
    p.catch(() => {}); // awaited by the caller, unless the caller failed first
    return p;
  }

  private post(h: Handle, m: ToWorker): void {
    if (this.failure) throw this.failure;
    h.worker.postMessage(m);
  }

  /** The workers (for tests). */
  get workers(): readonly Worker[] {
    return this.handles.map((h) => h.worker);
  }

  /** Starts an epoch: the sample order every replica reads, and the epoch's dropout streams. */
  epoch(epoch: number, order: ArrayLike<number>): void {
    this.order.set(order);
    this.rng = Rng.derive(this.o.seed, 'dropout', epoch);
    for (const h of this.handles) this.post(h, { type: 'epoch', epoch });
  }

  /**
   * One optimizer step on samples order[start..end) of the epoch; returns the batch's mean loss.
   * The learning rate is the main optimizer's current one.
   */
  async step(start: number, end: number): Promise<number> {
    const n = end - start;
    const k = this.threads;
    // Contiguous shards; a batch too small to give every replica 2 samples (batch norm's variance) stays on the main thread.
    const bounds = [start];
    for (let r = 0; r < k; r++) bounds.push(n >= 2 * k ? start + Math.round(((r + 1) * n) / k) : end);
    const replies = this.handles.map((h) => {
      const p = this.reply(h);
      this.post(h, { type: 'step', start: bounds[h.rank]!, end: bounds[h.rank + 1]! });
      return p;
    });
    const loss0 = this.main.shardGradient(this.o.data, this.order, bounds[0]!, bounds[1]!, this.rng, this.own);
    const got = await Promise.all(replies);
    const mean = this.mean;
    const w0 = (bounds[1]! - bounds[0]!) / n;
    for (let i = 0; i < mean.length; i++) mean[i] = w0 * this.own[i]!;
    let loss = w0 * loss0;
    for (const h of this.handles) {
      const w = (bounds[h.rank + 1]! - bounds[h.rank]!) / n;
      if (w === 0) continue;
      const g = h.grad;
      for (let i = 0; i < mean.length; i++) mean[i]! += w * g[i]!;
      loss += w * (got[h.rank - 1] as { loss: number }).loss;
    }
    const lr = getLr(this.o.optimizer);
    for (const h of this.handles) this.post(h, { type: 'apply', lr });
    this.main.apply(mean, lr);
    return loss;
  }

  /** Averages the replicas' non-trainable weights (batch-norm moving statistics) into every replica. */
  async syncStats(): Promise<void> {
    if (this.o.model.nonTrainableWeights.length === 0) return;
    const replies = this.handles.map((h) => {
      const p = this.reply(h);
      this.post(h, { type: 'stats' });
      return p;
    });
    const avg = this.main.readStats();
    for (const m of await Promise.all(replies)) {
      const v = (m as { values: Float32Array }).values;
      for (let i = 0; i < avg.length; i++) avg[i]! += v[i]!;
    }
    for (let i = 0; i < avg.length; i++) avg[i]! /= this.threads;
    this.main.writeStats(avg);
    for (const h of this.handles) this.post(h, { type: 'setStats', values: avg });
  }

  /** Every replica's weights (model.getWeights() order), the main one first (for tests). */
  async replicaWeights(): Promise<Float32Array[][]> {
    const replies = this.handles.map((h) => {
      const p = this.reply(h);
      this.post(h, { type: 'weights' });
      return p;
    });
    const rest = (await Promise.all(replies)).map((m) => (m as { values: Float32Array[] }).values);
    return [this.main.readWeights(), ...rest];
  }

  /** Terminates the workers (idempotent). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.handles.map((h) => h.worker.terminate()));
  }
}
