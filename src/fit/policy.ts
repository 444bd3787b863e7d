/**
 * How `fit` spends a budget: which space, strategy and fidelities it searches with, and how it
 * retrains the winner, chosen from a profile of the data. The rules are data (a FitPlan) so they
 * are documented, printed with every fit (`reasons`), and overridable field by field.
 *
 * Rules (B = time budget in seconds, N = training samples, N' = train + validation; measured numbers are
 * from one wasm core of the 2-core development machine, see /work/notes/fit-policy.md):
 *
 * Space and strategy. `chain` for images and tables (cell/dag only when asked for: the README's
 * 20-trial cell search at 14 px took 12 min 40 s for 0.8604 test accuracy, while the chain space
 * holds conv-pool-conv-pool CNNs that test at 0.889 after one full Fashion-MNIST epoch); TPE
 * (multivariate: it models the chain space's depth-conditional parameters jointly).
 *
 * Search share of a time budget. Images: 0.3 under 15 min (the final epochs decide most of the
 * accuracy: one full Fashion-MNIST epoch of a conv32-pool-conv64-pool CNN gives 0.889 test accuracy,
 * the best 1-epoch search trial on 10% of the data 0.80 validation), 0.4 under 1 h, 0.5 above. Tables: 0.5, and 0.7 for N <= 2,000 rows (the
 * final retraining takes seconds there).
 *
 * Search fidelity. Images, tiered by the search seconds S: S < 5 min: 1 epoch on ~20,000 samples at
 * half width; S < 30 min: 2 epochs on ~20,000; S < 2 h: 3 epochs on ~40,000; longer: 5 epochs on all,
 * full width. Images over 32 px are halved in the first two tiers; 28 px ones are not: at 14 px,
 * half width, 1-2 epochs on 5,000-10,000 images, a one-conv net (conv32-BN-tanh-flatten) beat the
 * conv32-pool-conv64-pool CNN by 5-8 points, yet after one full epoch the CNN has 0.889 test accuracy
 * and the one-conv net 0.847; at 28 px on 20,000 images the two rank as at full fidelity (0.851 vs
 * 0.850). Tables: all rows up to 20,000 (a fraction above), epochs so a trial takes ~1,000 optimizer
 * steps (5..100): with ~300 steps a 1-minute fit of a 5,000-row CSV ended after 33 s at 0.723 test
 * accuracy, its trials under-trained.
 *
 * Early stopping. None with 1-epoch trials (nothing to stop); the median rule with 2-4 epochs
 * (README: 37.6% of epochs saved, best kept within 0.5 points in 100% of searches); learning-curve
 * extrapolation (lc) with >= 5-epoch image trials (46.7% saved, 97.5% within 0.5 points; it needs
 * three points to fit). Tables with >= 2 epochs per trial: median.
 *
 * Final retraining (train + validation, full resolution and width). Time budget: F = (1 - share) * B
 * minus the load/test/export reserve; images get E = clamp(round(sqrt(F / 40 s)), 2, 30) epochs (3 at
 * 10 min, 9 at 1 h) and the per-sample cost cap `maxTrainMicrosPerSample` = F / (E * N' * 1.5), which
 * keeps the search to architectures whose E epochs fit in F with a 1.5x margin for a busy machine
 * (estimateTrainMicrosPerSample: measured cost model); finalFidelity.epochs is min(4E, 30), an upper
 * bound that fit cuts to what the winner's measured speed fits, so the final fills its share of the
 * budget (with 2E, a 10-minute Fashion-MNIST fit ended after 370 s of its 600: issue 19). If even
 * a small CNN (MIN_IMAGE_US) does not fit 2 epochs of all N', the final trains on a fraction of the
 * data instead. Tables (finalEpochs 'search', final.ts finalEpochs): the retrained trial's length,
 * or its best validation epoch when its curve dropped by more than one standard error, times
 * (train + val) / train, at most 3x the search epochs (<= 300): a fixed 3x final overfitted a
 * 600-row table (tested 11 points under the default). Trials budget only: 10 image epochs, cap
 * 4,000 us/sample.
 *
 * Optimiser: Adam with cosine annealing; images lr 2e-3, batch 64; tables lr 2e-3, batch
 * clamp(2^floor(log2(N / 10)), 16, 64).
 */
