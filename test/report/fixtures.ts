/** Seeded NB201 searches in a SQLite file for the report and dashboard tests. */
import { Experiment } from '../../src/core/experiment.js';
import { TrialPruned, type Trial } from '../../src/core/trial.js';
import { Nb201Evaluator } from '../../src/estimate/nb201.js';
import { NB201_EDGES, NB201_OPS, nb201EdgeName } from '../../src/space/nb201.js';
import type { Store } from '../../src/core/store.js';
import { GridStrategy, RandomStrategy } from '../../src/strategy/index.js';

export const EVIL = '<img src=x onerror=alert(1)>';

/** Define-by-run NB201 suggestion (so an objective may add its own parameters). */
export function suggestNb201(trial: Trial): Record<string, string> {
  const p: Record<string, string> = {};
  for (const [to, from] of NB201_EDGES) p[nb201EdgeName(to, from)] = trial.suggestCategorical(nb201EdgeName(to, from), [...NB201_OPS]);
  return p;
}

/**
 * Learning-curve objective on NB201: a saturating curve towards the 12-epoch accuracy, reported per
 * epoch; trials below 55% at epoch 4 are pruned; every 3rd other trial records an extrapolated
 * prediction at epoch 6 and stops there.
 */
export function lcObjective(ev: Nb201Evaluator, opts: { evilParam?: boolean } = {}) {
  return (trial: Trial): number => {
    const p = suggestNb201(trial);
    if (opts.evilParam) trial.suggestCategorical('note', [EVIL, 'plain']);
    const a = ev.query(p);
    trial.costExtra.backend = 'nb201-table';
    let v = 0;
    for (let e = 1; e <= 12; e++) {
      v = a.validAcc * (1 - Math.exp(-e / 3)) / (1 - Math.exp(-4));
      trial.report(v, e);
      trial.charge(a.row.secondsPerEpoch);
      if (e === 4 && v < 55) throw new TrialPruned(`pruned at epoch 4 (${v.toFixed(1)} < 55)`);
      if (e === 6 && trial.number % 3 === 0) {
        trial.setSystem({ lc_prediction: { step: 12, target_step: 12, mean: a.validAcc * 1.02, lower: a.validAcc * 0.97, upper: a.validAcc * 1.06, p_better: null, best: null } });
        throw new TrialPruned('stopped at epoch 6 by the learning-curve prediction');
      }
    }
    return v;
  };
}

/** Four experiments: random (100 trials), grid (40), learning curves with pruning (30), two objectives (60). */
export async function buildFixture(store: Store): Promise<void> {
  const ev = new Nb201Evaluator({ epochs: 12 });
  const rnd = Experiment.open({ store, name: 'nb201-random', strategy: new RandomStrategy(), space: ev.space, spaceName: 'nb201', seed: 1, meta: { epochs: 12 } });
  await rnd.optimize(ev.objective, { nTrials: 100 });
  const grid = Experiment.open({ store, name: 'nb201-grid', strategy: new GridStrategy(), space: ev.space, spaceName: 'nb201', seed: 2 });
  await grid.optimize(ev.objective, { nTrials: 40 });
  const lc = Experiment.open({ store, name: 'nb201-lc', strategy: new RandomStrategy(), spaceName: 'nb201', seed: 3 });
  await lc.optimize(lcObjective(ev), { nTrials: 30 });
  const mo = Experiment.open({
    store,
    name: 'nb201-acc-vs-flops',
    strategy: new RandomStrategy(),
    space: ev.space,
    spaceName: 'nb201',
    seed: 4,
    directions: ['maximize', 'minimize'],
    objectiveNames: ['valid acc %', 'MFLOPs'],
  });
  await mo.optimize(
    (t) => {
      const a = ev.query(t.params);
      t.charge(a.seconds);
      return [a.validAcc, a.row.flopsM];
    },
    { nTrials: 60 },
  );
}
