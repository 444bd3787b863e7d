/** Messages between the data-parallel trainer (main thread) and its worker replicas. */
import type { Task } from '../../data/dataset.js';
import type { BackendChoice } from '../backend.js';
import type { ArchGraph } from '../../space/arch/graph.js';
import type { FlatHyper, FlatState } from './flat-optimizer.js';

/** What a worker starts from (workerData); the typed arrays over SharedArrayBuffers are shared, not copied. */
export interface WorkerInit {
  rank: number;
  threads: number;
  backend: BackendChoice;
  graph: ArchGraph;
  seed: number;
  data: { name: string; task: Task; shape: number[]; numClasses: number; x: Float32Array; y: Int32Array | Float32Array };
  /** The epoch's sample order (written by the main thread before each 'epoch' message). */
  order: Int32Array;
  /**
   * The flat weights (each replica updates its element range, all load all of it), the replicas'
   * gradient slots and the optimizer's state, in one shared memory (flat-optimizer.ts).
   */
  flat: FlatState;
  hyper: FlatHyper;
  /** model.getWeights() of the main replica, flattened per weight (the start point, non-trainables included). */
  initial: Float32Array[];
}

export type ToWorker =
  | { type: 'epoch'; epoch: number }
  /** Gradient of samples order[start..end) into this worker's slot; start === end: nothing to compute. */
  | { type: 'step'; start: number; end: number }
  /** Reduce the shards' gradients (weights by rank) and update this worker's element range. */
  | { type: 'update'; shardWeights: number[]; lr: number; t: number }
  /** Load the updated weights. */
  | { type: 'load' }
  | { type: 'stats' }
  | { type: 'setStats'; values: Float32Array }
  | { type: 'weights' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'grads'; loss: number }
  | { type: 'updated' }
  | { type: 'stats'; values: Float32Array }
  | { type: 'weights'; values: Float32Array[] }
  | { type: 'error'; message: string };

/** Replica r's element range of the flat weights. */
export function rangeOf(rank: number, threads: number, size: number): [number, number] {
  return [Math.floor((rank * size) / threads), Math.floor(((rank + 1) * size) / threads)];
}
