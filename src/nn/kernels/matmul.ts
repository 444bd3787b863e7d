/**
 * Matmul reroute. The wasm backend's BatchMatMul / _FusedMatMul run XNNPACK only for a single,
 * non-transposed product; with transposeA/transposeB (which every dense-layer gradient uses) or a
 * batch dimension they fall back to a scalar triple loop (~0.4 GFLOP/s, ~15x slower than an
 * explicit transpose + XNNPACK). Here transposes are made explicit and batches are split.
 */
import { Exec, TI } from './exec.js';

function swapLast2(e: Exec, x: TI): TI {
  const r = x.shape.length;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 1] = r - 2;
  perm[r - 2] = r - 1;
  return e.transpose(x, perm);
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Work per batch element below which splitting a batched matmul is not worth the overhead. */
const SPLIT_MIN_MACS = 1 << 15;

export function matMulReroute(
  e: Exec,
  kernel: 'BatchMatMul' | '_FusedMatMul',
  inputs: Record<string, TI>,
  attrs: Record<string, unknown>,
): TI {
  const { a, b } = inputs as { a: TI; b: TI };
  const tA = attrs['transposeA'] === true;
  const tB = attrs['transposeB'] === true;
  const aa = tA ? swapLast2(e, a) : a;
  const bb = tB ? swapLast2(e, b) : b;
  const rest = { ...attrs, transposeA: false, transposeB: false };
  const batchA = size(aa.shape.slice(0, -2));
  const m = aa.shape[aa.shape.length - 2]!;
  const k = aa.shape[aa.shape.length - 1]!;
  const n = bb.shape[bb.shape.length - 1]!;
  const sameBatch =
    aa.shape.length === bb.shape.length &&
    aa.shape.slice(0, -2).every((d, i) => d === bb.shape[i]);
  if (batchA > 1 && sameBatch && kernel === 'BatchMatMul' && m * k * n >= SPLIT_MIN_MACS) {
    const a3 = e.reshape(aa, [batchA, m, k]);
    const b3 = e.reshape(bb, [batchA, k, n]);
    const outs: TI[] = [];
    for (let i = 0; i < batchA; i++) {
      const ai = e.slice(a3, [i, 0, 0], [1, m, k]);
      const bi = e.slice(b3, [i, 0, 0], [1, k, n]);
      outs.push(e.run('BatchMatMul', { a: ai, b: bi }, rest));
    }
    const c = e.concat(outs, 0);
    return e.reshape(c, [...aa.shape.slice(0, -2), m, n]);
  }
  return e.run(kernel, { ...inputs, a: aa, b: bb }, rest);
}
