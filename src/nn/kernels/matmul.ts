/**
 * Matmul reroute. The wasm backend's BatchMatMul / _FusedMatMul run XNNPACK only for a single,
 * non-transposed product; with transposeA/transposeB (which every dense-layer gradient uses) or a
 * batch dimension they fall back to a scalar triple loop (~0.4 GFLOP/s, ~15x slower than an
 * explicit transpose + XNNPACK). Here transposes are made explicit and batches are split, and a
 * 2-D product is computed as the transpose of the swapped product when that packs less (below).
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

const SWAP_MIN_SIZE = 1 << 16;

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
  if (kernel === 'BatchMatMul') {
    const swapped = matMulSwapped(e, a, b, tA, tB);
    if (swapped) return swapped;
  }
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

/**
 * XNNPACK packs the right-hand operand on every call (~5 ns per float; its cache is keyed by the
 * tensor, new at every step), the left one is read in place. For a plain 2-D product whose
 * right-hand operand, with its transpose, costs more than the left one's plus a transpose of the
 * result, C = (op(B)^T op(A)^T)^T is cheaper: e.g. a dense layer's input gradient dy W^T with a
 * [4096, 128] W packs and transposes dy (16K floats) and the [128, 4096] result instead of W.
 * Returns null when the direct form is cheaper (or for batches and fused kernels).
 */
export function matMulSwapped(e: Exec, a3: TI, b3: TI, tA: boolean, tB: boolean): TI | null {
  const rank = a3.shape.length;
  if (rank !== b3.shape.length || rank < 2 || rank > 3 || (rank === 3 && (a3.shape[0] !== 1 || b3.shape[0] !== 1))) return null;
  const a = rank === 2 ? a3 : e.reshape(a3, a3.shape.slice(1));
  const b = rank === 2 ? b3 : e.reshape(b3, b3.shape.slice(1));
  const sizeA = a.shape[0]! * a.shape[1]!;
  const sizeB = b.shape[0]! * b.shape[1]!;
  if (sizeB < SWAP_MIN_SIZE) return null; // small products: the extra kernels' fixed cost dominates
  const m = tA ? a.shape[1]! : a.shape[0]!;
  const n = tB ? b.shape[0]! : b.shape[1]!;
  const PACK = 5;
  const TRANSPOSE = 2;
  const direct = (tA ? sizeA * TRANSPOSE : 0) + (tB ? sizeB * TRANSPOSE : 0) + sizeB * PACK;
  const swapped = (tB ? 0 : sizeB * TRANSPOSE) + (tA ? 0 : sizeA * TRANSPOSE) + sizeA * PACK + m * n * TRANSPOSE;
  if (swapped >= 0.8 * direct) return null;
  const bt = tB ? b : e.transpose(b, [1, 0]); // op(B)^T
  const at = tA ? a : e.transpose(a, [1, 0]); // op(A)^T
  const c = e.transpose(e.matmul(bt, at), [1, 0]);
  return rank === 2 ? c : e.reshape(c, [1, m, n]);
}
