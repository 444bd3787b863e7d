import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerInspect } from '../../src/cli/inspect.js';
import { Experiment } from '../../src/core/experiment.js';
import { maximised } from '../../src/core/pareto.js';
import { Nb201Evaluator } from '../../src/estimate/nb201.js';
import { anytimeCurve, bestAtBudget, experimentTotals, trialEfficacy } from '../../src/report/efficacy.js';
import { buildReportData, predictionOf } from '../../src/report/data.js';
import { safeJson } from '../../src/report/html.js';
import { paramImportance } from '../../src/report/importance.js';
import { MemoryStore, openStore } from '../../src/store/index.js';
import type { ExperimentRecord, Store, TrialRecord } from '../../src/core/store.js';
import { RandomStrategy } from '../../src/strategy/index.js';
import { nb201CellGraph, layoutGraph } from '../../src/report/arch.js';

function exp(over: Partial<ExperimentRecord['config']> = {}): ExperimentRecord {
  return { id: 1, name: 'e', createdAt: 0, config: { directions: ['maximize'], strategy: { name: 'random' }, space: null, seed: 0, ...over } };
}

let nextId = 1;
function trial(o: Partial<TrialRecord> & { v?: number | null; wall?: number; sim?: number; backend?: string; fin?: number }): TrialRecord {
  const id = nextId++;
  return {
    id,
    experimentId: 1,
    number: o.number ?? id,
    state: o.state ?? 'COMPLETE',
    params: o.params ?? {},
    distributions: {},
    values: o.v === undefined || o.v === null ? null : [o.v],
    intermediate: [],
    cost: { wallSeconds: o.wall ?? 0, cpuSeconds: (o.wall ?? 0) / 2, simulatedSeconds: o.sim ?? 0, backend: o.backend, ...o.cost },
    attrs: o.attrs ?? {},
    error: null,
    createdAt: 0,
    finishedAt: o.fin ?? id,
    heartbeatAt: null,
    owner: null,
    system: {},
  };
}

