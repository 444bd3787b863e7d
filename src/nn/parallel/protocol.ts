/** Messages between the data-parallel trainer (main thread) and its worker replicas. */
import type { Task } from '../../data/dataset.js';
import type { BackendChoice } from '../backend.js';
import type { ArchGraph } from '../../space/arch/graph.js';
import type { OptimizerName } from '../../estimate/train-util.js';

/** What a worker starts from (workerData); the typed arrays over SharedArrayBuffers are shared, not copied. */
export interface WorkerInit {
  rank: number;
  backend: BackendChoice;
  graph: ArchGraph;
  optimizer: OptimizerName;
  lr: number;
  seed: number;
  data: { name: string; task: Task; shape: number[]; numClasses: number; x: Float32Array; y: Int32Array | Float32Array };
  /** The epoch's sample order (written by the main thread before each 'epoch' message). */
  order: Int32Array;
  /** This worker's gradient slot. */
  grad: Float32Array;
  /** The averaged gradient every replica applies. */
  mean: Float32Array;
  /** model.getWeights() of the main replica, flattened per weight. */
  weights: Float32Array[];
  /** The optimizer's state (optimizer.getWeights(): iterations first), flattened per weight. */
  optimizerState: { name: string; shape: number[]; values: Float32Array }[];
}

export type ToWorker =
  | { type: 'epoch'; epoch: number }
  /** Gradient of samples order[start..end) into the slot; start === end: nothing to compute. */
  | { type: 'step'; start: number; end: number }
  /** Apply the averaged gradient in `mean` at learning rate lr. */
  | { type: 'apply'; lr: number }
  | { type: 'stats' }
  | { type: 'setStats'; values: Float32Array }
  | { type: 'weights' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'grads'; loss: number }
  | { type: 'stats'; values: Float32Array }
  | { type: 'weights'; values: Float32Array[] }
  | { type: 'error'; message: string };
