/**
 * Training evaluator: estimates an architecture by really training it with TensorFlow.js.
 *
 * `new TrainingEvaluator({ archSpace, data, fidelity, ... }).objective` is an objective for
 * `Experiment.optimize` (same shape as the tabular NB201 evaluator): it decodes `trial.params` with
 * the arch space, builds the graph as a tf.LayersModel, trains it for `fidelity.epochs` epochs on the
 * (fidelity-reduced) training set, reports the validation metric after every epoch
 * (`trial.report(value, epoch)`, epochs 1-based), stops with `TrialPruned` when
 * `trial.shouldPrune()`, and returns the final validation metric: accuracy in [0, 1] for
 * classification, negative mean squared error (on the dataset's targets as given) for regression,
 * so that larger is always better.
 *
 * Fidelity knobs: epochs; dataFraction (stratified, seeded subset of the training set; validation
 * and test sets are kept whole); resolution (images downscaled with the area filter, train, val and
 * test alike); widthMultiplier and cells (passed to the arch space's decoder).
 *
 * Determinism: weights are initialised by tfjs' own initializers, with the process-wide
 * `Math.random` (which tfjs uses to seed its generators when no seed is given) replaced, only
 * during the synchronous model build and each synchronous training step, by a generator seeded from
 * the evaluator's seed; batches are shuffled with seeded permutations. On one backend two runs with
 * the same seed, params and fidelity therefore give identical metrics (dropout masks included).
 * The seed does not depend on the trial number, so `evaluateTest(params)` retrains exactly the model
 * the search validated.
 *
 * Cost: FLOPs and parameters from the graph counter (src/nn/cost.ts), peak memory as the larger of
 * tfjs' tensor bytes and the process RSS growth, both sampled after every batch, and the backend.
 * Every tensor (batches, the model, the optimizer's slots) is disposed, also on pruning or errors.
 *
 * Pieces: the epoch loop in ./train-loop.ts, the step (one thread or data-parallel) and checkpoints in
 * ./train-step.ts, cost and memory accounting in ./train-cost.ts, optimizers, batches and evaluation
 * in ./train-util.ts; this module holds the evaluator's settings, data preparation and a run's set-up.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Trial } from '../core/trial.js';
import { downscale } from '../data/resize.js';
import { type Dataset, outputUnits, sampleSize, takeFraction } from '../data/dataset.js';
import { initBackend, type BackendChoice } from '../nn/backend.js';
import { buildModel } from '../nn/builder.js';
import { ParallelTrainer } from '../nn/parallel/trainer.js';
import { trainingThreads } from '../nn/parallel/threads.js';
import { countCost, type Cost } from '../nn/cost.js';
import type { Params } from '../space/params.js';
import type { ArchGraph } from '../space/arch/graph.js';
import type { ArchSpace } from '../space/arch/types.js';
import { Rng, withSeededMathRandom } from '../util/rng.js';
import { type Fidelity, withDefaults } from './fidelity.js';
import { trialHookContext, type WeightInitHook } from './morphism/hooks.js';
import { MemoryMeter, recordGraphCost } from './train-cost.js';
import { type EpochInfo, type LoopProgress, type Prepared, runEpochs } from './train-loop.js';
import { type Checkpoint, LocalStepper, restoreCheckpoint, type Stepper, takeCheckpoint } from './train-step.js';
import { checkFidelity, evaluateModel, makeOptimizer, OPTIMIZER_NAMES, type OptimizerName } from './train-util.js';

export { OPTIMIZER_NAMES, type OptimizerName } from './train-util.js';
export { withSeededMathRandom } from '../util/rng.js';
export { type Checkpoint, disposeCheckpoint } from './train-step.js';
export type { EpochInfo } from './train-loop.js';

export interface TrainingData {
  train: Dataset;
  val: Dataset;
  test?: Dataset;
}

export interface TrainingEvaluatorOptions {
  archSpace: ArchSpace;
  data: TrainingData;
  /** Fidelity of every trial (default: 3 epochs, all the data, native resolution, width 1). */
  fidelity?: Fidelity;
  /** Mini-batch size (default 64). */
  batchSize?: number;
  /** Default 'adam'. */
  optimizer?: OptimizerName;
  /** Learning rate (default 1e-3 for adam/rmsprop, 0.05 for sgd/momentum). */
  lr?: number;
  /**
   * 'constant' (default) or 'cosine': the learning rate anneals from lr to 0 over the run's epochs,
   * per batch (as DARTS/NB201 train), over the run's epochs or `train`'s `scheduleEpochs` (the
   * multi-fidelity job objective sets the longest budget, so a promoted job continues one schedule).
   */
  lrSchedule?: 'constant' | 'cosine';
  /** Seed of weight initialisation, dropout, shuffling and the data subset (default 0). */
  seed?: number;
  /** tfjs backend: 'auto' (default) takes tfjs-node, else wasm (with the training-kernel pack), else cpu. */
  backend?: 'auto' | BackendChoice;
  /** Batch size for evaluation forward passes (default 256). */
  evalBatchSize?: number;
  /**
   * Threads of one training run (default 1): n > 1 trains data-parallel on n replicas (the main
   * thread and n - 1 worker threads, src/nn/parallel); 'auto' divides the cores among the local
   * pool's trial processes. Same batches and update as 1 thread, up to float summation order
   * (batch norm: per-shard batch statistics; dropout: per-replica streams).
   */
  threads?: number | 'auto';
  /** Called after every epoch (progress logging). */
  onEpoch?: (e: EpochInfo) => void;
  /** Also evaluate the test set after every epoch (EpochInfo.test, attr training.test): for recording learning curves. */
  testEachEpoch?: boolean;
  /**
   * Weight inheritance (e.g. `morphismInheritance`): a trial's model starts from its parent's
   * weights (`init` after the build; attr `inherit` gets the summary plus `startValue`, the
   * validation metric before any step, and `seconds` spent) and leaves its own (`save` at the end).
   */
  inherit?: WeightInitHook;
}

