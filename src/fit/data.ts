/**
 * What `fit` trains on: a data source (a CSV file, an image folder, or a built-in dataset name)
 * loaded as train/val/test parts, the profile the plan is chosen from, and the preprocessing record
 * that `predict` replays on new inputs.
 *
 * Rules (documented in the README):
 * - FILE.csv: needs a target column. Task 'auto': classification when the target has a non-number
 *   value or only integers with at most 20 distinct values, else regression. Split 60/20/20
 *   (stratified for classes, seeded); numeric columns standardised with a training median for
 *   missing values (+ a missing indicator), categorical columns one-hot (see src/data/preprocess.ts).
 * - iris, synthetic: turned into a table and handled exactly like a CSV (same spec, same split).
 * - mnist, fashion-mnist: the official test set; 10% of the official training set for validation.
 * - DIR (one sub-folder per class): images scaled to [0, 1], RGB (or luma with grayscale), split
 *   70/15/15. Images of different sizes are an error naming two files and their sizes unless
 *   `imageSize` is given (then every image is resized to it with the area filter).
 */
import fs from 'node:fs';
import path from 'node:path';
import { datasetsFromTable, readCsv, type CsvTable } from '../data/csv.js';
import { type Dataset, split } from '../data/dataset.js';
import { loadImageFolder } from '../data/imageFolder.js';
import type { PreprocessingSpec, CsvRecord } from '../data/preprocess.js';
import { loadNamedDataset } from '../data/registry.js';
import { loadIris, makeSyntheticTabular } from '../data/tabular.js';
import type { DataProfile } from './policy.js';

/** Bad input to fit/predict: the CLI prints the message as one line and exits 2. */
export class FitError extends Error {
  override name = 'FitError';
  readonly userError = true;
}

export const IMAGE_DATASETS = ['mnist', 'fashion-mnist'] as const;
export const TABULAR_DATASETS = ['iris', 'synthetic'] as const;
export const FIT_DATASETS = [...IMAGE_DATASETS, ...TABULAR_DATASETS];

export type TaskOption = 'auto' | 'classification' | 'regression';

/** Everything `predict` needs to turn new inputs into model inputs and outputs into labels. */
export type Preprocessing =
  | {
      version: 1;
      kind: 'image';
      /** Built-in dataset name, or the folder fit was run on. */
      source: { dataset?: string; folder?: string };
      /**
       * Images are decoded, converted to `channels` (1: ITU-R BT.601 luma), scaled to [0, 1], resized
       * (area filter) to [sourceHeight, sourceWidth] when they differ, then downscaled (area filter) to
       * the model's input [height, width] when that differs (a lower-resolution final fidelity).
       */
      sourceHeight: number;
      sourceWidth: number;
      height: number;
      width: number;
      channels: number;
      scale: '1/255';
      resize: 'area';
      classes: string[];
    }
  | {
      version: 1;
      kind: 'tabular';
      source: { dataset?: string; file?: string; seed: number; valFraction: number; testFraction: number };
      spec: PreprocessingSpec;
    };

export interface FitData {
  /** Short name for the experiment (e.g. 'fashion-mnist', 'houses'). */
  label: string;
  train: Dataset;
  val: Dataset;
  test: Dataset;
  profile: DataProfile;
  preprocessing: Preprocessing;
}

export interface LoadFitDataOptions {
  target?: string;
  task?: TaskOption;
  seed?: number;
  /** Image folders: resize every image to this side length. */
  imageSize?: number;
  /** Image folders: one luma channel instead of RGB. */
  grayscale?: boolean;
}

const TABULAR_SPLIT = { valFraction: 0.2, testFraction: 0.2 };
const FOLDER_SPLIT = { valFraction: 0.15, testFraction: 0.15 };

const IRIS_COLUMNS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

/** A built-in tabular dataset as a table with named columns (target 'species' or 'label'). */
export function namedTable(name: string, seed: number): { table: CsvTable; target: string } {
  const ds = name === 'iris' ? loadIris() : makeSyntheticTabular({ seed });
  const d = ds.shape[0]!;
  const names = name === 'iris' ? IRIS_COLUMNS : Array.from({ length: d }, (_, j) => `x${j}`);
  const target = name === 'iris' ? 'species' : 'label';
  const records: CsvRecord[] = [];
  for (let i = 0; i < ds.y.length; i++) {
    const r: CsvRecord = {};
    names.forEach((c, j) => (r[c] = String(ds.x[i * d + j])));
    r[target] = ds.classNames[ds.y[i]!] ?? String(ds.y[i]);
    records.push(r);
  }
  return { table: { source: name, columns: [...names, target], records, lines: records.map((_, i) => i + 2) }, target };
}

/** trainSize counts train + validation: what the final retraining trains on (the interface's "before the validation split"). */
function profileOf(kind: DataProfile['kind'], train: Dataset, val: Dataset): DataProfile {
  return {
    kind,
    task: train.task,
    inputShape: [...train.shape],
    numClasses: train.task === 'classification' ? train.numClasses : 1,
    trainSize: train.y.length + val.y.length,
  };
}

