/**
 * Diagnostic for `bo`'s Hartmann-6 local-minimum trap (docs/hpo.md): runs `bo` for N trials on one
 * seed, then (1) fits the mixed GP's hyperparameters (MAP) from 12 starting points (isotropic inverse
 * squared length scales 0.3, 1, 3, 10 and 8 log-uniform in [0.1, 30]) and prints each optimum, so
 * distinct posterior modes would show as distinct rows; (2) the profile of the negative log
 * posterior in the length scales of x2 and x4 (their inverse squares fixed at 3-100x the MAP's,
 * everything else re-optimised): how much posterior mass says "x2 / x4 matter".
 *
 *   npx tsx bench/bo-modes.ts 1 50      # seed 1, 50 trials
 */
import { Experiment } from '../src/core/experiment.js';
import { MemoryStore } from '../src/store/memory.js';
import { createStrategy } from '../src/strategy/index.js';
import { fitHyper, hyperObjective, MIN_NOISE, type MaternHyper } from '../src/strategy/gp-matern.js';
import { lbfgs } from '../src/strategy/lbfgs.js';
import { Rng } from '../src/util/rng.js';
import { PROBLEMS } from './hpo.js';

const prob = PROBLEMS.hartmann6!;
const seed = Number(process.argv[2] ?? 1);
const N = Number(process.argv[3] ?? 50);
const exp = Experiment.open({ store: new MemoryStore(), name: 'bo-modes', strategy: createStrategy('bo', {}), space: prob.space, directions: ['minimize'], seed });
await exp.optimize((t) => prob.f(t.params), { nTrials: N });
const tr = exp.trials().filter((t) => t.state === 'COMPLETE');
const D = 6;
const n = tr.length;
const X = new Float64Array(n * D);
tr.forEach((t, i) => {
  for (let d = 0; d < D; d++) X[i * D + d] = t.params[`x${d}`] as number;
});
const y = tr.map((t) => -t.values![0]!); // bo maximises the score
const isCat = new Uint8Array(D);
const obj = hyperObjective(X, n, D, isCat, y);
const theta = (h: MaternHyper) => Float64Array.from([...Array.from(h.ils, Math.log), Math.log(h.amp), Math.log(h.noise - MIN_NOISE)]);
const g = new Float64Array(D + 2);
const rng = new Rng(7);
const inits: [string, number[]][] = [0.3, 1, 3, 10].map((v) => [`iso ${v}`, Array(D).fill(v)]);
for (let r = 0; r < 8; r++) inits.push([`random ${r}`, Array.from({ length: D }, () => Math.exp(Math.log(0.1) + rng.random() * Math.log(300)))]);
console.log(`hartmann6, seed ${seed}, ${n} trials: MAP from 12 starts (neg. log posterior, inverse squared length scales x0..x5)`);
let best: MaternHyper | null = null;
let bestF = Infinity;
for (const [name, ils] of inits) {
  const h = fitHyper(X, n, D, isCat, y, { ils: Float64Array.from(ils), amp: 1, noise: 0.1 }, 200);
  const f = obj(theta(h), g);
  if (f < bestF) [best, bestF] = [h, f];
  console.log(`${name.padEnd(9)} ${f.toFixed(2).padStart(8)}  ${Array.from(h.ils, (v) => v.toFixed(2)).join(' ')}`);
}
for (const dim of [2, 4]) {
  const row = [3, 10, 30, 100].map((fac) => {
    const t0 = theta(best!);
    t0[dim] += Math.log(fac);
    const fixed = Array.from({ length: D + 2 }, (_, i) => (i === dim ? 1 : 0));
    const r = lbfgs(obj, t0, { maxIter: 200, lower: -20, upper: 20, gtol: 1e-4, ftol: 1e-8, fixed });
    return `x${fac}: +${(r.f - bestF).toFixed(1)}`;
  });
  console.log(`profile of x${dim}'s inverse squared length scale (others re-fitted), increase of the neg. log posterior: ${row.join(', ')}`);
}