export interface TrainResult {
  /** Validation metric after the last epoch trained. */
  value: number;
  /** Test metric, when asked for and a test set exists. */
  test?: number;
  epochs: EpochInfo[];
  cost: Cost;
  peakMemoryBytes: number;
  backend: string;
  trainSamples: number;
  valSamples: number;
  testSamples?: number;
  fidelity: Fidelity;
  /** Training samples per second over all epochs (training steps only). */
  samplesPerSecond: number;
  seconds: number;
  /** Weights and optimizer state after the last epoch (only when asked for; dispose with disposeCheckpoint). */
  checkpoint?: Checkpoint;
}

export const DEFAULT_TRAIN_FIDELITY: Fidelity = { epochs: 3, dataFraction: 1, widthMultiplier: 1 };

export class TrainingEvaluator {
  readonly archSpace: ArchSpace;
  readonly data: TrainingData;
  readonly fidelity: Fidelity;
  readonly batchSize: number;
  readonly optimizerName: OptimizerName;
  readonly lr: number;
  readonly lrSchedule: 'constant' | 'cosine';
  readonly seed: number;
  readonly backendChoice: 'auto' | BackendChoice;
  readonly evalBatchSize: number;
  readonly threads: number | 'auto';
  readonly testEachEpoch: boolean;
  private readonly onEpoch?: (e: EpochInfo) => void;
  readonly inherit?: WeightInitHook;
  private readonly prepared = new Map<string, Prepared>();
  private backendName: string | null = null;

  constructor(o: TrainingEvaluatorOptions) {
    this.archSpace = o.archSpace;
    this.data = o.data;
    this.fidelity = withDefaults(o.fidelity, DEFAULT_TRAIN_FIDELITY);
    checkFidelity(this.fidelity);
    this.batchSize = o.batchSize ?? 64;
    if (!(Number.isInteger(this.batchSize) && this.batchSize >= 1)) throw new Error(`batchSize must be an integer >= 1 (got ${o.batchSize})`);
    this.optimizerName = o.optimizer ?? 'adam';
    if (!OPTIMIZER_NAMES.includes(this.optimizerName)) {
      throw new Error(`optimizer '${this.optimizerName}': use one of ${OPTIMIZER_NAMES.join(', ')}`);
    }
    this.lr = o.lr ?? (this.optimizerName === 'adam' || this.optimizerName === 'rmsprop' ? 1e-3 : 0.05);
    this.lrSchedule = o.lrSchedule ?? 'constant';
    if (this.lrSchedule !== 'constant' && this.lrSchedule !== 'cosine') throw new Error(`lrSchedule '${this.lrSchedule}': use constant or cosine`);
    this.seed = o.seed ?? 0;
    this.backendChoice = o.backend ?? 'auto';
    this.evalBatchSize = o.evalBatchSize ?? 256;
    this.threads = o.threads ?? 1;
    trainingThreads(this.threads); // validates
    this.onEpoch = o.onEpoch;
    this.testEachEpoch = o.testEachEpoch ?? false;
    this.inherit = o.inherit;
    const { train, val } = o.data;
    if (train.y.length === 0) throw new Error(`training set ${train.name} is empty`);
    if (val.y.length === 0) throw new Error(`validation set ${val.name} is empty`);
    if (train.task !== val.task || sampleSize(train) !== sampleSize(val)) {
      throw new Error(`training set ${train.name} and validation set ${val.name} differ in task or sample shape`);
    }
  }

