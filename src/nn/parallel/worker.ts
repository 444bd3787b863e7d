/**
 * A worker replica of a data-parallel training run (started by src/nn/parallel/trainer.ts). It
 * builds the same model on the same backend, takes the main replica's weights and optimizer state,
 * then answers the main thread's messages in order: gradients of its shards, the averaged updates,
 * and the batch-norm statistics.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../../data/dataset.js';
import { makeOptimizer } from '../../estimate/train-util.js';
import { Rng } from '../../util/rng.js';
import { initBackend } from '../backend.js';
import { buildModel } from '../builder.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { Replica } from './replica.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function start(): Promise<void> {
  await initBackend({ backend: init.backend });
  const model = buildModel(init.graph);
  const optimizer = makeOptimizer(init.optimizer, init.lr);
  const weights = model.getWeights().map((w, i) => tf.tensor(init.weights[i]!, w.shape));
  model.setWeights(weights);
  tf.dispose(weights);
  if (init.optimizerState.length > 0) {
    const state = init.optimizerState.map((s) => ({ name: s.name, tensor: tf.tensor(s.values, s.shape) }));
    try {
      await optimizer.setWeights(state);
    } finally {
      tf.dispose(state.map((s) => s.tensor));
    }
  }
  const replica = new Replica(model, optimizer, init.data.task);
  const data: Dataset = { ...init.data, classNames: [] };
  let rng = Rng.derive(init.seed, 'dropout', 0, 'rank', init.rank);

  port.on('message', (m: ToWorker) => {
    try {
      switch (m.type) {
        case 'epoch':
          rng = Rng.derive(init.seed, 'dropout', m.epoch, 'rank', init.rank);
          return;
        case 'step': {
          const loss = m.end > m.start ? replica.shardGradient(data, init.order, m.start, m.end, rng, init.grad) : 0;
          return send({ type: 'grads', loss });
        }
        case 'apply':
          return replica.apply(init.mean, m.lr);
        case 'stats':
          return send({ type: 'stats', values: replica.readStats() });
        case 'setStats':
          return replica.writeStats(m.values);
        case 'weights':
          return send({ type: 'weights', values: replica.readWeights() });
        default:
          throw new Error(`unknown message ${JSON.stringify(m)}`);
      }
    } catch (e) {
      send({ type: 'error', message: (e as Error).message });
    }
  });
  send({ type: 'ready' });
}

start().catch((e: Error) => send({ type: 'error', message: `start-up failed: ${e.message}` }));
