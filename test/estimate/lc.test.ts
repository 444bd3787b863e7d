import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { MemoryStore } from '../../src/store/memory.js';
import { RandomStrategy } from '../../src/strategy/random.js';
import { CurveEnsemble, FAMILIES, familyByName, fitFamily } from '../../src/estimate/lc/index.js';
import { LcPruner } from '../../src/estimate/pruners/index.js';
import type { SystemAttrs, TrialRecord } from '../../src/core/store.js';
import { Rng } from '../../src/util/rng.js';

/** Ground-truth parameters per family (raw parameterisation: log rates/exponents). */
const TRUTH: Record<string, number[]> = {
  pow3: [0.9, 0.6, Math.log(0.7)],
  log_power: [0.92, Math.log(3), -1.2],
  exp3: [0.88, Math.log(0.08), Math.log(0.6)],
  janoschek: [0.9, 0.2, Math.log(0.15), Math.log(0.8)],
  mmf: [0.9, 0.1, Math.log(0.2), Math.log(1.3)],
  weibull: [0.9, 0.15, Math.log(0.1), Math.log(0.9)],
  vapor_pressure: [-0.05, -1.2, -0.02],
  ilog2: [0.95, 0.5],
};

describe('curve families', () => {
  it('covers the Domhan et al. families', () => {
    expect(FAMILIES.map((f) => f.name).sort()).toEqual(Object.keys(TRUTH).sort());
  });

  for (const fam of FAMILIES) {
    it(`${fam.name} recovers its own parameters and extrapolates`, () => {
      const th = TRUTH[fam.name]!;
      const xs = Array.from({ length: 40 }, (_, i) => i + 1);
      const fit = fitFamily(fam, xs, xs.map((x) => fam.f(x, th)))!;
      for (let j = 0; j < th.length; j++) expect(fit.theta[j]!).toBeCloseTo(th[j]!, 3);
      expect(Math.abs(fam.f(150, fit.theta) - fam.f(150, th))).toBeLessThan(1e-4);
      // From the first 30% only, still close at the end.
      const early = xs.slice(0, 12);
      const f2 = fitFamily(fam, early, early.map((x) => fam.f(x, th)))!;
      expect(Math.abs(fam.f(40, f2.theta) - fam.f(40, th))).toBeLessThan(1e-3);
    });
  }
});

describe('curve ensemble', () => {
  it("the 90% interval covers noisy curves' final values in most cases, and the mean is close", () => {
    const rng = new Rng(11);
    let covered = 0;
    let n = 0;
    let err = 0;
    while (n < 32) {
      const fam = FAMILIES[n % FAMILIES.length]!;
      const th = TRUTH[fam.name]!.map((v) => v + 0.05 * rng.normal());
      const T = 50;
      const truth = fam.f(T, th);
      if (!(truth < 0.99) || !(fam.f(1, th) > 0)) continue; // keep plausible accuracy curves
      const xs = Array.from({ length: 15 }, (_, k) => k + 1);
      const ys = xs.map((x) => fam.f(x, th) + 0.005 * rng.normal());
      const final = truth + 0.005 * rng.normal();
      const p = new CurveEnsemble(xs, ys, { seed: n, lower: 0, upper: 1 }).predict(T);
      expect(p.lower).toBeLessThanOrEqual(p.mean);
      expect(p.upper).toBeGreaterThanOrEqual(p.mean);
      expect(p.members.reduce((s, m) => s + m.weight, 0)).toBeCloseTo(1, 9);
      if (final >= p.lower && final <= p.upper) covered++;
      err += Math.abs(p.mean - final);
      n++;
    }
    expect(covered / n).toBeGreaterThanOrEqual(0.75);
    expect(err / n).toBeLessThan(0.04);
  });

  it('is deterministic under a seed', () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8];
    const ys = xs.map((x) => 0.9 - 0.5 * x ** -0.8 + (x % 2 ? 0.004 : -0.004));
    const a = new CurveEnsemble(xs, ys, { seed: 3 }).predict(40);
    expect(new CurveEnsemble(xs, ys, { seed: 3 }).predict(40)).toEqual(a);
    expect(a.step).toBe(8);
    expect(a.target_step).toBe(40);
  });
});

