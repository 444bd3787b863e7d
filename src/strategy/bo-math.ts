/** Small numeric helpers of the model-based strategies: normal CDF / quantile, (log) expected improvement, copula warping, training subsets, ParEGO. */
import type { Rng } from '../util/rng.js';

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 on erf, |error| < 1.5e-7). */
export function normCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

export function expectedImprovement(mu: number, sd: number, best: number): number {
  if (sd <= 1e-12) return Math.max(0, mu - best);
  const z = (mu - best) / sd;
  return (mu - best) * normCdf(z) + (sd * Math.exp(-0.5 * z * z)) / Math.sqrt(2 * Math.PI);
}

export function copulaIf(t: 'copula' | 'none', ys: number[]): number[] {
  return t === 'copula' ? copula(ys) : ys;
}

/** Ranks mapped to standard normal quantiles (ties share their mean rank). */
export function copula(ys: readonly number[]): number[] {
  const n = ys.length;
  const order = ys.map((_, i) => i).sort((a, b) => ys[a]! - ys[b]!);
  const out = new Array<number>(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && ys[order[j + 1]!] === ys[order[i]!]) j++;
    const q = normInv(((i + j) / 2 + 0.5) / n);
    for (let k = i; k <= j; k++) out[order[k]!] = q;
    i = j + 1;
  }
  return out;
}

/** Inverse standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normInv(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155211918];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -normInv(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Mills ratio Phi(-t) / phi(t) for t >= 2, by Laplace's continued fraction (double precision). */
function mills(t: number): number {
  let f = t;
  for (let k = t < 3 ? 100 : 40; k >= 1; k--) f = t + k / f;
  return 1 / f;
}

/** Standard normal CDF to double precision (series of erf near 0, continued fraction in the tails). */
export function normCdfExact(z: number): number {
  if (z > 3) return 1 - Math.exp(-0.5 * z * z - LOG_SQRT_2PI) * mills(z);
  if (z < -3) return Math.exp(-0.5 * z * z - LOG_SQRT_2PI) * mills(-z);
  const x = z / Math.SQRT2;
  const x2 = x * x;
  let term = x;
  let s = x;
  for (let k = 1; k < 60; k++) {
    term *= -x2 / k;
    const add = term / (2 * k + 1);
    s += add;
    if (Math.abs(add) < 1e-17 * Math.abs(s)) break;
  }
  return 0.5 + s / Math.sqrt(Math.PI);
}

/**
 * log h(z) with h(z) = phi(z) + z Phi(z) (EI = sigma * h((mu - best) / sigma)), stable for very
 * negative z, and h'(z) / h(z) = Phi(z) / h(z), phi(z) / h(z): the pieces of log-EI and its gradient.
 */
export function logH(z: number): { logH: number; cdfRatio: number; pdfRatio: number } {
  if (z >= -2) {
    const pdf = Math.exp(-0.5 * z * z - LOG_SQRT_2PI);
    const cdf = normCdfExact(z);
    const h = pdf + z * cdf;
    return { logH: Math.log(h), cdfRatio: cdf / h, pdfRatio: pdf / h };
  }
  const t = -z;
  const R = mills(t);
  // 1 - t R(t): series past t = 40, where the continued fraction's cancellation would cost digits.
  const it2 = 1 / (t * t);
  const q = t > 40 ? it2 * (1 - 3 * it2 * (1 - 5 * it2)) : 1 - t * R;
  return { logH: -0.5 * t * t - LOG_SQRT_2PI + Math.log(q), cdfRatio: R / q, pdfRatio: 1 / q };
}

/** log Phi(a) and phi(a) / Phi(a), stable for very negative a (probability of feasibility). */
export function logCdf(a: number): { logCdf: number; ratio: number } {
  if (a > -3) {
    const c = normCdfExact(a);
    return { logCdf: Math.log(c), ratio: Math.exp(-0.5 * a * a - LOG_SQRT_2PI) / c };
  }
  const R = mills(-a);
  return { logCdf: -0.5 * a * a - LOG_SQRT_2PI + Math.log(R), ratio: 1 / R };
}

/** The best half (by score) plus a random half of the rest. */
export function trainSubset(ys: number[], size: number, rng: Rng): number[] {
  const order = ys.map((_, i) => i).sort((a, b) => ys[b]! - ys[a]! || a - b);
  const nBest = Math.ceil(size / 2);
  const rest = order.slice(nBest);
  const pick = rng.sampleIndices(rest.length, size - nBest).map((i) => rest[i]!);
  return [...order.slice(0, nBest), ...pick].sort((a, b) => a - b);
}

/** ParEGO: augmented Chebyshev scalarisation of min-max normalised (maximised) objectives, random weights. */
export function parego(values: number[][], rng: Rng): number[] {
  const m = values[0]!.length;
  const w = Array.from({ length: m }, () => -Math.log(1 - rng.random()));
  const sw = w.reduce((a, b) => a + b, 0);
  const lo = Array.from({ length: m }, (_, k) => Math.min(...values.map((v) => v[k]!)));
  const hi = Array.from({ length: m }, (_, k) => Math.max(...values.map((v) => v[k]!)));
  return values.map((v) => {
    let mn = Infinity;
    let sum = 0;
    for (let k = 0; k < m; k++) {
      const f = (w[k]! / sw) * ((v[k]! - lo[k]!) / (hi[k]! - lo[k]! || 1));
      mn = Math.min(mn, f);
      sum += f;
    }
    return mn + 0.05 * sum;
  });
}
