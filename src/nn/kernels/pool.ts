/**
 * Pooling gradients.
 *
 * MaxPoolGrad (wasm): the stock kernel starts each window's running maximum at FLT_MIN (the
 * smallest positive float) and keeps the last maximum, so a window whose maximum is <= 0 sends its
 * gradient to element 0 of the tensor. This replacement finds, for every window, the first
 * maximum in row-major window order (TensorFlow's and the cpu backend's convention) with ArgMax
 * over a [windows, taps] view, turns it into a one-hot mask and scatters dy back. Windows are
 * gathered in "phase space": for stride s the padded input [N, Hq*s, Wq*s, C] is viewed as
 * [s, s, N, Hq, Wq, C] (one transpose), where every tap of every window is a plain shifted slice.
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
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const qh = Math.ceil(kh / sh) - 1;
  const qw = Math.ceil(kw / sw) - 1;
  const Hq = OH + qh;
  const Wq = OW + qw;
  const Hp = Hq * sh;
  const Wp = Wq * sw;
  // Rows/cols of x inside the padded frame [-top, Hp - top).
  const keepH = Math.min(H, Hp - top);
  const keepW = Math.min(W, Wp - left);
  let xs = x;
  if (keepH < H || keepW < W) xs = e.slice(x, [0, 0, 0, 0], [N, keepH, keepW, C]);
  const xp = e.pad(
    xs,
    [[0, 0], [top, Hp - top - keepH], [left, Wp - left - keepW], [0, 0]],
    Number.NEGATIVE_INFINITY,
  );
  const kk = kh * kw;
  const MC = N * OH * OW * C;
  const tiling = qh === 0 && qw === 0 && kh === sh && kw === sw;

  // windows: [MC, kk], taps in row-major (a, b) order.
  let windows: TI;
  if (tiling) {
    const r = e.reshape(xp, [N, OH, sh, OW, sw, C]);
    windows = e.reshape(e.transpose(r, [0, 1, 3, 5, 2, 4]), [MC, kk]);
  } else {
    const phase = phaseView(e, xp, N, Hq, Wq, C, sh, sw); // [sh*sw*N, Hq, Wq*C]
    const taps: TI[] = [];
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        const p = (a % sh) * sw + (b % sw);
        const qa = Math.floor(a / sh);
        const qb = Math.floor(b / sw);
        taps.push(e.reshape(e.slice(phase, [p * N, qa, qb * C], [N, OH, OW * C]), [1, MC]));
      }
    }
    windows = e.transpose(e.concat(taps, 0), [1, 0]);
  }
  const idx = e.run('ArgMax', { x: windows }, { axis: [1] });
  // The wasm OneHot kernel writes int32 values whatever dtype is asked for: ask int32, then cast.
  const hot = e.run('OneHot', { indices: idx }, { depth: kk, onValue: 1, offValue: 0, dtype: 'int32' });
  const mask = e.run('Cast', { x: hot }, { dtype: 'float32' });
  const g = e.run('Multiply', { a: mask, b: e.reshape(dy, [MC, 1]) }); // [MC, kk]

  let dxp: TI; // [N, Hp, Wp, C]
  if (tiling) {
    const r = e.reshape(g, [N, OH, OW, C, sh, sw]);
    dxp = e.reshape(e.transpose(r, [0, 1, 4, 2, 5, 3]), [N, Hp, Wp, C]);
  } else {
    const gT = e.transpose(g, [1, 0]); // [kk, MC]
    const slots: (TI | null)[] = Array.from({ length: sh * sw }, () => null);
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        const t = a * kw + b;
        const p = (a % sh) * sw + (b % sw);
        const qa = Math.floor(a / sh);
        const qb = Math.floor(b / sw);
        const gt = e.reshape(e.slice(gT, [t, 0], [1, MC]), [N, OH, OW, C]);
        const placed = e.pad(gt, [[0, 0], [qa, Hq - OH - qa], [qb, Wq - OW - qb], [0, 0]]);
        const prev = slots[p];
        slots[p] = prev ? e.run('Add', { a: prev, b: placed }) : placed;
      }
    }
    const zeros = () => e.constant(new Float32Array(N * Hq * Wq * C), [N, Hq, Wq, C]);
    const filled = slots.map((s) => s ?? zeros());
    if (sh === 1 && sw === 1) dxp = filled[0]!;
    else {
      const all = e.reshape(e.concat(filled, 0), [sh, sw, N, Hq, Wq, C]);
      dxp = e.reshape(e.transpose(all, [2, 3, 0, 4, 1, 5]), [N, Hp, Wp, C]);
    }
  }
  // Crop the padding away (3-D slice: W and C merged into contiguous rows).
  const flat = e.reshape(dxp, [N, Hp, Wp * C]);
  let dx = e.reshape(e.slice(flat, [0, top, left * C], [N, keepH, keepW * C]), [N, keepH, keepW, C]);
  if (keepH < H || keepW < W) dx = e.pad(dx, [[0, 0], [0, H - keepH], [0, W - keepW], [0, 0]]);
  return dx;
}

/** [N, Hq*sh, Wq*sw, C] -> [sh*sw*N, Hq, Wq*C] where index (pa*sw+pb)*N+n holds phase (pa,pb). */
function phaseView(e: Exec, xp: TI, N: number, Hq: number, Wq: number, C: number, sh: number, sw: number): TI {
  if (sh === 1 && sw === 1) return e.reshape(xp, [N, Hq, Wq * C]);
  const r = e.reshape(xp, [N, Hq, sh, Wq, sw, C]);
  return e.reshape(e.transpose(r, [2, 4, 0, 1, 3, 5]), [sh * sw * N, Hq, Wq * C]);
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
