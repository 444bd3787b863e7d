/**
 * Dense linear algebra for the small (n <= a few hundred) symmetric positive-definite systems of the
 * Gaussian processes: Cholesky factor, triangular solves, inverse from the factor. Row-major
 * Float64Array, n x n; written here (no BLAS in reach of a Node library) and kept cache-friendly.
 */

/** Cholesky of a symmetric positive-definite matrix (row-major, lower factor); null when not positive definite. */
export function cholesky(A: Float64Array, n: number): Float64Array | null {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s = A[ri + j]!;
      for (let k = 0; k < j; k++) s -= L[ri + k]! * L[rj + k]!;
      if (i === j) {
        if (!(s > 0)) return null;
        L[ri + i] = Math.sqrt(s);
      } else {
        L[ri + j] = s / L[rj + j]!;
      }
    }
  }
  return L;
}

/** Solves L z = b (L lower triangular), in place in `out` (may alias b). */
export function solveLower(L: Float64Array, n: number, b: ArrayLike<number>, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[ri + k]! * out[k]!;
    out[i] = s / L[ri + i]!;
  }
  return out;
}

/** Solves L^T x = z (L lower triangular), in place in `out` (may alias z). */
export function solveUpperT(L: Float64Array, n: number, z: ArrayLike<number>, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * out[k]!;
    out[i] = s / L[i * n + i]!;
  }
  return out;
}

/** Solves L L^T x = b. */
export function cholSolve(L: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const z = solveLower(L, n, b);
  return solveUpperT(L, n, z, z);
}

/** (L L^T)^-1, symmetric, row-major: inverts L, then forms L^-T L^-1. */
export function cholInverse(L: Float64Array, n: number): Float64Array {
  // Li = L^-1, lower triangular.
  const Li = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    Li[j * n + j] = 1 / L[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      const ri = i * n;
      for (let k = j; k < i; k++) s -= L[ri + k]! * Li[k * n + j]!;
      Li[ri + j] = s / L[ri + i]!;
    }
  }
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      // (Li^T Li)_ij = sum_k Li[k][i] Li[k][j], k >= max(i, j) = i.
      let s = 0;
      for (let k = i; k < n; k++) s += Li[k * n + i]! * Li[k * n + j]!;
      A[i * n + j] = s;
      A[j * n + i] = s;
    }
  }
  return A;
}

/** log det of L L^T. */
export function cholLogDet(L: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(L[i * n + i]!);
  return 2 * s;
}
