/**
 * The mixed BO's stall escape (src/strategy/bo-escape.ts): when it fires, that it frees runs that
 * plain log-EI leaves in a Hartmann-6 local minimum (the function of bench:hpo), and that the box
 * around a freed incumbent finishes the refinement.
 */
import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/core/experiment.js';
import { MemoryStore } from '../../src/store/memory.js';
import { escapePhase, stalled } from '../../src/strategy/bo-escape.js';
import { createStrategy } from '../../src/strategy/index.js';
import { PROBLEMS } from '../../bench/hpo.js';

const H6 = PROBLEMS.hartmann6!;

async function regret(seed: number, escape: boolean): Promise<number> {
  const exp = Experiment.open({ store: new MemoryStore(), name: 'h6', strategy: createStrategy('bo', { escape }), space: H6.space, directions: ['minimize'], seed });
  await exp.optimize((t) => H6.f(t.params), { nTrials: 100 });
  return exp.bestTrial()!.values![0]! - H6.optimum;
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

  it('refines around the incumbent once a new best came after a stall, until the next stall', () => {
    const flat = Array.from({ length: 25 }, (_, i) => (i < 12 ? i : 12));
    expect(escapePhase(flat)).toBe('escape');
    expect(escapePhase(flat.slice(0, 19))).toBe(null);
    const freed = [...flat, 13]; // a new best while stalled: the escape found it
    expect(escapePhase(freed)).toBe('refine');
    expect(escapePhase([...freed, 12, 13.5, 12])).toBe('refine'); // improving: still refining
    const early = [...flat.slice(0, 19), 13]; // a new best before any stall
    expect(escapePhase(early)).toBe(null);
    const again = [...freed, ...Array.from({ length: 10 }, () => 0)];
    expect(escapePhase(again)).toBe('escape'); // stalled again
  });

  it('finishes freed runs in the new basin (seeds 2 and 29: 0.064 and 0.036 with log-EI after the escape, < 0.005 with the box)', async () => {
    for (const seed of [2, 29]) expect(await regret(seed, true)).toBeLessThan(0.005);
  }, 120_000);

  it('frees Hartmann-6 runs that log-EI leaves in a local minimum (seeds 28 and 30: 0.45 without, < 0.01 with)', async () => {
    for (const seed of [28, 30]) {
      expect(await regret(seed, false)).toBeGreaterThan(0.1);
      expect(await regret(seed, true)).toBeLessThan(0.01);
    }
  }, 120_000);
});
