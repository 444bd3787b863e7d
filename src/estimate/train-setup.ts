/**
 * A training objective described as plain data (space, dataset, fidelity, optimiser), so the
 * coordinator and any trial process (a local pool child, a remote worker) build the same evaluator
 * from it. Options arrive validated (the CLI checks them and names the bad flag).
 */
import type { BackendChoice } from '../nn/backend.js';
import { cellSpace, chainFlatSpace, chainSpace, dagSpace, nb201ArchSpace, type ArchSpace } from '../space/arch/index.js';
import { SpaceError } from '../space/params.js';
import type { Fidelity } from './fidelity.js';
import type { EpochInfo, OptimizerName, TrainingData, TrainingEvaluator } from './train.js';

/** Spaces trained for real (nb201-cell: the NAS-Bench-201 cell trained, not looked up). */
export const TRAINING_SPACES = ['chain', 'dag', 'cell', 'nb201-cell'] as const;

export interface TrainingSetup {
  space: string;
  dataset: string;
  target?: string;
  fidelity: Fidelity;
  batchSize: number;
  optimizer: OptimizerName;
  lr?: number;
  lrSchedule: 'constant' | 'cosine';
  seed: number;
  backend: 'auto' | BackendChoice;
  valFraction?: number;
  /** Threads of each training run (TrainingEvaluatorOptions.threads; default 1). */
  threads?: number | 'auto';
  /**
   * Weight inheritance (`morphismInheritance`): the directory of the trials' weights, valid where
   * the trials run (a shared file system for remote workers). Absent: every trial starts fresh.
   */
  inheritWeights?: string;
}

export function archSpaceFor(name: string, inputShape: number[], dataset: string): ArchSpace {
  const image = inputShape.length === 3;
  if (name === 'chain') return image ? chainSpace : chainFlatSpace;
  if (!image) {
    throw new SpaceError(`--space ${name} needs image data; ${dataset} is tabular (shape [${inputShape.join(',')}]): use --space chain`);
  }
  return name === 'dag' ? dagSpace : name === 'cell' ? cellSpace : nb201ArchSpace;
}

/** Loads the data and builds the evaluator of a setup (tfjs is loaded here, not before). */
export async function createTrainingEvaluator(
  s: TrainingSetup,
  onEpoch?: (e: EpochInfo) => void,
): Promise<{ evaluator: TrainingEvaluator; data: TrainingData; archSpace: ArchSpace }> {
  const { loadTrainingData } = await import('./train-data.js');
  const data = loadTrainingData(s.dataset, { target: s.target, seed: s.seed, valFraction: s.valFraction });
  const archSpace = archSpaceFor(s.space, data.train.shape, s.dataset);
  const { TrainingEvaluator } = await import('./train.js');
  let inherit;
  if (s.inheritWeights) {
    const [tf, { morphismInheritance }, { DirArtifactStore }] = await Promise.all([
      import('@tensorflow/tfjs'),
      import('./morphism/hooks.js'),
      import('../store/artifacts.js'),
    ]);
    inherit = morphismInheritance({ store: new DirArtifactStore(s.inheritWeights), tf });
  }
  const evaluator = new TrainingEvaluator({
    archSpace,
    data,
    fidelity: s.fidelity,
    batchSize: s.batchSize,
    optimizer: s.optimizer,
    lr: s.lr,
    lrSchedule: s.lrSchedule,
    seed: s.seed,
    backend: s.backend,
    threads: s.threads,
    onEpoch,
    inherit,
  });
  return { evaluator, data, archSpace };
}
