/**
 * A small exact Gaussian process over encoded configurations (see encoding.ts). Kernel:
 *
 *   k(x, y) = amp * exp(-(wc * hamming/P + wn * |dnum|^2/Q + wp * |dpath|^2/T)),   plus noise * amp on the diagonal.
 *
 * The outputs are standardised; the amplitude is profiled out of the marginal likelihood (closed
 * form), and (wc, wn, wp, noise) are chosen on a small grid by the marginal likelihood.
 */
import { distParts, type EncodedBatch, type SpaceEncoder } from './encoding.js';
import { cholesky, cholSolve } from './linalg.js';

export interface GpHyper {
  wc: number;
  wn: number;
  wp: number;
  noise: number;
}

export interface GpModel {
  enc: SpaceEncoder;
  hyper: GpHyper;
  train: EncodedBatch;
  n: number;
  /** Lower Cholesky factor of the correlation matrix plus noise, row-major n x n. */
  L: Float64Array;
  /** (R + noise I)^-1 (y - mean) / sd, standardised. */
  alpha: Float64Array;
  yMean: number;
  ySd: number;
  /** Profiled signal variance in standardised units. */
  amp: number;
  logMl: number;
}

export function defaultGrid(enc: SpaceEncoder): GpHyper[] {
  const wcs = enc.cats.length ? [0.25, 0.5, 1, 2, 4] : [0];
  const wns = enc.nums.length ? [2, 8, 32] : [0];
  const wps = enc.paths.length ? [0, 1, 2, 4] : [0];
  const noises = [1e-3, 1e-2, 0.1];
  const out: GpHyper[] = [];
  for (const wc of wcs) for (const wn of wns) for (const wp of wps) for (const noise of noises) out.push({ wc, wn, wp, noise });
  return out;
}

/** Pairwise distance components of a batch with itself: three n x n matrices. */
export function selfParts(enc: SpaceEncoder, X: EncodedBatch): Float64Array[] {
  const n = X.n;
  const parts = [new Float64Array(n * n), new Float64Array(n * n), new Float64Array(n * n)];
  const buf = new Float64Array(3);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      distParts(enc, X, i, X, j, buf);
      for (let c = 0; c < 3; c++) {
        parts[c]![i * n + j] = buf[c]!;
        parts[c]![j * n + i] = buf[c]!;
      }
    }
  }
  return parts;
}

function fitOne(parts: Float64Array[], n: number, yc: Float64Array, h: GpHyper): { L: Float64Array; alpha: Float64Array; amp: number; logMl: number } | null {
  const K = new Float64Array(n * n);
  const [pc, pn, pp] = parts as [Float64Array, Float64Array, Float64Array];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const idx = i * n + j;
      const v = i === j ? 1 + h.noise : Math.exp(-(h.wc * pc[idx]! + h.wn * pn[idx]! + h.wp * pp[idx]!));
      K[idx] = v;
      K[j * n + i] = v;
    }
  }
  const L = cholesky(K, n);
  if (!L) return null;
  const alpha = cholSolve(L, n, yc);
  let quad = 0;
  for (let i = 0; i < n; i++) quad += yc[i]! * alpha[i]!;
  const amp = Math.max(quad / n, 1e-12);
  let logDet = 0;
  for (let i = 0; i < n; i++) logDet += Math.log(L[i * n + i]!);
  return { L, alpha, amp, logMl: -0.5 * n * Math.log(amp) - logDet };
}

