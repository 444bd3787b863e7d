/**
 * The final retraining of the chosen architecture on train + validation at the plan's final
 * fidelity, within a deadline: the epoch count is the plan's, cut to what fits before the deadline
 * at the throughput measured for the best trial (scaled by the cost model's ratio of the final and
 * search graphs), or, when that estimate would cut epochs, at the throughput of a ~2 s probe of the
 * final graph itself (the trial ran on one thread, at another fidelity, under another load);
 * training also stops inside an epoch if the deadline passes, keeping the weights.
 * The weights go into a model built with a softmax output (classification), the one exported.
 */
import * as tf from '@tensorflow/tfjs';
import { concatDatasets, type Dataset, subset } from '../data/dataset.js';
import type { Fidelity } from '../estimate/fidelity.js';
import { disposeCheckpoint, type EpochInfo, TrainingEvaluator, type TrainResult } from '../estimate/train.js';
import type { BackendChoice } from '../nn/backend.js';
import { buildModel } from '../nn/builder.js';
import type { ArchGraph } from '../space/arch/graph.js';
import type { ArchSpace } from '../space/arch/types.js';
import type { Params } from '../space/params.js';
import type { TrialRecord } from '../core/store.js';
import type { Preprocessing } from './data.js';
import type { FitTest, Say } from './fit.js';
import { estimateTrainMicrosPerSample, type FitPlan } from './policy.js';
import { datasetInputs, type PredictionInputs, predictInputs } from './predict.js';

/** Samples of the validation part watched during the final retraining (it trains on them too). */
const WATCH_SAMPLES = 1000;

export interface FinalOptions {
  archSpace: ArchSpace;
  parts: { train: Dataset; val: Dataset; test: Dataset };
  params: Params;
  plan: FitPlan;
  seed: number;
  backend: 'auto' | BackendChoice;
  /** Date.now() ms by which the whole fit ends: training stops earlier, keeping time for the test evaluation and the export. */
  deadline?: number;
  budgetSeconds?: number;
  /** The search trial the params come from (its measured throughput sizes the run). */
  trial: TrialRecord | null;
  /** Estimated training us/sample of the params' graph at the search fidelity (scales the trial's throughput to the final graph). */
  searchMicrosPerSample?: number;
  onEpoch?: (e: EpochInfo, epochs: number) => void;
  /** The epoch count chosen (before any cut to the deadline) and why. */
  onPlan?: (epochs: number, rule: string) => void;
}

export interface FinalResult {
  model: tf.LayersModel;
  graph: ArchGraph;
  fidelity: Fidelity;
  /** Epochs asked for (the deadline may have stopped training earlier: see train.epochs). */
  plannedEpochs: number;
  train: TrainResult;
  /** The test part at the final fidelity (resolution applied), as the model takes it. */
  test: Dataset;
  /** Estimated training samples/s of the final graph (null when nothing was measured). */
  estimatedSamplesPerSecond: number | null;
  /** Whether training was stopped by its deadline. */
  stoppedByDeadline: boolean;
}

/**
 * Training samples/s of the final graph: the trial's measured throughput scaled by the ratio of the
 * cost model's estimates (estimateTrainMicrosPerSample: FLOPs and activations) of the search and final graphs.
 */
export function estimateThroughput(trial: TrialRecord | null, searchUs: number | undefined, finalUs: number): number | null {
  const sps = (trial?.attrs.training as { samplesPerSecond?: number } | undefined)?.samplesPerSecond;
  if (!sps || !Number.isFinite(sps)) return null;
  return searchUs && finalUs > 0 ? (sps * searchUs) / finalUs : sps;
}

/**
 * Seconds to keep after the final training for the test evaluation and the export: the test set at
 * 3x the training throughput (a forward pass is about a third of a training step; measured 3-8x),
 * 1.5x for safety, plus a second to write the files, and at most a quarter of the time left; 5% of
 * the budget + 2 s when nothing was measured.
 */
export function exportMargin(testSamples: number, sps: number | null, budgetSeconds: number, secondsLeft: number): number {
  const m = sps ? (1.5 * testSamples) / (3 * sps) + 1 : 0.05 * budgetSeconds + 2;
  return Math.min(m, Math.max(1, 0.25 * secondsLeft));
}

