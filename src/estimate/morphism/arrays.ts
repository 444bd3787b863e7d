/**
 * Small array operations on `WTensor`s used by the morphisms: gather along an axis by a channel map
 * (new index -> old index, -1 = a new channel), and kernel resizing (centred zero padding / crop).
 */
import type { Rng } from '../../util/rng.js';
import { size, type WTensor } from './weights.js';

/** Channel map: child channel j comes from parent channel map[j], or is new when map[j] = -1. */
export type ChannelMap = Int32Array;

export const identityMap = (n: number): ChannelMap => Int32Array.from({ length: n }, (_, i) => i);

export function isIdentity(m: ChannelMap, n: number): boolean {
  if (m.length !== n) return false;
  for (let i = 0; i < n; i++) if (m[i] !== i) return false;
  return true;
}

/**
 * Net2WiderNet mapping from `from` to `to` units: the first min(from, to) keep their index, the
 * extra ones replicate a uniformly drawn old unit. Narrowing truncates (not function-preserving).
 */
export function widenMap(from: number, to: number, rng: Rng): ChannelMap {
  const m = new Int32Array(to);
  for (let j = 0; j < to; j++) m[j] = j < from ? j : rng.int(0, from - 1);
  return m;
}

/**
 * Per-entry factor for the incoming weights of a consumer whose input channels follow `map`: the
 * copies of one old channel share its weight. 'equal' gives each 1/count (Net2Net); 'random' gives
 * random positive shares summing to 1 (also exact, and breaks the symmetry between the copies).
 */
export function splitFactors(map: ChannelMap, split: 'equal' | 'random', rng: Rng | null): Float32Array {
  const f = new Float32Array(map.length);
  if (split === 'equal' || !rng) {
    const count = new Map<number, number>();
    for (const o of map) if (o >= 0) count.set(o, (count.get(o) ?? 0) + 1);
    for (let j = 0; j < map.length; j++) f[j] = map[j]! >= 0 ? 1 / count.get(map[j]!)! : 0;
    return f;
  }
  const sum = new Map<number, number>();
  for (let j = 0; j < map.length; j++) {
    if (map[j]! < 0) continue;
    f[j] = 0.5 + rng.random();
    sum.set(map[j]!, (sum.get(map[j]!) ?? 0) + f[j]!);
  }
  for (let j = 0; j < map.length; j++) if (map[j]! >= 0) f[j] = f[j]! / sum.get(map[j]!)!;
  return f;
}

/**
 * Gathers `t` along `axis` by `map`; entry j of the result is old entry map[j] times `scale[j]`
 * (when given), or `fill(index)` where map[j] = -1.
 */
export function gatherAxis(
  t: WTensor,
  axis: number,
  map: ChannelMap,
  scale?: Float32Array,
  fill: (i: number) => number = () => 0,
): WTensor {
  const s = t.shape;
  const outer = size(s.slice(0, axis));
  const n = s[axis]!;
  const inner = size(s.slice(axis + 1));
  const m = map.length;
  const shape = [...s];
  shape[axis] = m;
  const out = new Float32Array(outer * m * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const src = map[j]!;
      const dst = (o * m + j) * inner;
      if (src < 0) {
        for (let i = 0; i < inner; i++) out[dst + i] = fill(dst + i);
        continue;
      }
      if (src >= n) throw new Error(`gatherAxis: index ${src} out of range ${n}`);
      const k = scale ? scale[j]! : 1;
      const from = (o * n + src) * inner;
      if (k === 1) out.set(t.data.subarray(from, from + inner), dst);
      else for (let i = 0; i < inner; i++) out[dst + i] = t.data[from + i]! * k;
    }
  }
  return { shape, data: out };
}

/** [k, k, a, b] -> [k2, k2, a, b]: centred zero padding (k2 > k, exact for 'same' stride <= 3) or centre crop. */
export function resizeKernel(t: WTensor, k2: number): WTensor {
  const [k, , a, b] = t.shape as [number, number, number, number];
  if (k2 === k) return t;
  const inner = a * b;
  const out = new Float32Array(k2 * k2 * inner);
  const d = Math.floor((k2 - k) / 2);
  for (let y = 0; y < k2; y++) {
    for (let x = 0; x < k2; x++) {
      const sy = y - d;
      const sx = x - d;
      if (sy < 0 || sx < 0 || sy >= k || sx >= k) continue;
      out.set(t.data.subarray((sy * k + sx) * inner, (sy * k + sx + 1) * inner), (y * k2 + x) * inner);
    }
  }
  return { shape: [k2, k2, a, b], data: out };
}

export function filled(shape: number[], v: number | ((i: number) => number)): WTensor {
  const data = new Float32Array(size(shape));
  for (let i = 0; i < data.length; i++) data[i] = typeof v === 'number' ? v : v(i);
  return { shape, data };
}

/** He-normal values for a fresh tensor with `fanIn` inputs per output. */
export function heNormal(shape: number[], fanIn: number, rng: Rng): WTensor {
  const std = Math.sqrt(2 / Math.max(1, fanIn));
  return filled(shape, () => rng.normal() * std);
}
