/** Seeded test arrays and relative errors shared by the kernel and optimizer tests. */
import { expect } from 'vitest';
import type { Rng } from '../../src/util/rng.js';

export interface Arr {
  shape: number[];
  data: Float32Array;
}

/** `n` draws of `f` (standard normal by default). */
export function randn(rng: Rng, n: number, f: (r: Rng) => number = (r) => r.normal()): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = f(rng);
  return a;
}

export function randArr(rng: Rng, shape: number[], f?: (r: Rng) => number): Arr {
  return { shape, data: randn(rng, shape.reduce((a, b) => a * b, 1), f) };
}

/** max |got - want| / max |want| (same lengths asserted). */
export function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num = Math.max(num, Math.abs(got[i]! - want[i]!));
    den = Math.max(den, Math.abs(want[i]!));
  }
  return num / Math.max(den, 1e-12);
}
