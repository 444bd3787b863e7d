/**
 * The trial objective of `npm run bench:build-curves` (loaded by each pool child as a module
 * objective): trains one NB201 cell at the fm-cells setting (src/estimate/fm-cells.ts) and records
 * its whole learning curve on the trial: per epoch validation and test accuracy, training loss,
 * wall and CPU seconds (attr `curve`), with params and FLOPs in the trial's cost.
 */
import type { Trial } from '../src/core/trial.js';
import { loadNamedDataset } from '../src/data/registry.js';
import { FM_CELLS_SETTING as S } from '../src/estimate/fm-cells.js';
import { TrainingEvaluator, type EpochInfo } from '../src/estimate/train.js';
import { nb201ArchSpace, parseNb201Arch } from '../src/space/arch/index.js';

let evaluator: TrainingEvaluator | null = null;
let marks: { epochs: EpochInfo[]; cpu: number[]; cpu0: number } = { epochs: [], cpu: [], cpu0: 0 };

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function getEvaluator(): TrainingEvaluator {
  if (evaluator) return evaluator;
  const data = loadNamedDataset(S.dataset, { trainCount: S.trainCount + S.valCount, testCount: S.testCount, valFraction: S.valCount / (S.trainCount + S.valCount), seed: S.seed });
  evaluator = new TrainingEvaluator({
    archSpace: nb201ArchSpace,
    data,
    fidelity: { epochs: S.epochs, widthMultiplier: S.widthMultiplier, cells: S.cells, resolution: S.resolution },
    batchSize: S.batchSize,
    optimizer: S.optimizer,
    lr: S.lr,
    lrSchedule: S.lrSchedule,
    seed: S.seed,
    backend: S.backend,
    testEachEpoch: true,
    onEpoch: (e) => {
      const now = cpuSeconds();
      marks.epochs.push(e);
      marks.cpu.push(now - marks.cpu0);
      marks.cpu0 = now;
    },
  });
  return evaluator;
}

export async function objective(trial: Trial): Promise<number> {
  const ev = getEvaluator();
  const params = parseNb201Arch(String(trial.params.arch));
  marks = { epochs: [], cpu: [], cpu0: cpuSeconds() };
  const r = await ev.train(params, undefined, { trial });
  const round = (x: number, d: number) => +x.toFixed(d);
  trial.setAttr('curve', {
    val: marks.epochs.map((e) => e.value),
    test: marks.epochs.map((e) => e.test ?? null),
    loss: marks.epochs.map((e) => round(e.loss, 5)),
    wall: marks.epochs.map((e) => round(e.seconds, 3)),
    cpu: marks.cpu.map((c) => round(c, 3)),
    params: r.cost.totalParams,
    flops: r.cost.flops,
    backend: r.backend,
  });
  return r.value;
}
