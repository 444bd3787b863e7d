/**
 * What `--space` names: a built-in benchmark/space with its evaluator, or a JSON space file with a
 * user objective module (`--objective file.mjs` exporting `objective(trial)` or a default function).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Objective } from '../core/experiment.js';
import { FmCellsEvaluator } from '../estimate/fm-cells.js';
import { Nb201Evaluator, type Nb201Dataset } from '../estimate/nb201.js';
import type { Fidelity } from '../estimate/fidelity.js';
import type { OptimizerName, TrainingEvaluator, TrainResult } from '../estimate/train.js';
import type { BackendChoice } from '../nn/backend.js';
import { createTrainingEvaluator, TRAINING_SPACES, type TrainingSetup } from '../estimate/train-setup.js';
import type { ObjectiveSpec } from '../run/objective-spec.js';
import { validateSpace, type SearchSpace } from '../space/params.js';
import type { Direction } from '../core/store.js';
import { UsageError } from './errors.js';

export interface Target {
  spaceName: string;
  space: SearchSpace | null;
  objective: Objective;
  directions: Direction[];
  /** Builds a value for the trials table (e.g. the NB201 arch string). */
  describe?: (params: Record<string, unknown>) => string;
  meta?: Record<string, unknown>;
  /** Stem of the default experiment name (default: spaceName). */
  label?: string;
  /** Training targets: a resumed experiment must have been run with the same meta (data, fidelity, ...). */
  strictMeta?: boolean;
  /** Training targets: retrains the given configuration and evaluates it on the test set. */
  evaluateTest?: (params: Record<string, unknown>) => Promise<TrainResult & { test: number }>;
  /** Training targets: the evaluator, for per-trial logging. */
  evaluator?: TrainingEvaluator;
  /** How trial processes (pool, workers) rebuild the objective; default: derived from --space/--objective. */
  spec?: ObjectiveSpec;
}

export interface TargetOptions {
  space: string;
  objective?: string;
  nb201Dir?: string;
  dataset?: string;
  direction?: string;
  /** Training spaces (chain, dag, cell, nb201-cell). */
  target?: string;
  epochs?: number;
  dataFraction?: number;
  resolution?: number;
  width?: number;
  cells?: number;
  batchSize?: number;
  backend?: string;
  optimizer?: string;
  lr?: number;
  lrSchedule?: string;
  valFraction?: number;
  seed?: number;
  /** Fidelity of the final retraining for the test evaluation (defaults: the search's). */
  finalEpochs?: number;
  finalDataFraction?: number;
  /** Trained spaces: start each trial from its parent's weights (network morphism), in-process only. */
  inheritWeights?: boolean;
  strategy?: string;
  /** Where the weights go (default: `<storage file>.artifacts`). */
  artifacts?: string;
  storage?: string;
  executor?: string;
  workers?: number;
  /** Threads of each training run: a whole number >= 1 or 'auto' (default 1). */
  threads?: string;
}

export { TRAINING_SPACES };

const BACKENDS = ['auto', 'tfjs-node', 'wasm', 'cpu'];

const OPTIMIZERS = ['adam', 'sgd', 'momentum', 'rmsprop'];