import os from 'node:os';
import type { Fidelity } from '../estimate/fidelity.js';
import type { OptimizerName } from '../estimate/train-util.js';
import { countCost } from '../nn/cost.js';
import { type ArchGraph, checkGraph } from '../space/arch/graph.js';

export interface DataProfile {
  kind: 'image' | 'tabular';
  task: 'classification' | 'regression';
  /** Shape of one input after preprocessing, e.g. [28, 28, 1] or [4]. */
  inputShape: number[];
  /** Classes (classification) or 1 (regression). */
  numClasses: number;
  /** Rows/images of the training part (what search trials train on; `dataFraction` is relative to it). */
  trainSize: number;
  /** Rows/images of the validation part (the final retraining trains on both; default trainSize / 9). */
  valSize?: number;
}

export interface FitBudget {
  /** Wall-clock seconds for the whole fit (search + final retraining + export). */
  seconds?: number;
  /** Number of search trials (when no time budget is given). */
  trials?: number;
  /** CPU cores available to the fit (default: os.availableParallelism()). */
  cores?: number;
}

export interface FitOverrides {
  space?: 'auto' | 'chain' | 'dag' | 'cell';
  strategy?: string;
}

export interface FitPlan {
  space: 'chain' | 'dag' | 'cell';
  strategy: string;
  strategyOptions?: Record<string, unknown>;
  /** Fidelity of each search trial (lower than the final one: subset, resolution, width, epochs). */
  searchFidelity: Fidelity;
  /** Fraction of the time budget given to the search; the rest is the final retraining. */
  searchShare: number;
  /** Fidelity of the final retraining on train+validation (epochs are an upper bound under a time budget). */
  finalFidelity: Fidelity;
  batchSize: number;
  optimizer: OptimizerName;
  lr: number;
  lrSchedule: 'constant' | 'cosine';
  /** Early stopping of search trials. */
  earlyStopping: 'none' | 'median' | 'lc';
  /** Trials to run when the budget is a trial count (or a cap under a time budget). */
  maxTrials?: number;
  /**
   * Cost cap on searched architectures: a trial whose graph at `finalFidelity` has
   * estimateTrainMicrosPerSample(graph) above this is not trained (its final retraining would not
   * fit the budget). Undefined: no cap.
   */
  maxTrainMicrosPerSample?: number;
  /**
   * How the final retraining's epoch count is chosen: 'plan' = finalFidelity.epochs (cut to the time
   * budget); 'search' = from the retrained trial's validation curve (its best epoch, scaled by
   * (train + validation) / train), finalFidelity.epochs being the upper bound. Default 'plan'.
   */
  finalEpochs?: 'plan' | 'search';
  /** Threads of the final retraining (data-parallel, TrainingEvaluator `threads`). */
  finalThreads?: number;
  /** One line per rule that fired, printed with the fit and stored in the report. */
  reasons: string[];
}

/**
 * Measured training cost of one sample on one wasm core (Adam, batch 64), microseconds:
 * base + usPerMflop * (multiply-adds / 1e6) + usPerKact * (activation elements / 1e3). Least squares
 * over 8 chain-space CNNs on Fashion-MNIST by CPU time (`npm run bench:fit-cost`: 0.06-29 MFLOPs,
 * 10-213 k activations), refitted with the SIMD kernel pack (the previous 27 + 120 * MFLOPs + 7 * k
 * acts predated it and overestimated conv training 1.3-2.2x, so fit skipped architectures that
 * would have fitted its budget). Batch norm costs ~1.5x what FLOPs and activations predict (cnn_bn
 * 1,249 us measured vs 830 modelled); activations matter as much as FLOPs on this backend.
 */
export const TRAIN_COST_MODEL = { baseUs: 12, usPerMflop: 64, usPerKact: 5.5 } as const;

