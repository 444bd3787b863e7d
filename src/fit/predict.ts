/**
 * Predictions of a fitted model on new inputs, with the preprocessing fit recorded:
 * - a CSV file (tabular models): the saved spec encodes the rows (extra columns ignored, unseen
 *   categories as zeros); when the target column is there, its values are the true labels;
 * - an image folder (image models): one sub-folder per class (labels = folder names) or images
 *   directly in the folder (no labels); files in sorted order;
 * - a built-in dataset name: its test split (the official one for mnist/fashion-mnist, the same
 *   seeded split fit used for iris/synthetic), with its labels.
 * The output is one row per input, in input order: `prediction` (the class label as in the
 * training data, or the number for regression), plus `file` (folders) and `label` (when known).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { datasetsFromTable, loadCsvForPrediction } from '../data/csv.js';
import { type Dataset } from '../data/dataset.js';
import { loadImageFolder } from '../data/imageFolder.js';
import { applyPreprocessing, cellValue, type CsvRecord } from '../data/preprocess.js';
import { loadNamedDataset } from '../data/registry.js';
import { downscale } from '../data/resize.js';
import { FitError, IMAGE_DATASETS, namedTable, TABULAR_DATASETS, type Preprocessing } from './data.js';

export interface PredictionInputs {
  /** Row-major model inputs, N x prod(shape). */
  x: Float32Array;
  shape: number[];
  n: number;
  /** True labels (as in the training data) when the source has them; undefined entries are unknown. */
  labels?: (string | undefined)[];
  /** Image files, in row order (folders only). */
  files?: string[];
}

export interface Predictions {
  predictions: string[] | number[];
  labels?: (string | undefined)[];
  files?: string[];
  /** Accuracy (classification) or RMSE (regression) over the rows with a known label. */
  metric?: { name: 'accuracy' | 'rmse'; value: number; count: number };
}

/** Raw model outputs for N inputs (probabilities or regression values), N x units. */
export function modelOutputs(model: tf.LayersModel, x: Float32Array, shape: readonly number[], batchSize = 256): { values: Float32Array; units: number } {
  const size = shape.reduce((a, b) => a * b, 1);
  const n = x.length / size;
  const units = (model.outputs[0]!.shape.at(-1) as number | null) ?? 1;
  const values = new Float32Array(n * units);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const out = tf.tidy(() => model.predict(tf.tensor(x.subarray(start * size, end * size), [end - start, ...shape])) as tf.Tensor);
    values.set(out.dataSync(), start * units);
    out.dispose();
  }
  return { values, units };
}

/** Outputs -> labels (argmax over the classes) or numbers in the target's units. */
export function decodeOutputs(pre: Preprocessing, values: Float32Array, units: number): string[] | number[] {
  const n = values.length / units;
  const classes = pre.kind === 'image' ? pre.classes : pre.spec.target.task === 'classification' ? pre.spec.target.classes : null;
  if (!classes) {
    const t = pre.kind === 'tabular' && pre.spec.target.task === 'regression' ? pre.spec.target : { mean: 0, std: 1 };
    return Array.from(values, (v) => v * t.std + t.mean);
  }
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < units; k++) if (values[i * units + k]! > values[i * units + best]!) best = k;
    out.push(classes[best]!);
  }
  return out;
}

/** Model input shape of a preprocessing record. */
export function inputShapeOf(pre: Preprocessing): number[] {
  return pre.kind === 'image' ? [pre.height, pre.width, pre.channels] : [pre.spec.featureNames.length];
}

/** The true labels of a labelled dataset as in the training data (regression: targets back in their units). */
function labelsOf(pre: Preprocessing, ds: Dataset): string[] {
  if (pre.kind === 'tabular' && pre.spec.target.task === 'regression') {
    const t = pre.spec.target;
    return Array.from(ds.y, (v) => String(v * t.std + t.mean));
  }
  return Array.from(ds.y, (k) => ds.classNames[k] ?? String(k));
}

/** A dataset as prediction inputs, by default labelled with its own labels (`extra` replaces labels and files). */
export function datasetInputs(pre: Preprocessing, ds: Dataset, extra: Pick<PredictionInputs, 'labels' | 'files'> = { labels: labelsOf(pre, ds) }): PredictionInputs {
  return { x: ds.x, shape: [...ds.shape], n: ds.y.length, ...extra };
}

