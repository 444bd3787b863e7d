/**
 * Zero-cost proxies on any architecture tsnas builds: `proxyScores(graph, batch)` builds the graph's
 * tfjs model with seeded initialisation and scores it (scores.ts); `ProxyEvaluator` is the `proxy`
 * fidelity as an objective (the score of one batch, its cost recorded on the trial like any
 * training); `proxyWarmStart` (warmstart.ts) scores many candidates and proposes only the best.
 */
import * as tf from '@tensorflow/tfjs';
import type { Trial } from '../../core/trial.js';
import { outputUnits, type Dataset } from '../../data/dataset.js';
import { initBackend, type BackendChoice } from '../../nn/backend.js';
import { buildModel } from '../../nn/builder.js';
import { countCost } from '../../nn/cost.js';
import type { ArchGraph } from '../../space/arch/graph.js';
import type { ArchSpace } from '../../space/arch/types.js';
import type { Params } from '../../space/params.js';
import { makeBatch } from '../../nn/batch.js';
import { Rng, withSeededMathRandom } from '../../util/rng.js';
import { PROXY_NAMES, scoreModel, type ProxyBatch, type ProxyName, type ProxyScore } from './scores.js';

export { PROXY_NAMES, DATA_INDEPENDENT, isProxyName, scoreModel, type ProxyBatch, type ProxyName, type ProxyScore } from './scores.js';
export { logAbsDet, symmetricEigenvalues, spearman } from './linalg.js';
export { proxyWarmStart, type ProxyWarmStartOptions } from './warmstart.js';

/** One seeded batch of `size` samples of a dataset (stratified order), as proxy input. */
export function proxyBatch(ds: Dataset, size: number, seed = 0): ProxyBatch {
  const order = Rng.derive(seed, 'proxy-batch').shuffle(Array.from({ length: ds.y.length }, (_, i) => i));
  const [x, y] = makeBatch(ds, order, 0, Math.min(size, ds.y.length));
  return { x, y };
}

/** Builds `graph` (weights initialised from `seed`, as the training evaluator does) and scores it by `names`. */
export function proxyScores(graph: ArchGraph, batch: ProxyBatch, names: readonly ProxyName[] = PROXY_NAMES, seed = 0): Record<string, ProxyScore> {
  const model = withSeededMathRandom(Rng.derive(seed, 'init'), () => buildModel(graph));
  try {
    return scoreModel(model, batch, names);
  } finally {
    model.dispose();
  }
}

export interface ProxyEvaluatorOptions {
  archSpace: ArchSpace;
  /** Where the batch comes from (its sample shape and classes set the network's input and head). */
  data: Dataset;
  proxy: ProxyName;
  batchSize?: number;
  seed?: number;
  /** Decoder options (width multiplier, cells per stage). */
  width?: number;
  cells?: number;
  backend?: 'auto' | BackendChoice;
}

/**
 * The `proxy` fidelity: a trial's value is the proxy score of its untrained network on one batch;
 * the trial's wall and CPU seconds are the proxy's cost, FLOPs and params are recorded as for training.
 */
export class ProxyEvaluator {
  readonly proxy: ProxyName;
  private batch: ProxyBatch | null = null;
  constructor(private readonly o: ProxyEvaluatorOptions) {
    this.proxy = o.proxy;
  }

  graph(params: Params): ArchGraph {
    const d = this.o.data;
    return this.o.archSpace.decode(params, { inputShape: [...d.shape], numClasses: outputUnits(d), width: this.o.width, cells: this.o.cells });
  }

  async score(params: Params): Promise<{ score: number; seconds: number; flops: number; params: number }> {
    await initBackend({ backend: this.o.backend ?? 'auto' });
    this.batch ??= proxyBatch(this.o.data, this.o.batchSize ?? 64, this.o.seed ?? 0);
    const graph = this.graph(params);
    const cost = countCost(graph);
    const s = proxyScores(graph, this.batch, [this.proxy], this.o.seed ?? 0)[this.proxy]!;
    return { ...s, flops: cost.flops, params: cost.totalParams };
  }

  readonly objective = async (trial: Trial): Promise<number> => {
    const s = await this.score(trial.params);
    trial.costExtra.flops = s.flops;
    trial.costExtra.params = s.params;
    trial.costExtra.backend = tf.getBackend();
    trial.setAttr('proxy', { name: this.proxy, score: s.score, seconds: s.seconds });
    return s.score;
  };

  dispose(): void {
    this.batch?.x.dispose();
    this.batch?.y.dispose();
    this.batch = null;
  }
}
