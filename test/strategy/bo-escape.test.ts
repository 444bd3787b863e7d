/**
 * The mixed BO's stall escape (src/strategy/bo-escape.ts): when it fires, and that it frees runs that
 * plain log-EI leaves in a Hartmann-6 local minimum without losing Branin's precision.
 */
import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import type { Params, SearchSpace } from '../../src/space/params.js';
import { MemoryStore } from '../../src/store/memory.js';
import { stalled } from '../../src/strategy/bo-escape.js';
import { BoStrategy } from '../../src/strategy/bo.js';

const HA = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]];
const HP = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((r) => r.map((v) => v * 1e-4));
const HALPHA = [1, 1.2, 3, 3.2];
const HARTMANN_MIN = -3.32236801141551;
const hartmann6 = (p: Params) =>
  -HALPHA.reduce((s, a, i) => s + a * Math.exp(-HA[i]!.reduce((e, c, j) => e + c * ((p[`x${j}`] as number) - HP[i]![j]!) ** 2, 0)), 0);
const H6_SPACE = { params: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`x${i}`, { type: 'float', low: 0, high: 1 }])) } as SearchSpace;

async function regret(seed: number, escape: boolean): Promise<number> {
  const exp = Experiment.open({ store: new MemoryStore(), name: 'h6', strategy: new BoStrategy({ escape }), space: H6_SPACE, directions: ['minimize'], seed });
  await exp.optimize((t) => hartmann6(t.params), { nTrials: 100 });
  return exp.bestTrial()!.values![0]! - HARTMANN_MIN;
}

describe('stall escape', () => {
  it('fires only when the best gained at most 1e-4 of the range over the last 10 observations, from 20 on', () => {
    const flat = Array.from({ length: 25 }, (_, i) => (i < 12 ? i : 12));
    expect(stalled(flat)).toBe(true);
    expect(stalled(flat.slice(0, 19))).toBe(false); // too early
    const rising = [...flat.slice(0, 24), 12.01]; // +0.01 over a range of 12: above 1e-4
    expect(stalled(rising)).toBe(false);
    const tiny = [...flat.slice(0, 24), 12 + 0.5e-3]; // +0.0005: below 1e-4 x 12
    expect(stalled(tiny)).toBe(true);
  });

  it('frees Hartmann-6 runs that log-EI leaves in a local minimum (seeds 28 and 30: 0.45 without, < 0.01 with)', async () => {
    for (const seed of [28, 30]) {
      expect(await regret(seed, false)).toBeGreaterThan(0.1);
      expect(await regret(seed, true)).toBeLessThan(0.01);
    }
  }, 120_000);
});
