/**
 * Issue 18 item 9: grid search enumerates lazily. The chain space (about 10^20 points) starts its
 * first trial at once in bounded memory, a large JSON grid works, exhaustion is still detected, and
 * the order is a deterministic function of the seed (the same as before for grids up to 2^20 points).
 */
import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { chainSpace } from '../../src/space/arch/chain.js';
import { gridIterator, gridSize, IndexedGrid } from '../../src/space/grid.js';
import { paramsKey, validateParams, validateSpace, type Params, type SearchSpace } from '../../src/space/params.js';
import { MemoryStore } from '../../src/store/memory.js';
import { feistelPermutation, GridStrategy } from '../../src/strategy/grid.js';
import { Rng } from '../../src/util/rng.js';

async function firstTrials(space: SearchSpace, n: number, seed = 3): Promise<Params[]> {
  const exp = Experiment.open({ store: new MemoryStore(), name: 'g', strategy: new GridStrategy(), space, seed });
  await exp.optimize(() => 1, { nTrials: n });
  return exp.trials().map((t) => t.params);
}

describe('lazy grid (issue 18.9)', () => {
  it('chain space: counts 10^20-odd points and runs its first trials in well under a second, in bounded memory', async () => {
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const grid = new IndexedGrid(chainSpace.space);
    const pts = await firstTrials(chainSpace.space, 20);
    const ms = performance.now() - t0;
    expect(grid.size > 10n ** 17n).toBe(true);
    expect(ms).toBeLessThan(500);
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(64 * 1024 * 1024);
    expect(new Set(pts.map(paramsKey)).size).toBe(20);
    for (const p of pts) validateParams(chainSpace.space, p);
    // The permutation spreads the first points over the grid (not 20 neighbours that differ only in the last parameters).
    expect(new Set(pts.map((p) => p.layer_0_op)).size).toBeGreaterThan(2);
    // Same seed, same order; another seed, another order.
    expect(await firstTrials(chainSpace.space, 20)).toEqual(pts);
    expect(await firstTrials(chainSpace.space, 20, 4)).not.toEqual(pts);
  });

  it('IndexedGrid.at agrees with enumeration on a conditional space, and sizes a 10^9-value axis without building it', () => {
    const s = validateSpace({
      params: {
        k: { type: 'categorical', choices: ['a', 'b', 'c'] },
        n: { type: 'int', low: 1, high: 3, when: { k: ['b', 'c'] } },
        m: { type: 'categorical', choices: [true, false], when: { k: ['c'], n: [2, 3] } },
        x: { type: 'float', low: 0, high: 1, step: 0.25 },
      },
    });
    const g = new IndexedGrid(s);
    // a: 5; b: 3 * 5; c: (1 + 2 * 2) * 5
    expect(g.size).toBe(5n + 15n + 25n);
    const all = [...gridIterator(s)];
    expect(all.length).toBe(45);
    expect(new Set(all.map(paramsKey)).size).toBe(45);
    expect(all[0]).toEqual({ k: 'a', x: 0 });
    expect(all[44]).toEqual({ k: 'c', n: 3, m: false, x: 1 });
    for (const p of all) validateParams(s, p);
    const big = validateSpace({ params: { i: { type: 'int', low: 0, high: 999_999_999 }, f: { type: 'float', low: 0, high: 1e6, step: 0.001 } } });
    expect(new IndexedGrid(big).size).toBe(1_000_000_000n * 1_000_000_001n);
    expect(new IndexedGrid(big).at(1_000_000_001n * 7n + 3n)).toEqual({ i: 7, f: 0.003 });
  });

  it('a large JSON grid (40 parameters x 10 values = 10^40 points) works', async () => {
    const params: SearchSpace['params'] = {};
    for (let i = 0; i < 40; i++) params[`p${i}`] = { type: 'int', low: 0, high: 9 };
    const space = validateSpace({ params });
    const t0 = performance.now();
    const pts = await firstTrials(space, 50);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(new Set(pts.map(paramsKey)).size).toBe(50);
    expect(gridSize(space)).toBe(1e40);
  });

  it('exhaustion is detected on a grid above the shuffle limit (Feistel order visits every index once)', async () => {
    const perm = feistelPermutation(1000n, Rng.derive(1, 'x'));
    const seen = new Set<bigint>();
    for (let k = 0n; k < 1000n; k++) seen.add(perm(k));
    expect(seen.size).toBe(1000);
    expect([...seen].every((v) => v >= 0n && v < 1000n)).toBe(true);
    const space = validateSpace({ params: { a: { type: 'int', low: 1, high: 3 }, b: { type: 'categorical', choices: ['x', 'y'] } } });
    const exp = Experiment.open({ store: new MemoryStore(), name: 'e', strategy: new GridStrategy(), space, seed: 0 });
    await exp.optimize(() => 1, { nTrials: 100 });
    expect(exp.trials()).toHaveLength(6);
    expect(new Set(exp.trials().map((t) => paramsKey(t.params))).size).toBe(6);
  });

  it('keeps the earlier shuffled order for small grids (resumed experiments continue the same way)', async () => {
    const space = validateSpace({ params: { a: { type: 'int', low: 0, high: 4 }, b: { type: 'categorical', choices: ['x', 'y', 'z'] } } });
    const before = Rng.derive(3, 'grid-order').shuffle([...gridIterator(space)]); // what the materialising version did
    expect(await firstTrials(space, 15)).toEqual(before);
  });
});
