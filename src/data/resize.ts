/**
 * Area (box) filter resizing of HWC images, and `downscale`, the "low resolution" fidelity.
 *
 * Each output pixel is the average of the input area it covers, with fractional weights at the
 * borders, so integer factors give exact block means and non-integer ratios do not alias.
 * Upscaling with the same weights is nearest-neighbour-like (pixel replication).
 */
import { type Dataset, sampleSize } from './dataset.js';

/** weights[o] = list of (input index, weight) pairs summing to 1, for resizing length `from` to `to`. */
function areaWeights(from: number, to: number): { index: Int32Array; weight: Float32Array; start: Int32Array } {
  const scale = from / to;
  const idx: number[] = [];
  const w: number[] = [];
  const start = new Int32Array(to + 1);
  for (let o = 0; o < to; o++) {
    start[o] = idx.length;
    const lo = o * scale;
    const hi = (o + 1) * scale;
    for (let i = Math.floor(lo); i < Math.min(from, Math.ceil(hi)); i++) {
      const overlap = Math.min(hi, i + 1) - Math.max(lo, i);
      if (overlap > 1e-9) {
        idx.push(i);
        w.push(overlap / scale);
      }
    }
  }
  start[to] = idx.length;
  return { index: Int32Array.from(idx), weight: Float32Array.from(w), start };
}

/**
 * Resize `count` HWC images stored back to back in `src` from (h, w) to (outH, outW) with the
 * area filter. Returns a new Float32Array of count x outH x outW x channels.
 */
export function resizeImages(
  src: ArrayLike<number>,
  count: number,
  h: number,
  w: number,
  channels: number,
  outH: number,
  outW: number,
): Float32Array {
  if (!(Number.isInteger(outH) && Number.isInteger(outW) && outH > 0 && outW > 0)) {
    throw new Error(`resize: target size ${outH}x${outW} must be positive integers`);
  }
  const out = new Float32Array(count * outH * outW * channels);
  const rows = areaWeights(h, outH);
  const cols = areaWeights(w, outW);
  const tmp = new Float32Array(h * outW * channels); // horizontally resized image
  const inSize = h * w * channels;
  const outSize = outH * outW * channels;
  for (let n = 0; n < count; n++) {
    const base = n * inSize;
    tmp.fill(0);
    for (let y = 0; y < h; y++) {
      for (let ox = 0; ox < outW; ox++) {
        const t = (y * outW + ox) * channels;
        for (let k = cols.start[ox]!; k < cols.start[ox + 1]!; k++) {
          const s = base + (y * w + cols.index[k]!) * channels;
          const wt = cols.weight[k]!;
          for (let c = 0; c < channels; c++) tmp[t + c]! += wt * src[s + c]!;
        }
      }
    }
    const obase = n * outSize;
    for (let oy = 0; oy < outH; oy++) {
      for (let k = rows.start[oy]!; k < rows.start[oy + 1]!; k++) {
        const wt = rows.weight[k]!;
        const srow = rows.index[k]! * outW * channels;
        const orow = obase + oy * outW * channels;
        for (let j = 0; j < outW * channels; j++) out[orow + j]! += wt * tmp[srow + j]!;
      }
    }
  }
  return out;
}

export type DownscaleTarget = number | { factor: number } | { size: number | [number, number] };

/**
 * Lower-resolution copy of an image dataset (shape [h, w, c]) with the area filter.
 * `downscale(ds, 2)` or `{ factor: 2 }`: 28x28 -> 14x14 (sizes rounded, at least 1);
 * `{ size: 7 }` or `{ size: [7, 7] }`: an explicit target size.
 */
export function downscale(ds: Dataset, target: DownscaleTarget): Dataset {
  if (ds.shape.length !== 3) {
    throw new Error(`downscale: ${ds.name} has sample shape [${ds.shape.join(', ')}], expected an image shape [height, width, channels]`);
  }
  const [h, w, c] = ds.shape as [number, number, number];
  let outH: number;
  let outW: number;
  if (typeof target === 'number' || 'factor' in target) {
    const factor = typeof target === 'number' ? target : target.factor;
    if (!(factor >= 1)) throw new Error(`downscale: factor must be >= 1, got ${factor}`);
    outH = Math.max(1, Math.round(h / factor));
    outW = Math.max(1, Math.round(w / factor));
  } else {
    [outH, outW] = typeof target.size === 'number' ? [target.size, target.size] : target.size;
  }
  if (outH === h && outW === w) return { ...ds, x: ds.x.slice(), shape: [h, w, c] };
  const n = ds.x.length / sampleSize(ds);
  const x = resizeImages(ds.x, n, h, w, c, outH, outW);
  return { ...ds, name: `${ds.name}@${outH}x${outW}`, x, shape: [outH, outW, c] };
}