function tabular(table: CsvTable, target: string, o: LoadFitDataOptions, source: { dataset?: string; file?: string }, label: string): FitData {
  const seed = o.seed ?? 0;
  let parts;
  try {
    parts = datasetsFromTable(table, { target, task: o.task ?? 'auto', seed, ...TABULAR_SPLIT });
  } catch (e) {
    throw new FitError(`--data ${source.file ?? source.dataset}: ${(e as Error).message}`);
  }
  const { train, val, test, spec } = parts;
  if (val.y.length === 0 || test.y.length === 0) {
    const labelled = train.y.length + val.y.length + test.y.length;
    throw new FitError(
      `--data ${source.file ?? source.dataset}: ${labelled} rows with a ${target} value${labelled !== table.records.length ? ` (of ${table.records.length})` : ''} are too few to split into train, validation and test; give at least 5`,
    );
  }
  return {
    label,
    train,
    val,
    test,
    profile: profileOf('tabular', train, val),
    preprocessing: { version: 1, kind: 'tabular', source: { ...source, seed, ...TABULAR_SPLIT }, spec },
  };
}

function imagePreprocessing(ds: Dataset, source: { dataset?: string; folder?: string }): Preprocessing {
  const [height, width, channels] = ds.shape as [number, number, number];
  return {
    version: 1,
    kind: 'image',
    source,
    sourceHeight: height,
    sourceWidth: width,
    height,
    width,
    channels,
    scale: '1/255',
    resize: 'area',
    classes: [...ds.classNames],
  };
}

/** Loads a fit data source; every bad input is a FitError naming the fix. */
export function loadFitData(data: string, o: LoadFitDataOptions = {}): FitData {
  const seed = o.seed ?? 0;
  if (!data) throw new FitError(`--data: give a CSV file, an image folder or one of ${FIT_DATASETS.join(', ')}`);
  if ((FIT_DATASETS as readonly string[]).includes(data)) {
    if (o.target) throw new FitError(`--target is for CSV files; ${data} has its own labels`);
    if ((TABULAR_DATASETS as readonly string[]).includes(data)) {
      const { table, target } = namedTable(data, seed);
      return tabular(table, target, { ...o, task: o.task ?? 'classification' }, { dataset: data }, data);
    }
    if (o.task === 'regression') throw new FitError(`--task regression: ${data} is a classification dataset`);
    let parts;
    try {
      parts = loadNamedDataset(data, { seed });
    } catch (e) {
      throw new FitError(`--data ${data}: ${(e as Error).message}`);
    }
    return { label: data, ...parts, profile: profileOf('image', parts.train, parts.val), preprocessing: imagePreprocessing(parts.train, { dataset: data }) };
  }
  if (!fs.existsSync(data)) throw new FitError(`--data ${data}: no such file or folder; give a CSV file, an image folder or one of ${FIT_DATASETS.join(', ')}`);
  const label = path.basename(path.resolve(data)).replace(/\.csv$/i, '');
  if (fs.statSync(data).isDirectory()) return imageFolder(data, o, label);
  if (!data.toLowerCase().endsWith('.csv')) throw new FitError(`--data ${data}: not a .csv file or a folder`);
  let table: CsvTable;
  try {
    table = readCsv(data);
  } catch (e) {
    throw new FitError(`--data ${data}: ${(e as Error).message}`);
  }
  if (!o.target) throw new FitError(`--data ${data}: give --target COLUMN, the column to predict; columns: ${table.columns.join(', ')}`);
  return tabular(table, o.target, o, { file: path.resolve(data) }, label);
}

function imageFolder(dir: string, o: LoadFitDataOptions, label: string): FitData {
  if (o.target) throw new FitError(`--target is for CSV files; an image folder takes its labels from its sub-folder names`);
  if (o.task === 'regression') throw new FitError(`--task regression: an image folder is a classification dataset`);
  if (o.imageSize !== undefined && !(Number.isInteger(o.imageSize) && o.imageSize > 0)) {
    throw new FitError(`--image-size ${o.imageSize}: give a whole number of pixels`);
  }
  let ds: Dataset;
  try {
    ds = loadImageFolder(dir, { size: o.imageSize, grayscale: o.grayscale, name: label });
  } catch (e) {
    const msg = (e as Error).message.replace(/pass the size option, e\.g\. \{ size: (\d+) \}/, 'give --image-size $1 (library: imageSize)');
    throw new FitError(`--data ${dir}: ${msg}`);
  }
  if (ds.numClasses < 2) throw new FitError(`--data ${dir}: one class only (${ds.classNames[0]}); classification needs at least 2 class sub-folders`);
  if (ds.y.length < 10) throw new FitError(`--data ${dir}: ${ds.y.length} images are too few to split into train, validation and test; give at least 10`);
  const parts = split(ds, { ...FOLDER_SPLIT, seed: o.seed ?? 0 });
  return { label, ...parts, profile: profileOf('image', parts.train, parts.val), preprocessing: imagePreprocessing(ds, { folder: path.resolve(dir) }) };
}
