/**
 * fm-cells: tsnas's own learning-curve benchmark. A fixed sample of NAS-Bench-201 cells trained for
 * real on a Fashion-MNIST subset at one setting (FM_CELLS_SETTING), every epoch recorded (validation
 * and test accuracy, loss, wall and CPU seconds), built by `npm run bench:build-curves` into
 * data/fm-cells/curves.json.gz (see data/fm-cells/README.md).
 *
 * The tabular evaluator answers "train this cell to epoch e" from the table and charges the recorded
 * CPU seconds of those epochs to a simulated clock, as the NB201 evaluator does with its GPU times,
 * except that every epoch 1..10 is a fidelity (a promoted trial continues from its previous epoch and
 * is charged only the extra epochs).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import type { Trial } from '../core/trial.js';
import { NB201_OPS, NB201_SPACE, nb201ArchString, parseNb201Arch } from '../space/nb201.js';
import type { Params, SearchSpace } from '../space/params.js';
import { Rng } from '../util/rng.js';
import { DataDirError } from './nb201.js';

/** The one training setting of the table (the builder trains with exactly this). */
export const FM_CELLS_SETTING = {
  dataset: 'fashion-mnist',
  /** First trainCount + valCount images of the official training file, split (seeded, stratified) into train and val. */
  trainCount: 1000,
  valCount: 500,
  /** First testCount images of the official test file. */
  testCount: 500,
  /** 28x28 resized (area filter) to 16x16 (the three stages then run at 16, 8 and 4 pixels). */
  resolution: 16,
  /** NB201 skeleton with C = 8 (16 x 0.5) and 1 cell per stage. */
  widthMultiplier: 0.5,
  cells: 1,
  epochs: 10,
  batchSize: 100,
  optimizer: 'adam' as const,
  lr: 3e-3,
  lrSchedule: 'cosine' as const,
  seed: 0,
  backend: 'wasm' as const,
};

/** Hand-picked cells, good and bad, trained before the random sample. */
export const FM_CELLS_HANDPICKED = [
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|',
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|',
  '|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|',
  '|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|',
  '|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|',
  '|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|avg_pool_3x3~2|',
  '|avg_pool_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|',
  '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|',
];

/** The table's architectures: the hand-picked ones, then a seeded random sample of distinct cells. */
export function fmCellsArchs(randomCount = 120, seed = 17): string[] {
  const out = [...FM_CELLS_HANDPICKED];
  const seen = new Set(out);
  const rng = new Rng(seed);
  while (out.length < FM_CELLS_HANDPICKED.length + randomCount) {
    const ops = Array.from({ length: 6 }, () => NB201_OPS[rng.int(0, NB201_OPS.length - 1)]!);
    const a = `|${ops[0]}~0|+|${ops[1]}~0|${ops[2]}~1|+|${ops[3]}~0|${ops[4]}~1|${ops[5]}~2|`;
    if (!seen.has(a)) {
      seen.add(a);
      out.push(a);
    }
  }
  return out;
}

export interface FmCellsRow {
  arch: string;
  /** Per epoch 1..E (index e - 1): validation / test accuracy in [0, 1], mean training loss, wall and CPU seconds. */
  val: number[];
  test: number[];
  loss: number[];
  wall: number[];
  cpu: number[];
  params: number;
  flops: number;
}

export interface FmCellsTable {
  setting: typeof FM_CELLS_SETTING;
  built: { archs: number; cpuSeconds: number; wallSeconds: number | null };
  rows: FmCellsRow[];
}

/** The committed table: data/fm-cells/curves.json.gz beside src/ or dist/ (or env TSNAS_FM_CELLS_TABLE). */
export function defaultFmCellsFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(process.env.TSNAS_FM_CELLS_TABLE ?? path.join(here, '..', '..', 'data', 'fm-cells', 'curves.json.gz'));
}

const cache = new Map<string, FmCellsTable>();

export function loadFmCellsTable(file = defaultFmCellsFile()): FmCellsTable {
  const hit = cache.get(file);
  if (hit) return hit;
  if (!fs.existsSync(file)) {
    throw new DataDirError(`fm-cells table ${file} not found; build it with npm run bench:build-curves or set TSNAS_FM_CELLS_TABLE to the file`);
  }
  const t = JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString('utf8')) as FmCellsTable;
  if (!Array.isArray(t.rows) || t.rows.length === 0) throw new DataDirError(`fm-cells table ${file} has no architectures; rebuild it`);
  cache.set(file, t);
  return t;
}

/**
 * What a multi-fidelity job below the full schedule returns (the value its rung is ranked by):
 * 'val', the validation accuracy (%) after e epochs; 'tse', the training speed estimate of Ru et al.
 * (NeurIPS 2021), minus the sum of the epoch-mean training losses of epochs 1..e (larger is better).
 * At the full schedule the value is always the validation accuracy, as for full-fidelity searches.
 */
export type FmCellsRungMetric = 'val' | 'tse';