/** Estimated training microseconds per sample of a graph on one wasm core (see TRAIN_COST_MODEL). */
export function estimateTrainMicrosPerSample(graph: ArchGraph): number {
  const g = checkGraph(graph);
  let acts = 0;
  for (const n of g.nodes) if (n.kind === 'op' || n.kind === 'merge') acts += g.shapes.get(n.id)!.reduce((a, b) => a * b, 1);
  const m = TRAIN_COST_MODEL;
  return m.baseUs + (m.usPerMflop * countCost(g).flops) / 1e6 + (m.usPerKact * acts) / 1e3;
}

/** Margin on the cost model for a machine shared with other work. */
export const COST_SAFETY = 1.5;
/** The smallest image model worth retraining (a conv16-pool-conv32-pool CNN: ~320 us/sample). */
export const MIN_IMAGE_US = 320;
/** Seconds kept for loading, the test evaluation and the export (plus 2% of the budget). */
export const RESERVE_SECONDS = 10;
/** Trials-only budgets: cost cap and final image epochs. */
const TRIALS_ONLY_US = 4000;
const TRIALS_ONLY_IMAGE_EPOCHS = 10;

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const round3 = (x: number) => Math.round(x * 1000) / 1000;
const fraction = (target: number, n: number) => (n <= target ? 1 : round3(target / n));