function toModelSize(pre: Extract<Preprocessing, { kind: 'image' }>, ds: Dataset, source: string): Dataset {
  const [h, w, c] = ds.shape as [number, number, number];
  if (c !== pre.channels) throw new FitError(`--data ${source}: images have ${c} channel(s), the model takes ${pre.channels}`);
  return h === pre.height && w === pre.width ? ds : downscale(ds, { size: [pre.height, pre.width] });
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;
const visible = (dir: string) => fs.readdirSync(dir).filter((n) => !n.startsWith('.')).sort();

function imageFolderInputs(pre: Extract<Preprocessing, { kind: 'image' }>, dir: string): PredictionInputs {
  const subdirs = visible(dir).filter((n) => fs.statSync(path.join(dir, n)).isDirectory());
  const flat = visible(dir).filter((n) => IMAGE_EXT.test(n));
  if (subdirs.length === 0 && flat.length === 0) throw new FitError(`--data ${dir}: no images (.png, .jpg, .jpeg) and no class sub-folders`);
  const opts = { size: [pre.sourceHeight, pre.sourceWidth] as [number, number], grayscale: pre.channels === 1 };
  let ds: Dataset;
  let files: string[];
  let labels: string[] | undefined;
  try {
    if (subdirs.length > 0) {
      ds = loadImageFolder(dir, opts);
      files = ds.classNames.flatMap((c) => visible(path.join(dir, c)).filter((n) => IMAGE_EXT.test(n)).map((n) => path.join(c, n)));
      labels = labelsOf(pre, ds);
    } else {
      // Unlabelled images: read the folder as the single class of a temporary parent.
      const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-predict-'));
      try {
        fs.symlinkSync(path.resolve(dir), path.join(parent, 'images'), 'dir');
        ds = loadImageFolder(parent, opts);
      } finally {
        fs.rmSync(parent, { recursive: true, force: true });
      }
      files = flat;
    }
  } catch (e) {
    if (e instanceof FitError) throw e;
    throw new FitError(`--data ${dir}: ${(e as Error).message}`);
  }
  ds = toModelSize(pre, ds, dir);
  return datasetInputs(pre, ds, { labels, files });
}

/** Reads the inputs of a predict source (see the module comment); errors are FitErrors naming the fix. */
export function loadPredictionInputs(pre: Preprocessing, data: string): PredictionInputs {
  if ((IMAGE_DATASETS as readonly string[]).includes(data)) {
    if (pre.kind !== 'image') throw new FitError(`--data ${data}: an image dataset, but the model is a tabular (CSV) model`);
    return datasetInputs(pre, toModelSize(pre, loadNamedDataset(data, { valFraction: 0.1 }).test, data));
  }
  if ((TABULAR_DATASETS as readonly string[]).includes(data)) {
    if (pre.kind !== 'tabular') throw new FitError(`--data ${data}: a tabular dataset, but the model is an image model`);
    const s = pre.source;
    const { table, target } = namedTable(data, s.seed);
    const parts = datasetsFromTable(table, { target, task: 'classification', seed: s.seed, valFraction: s.valFraction, testFraction: s.testFraction });
    if (parts.spec.featureNames.join('\u0000') !== pre.spec.featureNames.join('\u0000')) {
      throw new FitError(`--data ${data}: the model was trained on other columns (${pre.spec.featureNames.join(', ')})`);
    }
    return datasetInputs(pre, parts.test);
  }
  if (!fs.existsSync(data)) throw new FitError(`--data ${data}: no such file or folder`);
  if (fs.statSync(data).isDirectory()) {
    if (pre.kind !== 'image') throw new FitError(`--data ${data}: an image folder, but the model is a tabular (CSV) model; give a CSV file`);
    return imageFolderInputs(pre, data);
  }
  if (pre.kind !== 'tabular') throw new FitError(`--data ${data}: the model is an image model; give an image folder or ${IMAGE_DATASETS.join(', ')}`);
  let loaded;
  try {
    loaded = loadCsvForPrediction(data, pre.spec);
  } catch (e) {
    throw new FitError(`--data ${data}: ${(e as Error).message.replace(/^CSV file \S+: /, '')}`);
  }
  const target = pre.spec.target.name;
  const labels = loaded.table.columns.includes(target)
    ? loaded.table.records.map((r) => cellValue(r[target], new Set(pre.spec.missingTokens)))
    : undefined;
  return { x: loaded.x, shape: inputShapeOf(pre), n: loaded.table.records.length, labels };
}

/** Encodes in-memory rows (tabular models) as model inputs. */
export function rowsToInputs(pre: Preprocessing, rows: readonly CsvRecord[]): PredictionInputs {
  if (pre.kind !== 'tabular') throw new FitError('predict(rows): rows are for tabular models; pass a Float32Array of images for an image model');
  return { x: applyPreprocessing(pre.spec, rows), shape: inputShapeOf(pre), n: rows.length };
}

/** Runs the model on prepared inputs and scores the rows whose label is known. */
export function predictInputs(model: tf.LayersModel, pre: Preprocessing, inputs: PredictionInputs): Predictions {
  const { values, units } = modelOutputs(model, inputs.x, inputs.shape);
  const predictions = decodeOutputs(pre, values, units);
  const out: Predictions = { predictions, labels: inputs.labels, files: inputs.files };
  if (inputs.labels) {
    const known = inputs.labels.map((l, i) => [l, predictions[i]!] as const).filter(([l]) => l !== undefined);
    if (known.length > 0) {
      const regression = typeof predictions[0] === 'number';
      const value = regression
        ? Math.sqrt(known.reduce((a, [l, p]) => a + (Number(l) - (p as number)) ** 2, 0) / known.length)
        : known.filter(([l, p]) => l === p).length / known.length;
      out.metric = { name: regression ? 'rmse' : 'accuracy', value, count: known.length };
    }
  }
  return out;
}

function csvField(v: string | number | undefined): string {
  const s = v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV text: header `[file,][label,]prediction`, one row per input in order. */
export function predictionsCsv(p: Predictions): string {
  const cols: [string, (i: number) => string | number | undefined][] = [];
  if (p.files) cols.push(['file', (i) => p.files![i]]);
  if (p.labels) cols.push(['label', (i) => p.labels![i]]);
  cols.push(['prediction', (i) => p.predictions[i]]);
  const lines = [cols.map(([h]) => h).join(',')];
  for (let i = 0; i < p.predictions.length; i++) lines.push(cols.map(([, f]) => csvField(f(i))).join(','));
  return lines.join('\n') + '\n';
}
