// Optimizer updates (float32) on raw heap pointers, one pass over a variable: tfjs 4.22's formulas in
// the same float32 operation order as its stock kernels (every op rounds to float32; wasm's f32
// add/mul/div/sqrt are correctly rounded, as are the backend's), so the results are the same bits.
// State slots are read from `s*` and written to `s*Out` (the same pointer updates in place); the new
// variable goes to `out` (a fresh tensor: the variable's own buffer may be shared). Four lanes per
// v128, two vectors per iteration, a scalar tail for n % 8.

// Adam: m' = m*b1 + g*c1; v' = v*b2 + (g*g)*c2; out = ((m'/d1) / (sqrt(v'/d2) + eps)) * nlr + x
// with c = f32(1 - beta), d = f32(1 - accBeta), nlr = f32(-lr).
export function adam(
  n: i32, x: usize, g: usize, m: usize, v: usize, mOut: usize, vOut: usize, out: usize,
  b1: f32, c1: f32, b2: f32, c2: f32, d1: f32, d2: f32, eps: f32, nlr: f32,
): void {
  const B1 = f32x4.splat(b1), C1 = f32x4.splat(c1), B2 = f32x4.splat(b2), C2 = f32x4.splat(c2);
  const D1 = f32x4.splat(d1), D2 = f32x4.splat(d2), E = f32x4.splat(eps), L = f32x4.splat(nlr);
  const end8 = <usize>(n & ~7) << 2;
  let i: usize = 0;
  for (; i < end8; i += 32) {
    const g0 = v128.load(g + i), g1 = v128.load(g + i, 16);
    const m0 = f32x4.add(f32x4.mul(v128.load(m + i), B1), f32x4.mul(g0, C1));
    const m1 = f32x4.add(f32x4.mul(v128.load(m + i, 16), B1), f32x4.mul(g1, C1));
    const v0 = f32x4.add(f32x4.mul(v128.load(v + i), B2), f32x4.mul(f32x4.mul(g0, g0), C2));
    const v1 = f32x4.add(f32x4.mul(v128.load(v + i, 16), B2), f32x4.mul(f32x4.mul(g1, g1), C2));
    v128.store(mOut + i, m0);
    v128.store(mOut + i, m1, 16);
    v128.store(vOut + i, v0);
    v128.store(vOut + i, v1, 16);
    const r0 = f32x4.div(f32x4.div(m0, D1), f32x4.add(f32x4.sqrt(f32x4.div(v0, D2)), E));
    const r1 = f32x4.div(f32x4.div(m1, D1), f32x4.add(f32x4.sqrt(f32x4.div(v1, D2)), E));
    v128.store(out + i, f32x4.add(f32x4.mul(r0, L), v128.load(x + i)));
    v128.store(out + i, f32x4.add(f32x4.mul(r1, L), v128.load(x + i, 16)), 16);
  }
  const end = <usize>n << 2;
  for (; i < end; i += 4) {
    const gi = load<f32>(g + i);
    const mi = load<f32>(m + i) * b1 + gi * c1;
    const vi = load<f32>(v + i) * b2 + (gi * gi) * c2;
    store<f32>(mOut + i, mi);
    store<f32>(vOut + i, vi);
    store<f32>(out + i, ((mi / d1) / (sqrt<f32>(vi / d2) + eps)) * nlr + load<f32>(x + i));
  }
}
