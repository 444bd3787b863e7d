// Elementwise training kernels on raw heap pointers (float32), each one pass over its tensors:
// add/sub/mul/div with a per-channel vector or a scalar (bias adds, batch norm and its gradient),
// batch norm's normalisation and the relu gradient.

// @ts-ignore: decorator
@inline function apply4(op: i32, a: v128, b: v128): v128 {
  if (op == 0) return f32x4.add(a, b);
  if (op == 1) return f32x4.sub(a, b);
  if (op == 2) return f32x4.mul(a, b);
  return f32x4.div(a, b);
}

// @ts-ignore: decorator
@inline function apply1(op: i32, a: f32, b: f32): f32 {
  if (op == 0) return a + b;
  if (op == 1) return a - b;
  if (op == 2) return a * b;
  return a / b;
}

// out[r, c] = x[r, c] (op) v[c], or v[c] (op) x[r, c] when vFirst; op: 0 add, 1 sub, 2 mul, 3 div.
// Each (op, vFirst) pair gets its own inlined copy with the branches folded away.
export function binaryLastAxis(x: usize, v: usize, out: usize, rows: i32, C: i32, op: i32, vFirst: i32): void {
  if (vFirst) {
    if (op == 0) lastAxis(x, v, out, rows, C, 0, true);
    else if (op == 1) lastAxis(x, v, out, rows, C, 1, true);
    else if (op == 2) lastAxis(x, v, out, rows, C, 2, true);
    else lastAxis(x, v, out, rows, C, 3, true);
  } else {
    if (op == 0) lastAxis(x, v, out, rows, C, 0, false);
    else if (op == 1) lastAxis(x, v, out, rows, C, 1, false);
    else if (op == 2) lastAxis(x, v, out, rows, C, 2, false);
    else lastAxis(x, v, out, rows, C, 3, false);
  }
}

// @ts-ignore: decorator
@inline function lastAxis(x: usize, v: usize, out: usize, rows: i32, C: i32, op: i32, vFirst: bool): void {
  const C4 = <usize>(C & ~3) << 2;
  const row = <usize>C << 2;
  for (let r = 0; r < rows; r++) {
    let c: usize = 0;
    for (; c < C4; c += 16) {
      const a = v128.load(x + c), b = v128.load(v + c);
      v128.store(out + c, vFirst ? apply4(op, b, a) : apply4(op, a, b));
    }
    for (; c < row; c += 4) {
      const a = load<f32>(x + c), b = load<f32>(v + c);
      store<f32>(out + c, vFirst ? apply1(op, b, a) : apply1(op, a, b));
    }
    x += row;
    out += row;
  }
}

// out[i] = x[i] (op) s, or s (op) x[i] when sFirst.
export function binaryScalar(x: usize, s: f32, out: usize, n: i32, op: i32, sFirst: i32): void {
  if (sFirst) {
    if (op == 0) scalarOp(x, s, out, n, 0, true);
    else if (op == 1) scalarOp(x, s, out, n, 1, true);
    else if (op == 2) scalarOp(x, s, out, n, 2, true);
    else scalarOp(x, s, out, n, 3, true);
  } else {
    if (op == 0) scalarOp(x, s, out, n, 0, false);
    else if (op == 1) scalarOp(x, s, out, n, 1, false);
    else if (op == 2) scalarOp(x, s, out, n, 2, false);
    else scalarOp(x, s, out, n, 3, false);
  }
}

// @ts-ignore: decorator
@inline function scalarOp(x: usize, s: f32, out: usize, n: i32, op: i32, sFirst: bool): void {
  const S = f32x4.splat(s);
  const n4 = <usize>(n & ~3) << 2;
  const end = <usize>n << 2;
  let i: usize = 0;
  for (; i < n4; i += 16) {
    const a = v128.load(x + i);
    v128.store(out + i, sFirst ? apply4(op, S, a) : apply4(op, a, S));
  }
  for (; i < end; i += 4) {
    const a = load<f32>(x + i);
    store<f32>(out + i, sFirst ? apply1(op, s, a) : apply1(op, a, s));
  }
}

// Batch norm with per-channel factors: out[r, c] = x[r, c] * k[c] + b[c], k = kb[0..C), b = kb[C..2C)
// (k = scale / sqrt(variance + eps), b = offset - mean * k, computed by the caller).
export function batchNormApply(x: usize, kb: usize, out: usize, rows: i32, C: i32): void {
  const C4 = <usize>(C & ~3) << 2;
  const row = <usize>C << 2;
  const b = kb + row;
  for (let r = 0; r < rows; r++) {
    let c: usize = 0;
    for (; c < C4; c += 16) v128.store(out + c, f32x4.add(f32x4.mul(v128.load(x + c), v128.load(kb + c)), v128.load(b + c)));
    for (; c < row; c += 4) store<f32>(out + c, load<f32>(x + c) * load<f32>(kb + c) + load<f32>(b + c));
    x += row;
    out += row;
  }
}

// out[i] = x[i] > 0 ? dy[i] : 0 (the gradient of relu at x; 0 at x == 0, like tfjs's step).
export function reluGrad(dy: usize, x: usize, out: usize, n: i32): void {
  const zero = f32x4.splat(0);
  const n4 = <usize>(n & ~3) << 2;
  const end = <usize>n << 2;
  let i: usize = 0;
  for (; i < n4; i += 16) {
    v128.store(out + i, v128.and(v128.load(dy + i), f32x4.gt(v128.load(x + i), zero)));
  }
  for (; i < end; i += 4) store<f32>(out + i, load<f32>(x + i) > 0 ? load<f32>(dy + i) : 0);
}
