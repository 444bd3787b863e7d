/**
 * Exact Gaussian process for continuous, integer and mixed spaces (the `bo` strategy's model outside
 * finite architecture spaces), as Optuna's GPSampler / BoTorch build it:
 *
 *   k(x, y) = amp * matern52(r),  r^2 = sum_d ils_d * dist_d(x, y),  + noise on the diagonal,
 *
 * with dist_d = (x_d - y_d)^2 on numeric dimensions (unit cube) and the Hamming term [x_d != y_d] on
 * categorical ones (value = choice index). Outputs are standardised; the inverse squared length
 * scales `ils`, `amp` and `noise` maximise the log marginal likelihood plus the log priors of
 * Optuna's GPSampler (ils: -(0.1/ils + 0.1 ils); amp ~ Gamma(2, 1); noise ~ Gamma(1.1, 30), at least
 * 1e-6), by L-BFGS over their logs with the analytic gradient 0.5 tr((a a^T - K^-1) dK/dtheta).
 */
import { lbfgs } from './lbfgs.js';
import { cholesky, cholInverse, cholLogDet, cholSolve, solveLower, solveUpperT } from './linalg.js';

const SQRT5 = Math.sqrt(5);
export const MIN_NOISE = 1e-6;

export interface MaternHyper {
  ils: Float64Array;
  amp: number;
  noise: number;
}

export interface MaternGp {
  /** Training inputs, n x D row-major. */
  X: Float64Array;
  n: number;
  D: number;
  /** 1 for a categorical (Hamming) dimension. */
  isCat: Uint8Array;
  hyper: MaternHyper;
  L: Float64Array;
  /** K^-1 y (standardised y). */
  alpha: Float64Array;
  yMean: number;
  ySd: number;
  /** Standardised training targets. */
  ys: Float64Array;
}

/** matern52 as a function of r^2, and its derivative in r^2. */
export function matern52(r2: number): { k: number; dk: number } {
  const r = Math.sqrt(r2);
  const e = Math.exp(-SQRT5 * r);
  return { k: (1 + SQRT5 * r + (5 / 3) * r2) * e, dk: (-5 / 6) * (1 + SQRT5 * r) * e };
}

/** The kernel's per-dimension distance: squared difference on numeric dimensions, Hamming on categorical ones. */
export function dist(a: number, b: number, cat: number): number {
  return cat ? (a === b ? 0 : 1) : (a - b) * (a - b);
}

/** Pairwise per-dimension distances of the rows of X (pairs i > j, packed), D per pair. */
function pairDists(X: Float64Array, n: number, D: number, isCat: Uint8Array): Float64Array {
  const P = new Float64Array(((n * (n - 1)) / 2) * D);
  let o = 0;
  for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) for (let d = 0; d < D; d++) P[o++] = dist(X[i * D + d]!, X[j * D + d]!, isCat[d]!);
  return P;
}

function unpack(theta: Float64Array, D: number): MaternHyper {
  return { ils: theta.slice(0, D).map(Math.exp), amp: Math.exp(theta[D]!), noise: MIN_NOISE + Math.exp(theta[D + 1]!) };
}

/** Kernel matrix (with noise) from packed distances; also the packed dk/dr^2 * amp when `dk` is given. */
function kernelMatrix(P: Float64Array, n: number, D: number, h: MaternHyper, dk?: Float64Array): Float64Array {
  const K = new Float64Array(n * n);
  let o = 0;
  let p = 0;
  for (let i = 0; i < n; i++) {
    K[i * n + i] = h.amp + h.noise;
    for (let j = 0; j < i; j++) {
      let r2 = 0;
      for (let d = 0; d < D; d++) r2 += h.ils[d]! * P[o + d]!;
      o += D;
      const m = matern52(r2);
      K[i * n + j] = K[j * n + i] = h.amp * m.k;
      if (dk) dk[p] = h.amp * m.dk;
      p++;
    }
  }
  return K;
}

/** Negative log posterior of theta = [log ils (D), log amp, log(noise - MIN_NOISE)] and its gradient. */
function negLogPosterior(theta: Float64Array, grad: Float64Array, P: Float64Array, n: number, D: number, y: Float64Array): number {
  const h = unpack(theta, D);
  const dk = new Float64Array((n * (n - 1)) / 2);
  const K = kernelMatrix(P, n, D, h, dk);
  const L = cholesky(K, n);
  if (!L) {
    grad.fill(0);
    return Infinity;
  }
  const a = cholSolve(L, n, y);
  let quad = 0;
  for (let i = 0; i < n; i++) quad += y[i]! * a[i]!;
  const logMl = -0.5 * quad - 0.5 * cholLogDet(L, n) - 0.5 * n * Math.log(2 * Math.PI);
  let prior = (2 - 1) * Math.log(h.amp) - h.amp + (1.1 - 1) * Math.log(h.noise) - 30 * h.noise;
  for (let d = 0; d < D; d++) prior -= 0.1 / h.ils[d]! + 0.1 * h.ils[d]!;
  // W = a a^T - K^-1; d logMl / d theta = 0.5 * sum_ij W_ij dK_ij.
  const Ki = cholInverse(L, n);
  grad.fill(0);
  let gAmp = 0;
  let gNoise = 0;
  let o = 0;
  let p = 0;
  for (let i = 0; i < n; i++) {
    const wii = a[i]! * a[i]! - Ki[i * n + i]!;
    gAmp += 0.5 * wii * h.amp;
    gNoise += 0.5 * wii;
    for (let j = 0; j < i; j++) {
      const w = a[i]! * a[j]! - Ki[i * n + j]!; // counted twice (ij and ji), times 0.5
      gAmp += w * (K[i * n + j]!);
      const c = w * dk[p++]!;
      for (let d = 0; d < D; d++) grad[d] += c * P[o + d]!;
      o += D;
    }
  }
  for (let d = 0; d < D; d++) grad[d] = -(grad[d]! * h.ils[d]! + (0.1 / h.ils[d]! - 0.1 * h.ils[d]!));
  const en = h.noise - MIN_NOISE;
  grad[D] = -(gAmp + 1 - h.amp);
  grad[D + 1] = -(gNoise * en + (0.1 / h.noise - 30) * en);
  return -(logMl + prior);
}