  /** A fidelity's knobs over the evaluator's (knobs it leaves undefined keep the evaluator's value), checked. */
  resolve(fidelity: Fidelity): Fidelity {
    const f = withDefaults(fidelity, this.fidelity);
    checkFidelity(f);
    return f;
  }

  get task(): Dataset['task'] {
    return this.data.train.task;
  }

  /** Initialises the tfjs backend (once) and returns its name. */
  async ready(): Promise<string> {
    this.backendName = await initBackend({ backend: this.backendChoice });
    return this.backendName;
  }

  /** Train/val/test sets with the fidelity's data fraction and resolution applied (cached). */
  prepare(fidelity: Fidelity = this.fidelity): Prepared {
    const f = this.resolve(fidelity);
    const key = `${f.dataFraction}|${f.resolution ?? ''}`;
    const hit = this.prepared.get(key);
    if (hit) return hit;
    const res = (ds: Dataset) => {
      if (f.resolution === undefined) return ds;
      if (ds.shape.length !== 3) throw new Error(`fidelity.resolution needs image data; ${ds.name} has shape [${ds.shape.join(',')}]`);
      return ds.shape[0] === f.resolution && ds.shape[1] === f.resolution ? ds : downscale(ds, { size: f.resolution });
    };
    let train = this.data.train;
    if (f.dataFraction! < 1) train = takeFraction(train, f.dataFraction!, Rng.derive(this.seed, 'data-fraction'));
    const p: Prepared = { train: res(train), val: res(this.data.val) };
    if (this.data.test && this.data.test.y.length > 0) p.test = res(this.data.test);
    this.prepared.set(key, p);
    return p;
  }

  /** The graph a configuration decodes to at a fidelity (width and cells applied). */
  graph(params: Params, fidelity: Fidelity = this.fidelity): ArchGraph {
    const f = this.resolve(fidelity);
    const { train } = this.prepare(f);
    return this.archSpace.decode(params, {
      inputShape: [...train.shape],
      numClasses: outputUnits(train),
      width: f.widthMultiplier,
      cells: f.cells,
    });
  }

  /**
   * Objective for `Experiment.optimize` at the evaluator's fidelity. Every method taking a fidelity
   * reads it over the evaluator's (see `resolve`).
   */
  readonly objective = (trial: Trial): Promise<number> => this.evaluateTrial(trial, this.fidelity);

  /** An objective at another fidelity (e.g. for a multi-fidelity schedule). */
  objectiveAt(fidelity: Fidelity): (trial: Trial) => Promise<number> {
    const f = this.resolve(fidelity);
    return (trial) => this.evaluateTrial(trial, f);
  }

  private async evaluateTrial(trial: Trial, fidelity: Fidelity): Promise<number> {
    trial.setAttr('fidelity', fidelity);
    const r = await this.train(trial.params, fidelity, { trial });
    return r.value;
  }

  /**
   * Retrains `params` (identically to the search, same seed; optionally at another fidelity) and
   * evaluates it on the test set. Throws when there is no test set.
   */
  async evaluateTest(params: Params, fidelity: Fidelity = this.fidelity): Promise<TrainResult & { test: number }> {
    if (!this.data.test || this.data.test.y.length === 0) throw new Error('evaluateTest: this evaluator has no test set');
    const f = this.resolve(fidelity);
    return (await this.train(params, f, { test: true })) as TrainResult & { test: number };
  }

