/**
 * Data-parallel training across worker threads (one core each), for one training run.
 *
 * The main thread holds replica 0 (the caller's model); `threads - 1` worker threads (worker.ts)
 * each build the same model from replica 0's weights. Training data is copied once per run into
 * SharedArrayBuffers, the flat weights, gradients and optimizer state live in one shared
 * WebAssembly.Memory (flat-optimizer.ts); each epoch's sample order is written to a shared array. Every step splits the batch into `threads` contiguous shards of order[start..end): each
 * replica writes the gradient of its shard's mean loss into its shared slot; then each replica
 * reduces the slots (weighted by shard size) for its own element range of the flat weights and
 * applies the optimizer there (flat-optimizer.ts; the state is shared too), and finally every
 * replica loads the updated weights. The update is that of the whole batch up to float summation
 * order, and the replicas hold the same weights bitwise.
 *
 * The caller's tfjs optimizer is not stepped: its learning rate is read at every step (schedules
 * work as usual) and its state is read at the start and written back at every `sync()` (so
 * checkpoints and resumes see a normal tfjs optimizer).
 *
 * Batch norm: each shard normalises with its own batch statistics (like PyTorch DDP without
 * SyncBatchNorm); `sync()` averages the replicas' moving statistics (the evaluator calls it at the
 * end of every epoch). Dropout: each replica draws from its own seeded stream. The reported loss is
 * the shard losses' mean weighted by shard size.
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
import type { ArchGraph } from '../../space/arch/graph.js';
import { Rng } from '../../util/rng.js';
import type { BackendChoice } from '../backend.js';
import { allocFlatState, type FlatHyper, flatHyper, type FlatState, flatUpdate, fromTf, toTf } from './flat-optimizer.js';
import { type FromWorker, rangeOf, type ToWorker, type WorkerInit } from './protocol.js';
import { getLr, Replica } from './replica.js';

/** The dataset's arrays copied into SharedArrayBuffers (per run: freed with the trainer, no lasting second copy). */
function shareData(ds: Dataset): { x: Float32Array; y: Int32Array | Float32Array } {
  const x = new Float32Array(new SharedArrayBuffer(ds.x.byteLength));
  x.set(ds.x);
  const buf = new SharedArrayBuffer(ds.y.byteLength);
  const y = ds.y instanceof Int32Array ? new Int32Array(buf) : new Float32Array(buf);
  y.set(ds.y);
  return { x, y };
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
}

export interface ParallelOptions {
  threads: number;
  backend: BackendChoice;
  graph: ArchGraph;
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  data: Dataset;
  seed: number;
}

export class ParallelTrainer {
  readonly threads: number;
  private readonly main: Replica;
  private readonly handles: Handle[] = [];
  private readonly order: Int32Array;
  private readonly flat: FlatState;
  private readonly hyper: FlatHyper;
  private iterations = 0;
  private rng: Rng;
  private failure: Error | null = null;
  private closed = false;

  private constructor(private readonly o: ParallelOptions) {
    this.threads = o.threads;
    this.main = new Replica(o.model, o.data.task);
    this.hyper = flatHyper(o.optimizer);
    this.order = new Int32Array(new SharedArrayBuffer(4 * o.data.y.length));
    this.flat = allocFlatState(this.main.size, o.threads, this.hyper.kind);
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
    const initial = o.model.getWeights().map((w) => w.dataSync() as Float32Array);
    this.main.readTrainable(this.flat.weights);
    const state = await o.optimizer.getWeights();
    this.iterations = fromTf(state, this.flat.slots);
    // getWeights returns the optimizer's variables and a fresh iteration-count scalar: free the latter.
    tf.dispose(state.map((s) => s.tensor).filter((t) => !(t instanceof tf.Variable)));
    const { x, y } = shareData(o.data);
    const { entry, eval: evalEntry } = workerEntry();
    const ready: Promise<FromWorker>[] = [];
    for (let rank = 1; rank < o.threads; rank++) {
      const init: WorkerInit = {
        rank,
        threads: o.threads,
        backend: o.backend,
        graph: o.graph,
        seed: o.seed,
        data: { name: o.data.name, task: o.data.task, shape: o.data.shape, numClasses: o.data.numClasses, x, y },
        order: this.order,
        flat: this.flat,
        hyper: this.hyper,
        initial,
      };
      const worker = new Worker(entry, { eval: evalEntry, workerData: init, stdout: false, stderr: false });
      live++;
      const h: Handle = { worker, rank, waiting: [] };
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
    const loss0 = this.main.shardGradient(this.o.data, this.order, bounds[0]!, bounds[1]!, this.rng, this.flat.grads[0]!);
    const got = await Promise.all(replies);
    const shardWeights = bounds.slice(1).map((b, r) => (b - bounds[r]!) / n);
    let loss = shardWeights[0]! * loss0;
    for (const h of this.handles) loss += shardWeights[h.rank]! * (got[h.rank - 1] as { loss: number }).loss;
    // Each replica reduces and updates its element range; then all load the new weights.
    const lr = getLr(this.o.optimizer);
    const t = ++this.iterations;
    const updated = this.handles.map((h) => {
      const p = this.reply(h);
      this.post(h, { type: 'update', shardWeights, lr, t });
      return p;
    });
    const [from, to] = rangeOf(0, k, this.main.size);
    flatUpdate(this.hyper, this.flat, shardWeights, from, to, lr, t);
    await Promise.all(updated);
    for (const h of this.handles) this.post(h, { type: 'load' });
    this.main.loadTrainable(this.flat.weights);
    return loss;
  }

  /**
   * Averages the replicas' non-trainable weights (batch-norm moving statistics) into every replica
   * and writes the optimizer state into the caller's tfjs optimizer.
   */
  async sync(): Promise<void> {
    await toTf(this.o.optimizer, this.hyper, this.main.vars, this.flat.slots, this.iterations);
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
