import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { FM_CELLS_HANDPICKED, FM_CELLS_SETTING, FmCellsEvaluator, fmCellsArchs, type FmCellsRow } from '../../src/estimate/fm-cells.js';
import { resolveTarget } from '../../src/cli/targets.js';
import { objectiveSpecFor, resolveObjectiveSpec } from '../../src/run/objective-spec.js';
import { MemoryStore } from '../../src/store/memory.js';
import { createStrategy } from '../../src/strategy/index.js';
import { parseNb201Arch } from '../../src/space/nb201.js';

const A = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';
const B = '|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|';
const C = '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|';

function row(arch: string, base: number, cpu: number): FmCellsRow {
  const val = Array.from({ length: 10 }, (_, e) => base * (1 - 0.5 ** (e + 1)));
  return { arch, val, test: val.map((v) => v - 0.01), loss: val.map((v) => 1 - v), wall: val.map(() => cpu * 1.5), cpu: val.map(() => cpu), params: 1000, flops: 2e6 };
}

function tableFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fm-cells-'));
  const file = path.join(dir, 'curves.json.gz');
  const rows = [row(A, 0.9, 2), row(B, 0.8, 1), row(C, 0.1, 0.5)];
  fs.writeFileSync(file, zlib.gzipSync(JSON.stringify({ setting: FM_CELLS_SETTING, built: { archs: 3, cpuSeconds: 35, wallSeconds: 60 }, rows })));
  return file;
}

