/**
 * NAS-Bench-201 tabular evaluator: answers "train this cell" from the published tables at two
 * fidelities (12 and 200 epochs) and charges the benchmark's GPU training time to a simulated clock,
 * so a search runs to a budget in simulated seconds as in the NB201 paper. Tables are read from
 * `--nb201-dir`, env TSNAS_NB201_DIR, or the copy shipped in the package (`data/nb201/*.csv.gz`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { NB201_SPACE, nb201ArchString } from '../space/nb201.js';
import type { Params, SearchSpace } from '../space/params.js';
import type { Trial } from '../core/trial.js';

export type Nb201Dataset = 'cifar10' | 'cifar100';
export type Nb201Epochs = 12 | 200;

export interface Nb201Row {
  index: number;
  arch: string;
  paramsMb: number;
  flopsM: number;
  validAcc12: number;
  testAcc12: number;
  validAcc200: number;
  testAcc200: number;
  secondsPerEpoch: number;
  seconds200: number;
}

export class DataDirError extends Error {
  override name = 'DataDirError';
}

/** Default table folder: the package's own `data/nb201` (from src/ or dist/ alike). */
export function defaultNb201Dir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, '..', '..', 'data', 'nb201');
}

export function resolveNb201Dir(dir?: string): string {
  return path.resolve(dir ?? process.env.TSNAS_NB201_DIR ?? defaultNb201Dir());
}

const cache = new Map<string, Map<string, Nb201Row>>();

const num = (s: string | undefined) => (s === undefined || s === '' ? NaN : Number(s));

/**
 * The table's file in `dir` (default: see resolveNb201Dir): `nb201_<dataset>.csv`, or its gzip
 * `nb201_<dataset>.csv.gz` as shipped; throws DataDirError naming the fix when neither exists.
 */
export function nb201TableFile(dataset: Nb201Dataset, dir?: string): string {
  const file = path.join(resolveNb201Dir(dir), `nb201_${dataset}.csv`);
  if (fs.existsSync(file)) return file;
  if (fs.existsSync(`${file}.gz`)) return `${file}.gz`;
  throw new DataDirError(
    `NAS-Bench-201 table ${file} not found; pass --nb201-dir DIR or set TSNAS_NB201_DIR to the folder holding nb201_${dataset}.csv (or .csv.gz)`,
  );
}