export function planFit(profile: DataProfile, budget: FitBudget, overrides: FitOverrides = {}): FitPlan {
  const reasons: string[] = [];
  const image = profile.kind === 'image';
  const n = Math.max(1, profile.trainSize);
  const nFinal = n + (profile.valSize ?? Math.round(n / 9));
  const B = budget.seconds;
  const cores = Math.max(1, budget.cores ?? os.availableParallelism());

  let space: FitPlan['space'] = 'chain';
  if (overrides.space && overrides.space !== 'auto') {
    space = overrides.space;
    reasons.push(`space ${space}: asked for`);
  } else reasons.push(`space chain: ${image ? 'conv/pool stacks: small CNNs train in minutes here (cell/dag trials cost more)' : 'tabular data: dense layers (chain-flat)'}`);
  let strategy = 'tpe';
  if (overrides.strategy && overrides.strategy !== 'auto') {
    strategy = overrides.strategy;
    reasons.push(`strategy ${strategy}: asked for`);
  } else reasons.push('strategy tpe: multivariate TPE, models the depth-conditional parameters jointly');

  // Share of the time budget spent searching.
  let searchShare: number;
  if (image) searchShare = B === undefined || B < 900 ? 0.3 : B < 3600 ? 0.4 : 0.5;
  else searchShare = n <= 2000 ? 0.7 : 0.5;
  if (B !== undefined) reasons.push(`search share ${searchShare}: ${image ? `images, ${B < 900 ? 'budget under 15 min: most of it goes to the final epochs' : B < 3600 ? 'budget under 1 h' : 'budget of 1 h or more'}` : n <= 2000 ? 'small table: the final retraining takes seconds' : 'table'}`);
  const S = B === undefined ? undefined : searchShare * B;

  const batchSize = image ? 64 : clamp(2 ** Math.floor(Math.log2(n / 10)), 16, 64);
  let searchFidelity: Fidelity;
  let earlyStopping: FitPlan['earlyStopping'];
  let finalFidelity: Fidelity;
  let maxTrainMicrosPerSample: number | undefined;
  let finalEpochs: FitPlan['finalEpochs'] = 'plan';

  if (image) {
    const side = Math.min(profile.inputShape[0] ?? 0, profile.inputShape[1] ?? 0);
    // Halving 28 px to 14 px reversed the ranking of the measured pair (see the header); only large images are halved.
    const half = side > 32 ? Math.round(side / 2) : undefined;
    // Tiers by search seconds; a trials-only budget gets the 2-epoch tier.
    const tier = S === undefined ? 1 : S < 300 ? 0 : S < 1800 ? 1 : S < 7200 ? 2 : 3;
    const spec = [
      { epochs: 1, samples: 20000, resolution: half, width: 0.5 },
      { epochs: 2, samples: 20000, resolution: half, width: 0.5 },
      { epochs: 3, samples: 40000, resolution: undefined, width: 0.5 },
      { epochs: 5, samples: Infinity, resolution: undefined, width: 1 },
    ][tier]!;
    searchFidelity = {
      epochs: spec.epochs,
      dataFraction: fraction(spec.samples, n),
      ...(spec.resolution !== undefined ? { resolution: spec.resolution } : {}),
      widthMultiplier: spec.width,
    };
    reasons.push(
      `search trials: ${spec.epochs} epoch(s) on ~${Math.min(n, spec.samples)} images${spec.resolution ? ` at ${spec.resolution}px` : ''}, width x${spec.width} ` +
        `(${S === undefined ? 'trials budget' : `${Math.round(S)} s of search`})`,
    );
    earlyStopping = spec.epochs >= 5 ? 'lc' : spec.epochs >= 2 ? 'median' : 'none';

    if (B === undefined) {
      finalFidelity = { epochs: TRIALS_ONLY_IMAGE_EPOCHS, dataFraction: 1 };
      maxTrainMicrosPerSample = TRIALS_ONLY_US;
      reasons.push(`final: ${TRIALS_ONLY_IMAGE_EPOCHS} epochs on train+val; cost cap ${TRIALS_ONLY_US} us/sample (no time budget)`);
    } else {
      const F = (1 - searchShare) * B - RESERVE_SECONDS - 0.02 * B;
      const epochs = clamp(Math.round(Math.sqrt(Math.max(0, F) / 40)), 2, 30);
      let dataFraction = 1;
      let cap = (F / (epochs * nFinal * COST_SAFETY)) * 1e6;
      if (cap < MIN_IMAGE_US) {
        dataFraction = round3(clamp(cap / MIN_IMAGE_US, 0.05, 1));
        cap = MIN_IMAGE_US;
        reasons.push(`final on ${dataFraction} of train+val: ${Math.round(F)} s do not fit ${epochs} epochs of the smallest useful CNN on all ${nFinal} images`);
      }
      maxTrainMicrosPerSample = Math.round(cap);
      const upTo = Math.min(4 * epochs, 30);
      finalFidelity = { epochs: upTo, dataFraction };
      reasons.push(
        `final: ${epochs} epochs (round(sqrt(${Math.round(F)} s / 40 s))) on train+val at full resolution, up to ${upTo} as the winner's measured speed allows; ` +
          `cost cap ${maxTrainMicrosPerSample} us/sample so ${epochs} fit with a ${COST_SAFETY}x margin`,
      );
    }
  } else {
    const searchFraction = fraction(20000, n);
    const rows = Math.max(1, Math.round(n * searchFraction));
    const epochs = clamp(Math.ceil((1000 * batchSize) / rows), 5, 100);
    searchFidelity = { epochs, dataFraction: searchFraction };
    reasons.push(`search trials: ${epochs} epochs (~1000 steps of ${batchSize}) on ${rows} rows`);
    earlyStopping = 'median';
    finalFidelity = { epochs: Math.min(300, 3 * epochs), dataFraction: 1 };
    finalEpochs = 'search';
    reasons.push(
      `final: on train+val for the retrained trial's best validation epoch x (train+val)/train, at most ${finalFidelity.epochs} (3x the search's): ` +
        'only the trial length was validated, a fixed longer final overfitted small tables',
    );
  }
  if (earlyStopping !== 'none') {
    reasons.push(
      earlyStopping === 'median'
        ? `early stopping median: ${searchFidelity.epochs}-epoch trials (README: 37.6% of epochs saved, best kept within 0.5 pts in every search)`
        : `early stopping lc: ${searchFidelity.epochs}-epoch trials, enough points to extrapolate (README: 46.7% of epochs saved)`,
    );
  }
  const finalThreads = image && cores >= 2 ? 2 : 1;
  if (finalThreads > 1) reasons.push(`final retraining data-parallel on ${finalThreads} threads (${cores} cores; the search has finished by then)`);

  return {
    space,
    strategy,
    searchFidelity,
    searchShare,
    finalFidelity,
    batchSize,
    optimizer: 'adam',
    lr: 2e-3,
    lrSchedule: 'cosine',
    earlyStopping,
    ...(budget.trials !== undefined ? { maxTrials: budget.trials } : {}),
    ...(maxTrainMicrosPerSample !== undefined ? { maxTrainMicrosPerSample } : {}),
    finalEpochs,
    finalThreads,
    reasons,
  };
}