describe('fm-cells table', () => {
  it('samples 120 distinct random cells after the hand-picked ones, the same every time', () => {
    const a = fmCellsArchs();
    expect(a).toHaveLength(FM_CELLS_HANDPICKED.length + 120);
    expect(new Set(a).size).toBe(a.length);
    expect(a.slice(0, FM_CELLS_HANDPICKED.length)).toEqual(FM_CELLS_HANDPICKED);
    expect(fmCellsArchs()).toEqual(a);
    for (const s of a) expect(() => parseNb201Arch(s)).not.toThrow();
  });

  it('charges only the extra epochs of a promotion and reports every epoch on the way', async () => {
    const ev = new FmCellsEvaluator({ file: tableFile() });
    expect(ev.maxEpochs).toBe(10);
    expect(ev.space.params.arch).toMatchObject({ type: 'categorical', choices: [A, B, C] });
    const exp = Experiment.open({ store: new MemoryStore(), name: 'x', strategy: createStrategy('random'), space: ev.space, seed: 1 });
    const t1 = await exp.ask({ arch: A });
    expect(ev.trainTo(t1, 3)).toBeCloseTo(100 * 0.9 * (1 - 0.125), 9);
    expect(t1.simulatedSeconds).toBe(6);
    const t2 = await exp.ask({ arch: A });
    ev.trainTo(t2, 10, 3);
    expect(t2.simulatedSeconds).toBe(14);
    await exp.tell(t2, 1);
    expect(exp.trials()[1]!.intermediate.map((i) => i.step)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(() => ev.trainTo(t1, 11)).toThrow(/epochs 1\.\.10/);
    expect(() => ev.row({ arch: '|none~0|+|none~0|none~1|+|none~0|none~1|avg_pool_3x3~2|' })).toThrow(/not in the fm-cells table/);
    expect(ev.testAt(ev.row({ arch: B }))).toBeCloseTo(100 * (0.8 * (1 - 0.5 ** 10) - 0.01), 9);
  });

  it('runs a scheduler through the jobs objective spec: rungs 1, 3, 10 epochs, the pick is the best cell', async () => {
    const file = tableFile();
    const ev = new FmCellsEvaluator({ file });
    const objective = await resolveObjectiveSpec({ kind: 'jobs', objective: { kind: 'fm-cells', file } });
    const exp = Experiment.open({ store: new MemoryStore(), name: 'sh', strategy: createStrategy('sh', { budgets: [1, 3, 10], eta: 3 }), space: ev.space, seed: 0 });
    await exp.optimize(objective, { nTrials: 13 }); // one bracket: 9 at 1 epoch, 3 at 3, 1 at 10
    const budgets = exp.trials().map((t) => (t.system.job as { budget: number }).budget);
    expect(budgets.filter((b) => b === 1)).toHaveLength(9);
    expect(budgets.filter((b) => b === 3)).toHaveLength(3);
    expect(budgets.filter((b) => b === 10)).toHaveLength(1);
    const top = exp.trials().find((t) => (t.system.job as { budget: number }).budget === 10)!;
    expect(top.params.arch).toBe(A);
  });

  it('rungMetric tse: a job below 10 epochs returns minus the summed training losses, so a slow starter with a low loss is promoted', async () => {
    // D looks good by validation after one epoch but trains badly; E the other way round.
    const flat = (v: number) => Array.from({ length: 10 }, () => v);
    const D: FmCellsRow = { arch: A, val: [0.7, ...flat(0.5).slice(1)], test: flat(0.5), loss: flat(1.5), wall: flat(1), cpu: flat(1), params: 1, flops: 1 };
    const E: FmCellsRow = { arch: B, val: [0.2, ...flat(0.95).slice(1)], test: flat(0.95), loss: flat(0.4), wall: flat(1), cpu: flat(1), params: 1, flops: 1 };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fm-cells-'));
    const file = path.join(dir, 'curves.json.gz');
    fs.writeFileSync(file, zlib.gzipSync(JSON.stringify({ setting: FM_CELLS_SETTING, built: { archs: 2, cpuSeconds: 20, wallSeconds: 20 }, rows: [D, E] })));
    const ev = new FmCellsEvaluator({ file, rungMetric: 'tse' });
    const probe = Experiment.open({ store: new MemoryStore(), name: 'p', strategy: createStrategy('random'), space: ev.space, seed: 0 });
    const t = await probe.ask({ arch: B });
    expect(ev.trainTo(t, 3)).toBeCloseTo(-1.2, 9);
    await probe.tell(t, -1.2);
    expect(probe.trials()[0]!.intermediate.map((i) => i.value)).toEqual([20, 95, 95]); // the curve stays validation accuracy
    expect(ev.trainTo(await probe.ask({ arch: B }), 10)).toBeCloseTo(95, 9); // full schedule: validation accuracy
    const picks: Record<string, string> = {};
    for (const rungMetric of ['val', 'tse'] as const) {
      const objective = await resolveObjectiveSpec({ kind: 'jobs', objective: { kind: 'fm-cells', file, rungMetric } });
      const exp = Experiment.open({ store: new MemoryStore(), name: rungMetric, strategy: createStrategy('sh', { budgets: [1, 10], eta: 2 }), space: ev.space, seed: 0 });
      await exp.optimize(objective, { nTrials: 3 }); // both cells at 1 epoch, the better one to 10
      picks[rungMetric] = exp.bestTrial()!.params.arch as string;
    }
    expect(picks).toEqual({ val: A, tse: B });
    expect(() => new FmCellsEvaluator({ file, rungMetric: 'loss' as 'tse' })).toThrow(/rungMetric "loss": use 'val' or 'tse'/);
  });

  it('the committed table: 128 cells of fmCellsArchs at FM_CELLS_SETTING, 10 epochs each, searchable as --space fm-cells', async () => {
    const ev = new FmCellsEvaluator();
    expect(ev.table.setting).toEqual(FM_CELLS_SETTING);
    expect(ev.table.rows.map((r) => r.arch)).toEqual(fmCellsArchs());
    for (const r of ev.table.rows) {
      for (const k of ['val', 'test', 'loss', 'wall', 'cpu'] as const) expect(r[k]).toHaveLength(10);
      expect(r.cpu.every((c) => c > 0)).toBe(true);
    }
    // The all-none cell cannot learn; the all-3x3-conv cell does.
    expect(ev.testAt(ev.row({ arch: C }))).toBeLessThan(15);
    expect(ev.testAt(ev.row({ arch: A }))).toBeGreaterThan(75);
    const target = await resolveTarget({ space: 'fm-cells' });
    expect(target.spaceName).toBe('fm-cells');
    expect((target.space!.params.arch as { choices: string[] }).choices).toHaveLength(128);
    expect(objectiveSpecFor({ space: 'fm-cells' })).toEqual({ kind: 'fm-cells' });
  });
});