/**
 * Epochs of the final retraining. plan.finalEpochs 'search' (tables): the retrained trial's
 * validation curve decides. Its length L is the validated run; it is shortened to the epoch of the
 * best validation value only when the curve shows overfitting, i.e. when the last value is more than
 * one binomial standard error below the best (accuracy; any drop for other metrics). The count is
 * then scaled by (train + validation) / train (the final sees more rows per epoch) and capped by
 * finalFidelity.epochs. A fixed multiple of the trial length overfitted small tables (600 rows: a
 * 201-epoch final tested 11 points under the 67-epoch trial's default). 'plan', or no curve (the
 * default architecture, nothing trained): finalFidelity.epochs.
 */
export function finalEpochs(plan: FitPlan, trial: TrialRecord | null, trainSize: number, mergedSize: number): { epochs: number; rule: string } {
  const cap = plan.finalFidelity.epochs ?? 1;
  const tr = trial?.attrs.training as { val?: number[]; metric?: string; valSamples?: number } | undefined;
  const val = tr?.val;
  if (plan.finalEpochs !== 'search' || !val || val.length === 0) return { epochs: cap, rule: `the plan's ${cap}` };
  let best = 0;
  for (let i = 1; i < val.length; i++) if (val[i]! > val[best]!) best = i;
  const p = val[best]!;
  const se = tr!.metric === 'accuracy' && tr!.valSamples ? Math.sqrt((p * (1 - p)) / tr!.valSamples) : 0;
  const overfit = p - val.at(-1)! > se;
  const length = overfit ? best + 1 : val.length;
  const scale = mergedSize / Math.max(1, trainSize);
  const epochs = Math.max(1, Math.min(cap, Math.round(length * scale)));
  const why = overfit
    ? `trial #${trial!.number} peaked at epoch ${best + 1} of ${val.length} (validation ${p.toFixed(4)}, last ${val.at(-1)!.toFixed(4)})`
    : `trial #${trial!.number}'s ${val.length} epochs (its last validation within ${se > 0 ? 'one standard error' : 'noise'} of its best)`;
  return { epochs, rule: `${why} x ${scale.toFixed(2)} (train+val / train)${epochs === cap ? `, capped at ${cap}` : ''}` };
}

