/**
 * Training data for the training evaluator from a name: a built-in dataset (mnist, fashion-mnist,
 * iris, synthetic; see src/data/registry.ts) or a CSV file with a target column.
 */
import { loadCsv } from '../data/csv.js';
import { DATASET_NAMES, isDatasetName, loadNamedDataset } from '../data/registry.js';
import type { TrainingData } from './train.js';

export interface TrainingDataOptions {
  /** Target column (CSV files only). */
  target?: string;
  /** Split seed (default 0). */
  seed?: number;
  /** Validation fraction (default: 0.1 of the training images, 0.2 of tabular rows). */
  valFraction?: number;
  /** Test fraction of a CSV file (default 0.2; built-in image sets use their official test set). */
  testFraction?: number;
}

export class TrainingDataError extends Error {
  override name = 'TrainingDataError';
  readonly userError = true;
}

/** Loads train/val/test parts by dataset name or CSV path; errors name the fix. */
export function loadTrainingData(dataset: string, o: TrainingDataOptions = {}): TrainingData & { name: string } {
  const seed = o.seed ?? 0;
  if (dataset.toLowerCase().endsWith('.csv')) {
    if (!o.target) throw new TrainingDataError(`--dataset ${dataset}: a CSV needs --target COLUMN naming the column to predict`);
    let parts;
    try {
      parts = loadCsv(dataset, { target: o.target, seed, valFraction: o.valFraction ?? 0.2, testFraction: o.testFraction ?? 0.2 });
    } catch (e) {
      throw new TrainingDataError(`--dataset ${dataset}: ${(e as Error).message}`);
    }
    return { name: dataset, train: parts.train, val: parts.val, test: parts.test };
  }
  if (!isDatasetName(dataset)) {
    throw new TrainingDataError(`--dataset ${dataset}: unknown dataset; use one of ${DATASET_NAMES.join(', ')} or a file.csv with --target`);
  }
  if (o.target) throw new TrainingDataError(`--target is for CSV datasets; ${dataset} has its own labels`);
  try {
    const parts = loadNamedDataset(dataset, { seed, valFraction: o.valFraction });
    return { name: dataset, ...parts };
  } catch (e) {
    throw new TrainingDataError(`--dataset ${dataset}: ${(e as Error).message}`);
  }
}
