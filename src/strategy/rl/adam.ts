/** Adam on plain arrays (float64), so that a policy's optimiser state is JSON and resumes exactly. */
export interface AdamState {
  t: number;
  m: number[][];
  v: number[][];
}

export function adamInit(weights: readonly (readonly number[])[]): AdamState {
  return { t: 0, m: weights.map((w) => w.map(() => 0)), v: weights.map((w) => w.map(() => 0)) };
}

/** One Adam step of gradient *ascent* on `weights` (in place), with grads of the same shapes. */
export function adamAscend(
  weights: number[][],
  grads: readonly ArrayLike<number>[],
  st: AdamState,
  lr: number,
  beta1 = 0.9,
  beta2 = 0.999,
  eps = 1e-8,
): void {
  st.t += 1;
  const c1 = 1 - beta1 ** st.t;
  const c2 = 1 - beta2 ** st.t;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    const g = grads[i]!;
    const m = st.m[i]!;
    const v = st.v[i]!;
    for (let j = 0; j < w.length; j++) {
      const gj = g[j]!;
      m[j] = beta1 * m[j]! + (1 - beta1) * gj;
      v[j] = beta2 * v[j]! + (1 - beta2) * gj * gj;
      w[j] = w[j]! + (lr * (m[j]! / c1)) / (Math.sqrt(v[j]! / c2) + eps);
    }
  }
}