/** Loads tfjs and the training evaluator only when a trained space is asked for (nb201 stays fast). */
async function trainingTarget(o: TargetOptions): Promise<Target> {
  if (!o.dataset) {
    throw new UsageError(`--space ${o.space} trains for real: give --dataset fashion-mnist|mnist|iris|synthetic|FILE.csv (--target COL for a CSV)`);
  }
  const backend = o.backend ?? 'auto';
  if (!BACKENDS.includes(backend)) throw new UsageError(`--backend ${backend}: use one of ${BACKENDS.join(', ')}`);
  const optimizer = o.optimizer ?? 'adam';
  if (!OPTIMIZERS.includes(optimizer)) throw new UsageError(`--optimizer ${optimizer}: use one of ${OPTIMIZERS.join(', ')}`);
  const lrSchedule = o.lrSchedule ?? 'constant';
  if (lrSchedule !== 'constant' && lrSchedule !== 'cosine') throw new UsageError(`--lr-schedule ${lrSchedule}: use constant or cosine`);
  const intOpt = (name: string, v: number | undefined) => {
    if (v !== undefined && !Number.isInteger(v)) throw new UsageError(`${name} ${v}: give a whole number`);
  };
  intOpt('--epochs', o.epochs);
  intOpt('--resolution', o.resolution);
  intOpt('--cells', o.cells);
  intOpt('--batch-size', o.batchSize);
  intOpt('--final-epochs', o.finalEpochs);
  for (const [name, v] of [['--data-fraction', o.dataFraction], ['--final-data-fraction', o.finalDataFraction], ['--val-fraction', o.valFraction]] as const) {
    if (v !== undefined && !(v > 0 && v <= 1)) throw new UsageError(`${name} ${v}: give a fraction in (0, 1]`);
  }
  const threads = o.threads === undefined || o.threads === 'auto' ? o.threads : Number(o.threads);
  if (threads !== undefined && threads !== 'auto' && !(Number.isInteger(threads) && threads >= 1)) {
    throw new UsageError(`--threads ${o.threads}: give a whole number >= 1 or auto`);
  }
  const fidelity: Fidelity = {
    epochs: o.epochs ?? 3,
    dataFraction: o.dataFraction ?? 1,
    ...(o.resolution !== undefined ? { resolution: o.resolution } : {}),
    ...(o.width !== undefined ? { widthMultiplier: o.width } : {}),
    ...(o.cells !== undefined ? { cells: o.cells } : {}),
  };
  const setup: TrainingSetup = {
    space: o.space,
    dataset: o.dataset,
    ...(o.target ? { target: o.target } : {}),
    fidelity,
    batchSize: o.batchSize ?? 64,
    optimizer: optimizer as OptimizerName,
    ...(o.lr !== undefined ? { lr: o.lr } : {}),
    lrSchedule,
    seed: o.seed ?? 0,
    backend: backend as 'auto' | BackendChoice,
    ...(o.valFraction !== undefined ? { valFraction: o.valFraction } : {}),
    ...(threads !== undefined ? { threads } : {}),
  };
  const weightsDir = o.inheritWeights ? inheritDir(o) : null;
  if (weightsDir) setup.inheritWeights = weightsDir;
  let finalRun = false; // per-epoch lines only for the (long) final retraining; trials print one line each
  const { evaluator: ev, data, archSpace } = await createTrainingEvaluator(
    setup,
    (e) => {
      if (finalRun) {
        console.log(`  final retraining epoch ${e.epoch}: loss ${e.loss.toFixed(4)} val ${e.value.toFixed(4)} (${e.seconds.toFixed(1)} s, ${e.samplesPerSecond.toFixed(0)} samples/s)`);
      }
    },
  );
  try {
    await ev.ready(); // a forced backend that cannot start is a usage error, not a failed trial each
  } catch (e) {
    throw new UsageError(`--backend ${backend}: ${(e as Error).message.replace(/^tsnas: /, '')}`);
  }
  const datasetLabel = path.basename(o.dataset).replace(/\.csv$/i, '');
  const finalFidelity: Fidelity = {
    ...fidelity,
    ...(o.finalEpochs !== undefined ? { epochs: o.finalEpochs } : {}),
    ...(o.finalDataFraction !== undefined ? { dataFraction: o.finalDataFraction } : {}),
  };
  return {
    spaceName: archSpace.name,
    space: archSpace.space,
    objective: ev.objective,
    directions: ['maximize'],
    label: `${o.space}-${datasetLabel}`,
    strictMeta: true,
    evaluator: ev,
    spec: { kind: 'train', setup },
    meta: {
      dataset: o.dataset,
      ...(o.target ? { target: o.target } : {}),
      task: data.train.task,
      metric: data.train.task === 'classification' ? 'val_accuracy' : 'neg_val_mse',
      fidelity,
      batchSize: ev.batchSize,
      optimizer: ev.optimizerName,
      lr: ev.lr,
      ...(lrSchedule !== 'constant' ? { lrSchedule } : {}),
      valFraction: o.valFraction ?? null,
      trainSamples: data.train.y.length,
      valSamples: data.val.y.length,
      ...(weightsDir ? { inheritWeights: true } : {}),
    },
    evaluateTest:
      data.test && data.test.y.length > 0
        ? async (params) => {
            finalRun = true;
            try {
              return await ev.evaluateTest(params as never, finalFidelity);
            } finally {
              finalRun = false;
            }
          }
        : undefined,
  };
}

