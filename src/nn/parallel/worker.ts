/**
 * A worker replica of a data-parallel training run (started by src/nn/parallel/trainer.ts). It
 * builds the same model on the same backend from the main replica's weights, then answers the main
 * thread's messages in order: gradients of its shards, the update of its element range of the
 * shared weights, loading the updated weights, and the batch-norm statistics.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../../data/dataset.js';
import { Rng } from '../../util/rng.js';
import { initBackend } from '../backend.js';
import { buildModel } from '../builder.js';
import { flatUpdate } from './flat-optimizer.js';
import { type FromWorker, rangeOf, type ToWorker, type WorkerInit } from './protocol.js';
import { Replica } from './replica.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);

async function start(): Promise<void> {
  await initBackend({ backend: init.backend });
  const model = buildModel(init.graph);
  const weights = model.getWeights().map((w, i) => tf.tensor(init.initial[i]!, w.shape));
  model.setWeights(weights);
  tf.dispose(weights);
  const replica = new Replica(model, init.data.task);
  const data: Dataset = { ...init.data, classNames: [] };
  const [from, to] = rangeOf(init.rank, init.threads, replica.size);
  const grad = init.flat.grads[init.rank]!;
  let rng = Rng.derive(init.seed, 'dropout', 0, 'rank', init.rank);

  port.on('message', (m: ToWorker) => {
    try {
      switch (m.type) {
        case 'epoch':
          rng = Rng.derive(init.seed, 'dropout', m.epoch, 'rank', init.rank);
          return;
        case 'step': {
          const loss = m.end > m.start ? replica.shardGradient(data, init.order, m.start, m.end, rng, grad) : 0;
          return send({ type: 'grads', loss });
        }
        case 'update':
          flatUpdate(init.hyper, init.flat, m.shardWeights, from, to, m.lr, m.t);
          return send({ type: 'updated' });
        case 'load':
          return replica.loadTrainable(init.flat.weights);
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
