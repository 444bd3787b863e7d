/**
 * Levenberg–Marquardt least squares with a forward-difference Jacobian, in plain TypeScript, for
 * the few-parameter curve families of learning-curve extrapolation.
 */

export type Model = (x: number, theta: readonly number[]) => number;

export interface LmResult {
  theta: number[];
  rss: number;
  /** Jacobian of the residual model at the solution (rows: points, columns: parameters). */
  jac: number[][];
  iterations: number;
}

export interface LmOptions {
  maxIterations?: number;
  tolerance?: number;
}

function rssOf(model: Model, xs: readonly number[], ys: readonly number[], th: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) {
    const r = ys[i]! - model(xs[i]!, th);
    s += r * r;
  }
  return Number.isFinite(s) ? s : Infinity;
}

export function jacobian(model: Model, xs: readonly number[], th: readonly number[]): number[][] {
  const J: number[][] = xs.map(() => new Array<number>(th.length).fill(0));
  for (let j = 0; j < th.length; j++) {
    const h = 1e-6 * Math.max(1, Math.abs(th[j]!));
    const up = [...th];
    up[j] = th[j]! + h;
    for (let i = 0; i < xs.length; i++) J[i]![j] = (model(xs[i]!, up) - model(xs[i]!, th)) / h;
  }
  return J;
}

/** Solves A x = b for a small symmetric positive definite A (Gaussian elimination, partial pivoting). */
export function solve(A: number[][], b: number[]): number[] | null {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    if (Math.abs(M[p]![c]!) < 1e-300) return null;
    [M[c], M[p]] = [M[p]!, M[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = M[r]![c]! / M[c]![c]!;
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= M[r]![k]! * x[k]!;
    x[r] = s / M[r]![r]!;
  }
  return x.every(Number.isFinite) ? x : null;
}

export function levenbergMarquardt(model: Model, xs: readonly number[], ys: readonly number[], theta0: readonly number[], opts: LmOptions = {}): LmResult {
  let th = [...theta0];
  let rss = rssOf(model, xs, ys, th);
  let lambda = 1e-3;
  const k = th.length;
  let it = 0;
  let converged = false;
  for (; it < (opts.maxIterations ?? 200) && Number.isFinite(rss) && !converged; it++) {
    const J = jacobian(model, xs, th);
    const r = xs.map((x, i) => ys[i]! - model(x, th));
    const JtJ = Array.from({ length: k }, (_, a) => Array.from({ length: k }, (_, b) => J.reduce((s, row) => s + row[a]! * row[b]!, 0)));
    const Jtr = Array.from({ length: k }, (_, a) => J.reduce((s, row, i) => s + row[a]! * r[i]!, 0));
    let improved = false;
    for (let tries = 0; tries < 12; tries++) {
      const A = JtJ.map((row, a) => row.map((v, b) => (a === b ? v + lambda * (v + 1e-9) : v)));
      const step = solve(A, Jtr);
      if (step) {
        const cand = th.map((v, j) => v + step[j]!);
        const cr = rssOf(model, xs, ys, cand);
        if (cr < rss) {
          const rel = (rss - cr) / Math.max(rss, 1e-300);
          th = cand;
          rss = cr;
          lambda = Math.max(lambda / 3, 1e-12);
          improved = true;
          if (rel < (opts.tolerance ?? 1e-10)) converged = true;
          break;
        }
      }
      lambda *= 4;
    }
    if (!improved) break;
  }
  return { theta: th, rss, jac: jacobian(model, xs, th), iterations: it };
}
