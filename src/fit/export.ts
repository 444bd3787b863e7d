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
import { writeReport } from '../report/index.js';
import type { ArchGraph } from '../space/arch/graph.js';
import type { Params } from '../space/params.js';
import type { Store } from '../core/store.js';
import { FIT_FILES, writeFileAtomic } from '../util/output.js';
import { FitError, type Preprocessing } from './data.js';
import type { FitSummary } from './fit.js';
import { modelOutputs, type PredictionInputs } from './predict.js';

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
      writeFileAtomic(path.join(dir, WEIGHTS_BIN), Buffer.from(weightBuffer(a.weightData)));
      writeFileAtomic(path.join(dir, MODEL_JSON), JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const json = readModelJson(dir);
      const { specs, buffer } = readWeights(dir, json);
      return tf.io.getModelArtifactsForJSON(json, async () => [specs, buffer]);
    },
  };
}

/** Largest model.json and weights read (a model folder may come from someone else). */
export const MAX_MODEL_JSON_BYTES = 64 * 2 ** 20;
export const MAX_WEIGHTS_BYTES = 2 * 2 ** 30;

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8 };

function readModelJson(dir: string): tf.io.ModelJSON {
  const file = path.join(dir, MODEL_JSON);
  if (!fs.existsSync(file)) throw new FitError(`--model ${dir}: no ${MODEL_JSON}; give a folder written by tsnas fit`);
  const size = fs.statSync(file).size;
  if (size > MAX_MODEL_JSON_BYTES) throw new FitError(`--model ${dir}: ${MODEL_JSON} is ${size} bytes, over the ${MAX_MODEL_JSON_BYTES}-byte limit; not a tsnas model`);
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8')) as tf.io.ModelJSON;
  } catch (e) {
    throw new FitError(`--model ${dir}: ${MODEL_JSON} is not valid JSON (${(e as Error).message}); refit or restore the folder`);
  }
  const groups = (json as { weightsManifest?: unknown })?.weightsManifest;
  const ok =
    json !== null &&
    typeof json === 'object' &&
    typeof json.modelTopology === 'object' &&
    json.modelTopology !== null &&
    Array.isArray(groups) &&
    groups.every((g) => g && Array.isArray(g.paths) && g.paths.every((p: unknown) => typeof p === 'string') && Array.isArray(g.weights));
  if (!ok) throw new FitError(`--model ${dir}: ${MODEL_JSON} is not a TensorFlow.js layers model (modelTopology and weightsManifest); refit or restore the folder`);
  return json;
}

/**
 * The weights the manifest names, read only from regular files inside the model folder (no `..`, no
 * absolute paths, no links out of it), whose total length is exactly what the manifest's weights
 * need and whose float values are all finite.
 */
function readWeights(dir: string, json: tf.io.ModelJSON): { specs: tf.io.WeightsManifestEntry[]; buffer: ArrayBuffer } {
  const root = fs.realpathSync(dir);
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  let need = 0;
  for (const w of specs) {
    const dtype = w.quantization?.dtype ?? w.dtype;
    const per = DTYPE_BYTES[dtype];
    if (per === undefined || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new FitError(`--model ${dir}: ${MODEL_JSON}: weight "${w.name}" has an invalid dtype or shape`);
    }
    need += per * w.shape.reduce((a, b) => a * b, 1);
  }
  if (need > MAX_WEIGHTS_BYTES) throw new FitError(`--model ${dir}: ${MODEL_JSON} declares ${need} bytes of weights, over the ${MAX_WEIGHTS_BYTES}-byte limit`);
  const files = json.weightsManifest.flatMap((g) => g.paths);
  const buffers: Buffer[] = [];
  let have = 0;
  for (const p of files) {
    const file = path.resolve(dir, p);
    let real: string;
    try {
      real = fs.realpathSync(file);
    } catch {
      throw new FitError(`--model ${dir}: the weights file ${p} named in ${MODEL_JSON} is missing; refit or restore the folder`);
    }
    const rel = path.relative(root, real);
    if (path.isAbsolute(p) || rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new FitError(`--model ${dir}: ${MODEL_JSON} names weights outside the model folder (${p}); refusing to read them`);
    }
    const st = fs.statSync(real);
    if (!st.isFile()) throw new FitError(`--model ${dir}: the weights path ${p} is not a regular file`);
    have += st.size;
    if (have > need) break;
    buffers.push(fs.readFileSync(real));
  }
  if (have !== need) {
    const what = have > need ? `more than the ${need} bytes ${MODEL_JSON} needs (padded, or from another model)` : `${have} bytes but ${MODEL_JSON} needs ${need} (truncated)`;
    throw new FitError(`--model ${dir}: ${files.join(', ')} hold ${what}; refit or restore the folder`);
  }
  const all = Buffer.concat(buffers);
  const buffer = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  let offset = 0;
  for (const w of specs) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (w.dtype === 'float32' && !w.quantization) {
      const v = new Float32Array(buffer, offset, n);
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(v[i]!)) throw new FitError(`--model ${dir}: weight "${w.name}" holds ${v[i]} (not finite); the model is damaged: refit it`);
      }
    }
    offset += DTYPE_BYTES[w.quantization?.dtype ?? w.dtype]! * n;
  }
  return { specs, buffer };
}

export function writeJson(dir: string, name: string, value: unknown): void {
  writeFileAtomic(path.join(dir, name), JSON.stringify(value, null, 2) + '\n');
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

/**
 * fit's export phase: the model folder, checked by reloading it on the test inputs, the report and,
 * last, fit.json (`summary()` gives it with its timings). All of it or none: a failure (a full disk)
 * removes what was written and leaves experiment.db, so the fit resumes.
 */
export async function exportFit(
  out: string,
  o: { model: tf.LayersModel; genotype: Genotype; preprocessing: Preprocessing; testInputs: PredictionInputs | null; store: Store; experiment: string; summary: () => FitSummary },
): Promise<void> {
  try {
    await saveModelDir(out, o.model, o.genotype, o.preprocessing);
    if (o.testInputs) await verifyExport(out, o.model, o.testInputs.x, o.testInputs.shape);
    await writeReport(o.store, path.join(out, 'report.html'), { storage: `sqlite:${path.join(out, 'experiment.db')}`, names: [o.experiment] });
    writeJson(out, 'fit.json', o.summary());
  } catch (e) {
    for (const f of FIT_FILES) if (f !== 'experiment.db') fs.rmSync(path.join(out, f), { force: true });
    throw e;
  }
}