describe('efficacy accounting', () => {
  it('per-trial facts: fidelity from attrs, training seconds simulated when charged, else wall', () => {
    const t = trial({ v: 1, wall: 2, sim: 30, attrs: { fidelity: 0.25 }, cost: { wallSeconds: 2, cpuSeconds: 1, simulatedSeconds: 30, flops: 5e6, params: 1000, peakMemoryBytes: 4096, backend: 'cpu' } });
    expect(trialEfficacy(t)).toMatchObject({ trainSeconds: 30, flops: 5e6, params: 1000, peakMemoryBytes: 4096, backend: 'cpu', fidelity: 0.25 });
    expect(trialEfficacy(trial({ v: 1, wall: 2 })).trainSeconds).toBe(2);
    expect(trialEfficacy(trial({ v: 1 }), exp({ meta: { epochs: 12 } })).fidelity).toBe(12);
  });

  it('totals: GPU-hours from GPU backends, money on billed hours, counts per state', () => {
    const trials = [
      trial({ v: 1, wall: 1800, backend: 'tfjs-node-gpu' }),
      trial({ v: 2, wall: 1800, backend: 'webgpu' }),
      trial({ state: 'PRUNED', v: 0.5, wall: 3600, backend: 'cpu' }),
      trial({ state: 'FAILED', wall: 360, backend: 'cpu' }),
    ];
    const t = experimentTotals(exp(), trials, 3);
    expect(t).toMatchObject({ trials: 4, complete: 2, pruned: 1, failed: 1, wallSeconds: 7560, cpuSeconds: 3780, gpuHours: 1, billedAs: 'GPU-hours', computeAxis: 'wall' });
    expect(t.billedHours).toBe(1);
    expect(t.cost).toBe(3);
    expect(t.backends).toEqual(['cpu', 'tfjs-node-gpu', 'webgpu']);
    const cpuOnly = experimentTotals(exp(), [trial({ v: 1, wall: 7200, backend: 'cpu' })], 0.5);
    expect(cpuOnly).toMatchObject({ billedAs: 'wall-hours', billedHours: 2, cost: 1 });
    const sim = experimentTotals(exp(), [trial({ v: 1, wall: 0.1, sim: 5400 })], 2);
    expect(sim).toMatchObject({ billedAs: 'simulated GPU-hours', billedHours: 1.5, cost: 3, computeAxis: 'simulated' });
    expect(experimentTotals(exp(), trials).cost).toBeNull();
  });

  it('anytime curve: finishing order, all finished trials spend compute, only COMPLETE ones improve', () => {
    const trials = [
      trial({ number: 0, v: 5, wall: 1, fin: 30 }),
      trial({ number: 1, v: 9, wall: 2, fin: 10 }),
      trial({ number: 2, state: 'PRUNED', v: 99, wall: 4, fin: 20 }),
      trial({ number: 3, state: 'RUNNING', wall: 100, fin: undefined }),
      trial({ number: 4, v: 3, wall: 8, fin: 40 }),
    ];
    trials[3]!.finishedAt = null;
    const max = anytimeCurve(exp(), trials);
    expect(max.axis).toBe('wall');
    expect(max.points).toEqual([
      { compute: 2, best: 9, trial: 1 },
      { compute: 6, best: 9, trial: 2 },
      { compute: 7, best: 9, trial: 0 },
      { compute: 15, best: 9, trial: 4 },
    ]);
    const min = anytimeCurve(exp({ directions: ['minimize'] }), trials);
    expect(min.points.map((p) => p.best)).toEqual([9, 9, 5, 3]);
    expect(bestAtBudget(min, 7)).toBe(5);
    expect(bestAtBudget(min, 1)).toBeNull();
    expect(anytimeCurve(exp(), [trial({ v: 1, wall: 5, sim: 100 })]).points[0]!.compute).toBe(100);
  });

  it('importance: R^2 of marginal means is 1 for the only parameter that matters, near 0 for noise', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const trials = Array.from({ length: 200 }, () => {
      const a = ['x', 'y', 'z'][Math.floor(rand() * 3)]!;
      const b = rand() * 10;
      return trial({ v: { x: 1, y: 3, z: 8 }[a], params: { a, b } });
    });
    const imp = paramImportance(trials);
    expect(imp[0]).toMatchObject({ param: 'a', groups: 3 });
    expect(imp[0]!.r2).toBeCloseTo(1, 10);
    expect(imp[0]!.rawR2).toBeCloseTo(1, 10);
    // adjusted = 1 - (1 - raw)(n - 1)/(n - g)
    expect(imp[1]!.r2).toBeCloseTo(Math.max(0, 1 - ((1 - imp[1]!.rawR2) * 199) / (200 - 8)), 12);
    expect(imp[1]!.r2).toBeLessThan(imp[1]!.rawR2);
    // Two trials in two groups explain nothing after adjustment.
    expect(paramImportance([trial({ v: 1, params: { c: 'p' } }), trial({ v: 2, params: { c: 'q' } })])[0]!.r2).toBe(0);
    expect(imp[1]!.param).toBe('b');
    expect(imp[1]!.groups).toBe(8);
    expect(imp[1]!.r2).toBeLessThan(0.1);
  });

  it('lc_prediction attrs accept scalars or arrays', () => {
    expect(predictionOf({ lc_prediction: { step: 12, mean: 80, lower: 75, upper: 85 } })).toEqual([{ step: 12, mean: 80, lower: 75, upper: 85 }]);
    expect(predictionOf({ lc_prediction: { step: [10, 20], mean: [1, 2] } })).toEqual([
      { step: 10, mean: 1, lower: null, upper: null },
      { step: 20, mean: 2, lower: null, upper: null },
    ]);
    expect(predictionOf({})).toBeNull();
  });

  it('safeJson leaves no way out of a <script> element and round-trips', () => {
    const evil = { name: '</script><img src=x onerror=alert(1)>&\u2028\u2029' };
    const s = safeJson(evil);
    expect(s).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(s)).toEqual(evil);
  });

  it('NB201 cell drawing: 4 nodes, one labelled edge per op other than none, laid out by elk', async () => {
    const p = { edge_1_0: 'nor_conv_3x3', edge_2_0: 'none', edge_2_1: 'skip_connect', edge_3_0: 'none', edge_3_1: 'avg_pool_3x3', edge_3_2: 'nor_conv_1x1' };
    const laid = await layoutGraph(nb201CellGraph(p));
    expect(laid.nodes).toHaveLength(4);
    expect(laid.edges.map((e) => `${e.source}>${e.target}:${e.label}`).sort()).toEqual(
      ['n0>n1:nor_conv_3x3', 'n1>n2:skip_connect', 'n1>n3:avg_pool_3x3', 'n2>n3:nor_conv_1x1'],
    );
    for (const e of laid.edges) expect(e.points.length).toBeGreaterThanOrEqual(2);
    const ys = Object.fromEntries(laid.nodes.map((n) => [n.id, n.y]));
    expect(ys.n0!).toBeLessThan(ys.n1!);
    expect(ys.n2!).toBeLessThan(ys.n3!);
  });
});

