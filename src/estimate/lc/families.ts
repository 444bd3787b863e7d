/**
 * Parametric learning-curve families (Domhan, Springenberg & Hutter, IJCAI 2015), for increasing
 * curves y(x) of a step x >= 1. Rates and exponents are fitted on a log scale so they stay positive.
 * Each family gives starting points from the data (linear least squares where the family is linear
 * once its rate is fixed), which Levenberg–Marquardt then refines.
 */
import { solve } from './lm.js';

export interface CurveFamily {
  readonly name: string;
  /** Number of parameters. */
  readonly k: number;
  f(x: number, th: readonly number[]): number;
  /** Starting points for the fit. */
  init(xs: readonly number[], ys: readonly number[]): number[][];
}

/** Least-squares coefficients of ys on the given basis functions (null when degenerate). */
export function linearFit(xs: readonly number[], ys: readonly number[], basis: ((x: number) => number)[]): number[] | null {
  const k = basis.length;
  const rows = xs.map((x) => basis.map((b) => b(x)));
  const A = Array.from({ length: k }, (_, a) => Array.from({ length: k }, (_, b) => rows.reduce((s, r) => s + r[a]! * r[b]!, 0) + (a === b ? 1e-12 : 0)));
  const v = Array.from({ length: k }, (_, a) => rows.reduce((s, r, i) => s + r[a]! * ys[i]!, 0));
  return solve(A, v);
}

const one = () => 1;
const lastX = (xs: readonly number[]) => xs[xs.length - 1]!;

/** y = c - a x^-alpha */
export const pow3: CurveFamily = {
  name: 'pow3',
  k: 3,
  f: (x, [c, a, la]) => c! - a! * x ** -Math.exp(la!),
  init(xs, ys) {
    const out: number[][] = [];
    for (const al of [0.25, 0.5, 1, 2]) {
      const co = linearFit(xs, ys, [one, (x) => -(x ** -al)]);
      if (co) out.push([co[0]!, co[1]!, Math.log(al)]);
    }
    return out;
  },
};

/** y = a / (1 + (x / e^b)^c), c < 0 for an increasing curve */
export const logPower: CurveFamily = {
  name: 'log_power',
  k: 3,
  f: (x, [a, b, c]) => a! / (1 + (x / Math.exp(b!)) ** c!),
  init(xs, ys) {
    const y0 = ys[0]!;
    const a = Math.max(...ys) * 1.1 + 1e-6;
    const out: number[][] = [];
    for (const c of [-0.5, -1, -2]) {
      const ratio = a / Math.max(y0, 1e-6) - 1;
      if (ratio > 0) out.push([a, Math.log(xs[0]!) - Math.log(ratio) / c, c]);
    }
    return out;
  },
};

/** y = c - exp(-a x + b) */
export const exp3: CurveFamily = {
  name: 'exp3',
  k: 3,
  f: (x, [c, la, b]) => c! - Math.exp(-Math.exp(la!) * x + b!),
  init(xs, ys) {
    const out: number[][] = [];
    for (const m of [0.3, 1, 3]) {
      const a = m / lastX(xs);
      const co = linearFit(xs, ys, [one, (x) => -Math.exp(-a * x)]);
      if (co && co[1]! > 0) out.push([co[0]!, Math.log(a), Math.log(co[1]!)]);
    }
    return out;
  },
};

/** Inits for the alpha - (alpha - beta) * g(kappa x) families with delta = 1. */
function satInit(xs: readonly number[], ys: readonly number[], g: (kx: number) => number): number[][] {
  const out: number[][] = [];
  for (const m of [0.3, 1, 3]) {
    const kappa = m / lastX(xs);
    const co = linearFit(xs, ys, [one, (x) => g(kappa * x)]);
    if (co) out.push([co[0]!, co[0]! + co[1]!, Math.log(kappa), 0]);
  }
  return out;
}

/** y = alpha - (alpha - beta) exp(-kappa x^delta) */
export const janoschek: CurveFamily = {
  name: 'janoschek',
  k: 4,
  f: (x, [al, be, lk, ld]) => al! - (al! - be!) * Math.exp(-Math.exp(lk!) * x ** Math.exp(ld!)),
  init: (xs, ys) => satInit(xs, ys, (kx) => Math.exp(-kx)),
};

/** y = alpha - (alpha - beta) exp(-(kappa x)^delta) */
export const weibull: CurveFamily = {
  name: 'weibull',
  k: 4,
  f: (x, [al, be, lk, ld]) => al! - (al! - be!) * Math.exp(-((Math.exp(lk!) * x) ** Math.exp(ld!))),
  init: (xs, ys) => satInit(xs, ys, (kx) => Math.exp(-kx)),
};

/** y = alpha - (alpha - beta) / (1 + (kappa x)^delta) (Morgan-Mercer-Flodin) */
export const mmf: CurveFamily = {
  name: 'mmf',
  k: 4,
  f: (x, [al, be, lk, ld]) => al! - (al! - be!) / (1 + (Math.exp(lk!) * x) ** Math.exp(ld!)),
  init: (xs, ys) => satInit(xs, ys, (kx) => 1 / (1 + kx)),
};

/** y = exp(a + b / x + c ln x) */
export const vaporPressure: CurveFamily = {
  name: 'vapor_pressure',
  k: 3,
  f: (x, [a, b, c]) => Math.exp(a! + b! / x + c! * Math.log(x)),
  init(xs, ys) {
    if (ys.some((y) => !(y > 0))) return [];
    const co = linearFit(xs, ys.map(Math.log), [one, (x) => 1 / x, Math.log]);
    return co ? [co] : [];
  },
};

/** y = c - a / ln(x + 1) */
export const ilog2: CurveFamily = {
  name: 'ilog2',
  k: 2,
  f: (x, [c, a]) => c! - a! / Math.log(x + 1),
  init(xs, ys) {
    const co = linearFit(xs, ys, [one, (x) => -1 / Math.log(x + 1)]);
    return co ? [co] : [];
  },
};

export const FAMILIES: readonly CurveFamily[] = [pow3, logPower, exp3, janoschek, mmf, weibull, vaporPressure, ilog2];

export function familyByName(name: string): CurveFamily {
  const f = FAMILIES.find((x) => x.name === name);
  if (!f) throw new Error(`unknown curve family "${name}"; known: ${FAMILIES.map((x) => x.name).join(', ')}`);
  return f;
}
