/**
 * Pooling gradients.
 *
 * MaxPoolGrad (wasm): the stock kernel starts each window's running maximum at FLT_MIN (the
 * smallest positive float) and keeps the last maximum, so a window whose maximum is <= 0 sends its
 * gradient to element 0 of the tensor. This replacement finds, for every window, the first
 * maximum in row-major window order (TensorFlow's and the cpu backend's convention) with
 * same-shape elementwise ops over the window taps and scatters dy back. Taps are gathered in
 * "phase space": for stride s the padded input [N, Hq*s, Wq*s, C] is viewed as
 * [s*N, Hq, Wq, s*C] (one 4-D transpose), where every tap of every window is a plain slice.
 *
 * AvgPool gradient (all backends, via registerGradient): TensorFlow's average pool with 'same'
 * padding divides by the number of valid (non-padding) elements of each window, but the stock
 * AvgPoolGrad kernels divide by the full window size. We pre-scale dy by (kh*kw / valid count) per
 * output position and then run the stock kernel, which is a plain scatter of dy / (kh*kw).
 */
import * as tf from '@tensorflow/tfjs';
import { Exec, TI } from './exec.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

export function maxPoolGrad(
  e: Exec,
  dy: TI,
  x: TI,
  y: TI,
  filterSize: number | [number, number],
  strides: number | [number, number],
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): TI {
  const info = tf.backend_util.computePool2DInfo(
    x.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode, 'channelsLast');
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error('tsnas kernels: dilated max pool gradient is not implemented');
  }
  const [N, H, W, C] = x.shape as Shape4;
  const { outHeight: OH, outWidth: OW, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  if (sh !== sw) throw new Error('tsnas kernels: max pool gradient needs equal strides');
  const s = sh;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Padded frame [N, Hq*s, Wq*s, C] that holds every window; -inf never wins a window.
  const Hq = OH + Math.ceil(kh / s) - 1;
  const Wq = OW + Math.ceil(kw / s) - 1;
  const Hp = Hq * s;
  const Wp = Wq * s;
  const keepH = Math.min(H, Hp - top);
  const keepW = Math.min(W, Wp - left);
  let xs = x;
  if (keepH < H || keepW < W) xs = e.slice(x, [0, 0, 0, 0], [N, keepH, keepW, C]);
  const xp = e.pad(
    xs,
    [[0, 0], [top, Hp - top - keepH], [left, Wp - left - keepW], [0, 0]],
    Number.NEGATIVE_INFINITY,
  );
  // Phase blocks: block (pb*s + pa) is [N, Hq, Wq*C] with B[n, i, j*C + c] = xp[n, i*s+pa, j*s+pb, c].
  // Built with two 3-D transposes that keep contiguous runs (the wasm Transpose is slow for rank > 4
  // and JS-side slices copy tiny runs slowly); every tap of every window is then a 3-D slice of
  // one block with runs of OW*C floats (for k == s a whole, contiguous block).
  const blocks = s === 1 ? e.reshape(xp, [N, Hq, Wq * C]) : e.reshape(
    e.transpose(
      e.reshape(e.transpose(e.reshape(xp, [N * Hq, s, Wq * s * C]), [1, 0, 2]), [s * N * Hq * Wq, s, C]),
      [1, 0, 2]),
    [s * s * N, Hq, Wq * C]);
  const tap = (a: number, b: number): TI => {
    const pa = a % s, qa = Math.floor(a / s), pb = b % s, qb = Math.floor(b / s);
    const t = e.slice(blocks, [(pb * s + pa) * N, qa, qb * C], [N, OH, OW * C]);
    return e.reshape(t, [N, OH, OW, C]);
  };
  // First maximum in row-major window order (the cpu backend's and TensorFlow's choice).
  // r = the part of dy not yet given to a tap; since tap <= y, [tap < y] = step(y - tap), and
  // r' = r * step(y - tap), g_tap = r - r'. The last tap takes what is left (the maximum must be
  // there if no earlier tap had it). Same-shape elementwise ops only (fast on wasm).
  let r = dy;
  const grads: TI[][] = Array.from({ length: kh }, () => []);
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      if (a === kh - 1 && b === kw - 1) {
        grads[a]!.push(r);
        continue;
      }
      const below = e.run('Step', { x: e.run('Sub', { a: y, b: tap(a, b) }) }, { alpha: 0 });
      const rest = e.run('Multiply', { a: r, b: below });
      grads[a]!.push(e.run('Sub', { a: r, b: rest }));
      r = rest;
    }
  }
  // Scatter: slot (pa, pb) of the phase view accumulates the taps of that phase, shifted by (qa, qb).
  const slots: (TI | null)[] = Array.from({ length: s * s }, () => null);
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const pa = a % s, qa = Math.floor(a / s), pb = b % s, qb = Math.floor(b / s);
      const placed = e.pad(grads[a]![b]!, [[0, 0], [qa, Hq - OH - qa], [qb, Wq - OW - qb], [0, 0]]);
      const prev = slots[pa * s + pb];
      slots[pa * s + pb] = prev ? e.run('Add', { a: prev, b: placed }) : placed;
    }
  }
  const zeros = () => e.constant(new Float32Array(N * Hq * Wq * C), [N, Hq, Wq, C]);
  let dxp: TI; // [N, Hp, Wp, C]
  if (s === 1) dxp = slots[0]!;
  else {
    // Inverse of the phase-block transposes.
    const ordered: TI[] = [];
    for (let pb = 0; pb < s; pb++) for (let pa = 0; pa < s; pa++) ordered.push(slots[pa * s + pb] ?? zeros());
    const q = e.reshape(e.concat(ordered, 0), [s, s * N * Hq * Wq, C]);
    const u = e.reshape(e.transpose(q, [1, 0, 2]), [s, N * Hq, Wq * s * C]);
    dxp = e.reshape(e.transpose(u, [1, 0, 2]), [N, Hp, Wp, C]);
  }
  if (top === 0 && left === 0 && Hp === H && Wp === W) return dxp; // no padding: nothing to crop
  // Crop the padding away (3-D slice: W and C merged into contiguous rows).
  const flat = e.reshape(dxp, [N, Hp, Wp * C]);
  let dx = e.reshape(e.slice(flat, [0, top, left * C], [N, keepH, keepW * C]), [N, keepH, keepW, C]);
  if (keepH < H || keepW < W) dx = e.pad(dx, [[0, 0], [0, H - keepH], [0, W - keepW], [0, 0]]);
  return dx;
}