/** The table's CSV text (gunzipped when the file is `.csv.gz`). */
export function readNb201Csv(dataset: Nb201Dataset, dir?: string): string {
  const file = nb201TableFile(dataset, dir);
  const bytes = fs.readFileSync(file);
  return (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
}

/** Loads one table (cached per process). */
export function loadNb201Table(dataset: Nb201Dataset, dir?: string): Map<string, Nb201Row> {
  const file = nb201TableFile(dataset, dir);
  const hit = cache.get(file);
  if (hit) return hit;
  const records = parse(readNb201Csv(dataset, dir), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  const table = new Map<string, Nb201Row>();
  for (const r of records) {
    table.set(r.arch!, {
      index: num(r.index),
      arch: r.arch!,
      paramsMb: num(r.n_params_mb),
      flopsM: num(r.flops_m),
      validAcc12: num(r.valid_acc_12),
      testAcc12: num(r.test_acc_12),
      validAcc200: num(r.valid_acc_200),
      testAcc200: num(r.test_acc_200),
      secondsPerEpoch: num(r.train_time_per_epoch_s),
      seconds200: num(r.train_time_200ep_s),
    });
  }
  if (table.size !== 15625) {
    throw new DataDirError(`NAS-Bench-201 table ${file} has ${table.size} architectures, expected 15625; the file is incomplete`);
  }
  cache.set(file, table);
  return table;
}

export interface Nb201Answer {
  arch: string;
  /** Validation accuracy (%) at the fidelity asked: what a search sees. */
  validAcc: number;
  /** 200-epoch test accuracy (%): what the paper reports for the pick, never shown to the search. */
  testAcc200: number;
  /** Simulated GPU seconds this query costs. */
  seconds: number;
  row: Nb201Row;
}

export interface Nb201Options {
  dir?: string;
  dataset?: Nb201Dataset;
  /** Fidelity: epochs of the training schedule queried (12 as in the paper's search, or 200). */
  epochs?: Nb201Epochs;
}

export class Nb201Evaluator {
  readonly space: SearchSpace = NB201_SPACE;
  readonly dataset: Nb201Dataset;
  readonly epochs: Nb201Epochs;
  private readonly table: Map<string, Nb201Row>;

  constructor(opts: Nb201Options = {}) {
    this.dataset = opts.dataset ?? 'cifar10';
    this.epochs = opts.epochs ?? 12;
    this.table = loadNb201Table(this.dataset, opts.dir);
  }

  row(params: Params): Nb201Row {
    const arch = nb201ArchString(params);
    const row = this.table.get(arch);
    if (!row) throw new DataDirError(`architecture ${arch} is not in the NAS-Bench-201 table`);
    return row;
  }

  query(params: Params, epochs: Nb201Epochs = this.epochs): Nb201Answer {
    const row = this.row(params);
    return {
      arch: row.arch,
      validAcc: epochs === 12 ? row.validAcc12 : row.validAcc200,
      testAcc200: row.testAcc200,
      seconds: epochs === 12 ? 12 * row.secondsPerEpoch : row.seconds200,
      row,
    };
  }

  /** Simulated seconds of training an architecture for `epochs` (0, 12 or 200) from scratch. */
  secondsTo(row: Nb201Row, epochs: 0 | Nb201Epochs): number {
    return epochs === 0 ? 0 : epochs === 12 ? 12 * row.secondsPerEpoch : row.seconds200;
  }

  /**
   * Multi-fidelity step: trains the trial's architecture on from `fromEpochs` (0, or 12 when a
   * scheduler promotes it) to `epochs`, charging only the extra epochs' time, reports the validation
   * accuracy at step `epochs` and returns it. (The 12-epoch schedule is a separate NB201 run, so
   * "continuing" it to 200 epochs is the simulation's idealisation of resumed training.)
   */
  trainTo(trial: Trial, epochs: Nb201Epochs, fromEpochs: 0 | Nb201Epochs = 0): number {
    if (epochs !== 12 && epochs !== 200) throw new RangeError(`NB201 has 12- and 200-epoch fidelities, not ${epochs}`);
    if (fromEpochs >= epochs) throw new RangeError(`cannot continue from ${fromEpochs} to ${epochs} epochs`);
    const row = this.row(trial.params);
    trial.charge(this.secondsTo(row, epochs) - this.secondsTo(row, fromEpochs));
    trial.costExtra.flops = row.flopsM * 1e6;
    trial.costExtra.params = Math.round(row.paramsMb * 1e6);
    trial.costExtra.backend = 'nb201-table';
    const v = epochs === 12 ? row.validAcc12 : row.validAcc200;
    trial.report(v, epochs);
    return v;
  }

  /**
   * Two-rung objective for pruners and stopping schedulers (one trial per architecture): 12 epochs,
   * report, stop if the pruner says so, else 188 more epochs and the 200-epoch validation accuracy.
   */
  readonly stagedObjective = (trial: Trial): number => {
    this.trainTo(trial, 12);
    trial.pruneIfNeeded();
    return this.trainTo(trial, 200, 12);
  };

  /** Objective for `Experiment.optimize`: validation accuracy at the fidelity, charged to the simulated clock. */
  readonly objective = (trial: Trial): number => {
    const a = this.query(trial.params);
    trial.charge(a.seconds);
    trial.costExtra.flops = a.row.flopsM * 1e6;
    trial.costExtra.params = Math.round(a.row.paramsMb * 1e6);
    trial.costExtra.backend = 'nb201-table';
    return a.validAcc;
  };
}
