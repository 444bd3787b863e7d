/**
 * The model folder `fit` writes and `predict` reads:
 *
 *   model.json          TensorFlow.js layers format (topology + weights manifest)
 *   weights.bin         the weights the manifest names
 *   genotype.json       { space, params, graph }: the architecture as searched and as built
 *   preprocessing.json  what predict replays on new inputs (see Preprocessing in data.ts)
 *   fit.json            the plan, timings, trial counts, test metric
 *   report.html         the search's efficacy report
 *   experiment.db       the search itself (tsnas report / trials --storage sqlite:DIR/experiment.db)
 *
 * tfjs has no file:// handler without tfjs-node, so `dirHandler(dir)` is one (save and load);
 * `tf.loadLayersModel(dirHandler(dir))` gives the model back. The custom layers some spaces use
 * (TsnasZero, TsnasAvgPoolSame) are registered by importing tsnas's nn/ops module (this module does).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '../nn/ops.js';
import { parsePreprocessingSpec } from '../data/preprocess.js';
import type { ArchGraph } from '../space/arch/graph.js';
import type { Params } from '../space/params.js';
import { FitError, type Preprocessing } from './data.js';
import { modelOutputs } from './predict.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

export interface Genotype {
  /** Search space the params belong to (e.g. 'cell', 'chain-flat'). */
  space: string;
  params: Params;
  /** The graph the exported model was built from (final fidelity applied). */
  graph: ArchGraph;
}

function weightBuffer(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (!data) return new ArrayBuffer(0);
  return Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
}

/** A tfjs IOHandler that saves a layers model to, and loads it from, `dir/model.json` + `dir/weights.bin`. */
export function dirHandler(dir: string): tf.io.IOHandler {
  return {
    async save(a: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      fs.mkdirSync(dir, { recursive: true });
      const json: tf.io.ModelJSON = {
        format: a.format ?? 'layers-model',
        generatedBy: a.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        modelTopology: a.modelTopology as object,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: a.weightSpecs ?? [] }],
      };
      if (a.trainingConfig) json.trainingConfig = a.trainingConfig;
      fs.writeFileSync(path.join(dir, MODEL_JSON), JSON.stringify(json));
      fs.writeFileSync(path.join(dir, WEIGHTS_BIN), Buffer.from(weightBuffer(a.weightData)));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const file = path.join(dir, MODEL_JSON);
      if (!fs.existsSync(file)) throw new FitError(`--model ${dir}: no ${MODEL_JSON}; give a folder written by tsnas fit`);
      const json = JSON.parse(fs.readFileSync(file, 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((g) => g.weights);
        const buffers = manifest.flatMap((g) =>
          g.paths.map((p) => {
            const b = fs.readFileSync(path.join(dir, p));
            return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
          }),
        );
        return [specs, tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}

export function writeJson(dir: string, name: string, value: unknown): void {
  fs.writeFileSync(path.join(dir, name), JSON.stringify(value, null, 2) + '\n');
}

function readJson(dir: string, name: string): unknown {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) throw new FitError(`--model ${dir}: no ${name}; give a folder written by tsnas fit`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new FitError(`--model ${dir}: ${name} is not valid JSON (${(e as Error).message})`);
  }
}

/** Writes the model, genotype and preprocessing files into `dir`. */
export async function saveModelDir(dir: string, model: tf.LayersModel, genotype: Genotype, preprocessing: Preprocessing): Promise<void> {
  await model.save(dirHandler(dir));
  writeJson(dir, 'genotype.json', genotype);
  writeJson(dir, 'preprocessing.json', preprocessing);
}

export interface SavedModel {
  model: tf.LayersModel;
  preprocessing: Preprocessing;
  genotype: Genotype;
  dir: string;
}

export function readPreprocessing(dir: string): Preprocessing {
  const p = readJson(dir, 'preprocessing.json') as Preprocessing;
  if (p?.version !== 1 || (p.kind !== 'image' && p.kind !== 'tabular')) {
    throw new FitError(`--model ${dir}: preprocessing.json is not a tsnas fit preprocessing record (version 1)`);
  }
  if (p.kind === 'tabular') {
    try {
      p.spec = parsePreprocessingSpec(p.spec);
    } catch (e) {
      throw new FitError(`--model ${dir}: preprocessing.json: ${(e as Error).message}`);
    }
  }
  return p;
}

/** Loads a folder written by `fit` (call initBackend first to choose the backend). */
export async function loadModel(dir: string): Promise<SavedModel> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new FitError(`--model ${dir}: no such folder; give a folder written by tsnas fit`);
  const preprocessing = readPreprocessing(dir);
  const genotype = readJson(dir, 'genotype.json') as Genotype;
  const model = await tf.loadLayersModel(dirHandler(dir));
  return { model, preprocessing, genotype, dir };
}

/** Inputs compared by verifyExport (the first ones of the test set: enough to catch any weight or topology difference). */
const VERIFY_SAMPLES = 2000;

/**
 * Reloads the model folder just written and checks that it computes exactly (bitwise, same
 * process and backend) the outputs of the in-memory model on the first inputs of `x`: what `fit`
 * tested is what `predict` gets. Throws a FitError naming the folder otherwise.
 */
export async function verifyExport(dir: string, model: tf.LayersModel, x: Float32Array, shape: readonly number[]): Promise<void> {
  const per = shape.reduce((a, b) => a * b, 1);
  const n = Math.min(VERIFY_SAMPLES, Math.floor(x.length / Math.max(1, per)));
  if (n === 0) return;
  const xs = x.subarray(0, n * per);
  const reloaded = await tf.loadLayersModel(dirHandler(dir));
  try {
    const a = modelOutputs(model, xs, shape).values;
    const b = modelOutputs(reloaded, xs, shape).values;
    const i = a.findIndex((v, k) => !Object.is(v, b[k]));
    if (a.length !== b.length || i >= 0) {
      throw new FitError(`${dir}: the exported model does not reproduce the trained one (output ${i} of ${a.length}: ${a[i]} in memory, ${b[i]} reloaded); this is a tsnas bug, please report it`);
    }
  } finally {
    reloaded.dispose();
  }
}