/** Number of valid (non-padding) input elements of each pooling window, shape [OH*OW]. */
export function validCounts(info: tf.backend_util.Conv2DInfo): Float32Array {
  const { outHeight: OH, outWidth: OW, inHeight: H, inWidth: W } = info;
  const kh = info.effectiveFilterHeight;
  const kw = info.effectiveFilterWidth;
  const out = new Float32Array(OH * OW);
  for (let i = 0; i < OH; i++) {
    const r0 = i * info.strideHeight - info.padInfo.top;
    const rows = Math.min(r0 + kh, H) - Math.max(r0, 0);
    for (let j = 0; j < OW; j++) {
      const c0 = j * info.strideWidth - info.padInfo.left;
      const cols = Math.min(c0 + kw, W) - Math.max(c0, 0);
      out[i * OW + j] = rows * cols;
    }
  }
  return out;
}

/** Gradient config for AvgPool that divides by the valid count (registered for every backend). */
export const avgPoolGradConfig: tf.GradConfig = {
  kernelName: 'AvgPool',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor4D];
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
      filterSize: number | [number, number];
      strides: number | [number, number];
      pad: Pad;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    return {
      x: () => {
        const info = tf.backend_util.computePool2DInfo(
          x.shape, filterSize, strides, 1, pad, dimRoundingMode, 'channelsLast');
        const counts = validCounts(info);
        const full = info.effectiveFilterHeight * info.effectiveFilterWidth;
        let needsScale = false;
        for (let i = 0; i < counts.length; i++) {
          const c = counts[i]!;
          counts[i] = full / c;
          if (c !== full) needsScale = true;
        }
        return tf.tidy(() => {
          const d = dy as tf.Tensor4D;
          const scaled = needsScale
            ? tf.mul(d, tf.tensor4d(counts, [1, info.outHeight, info.outWidth, 1]))
            : d;
          return tf.engine().runKernel(
            'AvgPoolGrad',
            { dy: scaled, input: x },
            { filterSize, strides, pad, dimRoundingMode } as unknown as tf.NamedAttrMap,
          ) as tf.Tensor;
        });
      },
    };
  },
};