export async function retrainFinal(o: FinalOptions): Promise<FinalResult> {
  const { plan, parts } = o;
  const merged = concatDatasets(parts.train, parts.val, `${parts.train.name}+val`);
  const watch = subset(parts.val, Array.from({ length: Math.min(WATCH_SAMPLES, parts.val.y.length) }, (_, i) => i), `${parts.val.name}[watch]`);
  const chosen = finalEpochs(plan, o.trial, parts.train.y.length, merged.y.length);
  let plannedEpochs = chosen.epochs;
  o.onPlan?.(chosen.epochs, chosen.rule);
  const ev = new TrainingEvaluator({
    archSpace: o.archSpace,
    data: { train: merged, val: watch, test: parts.test },
    fidelity: plan.finalFidelity,
    batchSize: plan.batchSize,
    optimizer: plan.optimizer,
    lr: plan.lr,
    lrSchedule: plan.lrSchedule,
    seed: o.seed,
    backend: o.backend,
    ...(plan.finalThreads !== undefined ? { threads: plan.finalThreads } : {}),
    onEpoch: (e) => o.onEpoch?.(e, plannedEpochs),
  });
  const f = ev.resolve(plan.finalFidelity);
  const graph = ev.graph(o.params, f);
  const prepared = ev.prepare(f);
  let sps = estimateThroughput(o.trial, o.searchMicrosPerSample, estimateTrainMicrosPerSample(graph));
  const testSamples = prepared.test?.y.length ?? 0;
  const stopAt = o.deadline === undefined ? undefined : o.deadline - 1000 * exportMargin(testSamples, sps, o.budgetSeconds ?? 0, (o.deadline - Date.now()) / 1000);
  const fitting = (rate: number) => {
    const epochSeconds = prepared.train.y.length / rate + watch.y.length / (3 * rate);
    return Math.floor((stopAt! - Date.now()) / 1000 / epochSeconds);
  };
  if (stopAt !== undefined && sps && fitting(sps) < plannedEpochs) {
    // The estimate comes from a search trial (one thread, another fidelity, maybe another load): before
    // cutting epochs on its word, measure the final graph itself on a short probe (~2 s of steps).
    const probeSamples = Math.min(prepared.train.y.length, Math.max(8 * plan.batchSize, Math.round(2 * sps)));
    const probe = await ev.train(o.params, { ...f, epochs: 1, dataFraction: (f.dataFraction ?? 1) * (probeSamples / prepared.train.y.length) });
    if (Number.isFinite(probe.samplesPerSecond) && probe.samplesPerSecond > 0) sps = probe.samplesPerSecond;
  }
  if (stopAt !== undefined && sps) plannedEpochs = Math.max(1, Math.min(plannedEpochs, fitting(sps)));
  const fidelity = { ...f, epochs: plannedEpochs };
  const result = await ev.train(o.params, fidelity, { checkpoint: true, deadline: stopAt });
  const stoppedByDeadline = stopAt !== undefined && Date.now() >= stopAt;
  const classification = merged.task === 'classification';
  const model = buildModel(graph, { outputActivation: classification ? 'softmax' : 'linear' });
  try {
    // Copies: the exported model shares no buffer with the training run.
    const copies = result.checkpoint!.weights.map((w) => tf.tensor(w.dataSync().slice(), w.shape, w.dtype));
    model.setWeights(copies);
    tf.dispose(copies);
  } finally {
    disposeCheckpoint(result.checkpoint!);
    delete result.checkpoint;
  }
  return { model, graph, fidelity, plannedEpochs, train: result, test: prepared.test ?? parts.test, estimatedSamplesPerSecond: sps, stoppedByDeadline };
}

/** fit's final phase: the retraining, with its epoch count and progress lines (about ten, or every slow epoch). */
export async function finalPhase(o: Omit<FinalOptions, 'onPlan' | 'onEpoch'>, say: Say): Promise<{ final: FinalResult; epochRule: string }> {
  say('final', `retraining ${o.trial ? `trial #${o.trial.number}` : 'the default architecture'} on train+validation at ${JSON.stringify(o.plan.finalFidelity)}...`);
  let epochRule = '';
  const final = await retrainFinal({
    ...o,
    onPlan: (epochs, rule) => {
      epochRule = rule;
      say('final', `final epochs: ${epochs} (${rule})`);
    },
    // Every epoch that takes a while, else about ten lines.
    onEpoch: (e, planned) =>
      (e.seconds >= 2 || e.epoch % Math.ceil(planned / 10) === 0 || e.epoch === planned) &&
      say('final', `  final epoch ${e.epoch}/${planned}: loss ${e.loss.toFixed(4)} (${e.seconds.toFixed(1)} s, ${e.samplesPerSecond.toFixed(0)} samples/s)`, { epoch: e }),
  });
  return { final, epochRule };
}

/** The one test evaluation of the final model (images: the preprocessing at the final resolution). */
export function testPhase(
  final: FinalResult,
  dataPreprocessing: Preprocessing,
  say: Say,
): { preprocessing: Preprocessing; test: FitTest | null; testInputs: PredictionInputs | null } {
  const preprocessing: Preprocessing =
    dataPreprocessing.kind === 'image' ? { ...dataPreprocessing, height: final.test.shape[0]!, width: final.test.shape[1]! } : dataPreprocessing;
  let test: FitTest | null = null;
  const testInputs = final.test.y.length > 0 ? datasetInputs(preprocessing, final.test) : null;
  if (testInputs) {
    const p = predictInputs(final.model, preprocessing, testInputs);
    test = { metric: p.metric!.name, value: p.metric!.value, samples: p.metric!.count };
    say('final', `test ${test.metric} ${test.value.toFixed(4)} on ${test.samples} samples`);
  }
  return { preprocessing, test, testInputs };
}