/**
 * `--inherit-weights`: weights under --artifacts DIR, else `<storage file>.artifacts`. Trials run by
 * other executors see only themselves: there the parent must come with the trial (evolution's).
 */
function inheritDir(o: TargetOptions): string {
  if (((o.executor ?? 'inprocess') !== 'inprocess' || o.workers !== undefined) && o.strategy !== 'evolution') {
    throw new UsageError(
      '--inherit-weights with --executor/--workers needs --strategy evolution (it records each child\'s parent; other strategies ' +
        'inherit from the nearest finished trial, which a trial process cannot see): use --strategy evolution or run in-process',
    );
  }
  if (o.artifacts !== undefined) {
    if (/^rediss?:\/\//.test(o.artifacts)) throw new UsageError(`--artifacts ${o.artifacts}: --inherit-weights keeps weights in a directory; give --artifacts DIR`);
    return path.resolve(o.artifacts);
  }
  const storage = o.storage ?? 'sqlite:tsnas.db';
  if (storage === 'memory:' || storage === 'memory') return fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-weights-'));
  return path.resolve(`${storage.replace(/^sqlite:/i, '')}.artifacts`);
}

export async function resolveTarget(o: TargetOptions): Promise<Target> {
  if ((TRAINING_SPACES as readonly string[]).includes(o.space)) return trainingTarget(o);
  if (o.inheritWeights) throw new UsageError(`--inherit-weights: --space ${o.space} is not trained here; use a trained space (${TRAINING_SPACES.join(', ')})`);
  if (o.space === 'nb201') {
    const dataset = (o.dataset ?? 'cifar10') as Nb201Dataset;
    if (dataset !== 'cifar10' && dataset !== 'cifar100') {
      throw new UsageError(`--dataset ${dataset}: the nb201 space has cifar10 and cifar100`);
    }
    const ev = new Nb201Evaluator({ dir: o.nb201Dir, dataset, epochs: 12 });
    return { spaceName: 'nb201', space: ev.space, objective: ev.objective, directions: ['maximize'], meta: { dataset, epochs: 12 } };
  }
  if (o.space === 'fm-cells') {
    const ev = new FmCellsEvaluator();
    return { spaceName: 'fm-cells', space: ev.space, objective: ev.objective, directions: ['maximize'], meta: { epochs: ev.maxEpochs } };
  }
  if (o.space.endsWith('.json')) {
    if (!fs.existsSync(o.space)) throw new UsageError(`--space ${o.space}: no such file`);
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(o.space, 'utf8'));
    } catch (e) {
      throw new UsageError(`--space ${o.space}: not valid JSON (${(e as Error).message})`);
    }
    const space = validateSpace(raw, path.basename(o.space));
    if (!o.objective) throw new UsageError(`--space ${o.space} needs --objective FILE.mjs exporting objective(trial)`);
    return { spaceName: path.basename(o.space, '.json'), space, objective: await loadObjective(o.objective), directions: [direction(o.direction)] };
  }
  throw new UsageError(`--space ${o.space}: unknown space; use nb201 or fm-cells (tabular), ${TRAINING_SPACES.join(', ')} (trained for real) or a JSON space file with --objective`);
}

function direction(d: string | undefined): Direction {
  if (d === undefined || d === 'maximize' || d === 'minimize') return d ?? 'maximize';
  throw new UsageError(`--direction ${d}: use maximize or minimize`);
}

export async function loadObjective(file: string): Promise<Objective> {
  if (!fs.existsSync(file)) throw new UsageError(`--objective ${file}: no such file`);
  const mod = (await import(pathToFileURL(path.resolve(file)).href)) as Record<string, unknown>;
  const fn = mod.objective ?? mod.default;
  if (typeof fn !== 'function') throw new UsageError(`--objective ${file}: export a function named objective (or a default export)`);
  return fn as Objective;
}
