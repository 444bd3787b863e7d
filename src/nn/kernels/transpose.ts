/**
 * Transposes that move the innermost axis, done over the wasm heap's typed arrays. The stock wasm
 * Transpose computes every element's index in a generic loop: ~12 ns per float for a 2-D
 * [32768, 64] transpose (25 ms), where a cache-blocked copy over the heap view takes ~2 ns (4.2 ms).
 * It matters for the dense-layer gradients (the matmul reroute makes transposeA/B explicit) and
 * for the convolution gradients' layout changes. After merging axes that stay adjacent, the
 * permutations handled are [1,0] (a matrix), [0,2,1] (a batch of matrices) and [2,1,0] (matrices
 * interleaved along a middle axis); others, and those that keep the innermost axis in place
 * (contiguous runs: the stock kernel is fast there), go to the stock kernel.
 */
import type { Exec, TI } from './exec.js';

/**
 * Below this many elements, or when the input's rows are shorter than MIN_ROW (e.g. [N*H*W, 3]),
 * the stock kernel is as fast or faster (measured: [784, 256] 0.07 ms stock vs 0.33 ms here;
 * [131072, 3] 0.17 vs 0.61; [4096, 128] 3.6 vs 0.9; [131072, 32] 26 vs 8.4).
 */
const MIN_SIZE = 1 << 18;
const MIN_ROW = 16;
const BLOCK = 32;

/** Merges input axes that stay adjacent and in order under `perm`; drops size-1 axes. */
function merged(shape: number[], perm: number[]): { shape: number[]; perm: number[] } {
  const keep = perm.filter((p) => shape[p]! !== 1);
  // Groups of consecutive input axes, in output order.
  const groups: number[][] = [];
  for (const p of keep) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1]! + 1 === p) last.push(p);
    else groups.push([p]);
  }
  const byInput = [...groups].sort((a, b) => a[0]! - b[0]!);
  const mshape = byInput.map((g) => g.reduce((s, a) => s * shape[a]!, 1));
  const mperm = groups.map((g) => byInput.indexOf(g));
  return { shape: mshape, perm: mperm };
}

/**
 * out[o + b*os + a] = src[i + a*is + b] for a < A, b < B: one (strided) matrix transpose, in
 * BLOCK x BLOCK tiles so that both the reads and the writes stay in cache.
 */
function transpose2d(src: Float32Array, i: number, is: number, out: Float32Array, o: number, os: number, A: number, B: number): void {
  for (let a0 = 0; a0 < A; a0 += BLOCK) {
    const a1 = Math.min(A, a0 + BLOCK);
    for (let b0 = 0; b0 < B; b0 += BLOCK) {
      const b1 = Math.min(B, b0 + BLOCK);
      for (let b = b0; b < b1; b++) {
        const ob = o + b * os;
        for (let a = a0; a < a1; a++) out[ob + a] = src[i + a * is + b]!;
      }
    }
  }
}

/** The transposed tensor, or null when the stock kernel should do it. */
export function fastTranspose(e: Exec, x: TI, perm: number[]): TI | null {
  if (x.dtype !== 'float32') return null;
  const size = x.shape.reduce((s, d) => s * d, 1);
  if (size < MIN_SIZE) return null;
  const m = merged(x.shape, perm);
  const key = m.perm.join(',');
  if (key !== '1,0' && key !== '0,2,1' && key !== '2,1,0') return null;
  if (m.shape[m.shape.length - 1]! < MIN_ROW) return null;
  const out = e.alloc(perm.map((p) => x.shape[p]!));
  const src = e.view(x); // after alloc: a heap growth detaches older views
  const dst = e.view(out);
  if (key === '1,0') {
    const [A, B] = m.shape as [number, number];
    transpose2d(src, 0, B, dst, 0, A, A, B);
  } else if (key === '0,2,1') {
    const [P, A, B] = m.shape as [number, number, number];
    for (let p = 0; p < P; p++) transpose2d(src, p * A * B, B, dst, p * A * B, A, A, B);
  } else {
    // in [A, M, B] -> out [B, M, A]: for each m, a matrix with row strides M*B (in), M*A (out).
    const [A, M, B] = m.shape as [number, number, number];
    for (let k = 0; k < M; k++) transpose2d(src, k * B, M * B, dst, k * A, M * A, A, B);
  }
  return out;
}
