/**
 * `tsnas/nas`: the TensorFlow.js half of the NAS library (it loads @tensorflow/tfjs, a peer
 * dependency): a searched configuration to a `tf.LayersModel` (`buildModel`), real training as a
 * search objective (`TrainingEvaluator`), and the best configuration trained and saved as a tfjs model
 * folder (`saveBestModel`). Spaces, strategies and experiments come from the package root.
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { type Fidelity } from './estimate/fidelity.js';
import { disposeCheckpoint, type TrainingEvaluator, type TrainResult } from './estimate/train.js';
import { dirHandler, type Genotype, writeJson } from './fit/export.js';
import { buildModel } from './nn/builder.js';
import type { Params } from './space/params.js';

export * from './estimate/train.js';
export { buildModel, modelParamCounts, type BuildOpts } from './nn/builder.js';
export { initBackend, type BackendChoice } from './nn/backend.js';
export { dirHandler, loadModel, type Genotype } from './fit/export.js';

export interface SavedBest {
  model: tf.LayersModel;
  /** The training run (validation value, epochs, cost); `test` when `test: true` and the data has a test set. */
  train: TrainResult;
  dir: string;
}

/**
 * Trains `params` with the evaluator's settings (optionally at another fidelity, e.g. more epochs),
 * and writes `dir/model.json` + `dir/weights.bin` (a tfjs layers model: `tf.loadLayersModel` reads it;
 * classifiers end in softmax) and `dir/genotype.json` (space, params, graph). Refuses a folder that
 * already holds a model.
 */
export async function saveBestModel(
  ev: TrainingEvaluator,
  params: Params,
  dir: string,
  o: { fidelity?: Fidelity; test?: boolean } = {},
): Promise<SavedBest> {
  if (fs.existsSync(path.join(dir, 'model.json'))) throw new Error(`saveBestModel: ${dir} already holds a model.json; choose an empty folder`);
  const fidelity = ev.resolve(o.fidelity ?? ev.fidelity);
  const train = await ev.train(params, fidelity, { checkpoint: true, test: o.test ?? false });
  const graph = ev.graph(params, fidelity);
  const model = buildModel(graph, { outputActivation: ev.task === 'classification' ? 'softmax' : 'linear' });
  try {
    model.setWeights(train.checkpoint!.weights);
  } finally {
    disposeCheckpoint(train.checkpoint!);
    delete train.checkpoint;
  }
  await model.save(dirHandler(dir));
  const genotype: Genotype = { space: ev.archSpace.name, params, graph };
  writeJson(dir, 'genotype.json', genotype);
  return { model, train, dir };
}
