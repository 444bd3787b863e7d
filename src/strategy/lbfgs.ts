/**
 * Limited-memory BFGS with box bounds by projection (an L-BFGS-B in its simplest form): the two-loop
 * direction over the free variables (those not held at a bound by their gradient), a projected
 * backtracking Armijo search along it, and a steepest-descent restart when the direction is not a
 * descent one. Used to fit GP hyperparameters (unbounded) and to maximise acquisitions (unit box).
 */

export interface LbfgsOptions {
  maxIter?: number;
  /** Memory (pairs kept). Default 8. */
  m?: number;
  lower?: number;
  upper?: number;
  /** Stop when the projected gradient's largest entry is below this. Default 1e-6. */
  gtol?: number;
  /** Stop when f improves by less than ftol * (1 + |f|) in an iteration. Default 1e-9. */
  ftol?: number;
  /** Variables that must not move (e.g. inactive dimensions). */
  fixed?: ArrayLike<boolean | number>;
}

/** Minimises f; `fg(x, g)` returns f(x) and writes the gradient into g. `x0` is not modified. */
export function lbfgs(fg: (x: Float64Array, g: Float64Array) => number, x0: Float64Array, o: LbfgsOptions = {}): { x: Float64Array; f: number; iters: number } {
  const D = x0.length;
  const maxIter = o.maxIter ?? 100;
  const M = o.m ?? 8;
  const lo = o.lower ?? -Infinity;
  const hi = o.upper ?? Infinity;
  const gtol = o.gtol ?? 1e-6;
  const ftol = o.ftol ?? 1e-9;
  const clamp = (v: number) => (v < lo ? lo : v > hi ? hi : v);
  let x = Float64Array.from(x0, (v, i) => (o.fixed?.[i] ? v : clamp(v)));
  let g = new Float64Array(D);
  let f = fg(x, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(M);
  const d = new Float64Array(D);
  const free = new Uint8Array(D);
  let it = 0;
  for (; it < maxIter && Number.isFinite(f); it++) {
    let pg = 0;
    for (let i = 0; i < D; i++) {
      const atLo = x[i]! <= lo && g[i]! > 0;
      const atHi = x[i]! >= hi && g[i]! < 0;
      free[i] = o.fixed?.[i] || atLo || atHi ? 0 : 1;
      if (free[i]) pg = Math.max(pg, Math.abs(g[i]!));
    }
    if (pg < gtol) break;
    // Two-loop recursion on the free variables.
    for (let i = 0; i < D; i++) d[i] = free[i] ? -g[i]! : 0;
    for (let k = S.length - 1; k >= 0; k--) {
      let a = 0;
      for (let i = 0; i < D; i++) if (free[i]) a += S[k]![i]! * d[i]!;
      a *= rho[k]!;
      alpha[k] = a;
      for (let i = 0; i < D; i++) if (free[i]) d[i] -= a * Y[k]![i]!;
    }
    if (S.length > 0) {
      const k = S.length - 1;
      let sy = 0;
      let yy = 0;
      for (let i = 0; i < D; i++) {
        sy += S[k]![i]! * Y[k]![i]!;
        yy += Y[k]![i]! * Y[k]![i]!;
      }
      const gamma = sy / yy;
      for (let i = 0; i < D; i++) d[i] *= gamma;
    }
    for (let k = 0; k < S.length; k++) {
      let b = 0;
      for (let i = 0; i < D; i++) if (free[i]) b += Y[k]![i]! * d[i]!;
      b *= rho[k]!;
      for (let i = 0; i < D; i++) if (free[i]) d[i] += S[k]![i]! * (alpha[k]! - b);
    }
    let slope = 0;
    for (let i = 0; i < D; i++) slope += g[i]! * d[i]!;
    if (!(slope < 0)) {
      S.length = Y.length = rho.length = 0;
      for (let i = 0; i < D; i++) d[i] = free[i] ? -g[i]! : 0;
    }
    // First step of a fresh memory: at most a unit move in the largest coordinate.
    let t = 1;
    if (S.length === 0) {
      let dm = 0;
      for (let i = 0; i < D; i++) dm = Math.max(dm, Math.abs(d[i]!));
      if (dm > 0) t = Math.min(1, (Number.isFinite(hi - lo) ? 0.25 * (hi - lo) : 1) / dm);
    }
    const xn = new Float64Array(D);
    const gn = new Float64Array(D);
    let fn = Infinity;
    let ok = false;
    for (let ls = 0; ls < 30; ls++) {
      let dec = 0;
      for (let i = 0; i < D; i++) {
        xn[i] = free[i] ? clamp(x[i]! + t * d[i]!) : x[i]!;
        dec += g[i]! * (xn[i]! - x[i]!);
      }
      fn = fg(xn, gn);
      if (Number.isFinite(fn) && fn <= f + 1e-4 * dec) {
        ok = true;
        break;
      }
      t *= 0.5;
    }
    if (!ok) break;
    const s = new Float64Array(D);
    const y = new Float64Array(D);
    let sy = 0;
    for (let i = 0; i < D; i++) {
      s[i] = xn[i]! - x[i]!;
      y[i] = gn[i]! - g[i]!;
      sy += s[i]! * y[i]!;
    }
    if (sy > 1e-12) {
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
      if (S.length > M) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    const df = f - fn;
    x = xn;
    g = gn;
    f = fn;
    if (df <= ftol * (1 + Math.abs(f))) break;
  }
  return { x, f, iters: it };
}