describe('two-objective search: Pareto front against brute force', () => {
  let dir: string;
  let store: Store;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-pareto-'));
    store = openStore(`sqlite:${path.join(dir, 'mo.db')}`);
  });
  afterAll(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('paretoFront, the report and `tsnas best` give exactly the non-dominated trials', async () => {
    const ev = new Nb201Evaluator();
    const e = Experiment.open({ store, name: 'mo', strategy: new RandomStrategy(), space: ev.space, spaceName: 'nb201', seed: 11, directions: ['maximize', 'minimize'] });
    await e.optimize((t) => {
      const a = ev.query(t.params);
      return [a.validAcc, a.row.flopsM];
    }, { nTrials: 150 });
    const trials = e.trials();
    // Brute force: a trial is on the front when no other trial is at least as good in both and better in one.
    const brute = trials
      .filter((t) => !trials.some((o) => {
        const [a, b] = [maximised(o.values!, e.directions), maximised(t.values!, e.directions)];
        return a[0]! >= b[0]! && a[1]! >= b[1]! && (a[0]! > b[0]! || a[1]! > b[1]!);
      }))
      .map((t) => t.number);
    expect(brute.length).toBeGreaterThan(2);
    const data = await buildReportData(store, { storage: 'x' });
    expect(data.experiments[0]!.paretoFront).toEqual(brute);

    const out: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    try {
      const program = new Command().exitOverride();
      registerInspect(program);
      await program.parseAsync(['node', 'tsnas', 'best', '--json', '--storage', `sqlite:${path.join(dir, 'mo.db')}`]);
    } finally {
      spy.mockRestore();
    }
    const best = JSON.parse(out.join('\n'));
    expect(best.pareto_front.map((t: TrialRecord) => t.number)).toEqual(brute);
  });

  it('memory store works as a report source too', async () => {
    const m = new MemoryStore();
    const ev = new Nb201Evaluator();
    await Experiment.open({ store: m, name: 'm', strategy: new RandomStrategy(), space: ev.space, spaceName: 'nb201', seed: 1 }).optimize(ev.objective, { nTrials: 5 });
    const data = await buildReportData(m, { storage: 'memory:', costPerHour: 1 });
    expect(data.totalTrials).toBe(5);
    expect(data.experiments[0]!.totals.cost).toBeCloseTo(data.experiments[0]!.totals.simulatedSeconds / 3600, 9);
    expect(data.experiments[0]!.arch!.nodes).toHaveLength(4);
  });
});