/** Fits the GP on (X, y), choosing hyperparameters from `grid` by the profiled marginal likelihood. */
export function fitGp(enc: SpaceEncoder, X: EncodedBatch, y: readonly number[], grid: readonly GpHyper[] = defaultGrid(enc)): GpModel {
  const n = X.n;
  let mean = 0;
  for (const v of y) mean += v;
  mean /= n;
  let sd = 0;
  for (const v of y) sd += (v - mean) ** 2;
  sd = Math.sqrt(sd / n) || 1;
  const yc = Float64Array.from(y, (v) => (v - mean) / sd);
  const parts = selfParts(enc, X);
  let best: (ReturnType<typeof fitOne> & { h: GpHyper }) | null = null;
  for (const h of grid) {
    const f = fitOne(parts, n, yc, h);
    if (f && (!best || f.logMl > best.logMl)) best = { ...f, h };
  }
  if (!best) {
    const h = { wc: 1, wn: 1, wp: 0, noise: 1 };
    best = { ...fitOne(parts, n, yc, h)!, h };
  }
  return { enc, hyper: best.h, train: X, n, L: best.L, alpha: best.alpha, yMean: mean, ySd: sd, amp: best.amp, logMl: best.logMl };
}

/** Correlations between the training rows and the rows of C: n x N, row-major. */
export function crossKernel(m: GpModel, C: EncodedBatch): Float64Array {
  const n = m.n;
  const N = C.n;
  const { wc, wn, wp } = m.hyper;
  const Ks = new Float64Array(n * N);
  const buf = new Float64Array(3);
  for (let i = 0; i < n; i++) {
    const row = i * N;
    for (let j = 0; j < N; j++) {
      distParts(m.enc, m.train, i, C, j, buf);
      Ks[row + j] = Math.exp(-(wc * buf[0]! + wn * buf[1]! + wp * buf[2]!));
    }
  }
  return Ks;
}

/** Posterior mean (original units) from the cross-kernel matrix (n x N). */
export function meanFromKs(m: GpModel, Ks: Float64Array, N: number): Float64Array {
  const mu = new Float64Array(N);
  for (let i = 0; i < m.n; i++) {
    const a = m.alpha[i]!;
    const row = i * N;
    for (let j = 0; j < N; j++) mu[j] += a * Ks[row + j]!;
  }
  for (let j = 0; j < N; j++) mu[j] = m.yMean + m.ySd * mu[j]!;
  return mu;
}

/** Largest posterior standard deviation (the prior one), original units. */
export function priorSd(m: GpModel): number {
  return Math.sqrt(m.amp) * m.ySd;
}

/**
 * Posterior standard deviation (latent, original units) at columns `cols` of Ks (all when null).
 * Cost O(n^2 |cols|): the forward solve L^-1 Ks runs over all the columns at once, contiguously.
 */
export function sdFromKs(m: GpModel, Ks: Float64Array, N: number, cols: ArrayLike<number> | null = null): Float64Array {
  const n = m.n;
  const M = cols ? cols.length : N;
  let V: Float64Array;
  if (cols) {
    V = new Float64Array(n * M);
    for (let i = 0; i < n; i++) for (let c = 0; c < M; c++) V[i * M + c] = Ks[i * N + cols[c]!]!;
  } else {
    V = Float64Array.from(Ks);
  }
  const L = m.L;
  for (let i = 0; i < n; i++) {
    const row = i * M;
    for (let k = 0; k < i; k++) {
      const l = L[i * n + k]!;
      if (l === 0) continue;
      const rk = k * M;
      for (let j = 0; j < M; j++) V[row + j] -= l * V[rk + j]!;
    }
    const d = 1 / L[i * n + i]!;
    for (let j = 0; j < M; j++) V[row + j] *= d;
  }
  const var0 = new Float64Array(M).fill(1);
  for (let i = 0; i < n; i++) {
    const row = i * M;
    for (let j = 0; j < M; j++) var0[j] -= V[row + j]! * V[row + j]!;
  }
  const s = priorSd(m);
  const sd = new Float64Array(M);
  for (let j = 0; j < M; j++) sd[j] = s * Math.sqrt(Math.max(var0[j]!, 1e-12));
  return sd;
}

/** Posterior mean and standard deviation at the rows of C. */
export function predict(m: GpModel, C: EncodedBatch): { mu: Float64Array; sd: Float64Array } {
  const Ks = crossKernel(m, C);
  return { mu: meanFromKs(m, Ks, C.n), sd: sdFromKs(m, Ks, C.n) };
}
