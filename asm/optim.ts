// Optimizer updates (float32) on raw heap pointers, one pass over a variable: tfjs 4.22's formulas in
// the same float32 operation order as its stock kernels (every op rounds to float32; wasm's f32
// add/mul/div/sqrt are correctly rounded, as are the backend's), so the results are the same bits.
// Every function takes (n, x, g, s0, s1, out, scalars...): x the variable, g its gradient, s0/s1
// the optimizer's state slots (updated in place; unused ones are ignored), out the new variable (a
// fresh tensor on the tfjs heap, where the variable's own buffer may be shared; out == x is allowed,
// as in the data-parallel flat update: every element is read before it is written). Four lanes per
// v128, two vectors per iteration, a scalar tail for n % 8.

// Adam: m' = m*b1 + g*c1; v' = v*b2 + (g*g)*c2; out = ((m'/d1) / (sqrt(v'/d2) + eps)) * nlr + x
// with c = f32(1 - beta), d = f32(1 - accBeta), nlr = f32(-lr).
export function adam(
  n: i32, x: usize, g: usize, m: usize, v: usize, out: usize,
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
    v128.store(m + i, m0);
    v128.store(m + i, m1, 16);
    v128.store(v + i, v0);
    v128.store(v + i, v1, 16);
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
    store<f32>(m + i, mi);
    store<f32>(v + i, vi);
    store<f32>(out + i, ((mi / d1) / (sqrt<f32>(vi / d2) + eps)) * nlr + load<f32>(x + i));
  }
}

// SGD: out = g*nlr + x (no state).
export function sgd(n: i32, x: usize, g: usize, s0: usize, s1: usize, out: usize, nlr: f32): void {
  const L = f32x4.splat(nlr);
  const end8 = <usize>(n & ~7) << 2;
  let i: usize = 0;
  for (; i < end8; i += 32) {
    v128.store(out + i, f32x4.add(f32x4.mul(v128.load(g + i), L), v128.load(x + i)));
    v128.store(out + i, f32x4.add(f32x4.mul(v128.load(g + i, 16), L), v128.load(x + i, 16)), 16);
  }
  const end = <usize>n << 2;
  for (; i < end; i += 4) store<f32>(out + i, load<f32>(g + i) * nlr + load<f32>(x + i));
}

// Momentum: a' = mu*a + g; out = nlr*a' + x, or with Nesterov nlr*(g + a'*mu) + x.
export function momentum(n: i32, x: usize, g: usize, a: usize, s1: usize, out: usize, mu: f32, nlr: f32, nesterov: i32): void {
  const M = f32x4.splat(mu), L = f32x4.splat(nlr);
  const end8 = <usize>(n & ~7) << 2;
  let i: usize = 0;
  for (; i < end8; i += 32) {
    const g0 = v128.load(g + i), g1 = v128.load(g + i, 16);
    const a0 = f32x4.add(f32x4.mul(v128.load(a + i), M), g0);
    const a1 = f32x4.add(f32x4.mul(v128.load(a + i, 16), M), g1);
    v128.store(a + i, a0);
    v128.store(a + i, a1, 16);
    const u0 = nesterov ? f32x4.add(g0, f32x4.mul(a0, M)) : a0;
    const u1 = nesterov ? f32x4.add(g1, f32x4.mul(a1, M)) : a1;
    v128.store(out + i, f32x4.add(f32x4.mul(u0, L), v128.load(x + i)));
    v128.store(out + i, f32x4.add(f32x4.mul(u1, L), v128.load(x + i, 16)), 16);
  }
  const end = <usize>n << 2;
  for (; i < end; i += 4) {
    const gi = load<f32>(g + i);
    const ai = load<f32>(a + i) * mu + gi;
    store<f32>(a + i, ai);
    store<f32>(out + i, (nesterov ? gi + ai * mu : ai) * nlr + load<f32>(x + i));
  }
}

// RMSProp (not centered): ms' = ms*decay + (g*g)*c; mom' = mom*mu + (g*lr) / sqrt(ms' + eps);
// out = x - mom', with c = f32(1 - decay).
export function rmsprop(
  n: i32, x: usize, g: usize, ms: usize, mom: usize, out: usize,
  decay: f32, c: f32, mu: f32, lr: f32, eps: f32,
): void {
  const D = f32x4.splat(decay), C = f32x4.splat(c), M = f32x4.splat(mu), L = f32x4.splat(lr), E = f32x4.splat(eps);
  const end8 = <usize>(n & ~7) << 2;
  let i: usize = 0;
  for (; i < end8; i += 32) {
    const g0 = v128.load(g + i), g1 = v128.load(g + i, 16);
    const s0 = f32x4.add(f32x4.mul(v128.load(ms + i), D), f32x4.mul(f32x4.mul(g0, g0), C));
    const s1 = f32x4.add(f32x4.mul(v128.load(ms + i, 16), D), f32x4.mul(f32x4.mul(g1, g1), C));
    v128.store(ms + i, s0);
    v128.store(ms + i, s1, 16);
    const m0 = f32x4.add(f32x4.mul(v128.load(mom + i), M), f32x4.div(f32x4.mul(g0, L), f32x4.sqrt(f32x4.add(s0, E))));
    const m1 = f32x4.add(f32x4.mul(v128.load(mom + i, 16), M), f32x4.div(f32x4.mul(g1, L), f32x4.sqrt(f32x4.add(s1, E))));
    v128.store(mom + i, m0);
    v128.store(mom + i, m1, 16);
    v128.store(out + i, f32x4.sub(v128.load(x + i), m0));
    v128.store(out + i, f32x4.sub(v128.load(x + i, 16), m1), 16);
  }
  const end = <usize>n << 2;
  for (; i < end; i += 4) {
    const gi = load<f32>(g + i);
    const si = load<f32>(ms + i) * decay + (gi * gi) * c;
    store<f32>(ms + i, si);
    const mi = load<f32>(mom + i) * mu + (gi * lr) / sqrt<f32>(si + eps);
    store<f32>(mom + i, mi);
    store<f32>(out + i, load<f32>(x + i) - mi);
  }
}