describe('learning-curve stop rule', () => {
  const T = 50;
  const curve = (f: (x: number) => number, upto: number) => Array.from({ length: upto }, (_, i) => ({ step: i + 1, value: f(i + 1) + (i % 2 ? 0.002 : -0.002) }));
  const rec = (id: number, state: TrialRecord['state'], intermediate: { step: number; value: number }[], values: number[] | null = null): TrialRecord =>
    ({ id, number: id, state, intermediate, attrs: {}, values }) as unknown as TrialRecord;
  const good = (x: number) => 0.95 - 0.6 * Math.exp(-x / 12);
  const bad = (x: number) => 0.62 - 0.3 * Math.exp(-x / 3);
  const best = rec(0, 'COMPLETE', curve((x) => 0.86 - 0.5 * Math.exp(-x / 8), T), [0.86]);

  it('stops a clearly bad curve, keeps a clearly good one, and records the prediction', () => {
    const written: Record<number, SystemAttrs> = {};
    const p = new LcPruner({ targetStep: T, lower: 0, upper: 1, store: { setAttrs: (id, _attrs, s) => void (written[id] = { ...written[id], ...s }) } });
    const b = rec(1, 'RUNNING', curve(bad, 15));
    const g = rec(2, 'RUNNING', curve(good, 15));
    expect(p.shouldPrune({ trial: b, history: [best, b], directions: ['maximize'] })).toBe(true);
    expect(p.shouldPrune({ trial: g, history: [best, g], directions: ['maximize'] })).toBe(false);
    const pb = written[1]!.lc_prediction!;
    expect(pb.step).toBe(15);
    expect(pb.target_step).toBe(T);
    expect(pb.p_better).toBeLessThan(0.05);
    expect(Math.abs(pb.mean - bad(T))).toBeLessThan(0.03);
    const pg = written[2]!.lc_prediction!;
    expect(pg.p_better).toBeGreaterThan(0.5);
    expect(pg.lower).toBeLessThan(good(T));
    expect(pg.upper).toBeGreaterThan(good(T) - 0.01);
    // Too few points, or no finished trial to beat: never stops.
    expect(p.shouldPrune({ trial: rec(3, 'RUNNING', curve(bad, 3)), history: [best], directions: ['maximize'] })).toBe(false);
    expect(p.shouldPrune({ trial: b, history: [b], directions: ['maximize'] })).toBe(false);
  });

  it('works on minimised metrics (loss curves)', () => {
    const p = new LcPruner({ targetStep: T, lower: 0 });
    const loss = (f: (x: number) => number) => curve((x) => 1 - f(x), 15);
    const bestLoss = rec(0, 'COMPLETE', [{ step: T, value: 0.14 }], [0.14]);
    const b = rec(1, 'RUNNING', loss(bad));
    const g = rec(2, 'RUNNING', loss(good));
    expect(p.shouldPrune({ trial: b, history: [bestLoss, b], directions: ['minimize'] })).toBe(true);
    expect(p.shouldPrune({ trial: g, history: [bestLoss, g], directions: ['minimize'] })).toBe(false);
    const d = p.evaluate({ trial: g, history: [bestLoss, g], directions: ['minimize'] })!;
    expect(d.lower).toBeLessThan(d.upper);
    expect(Math.abs(d.mean - (1 - good(T)))).toBeLessThan(0.05);
  });

  it('runs inside Experiment.optimize, stopping bad runs and recording system.lc_prediction', async () => {
    const store = new MemoryStore();
    const exp = Experiment.open({ store, name: 'lc', strategy: new RandomStrategy(), seed: 2, pruner: new LcPruner({ targetStep: 24, lower: 0, upper: 1, minPoints: 6, interval: 4, store }) });
    await exp.optimize(
      (trial) => {
        const q = trial.suggestFloat('q', 0.3, 0.95);
        const rate = trial.suggestFloat('rate', 3, 10);
        let v = 0;
        for (let s = 1; s <= 24; s++) {
          v = q - 0.25 * Math.exp(-s / rate) + 0.002 * Math.sin(7 * s);
          trial.report(v, s);
          trial.pruneIfNeeded();
        }
        return v;
      },
      { nTrials: 10 },
    );
    const ts = exp.trials();
    const pruned = ts.filter((t) => t.state === 'PRUNED');
    expect(pruned.length).toBeGreaterThan(2);
    for (const t of pruned) expect([6, 10, 14, 18, 22]).toContain(t.intermediate.at(-1)!.step);
    const bestQ = Math.max(...ts.map((t) => t.params.q as number));
    expect(ts.find((t) => t.params.q === bestQ)!.state).toBe('COMPLETE');
    for (const t of pruned) {
      const pred = t.system.lc_prediction!;
      expect(pred.target_step).toBe(24);
      expect(pred.step).toBe(t.intermediate.at(-1)!.step);
      expect(pred.p_better).toBeLessThan(0.05);
    }
  });
});
