import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { Nb201Evaluator, loadNb201Table, readNb201Csv, resolveNb201Dir, DataDirError } from '../../src/estimate/nb201.js';
import { NB201_SPACE, nb201ArchString, parseNb201Arch } from '../../src/space/nb201.js';
import { gridSize } from '../../src/space/grid.js';
import { MemoryStore } from '../../src/store/memory.js';
import { RandomStrategy } from '../../src/strategy/random.js';

describe('NAS-Bench-201 tabular evaluator', () => {
  const ev = new Nb201Evaluator();

  it('covers the 15,625 cells of the space with the published optima', () => {
    expect(gridSize(NB201_SPACE)).toBe(15625);
    const c10 = [...loadNb201Table('cifar10').values()];
    const c100 = [...loadNb201Table('cifar100').values()];
    expect(Math.max(...c10.map((r) => r.testAcc200))).toBeCloseTo(94.37, 2);
    expect(Math.max(...c100.map((r) => r.testAcc200))).toBeCloseTo(73.51, 2);
  });

  it('round-trips arch strings and answers both fidelities with their simulated cost', () => {
    const arch = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';
    const p = parseNb201Arch(arch);
    expect(nb201ArchString(p)).toBe(arch);
    const a12 = ev.query(p, 12);
    expect(a12.validAcc).toBeCloseTo(82.834, 3);
    expect(a12.testAcc200).toBeCloseTo(93.66, 2);
    expect(a12.seconds).toBeCloseTo(12 * 10.848207, 4);
    const a200 = ev.query(p, 200);
    expect(a200.validAcc).toBeCloseTo(90.769333, 4);
    expect(a200.seconds).toBeCloseTo(2169.641376, 4);
    expect(() => parseNb201Arch('|conv~0|+|a~0|b~1|+|c~0|d~1|e~2|')).toThrow(/entry "conv~0" of node 1 is not an NB201 op/);
  });

  it('random search under the paper protocol lands near the published 93.70', async () => {
    const tests: number[] = [];
    for (let seed = 0; seed < 100; seed++) {
      const exp = Experiment.open({ store: new MemoryStore(), name: 'rs', strategy: new RandomStrategy(), space: ev.space, seed });
      await exp.optimize(ev.objective, { budgetSeconds: 12000 });
      const spent = exp.trials().reduce((s, t) => s + t.cost.simulatedSeconds, 0);
      expect(spent).toBeGreaterThanOrEqual(12000);
      expect(spent - exp.trials().at(-1)!.cost.simulatedSeconds).toBeLessThan(12000);
      tests.push(ev.query(exp.bestTrial()!.params).testAcc200);
    }
    const mean = tests.reduce((a, b) => a + b) / tests.length;
    expect(mean).toBeGreaterThan(93.55);
    expect(mean).toBeLessThan(93.95);
  });

  it('reads the gzipped tables shipped in data/nb201 by default, and a plain CSV folder given by TSNAS_NB201_DIR', () => {
    const saved = process.env.TSNAS_NB201_DIR;
    delete process.env.TSNAS_NB201_DIR;
    try {
      expect(resolveNb201Dir()).toBe(path.resolve(import.meta.dirname, '..', '..', 'data', 'nb201'));
      const text = readNb201Csv('cifar100');
      expect(text.split('\n').filter(Boolean)).toHaveLength(15626);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-nb201-'));
      // A plain CSV with one changed row proves the override is what gets read.
      fs.writeFileSync(path.join(dir, 'nb201_cifar100.csv'), text.replace(/^(\d+,[^,]+,\d+,[^,]+,[^,]+,[^,]+,[^,]+,[^,]+,[^,]+,[^,]+,)([\d.]+)/m, '$1' + '99.5'));
      process.env.TSNAS_NB201_DIR = dir;
      const rows = [...loadNb201Table('cifar100').values()];
      expect(Math.max(...rows.map((r) => r.testAcc200))).toBe(99.5);
      fs.rmSync(dir, { recursive: true });
    } finally {
      if (saved === undefined) delete process.env.TSNAS_NB201_DIR;
      else process.env.TSNAS_NB201_DIR = saved;
    }
  });

  it('names the fix when the tables are missing', () => {
    expect(() => new Nb201Evaluator({ dir: '/nonexistent/nb201' })).toThrow(DataDirError);
    expect(() => new Nb201Evaluator({ dir: '/nonexistent/nb201' })).toThrow(/pass --nb201-dir DIR or set TSNAS_NB201_DIR/);
  });
});