/** The negative log posterior of theta = [log ils, log amp, log(noise - MIN_NOISE)] on (X, y) and its gradient (for tests and tools). */
export function hyperObjective(X: Float64Array, n: number, D: number, isCat: Uint8Array, y: ArrayLike<number>): (theta: Float64Array, grad: Float64Array) => number {
  const { ys } = standardise(y);
  const P = pairDists(X, n, D, isCat);
  return (theta, grad) => negLogPosterior(theta, grad, P, n, D, ys);
}

/** Standardised targets. */
function standardise(y: ArrayLike<number>): { ys: Float64Array; mean: number; sd: number } {
  const n = y.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i]!;
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (y[i]! - mean) ** 2;
  const sd = Math.sqrt(v / n) || 1;
  return { ys: Float64Array.from(y, (t) => (t - mean) / sd), mean, sd };
}

/** Maximum a posteriori hyperparameters on (X, y), starting from `init` (default: ils 1, amp 1, noise 0.1). */
export function fitHyper(X: Float64Array, n: number, D: number, isCat: Uint8Array, y: ArrayLike<number>, init?: MaternHyper, maxIter = 80): MaternHyper {
  const { ys } = standardise(y);
  const P = pairDists(X, n, D, isCat);
  const theta0 = new Float64Array(D + 2);
  for (let d = 0; d < D; d++) theta0[d] = Math.log(init ? init.ils[d]! : 1);
  theta0[D] = Math.log(init ? init.amp : 1);
  theta0[D + 1] = Math.log(Math.max((init ? init.noise : 0.1) - MIN_NOISE, 1e-12));
  const r = lbfgs((t, g) => negLogPosterior(t, g, P, n, D, ys), theta0, { maxIter, lower: -20, upper: 20, gtol: 1e-4, ftol: 1e-8 });
  return unpack(r.x, D);
}

/** Conditions the GP with hyperparameters `h` on (X, y); the Cholesky is retried with more jitter if needed. */
export function condition(X: Float64Array, n: number, D: number, isCat: Uint8Array, y: ArrayLike<number>, h: MaternHyper): MaternGp {
  const { ys, mean, sd } = standardise(y);
  const P = pairDists(X, n, D, isCat);
  let L: Float64Array | null = null;
  for (let jitter = 0; !L; jitter = jitter ? jitter * 10 : 1e-8) {
    const K = kernelMatrix(P, n, D, { ...h, noise: h.noise + jitter });
    L = cholesky(K, n);
    if (jitter > 1) throw new Error('gp: kernel matrix not positive definite');
  }
  return { X, n, D, isCat, hyper: h, L, alpha: cholSolve(L, n, ys), yMean: mean, ySd: sd, ys };
}

export interface Posterior {
  /** Standardised latent mean and variance. */
  mu: number;
  v: number;
  /** d mu / dx and d v / dx (numeric dimensions; zero on categorical ones), when asked. */
  dmu?: Float64Array;
  dv?: Float64Array;
}

/** Posterior of the latent function at x (length D), optionally with gradients. `buf` avoids allocations. */
export function posterior(gp: MaternGp, x: ArrayLike<number>, grad: boolean, buf?: { k: Float64Array; dk: Float64Array; w: Float64Array }): Posterior {
  const { n, D, X, isCat, hyper: h } = gp;
  const k = buf?.k ?? new Float64Array(n);
  const dks = buf?.dk ?? new Float64Array(n);
  let mu = 0;
  for (let i = 0; i < n; i++) {
    let r2 = 0;
    const row = i * D;
    for (let d = 0; d < D; d++) r2 += h.ils[d]! * dist(x[d]!, X[row + d]!, isCat[d]!);
    const m = matern52(r2);
    k[i] = h.amp * m.k;
    dks[i] = h.amp * m.dk;
    mu += gp.alpha[i]! * k[i]!;
  }
  const w = solveLower(gp.L, n, k, buf?.w);
  let vv = 0;
  for (let i = 0; i < n; i++) vv += w[i]! * w[i]!;
  const v = Math.max(h.amp - vv, 1e-12);
  if (!grad) return { mu, v };
  solveUpperT(gp.L, n, w, w); // w = K^-1 k
  const dmu = new Float64Array(D);
  const dv = new Float64Array(D);
  for (let i = 0; i < n; i++) {
    const row = i * D;
    const a = gp.alpha[i]! * dks[i]!;
    const b = -2 * w[i]! * dks[i]!;
    for (let d = 0; d < D; d++) {
      if (isCat[d]) continue;
      const dr2 = 2 * h.ils[d]! * (x[d]! - X[row + d]!);
      dmu[d] += a * dr2;
      dv[d] += b * dr2;
    }
  }
  return { mu, v, dmu, dv };
}
