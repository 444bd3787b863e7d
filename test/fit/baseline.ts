/**
 * Shared by baseline-*.test.ts: fit (trial budget, seeded) vs two fixed baselines, both the plan's
 * default architecture (the chain MLP of src/fit/defaults.ts) trained like fit's final model
 * (train + validation, same batch size, optimiser, learning rate, schedule and seed) and tested on
 * the same test split:
 * - same epochs: as many epochs as fit's final retraining (what fit would give without its search);
 * - same compute: as many epochs as fit consumed in total (every search trial's training samples
 *   plus the final retraining's, over the train + validation size).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeSyntheticTabular } from '../../src/data/tabular.js';
import { TrainingEvaluator } from '../../src/estimate/train.js';
import { chainFlatSpace } from '../../src/space/arch/index.js';
import { loadFitData } from '../../src/fit/data.js';
import { defaultParams } from '../../src/fit/defaults.js';
import { concatDatasets } from '../../src/data/dataset.js';
import { fit, type FitOptions, type FitResult } from '../../src/fit/fit.js';

function consumedSamples(r: FitResult): number {
  let n = 0;
  for (const t of r.experiment.trials()) {
    const tr = t.attrs.training as { epochs: number; trainSamples: number } | undefined;
    if (tr) n += tr.epochs * tr.trainSamples;
  }
  return n + r.summary.final.epochs * r.summary.final.trainSamples;
}

async function baseline(data: string, target: string | undefined, r: FitResult, seed: number, sameCompute: boolean): Promise<{ test: number; epochs: number }> {
  const d = loadFitData(data, { target, seed });
  const train = concatDatasets(d.train, d.val, 'train+val');
  const epochs = sameCompute ? Math.max(1, Math.round(consumedSamples(r) / train.y.length)) : r.summary.final.epochs;
  const ev = new TrainingEvaluator({
    archSpace: chainFlatSpace,
    data: { train, val: d.val, test: d.test },
    fidelity: { epochs, dataFraction: 1 },
    batchSize: r.plan.batchSize,
    optimizer: r.plan.optimizer,
    lr: r.plan.lr,
    lrSchedule: r.plan.lrSchedule,
    seed,
  });
  const res = await ev.evaluateTest(defaultParams(chainFlatSpace, d.train.shape, d.train.numClasses)!);
  return { test: res.test, epochs };
}


/** A seeded `classes` x `classes` checkerboard (src/data/tabular.ts) of 2 latent signal coordinates mixed into `features` columns, as a CSV with labels k0..k(classes-1). */
export function syntheticCsv(n: number, features = 6, classes = 4, noise = 0.05): string {
  const ds = makeSyntheticTabular({ n, features, classes, seed: 11, noise });
  const cols = Array.from({ length: features }, (_, j) => `f${j}`);
  const lines = [[...cols, 'kind'].join(',')];
  for (let i = 0; i < n; i++) lines.push([...ds.x.subarray(i * features, (i + 1) * features)].map((v) => v.toFixed(5)).join(',') + `,k${ds.y[i]}`);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-fit-synth-')), 'synthetic.csv');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

export interface Comparison {
  fit: number;
  /** The default architecture trained for as many epochs as fit's final model. */
  sameEpochs: number;
  /** The default architecture trained on all the samples fit consumed (search + final). */
  sameCompute: number;
}

/** fit with a trial budget vs both baselines, over seeds; prints one line per seed and the means. */
export async function compare(name: string, data: string, target: string | undefined, trials: number, seeds: number[], plan?: FitOptions['plan']): Promise<Comparison> {
  const rows: Comparison[] = [];
  for (const seed of seeds) {
    const r = await fit({ data, target, trials, seed, ...(plan ? { plan } : {}) });
    try {
      const t0 = Date.now();
      const b = await baseline(data, target, r, seed, true);
      const t1 = Date.now();
      const a = await baseline(data, target, r, seed, false);
      const t2 = Date.now();
      const sec = r.summary.seconds;
      const trialSecs = r.experiment.trials().map((t) => t.cost.wallSeconds.toFixed(1)).join('/');
      rows.push({ fit: r.test!.value, sameEpochs: a.test, sameCompute: b.test });
      console.log(
        `${name} seed ${seed}: fit ${r.test!.value.toFixed(4)} (best trial #${r.summary.best.trial}, ${r.summary.final.epochs} final epochs) ` +
          `vs default arch same epochs ${a.test.toFixed(4)}, same compute ${b.test.toFixed(4)} (${b.epochs} epochs); ` +
          `seconds: search ${sec.search.toFixed(1)} (trials ${trialSecs}), final ${sec.final.toFixed(1)}, baselines ${((t2 - t1) / 1000).toFixed(1)} + ${((t1 - t0) / 1000).toFixed(1)}`,
      );
    } finally {
      r.close();
    }
  }
  const mean = (k: keyof Comparison) => rows.reduce((s, x) => s + x[k], 0) / rows.length;
  const m = { fit: mean('fit'), sameEpochs: mean('sameEpochs'), sameCompute: mean('sameCompute') };
  console.log(`${name} (${trials} trials, seeds ${seeds.join(',')}): mean fit ${m.fit.toFixed(4)} vs same epochs ${m.sameEpochs.toFixed(4)}, same compute ${m.sameCompute.toFixed(4)}`);
  return m;
}
