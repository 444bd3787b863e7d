/**
 * Built-in datasets by name, as train/val/test parts ready for search and training (the names a
 * CLI `--dataset` option or a benchmark can accept).
 *
 * - mnist, fashion-mnist: the official test set as `test`; `val` is a stratified, seeded
 *   `valFraction` (default 0.1) of the official training set, `train` the rest.
 * - iris, synthetic: stratified seeded split (val and test 0.2 each by default), features
 *   standardised with the training part's mean/std.
 */
import { applyFeatureScaling, type Dataset, fitFeatureScaling, split } from './dataset.js';
import { loadFashionMnist, loadMnist } from './mnist.js';
import { loadIris, makeSyntheticTabular, type SyntheticTabularOptions } from './tabular.js';

export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'iris', 'synthetic'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export interface NamedDatasetOptions {
  seed?: number;
  /** Validation fraction (default 0.1 for images, 0.2 for tabular sets). */
  valFraction?: number;
  /** Test fraction for the tabular sets (default 0.2; images use their official test set). */
  testFraction?: number;
  /** Images: keep only the first trainCount / testCount samples of the official files. */
  trainCount?: number;
  testCount?: number;
  /** Options of makeSyntheticTabular (its seed defaults to `seed`). */
  synthetic?: SyntheticTabularOptions;
}

export interface DatasetParts {
  train: Dataset;
  val: Dataset;
  test: Dataset;
}

export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

export function loadNamedDataset(name: string, opts: NamedDatasetOptions = {}): DatasetParts {
  if (!isDatasetName(name)) throw new Error(`unknown dataset '${name}'; known datasets: ${DATASET_NAMES.join(', ')}`);
  const seed = opts.seed ?? 0;
  if (name === 'mnist' || name === 'fashion-mnist') {
    const load = name === 'mnist' ? loadMnist : loadFashionMnist;
    const { train, test } = load({ trainCount: opts.trainCount, testCount: opts.testCount });
    const parts = split(train, { valFraction: opts.valFraction ?? 0.1, testFraction: 0, seed });
    return { train: parts.train, val: parts.val, test };
  }
  const ds = name === 'iris' ? loadIris() : makeSyntheticTabular({ seed, ...opts.synthetic });
  const parts = split(ds, { valFraction: opts.valFraction ?? 0.2, testFraction: opts.testFraction ?? 0.2, seed });
  const scaling = fitFeatureScaling(parts.train);
  return {
    train: applyFeatureScaling(parts.train, scaling),
    val: applyFeatureScaling(parts.val, scaling),
    test: applyFeatureScaling(parts.test, scaling),
  };
}
