/**
 * Synthetic search problems shared by the strategy tests (a test file imported by another would run
 * its tests twice, so they live here): spaces with a known optimum and helpers to race strategies.
 */
import { Experiment } from '../../src/core/experiment.js';
import { paramsKey, type Params, type SearchSpace } from '../../src/space/params.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { Strategy } from '../../src/core/strategy.js';
import { Rng } from '../../src/util/rng.js';

const LEVELS = ['a', 'b', 'c', 'd', 'e'];
const W = [0, 0.3, 0.6, 1, 0.2];
export const SYN_SPACE: SearchSpace = {
  params: {
    c0: { type: 'categorical', choices: LEVELS },
    c1: { type: 'categorical', choices: LEVELS },
    c2: { type: 'categorical', choices: LEVELS },
    c3: { type: 'categorical', choices: LEVELS },
    x: { type: 'float', low: 0, high: 1 },
  },
};
/** Maximum 3.0 at c* = 'd', x = 0.7. */
export function synthetic(p: Params): number {
  const idx = (k: string) => LEVELS.indexOf(p[k] as string);
  let f = 0;
  for (let k = 0; k < 4; k++) f += (W[idx(`c${k}`)]! * (k + 1)) / 4;
  if (idx('c0') === idx('c1')) f += 0.5;
  if (typeof p.x === 'number') f -= 2 * (p.x - 0.7) ** 2;
  return f;
}

/** Trials until the best value is within `tol` of the optimum (cap: nTrials + 1), and the best value found. */
export async function search(make: () => Strategy, space: SearchSpace, seed: number, nTrials: number, opt = 3, tol = 0.1): Promise<{ hit: number; best: number }> {
  const exp = Experiment.open({ store: new MemoryStore(), name: 's', strategy: make(), space, seed });
  // Yield to the event loop between trials (keeps the test runner's RPC alive during long CPU stretches).
  const trials = await exp.optimize(async (t) => {
    await new Promise((r) => setImmediate(r));
    return synthetic(t.params);
  }, { nTrials });
  const hit = trials.findIndex((t) => t.values![0]! >= opt - tol);
  return { hit: hit < 0 ? nTrials + 1 : hit + 1, best: Math.max(...trials.map((t) => t.values![0]!)) };
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export const CHOICES = ['a', 'b', 'c', 'd', 'e'];
/** Four 5-way choices, additive, optimum 'd' everywhere (625 points). */
export const SPACE: SearchSpace = {
  params: Object.fromEntries([0, 1, 2, 3].map((i) => [`x${i}`, { type: 'categorical' as const, choices: CHOICES }])),
};
export const TABLE = (() => {
  const rng = new Rng(7);
  return [0, 1, 2, 3].map(() => CHOICES.map((_, k) => (k === 3 ? 1 : 0.7 * rng.random())));
})();
export const additive = (p: Params) => [0, 1, 2, 3].reduce((s, i) => s + TABLE[i]![CHOICES.indexOf(p[`x${i}`] as string)]!, 0);
export const OPT = paramsKey({ x0: 'd', x1: 'd', x2: 'd', x3: 'd' });


/** A conditional, mixed space: every kind of parameter and a two-level condition. */
export const COND_SPACE: SearchSpace = {
  params: {
    kind: { type: 'categorical', choices: ['mlp', 'cnn'] },
    width: { type: 'int', low: 8, high: 512, log: true, when: { kind: ['mlp'] } },
    layers: { type: 'int', low: 1, high: 4, when: { kind: ['cnn'] } },
    kernel: { type: 'categorical', choices: [3, 5], when: { layers: [3, 4] } },
    lr: { type: 'float', low: 1e-4, high: 1e-1, log: true },
    dropout: { type: 'float', low: 0, high: 0.5, step: 0.1 },
  },
};
export const condObjective = (p: Params) =>
  (p.kind === 'cnn' ? 1 + (p.layers as number) * 0.1 + (p.kernel === 5 ? 0.2 : 0) : Math.log(p.width as number) / 10) -
  Math.abs(Math.log10(p.lr as number) + 2.5) * 0.1 -
  (p.dropout as number);