  /**
   * Trains `params` at `fidelity`; with a trial, reports per epoch, honours pruning and records cost
   * and attrs on it; with `test`, also evaluates the trained model on the test set.
   */
  async train(
    params: Params,
    fidelity: Fidelity = this.fidelity,
    o: {
      trial?: Trial;
      test?: boolean;
      resume?: Checkpoint;
      checkpoint?: boolean;
      /** Wall-clock deadline (Date.now() ms): training stops after the batch that passes it, keeping the weights. */
      deadline?: number;
      /**
       * Horizon of the cosine schedule in epochs (default: the fidelity's epochs; at least that):
       * a job resumed at epoch k of a longer schedule trains with that schedule's rates.
       */
      scheduleEpochs?: number;
    } = {},
  ): Promise<TrainResult> {
    const f = this.resolve(fidelity);
    const scheduleEpochs = o.scheduleEpochs ?? f.epochs!;
    if (!(Number.isInteger(scheduleEpochs) && scheduleEpochs >= f.epochs!)) {
      throw new Error(`scheduleEpochs must be a whole number >= the epochs trained (${f.epochs}); got ${o.scheduleEpochs}`);
    }
    const backend = await this.ready();
    const data = this.prepare(f);
    const graph = this.graph(params, f);
    const cost = countCost(graph);
    const trial = o.trial;
    if (trial) recordGraphCost(trial, cost, backend);
    const memory = new MemoryMeter();
    const t0 = performance.now();
    const model = withSeededMathRandom(Rng.derive(this.seed, 'init'), () => buildModel(graph));
    const optimizer = makeOptimizer(this.optimizerName, this.lr);
    let stepper: Stepper | null = null;
    try {
      await this.startWeights(model, optimizer, { params, graph, data, memory, t0, trial, resume: o.resume, epochs: f.epochs! });
      stepper = await this.makeStepper(backend, graph, model, optimizer, data.train);
      const progress = await runEpochs(this, {
        model, optimizer, stepper, data, memory, trial, deadline: o.deadline, onEpoch: this.onEpoch,
        firstEpoch: (o.resume?.epochs ?? 0) + 1,
        lastEpoch: f.epochs!,
        scheduleEpochs,
        beforePrune: (p) => this.recordAttrs(trial!, p, data, scheduleEpochs),
      });
      const { epochs } = progress;
      const result: TrainResult = {
        value: epochs.at(-1)!.value,
        epochs,
        cost,
        peakMemoryBytes: memory.peak(),
        backend,
        trainSamples: data.train.y.length,
        valSamples: data.val.y.length,
        fidelity: f,
        samplesPerSecond: progress.seen / Math.max(1e-9, progress.seconds),
        seconds: (performance.now() - t0) / 1000,
      };
      if (o.test && data.test) {
        result.test = evaluateModel(model, data.test, this.evalBatchSize, memory.sample);
        result.testSamples = data.test.y.length;
        result.peakMemoryBytes = memory.peak();
      }
      if (trial) {
        trial.costExtra.peakMemoryBytes = result.peakMemoryBytes;
        this.recordAttrs(trial, progress, data, scheduleEpochs);
        await this.inherit?.save(trialHookContext(trial, params, graph, model));
      }
      if (o.checkpoint) result.checkpoint = await takeCheckpoint(model, optimizer, epochs.at(-1)!.epoch);
      return result;
    } finally {
      await stepper?.close();
      model.dispose();
      optimizer.dispose();
    }
  }

  /**
   * The run's starting weights: a checkpoint's (resume), else, for a trial with weight inheritance,
   * the parent's (attr `inherit` with the validation metric before any step), else the build's.
   */
  private async startWeights(
    model: tf.LayersModel,
    optimizer: tf.Optimizer,
    s: { params: Params; graph: ArchGraph; data: Prepared; memory: MemoryMeter; t0: number; trial?: Trial; resume?: Checkpoint; epochs: number },
  ): Promise<void> {
    const { trial, resume: from } = s;
    if (from) {
      if (from.epochs >= s.epochs) throw new Error(`resume: the checkpoint has ${from.epochs} epochs; ask for more than that`);
      await restoreCheckpoint(model, optimizer, from);
    } else if (trial && this.inherit) {
      const inherited = await this.inherit.init({ ...trialHookContext(trial, s.params, s.graph, model), setAttr: undefined, setSystem: undefined });
      if (inherited) {
        const startValue = evaluateModel(model, s.data.val, this.evalBatchSize, s.memory.sample);
        trial.setSystem({ inherit: { ...inherited, startValue, seconds: (performance.now() - s.t0) / 1000 } });
      }
    }
  }

  /** One thread, or data-parallel on `threads` replicas. */
  private async makeStepper(backend: string, graph: ArchGraph, model: tf.LayersModel, optimizer: tf.Optimizer, train: Dataset): Promise<Stepper> {
    const threads = trainingThreads(this.threads);
    return threads > 1
      ? await ParallelTrainer.start({ threads, backend: backend as BackendChoice, graph, model, optimizer, data: train, seed: this.seed })
      : new LocalStepper(model, optimizer, train, this.seed);
  }

  private recordAttrs(trial: Trial, { epochs, seen, seconds }: LoopProgress, data: Prepared, scheduleEpochs: number): void {
    trial.setAttr('training', {
      metric: this.task === 'classification' ? 'accuracy' : 'neg_mse',
      epochs: epochs.length,
      trainLoss: epochs.map((e) => e.loss),
      val: epochs.map((e) => e.value),
      ...(this.testEachEpoch && data.test ? { test: epochs.map((e) => e.test) } : {}),
      trainSamples: data.train.y.length,
      valSamples: data.val.y.length,
      inputShape: data.train.shape,
      batchSize: this.batchSize,
      optimizer: this.optimizerName,
      lr: this.lr,
      lrSchedule: this.lrSchedule,
      ...(this.lrSchedule === 'cosine' ? { scheduleEpochs } : {}),
      seed: this.seed,
      threads: trainingThreads(this.threads),
      samplesPerSecond: seen / Math.max(1e-9, seconds),
    });
  }
}