/**
 * The fm-cells tabular evaluator. Its space is one categorical parameter `arch` over the table's
 * architectures (NB201 arch strings): the table holds a sample of the cell space, so a search can
 * only propose what was trained (strategies see an unordered set; `paramsOf` gives the six NB201 edges).
 */
export class FmCellsEvaluator {
  readonly table: FmCellsTable;
  readonly space: SearchSpace;
  readonly maxEpochs: number;
  private readonly byArch: Map<string, FmCellsRow>;

  readonly rungMetric: FmCellsRungMetric;

  constructor(o: { file?: string; rungMetric?: FmCellsRungMetric } = {}) {
    this.table = loadFmCellsTable(o.file);
    this.rungMetric = o.rungMetric ?? 'val';
    if (this.rungMetric !== 'val' && this.rungMetric !== 'tse') throw new RangeError(`fm-cells rungMetric ${JSON.stringify(this.rungMetric)}: use 'val' or 'tse'`);
    this.byArch = new Map(this.table.rows.map((r) => [r.arch, r]));
    this.space = { params: { arch: { type: 'categorical', choices: this.table.rows.map((r) => r.arch) } } };
    this.maxEpochs = Math.min(...this.table.rows.map((r) => r.val.length));
  }

  row(params: Params): FmCellsRow {
    const arch = typeof params.arch === 'string' ? params.arch : nb201ArchString(params);
    const row = this.byArch.get(arch);
    if (!row) throw new DataDirError(`architecture ${arch} is not in the fm-cells table (${this.table.rows.length} architectures)`);
    return row;
  }

  /** The six NB201 edge parameters of a table entry. */
  paramsOf(params: Params): Params {
    return parseNb201Arch(this.row(params).arch);
  }

  /** Simulated seconds of training from scratch to `epochs` (the recorded CPU seconds of those epochs). */
  secondsTo(row: FmCellsRow, epochs: number): number {
    let s = 0;
    for (let e = 0; e < epochs; e++) s += row.cpu[e]!;
    return s;
  }

  /** Validation accuracy (%) after `epochs`. */
  valAt(row: FmCellsRow, epochs: number): number {
    return 100 * row.val[epochs - 1]!;
  }

  /** Test accuracy (%) after `epochs` (default: the full schedule): what a benchmark reports for a pick. */
  testAt(row: FmCellsRow, epochs = this.maxEpochs): number {
    return 100 * row.test[epochs - 1]!;
  }

  /** Training speed estimate after `epochs`: minus the summed epoch-mean training losses (larger is better). */
  tseAt(row: FmCellsRow, epochs: number): number {
    let s = 0;
    for (let e = 0; e < epochs; e++) s += row.loss[e]!;
    return -s;
  }

  private checkEpochs(epochs: number, fromEpochs: number): void {
    if (!(Number.isInteger(epochs) && epochs >= 1 && epochs <= this.maxEpochs)) {
      throw new RangeError(`fm-cells has epochs 1..${this.maxEpochs} as fidelities, not ${epochs}`);
    }
    if (!(Number.isInteger(fromEpochs) && fromEpochs >= 0 && fromEpochs < epochs)) throw new RangeError(`cannot continue from ${fromEpochs} to ${epochs} epochs`);
  }

  private record(trial: Trial, row: FmCellsRow): void {
    trial.costExtra.flops = row.flops;
    trial.costExtra.params = row.params;
    trial.costExtra.backend = 'fm-cells-table';
  }

  /**
   * Multi-fidelity step: continues the trial's architecture from `fromEpochs` to `epochs`, charging
   * only those epochs, reports the validation accuracy (%) of every epoch on the way (so pruners
   * see the whole curve) and returns the one at `epochs` (with rungMetric 'tse', below the full
   * schedule: the training speed estimate there). The recorded run is one 10-epoch cosine
   * schedule, so epoch e of it is what training to e and stopping there gives in this table.
   */
  trainTo(trial: Trial, epochs: number, fromEpochs = 0): number {
    this.checkEpochs(epochs, fromEpochs);
    const row = this.row(trial.params);
    this.record(trial, row);
    for (let e = fromEpochs + 1; e <= epochs; e++) {
      trial.charge(row.cpu[e - 1]!);
      trial.report(this.valAt(row, e), e);
    }
    return this.rungMetric === 'tse' && epochs < this.maxEpochs ? this.tseAt(row, epochs) : this.valAt(row, epochs);
  }

  /** Objective at the full schedule that reports every epoch and honours a pruner after each one. */
  readonly objective = (trial: Trial): number => {
    const row = this.row(trial.params);
    this.record(trial, row);
    for (let e = 1; e <= this.maxEpochs; e++) {
      trial.charge(row.cpu[e - 1]!);
      trial.report(this.valAt(row, e), e);
      if (e < this.maxEpochs) trial.pruneIfNeeded();
    }
    return this.valAt(row, this.maxEpochs);
  };

  /** Objective at a fixed number of epochs (a low-fidelity search). */
  objectiveAt(epochs: number): (trial: Trial) => number {
    this.checkEpochs(epochs, 0);
    return (trial) => this.trainTo(trial, epochs);
  }
}
