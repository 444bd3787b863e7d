/**
 * The optimizer update of a data-parallel run on flat Float32Arrays, split by element range over the
 * replicas: replica r reduces the shards' gradients and updates weights and optimizer state for its
 * range only (the state and the flat weights live in SharedArrayBuffers), then every replica loads
 * the new weights. This halves (on 2 threads) the optimizer's cost, which every replica would
 * otherwise repeat in full. The formulas are tfjs 4.22's (adam, sgd, momentum, rmsprop without
 * centering), in float64 stored to float32 (tfjs rounds after every op: a difference of ~1e-7
 * relative per step); `toTf`/`fromTf` convert the state to and from the tfjs optimizer's
 * getWeights() layout, so checkpoints and resumes see a normal tfjs optimizer.
 */
import * as tf from '@tensorflow/tfjs';

export type FlatKind = 'sgd' | 'momentum' | 'adam' | 'rmsprop';

export interface FlatHyper {
  kind: FlatKind;
  beta1: number;
  beta2: number;
  epsilon: number;
  momentum: number;
  nesterov: boolean;
  decay: number;
}

/** State slots per kind, in the order of the tfjs optimizer's getWeights() (after iterations). */
const SLOTS: Record<FlatKind, string[]> = { sgd: [], momentum: ['momentum'], adam: ['m', 'v'], rmsprop: ['rms', 'momentum'] };

export function slotCount(kind: FlatKind): number {
  return SLOTS[kind].length;
}

/** The kind and hyper-parameters of a tfjs optimizer; throws for what the flat update does not cover. */
export function flatHyper(opt: tf.Optimizer): FlatHyper {
  const o = opt as unknown as Record<string, unknown>;
  const h: FlatHyper = { kind: 'sgd', beta1: 0, beta2: 0, epsilon: 0, momentum: 0, nesterov: false, decay: 0 };
  // By class name: tfjs' optimizer classes answer instanceof for any optimizer.
  const name = opt.getClassName();
  if (name === 'Adam') return { ...h, kind: 'adam', beta1: o.beta1 as number, beta2: o.beta2 as number, epsilon: o.epsilon as number };
  if (name === 'Momentum') return { ...h, kind: 'momentum', momentum: o.momentum as number, nesterov: o.useNesterov === true };
  if (name === 'RMSProp') {
    if (o.centered) throw new Error('data-parallel training: centered rmsprop is not supported (use threads: 1)');
    return { ...h, kind: 'rmsprop', decay: o.decay as number, momentum: o.momentum as number, epsilon: o.epsilon as number };
  }
  if (name === 'SGD') return h;
  throw new Error(`data-parallel training: optimizer ${opt.getClassName()} is not supported (use threads: 1)`);
}

/**
 * One step on elements [from, to): the gradient is sum_k shardWeights[k] * grads[k][i] (fixed order,
 * so every replica would compute the same value), `t` the 1-based step number (Adam's bias correction).
 */
export function flatUpdate(
  h: FlatHyper,
  w: Float32Array,
  slots: Float32Array[],
  grads: Float32Array[],
  shardWeights: number[],
  from: number,
  to: number,
  lr: number,
  t: number,
): void {
  // The mean gradient of the range, reduced in rank order into a scratch array (plain loops: fast).
  const g = scratch(to - from);
  let first = true;
  for (let k = 0; k < grads.length; k++) {
    const wk = shardWeights[k]!;
    if (!(wk > 0)) continue;
    const gk = grads[k]!;
    if (first) for (let i = from; i < to; i++) g[i - from] = wk * gk[i]!;
    else for (let i = from; i < to; i++) g[i - from] += wk * gk[i]!;
    first = false;
  }
  const n = to - from;
  const W = w.subarray(from, to);
  switch (h.kind) {
    case 'sgd':
      for (let i = 0; i < n; i++) W[i] = W[i]! - lr * g[i]!;
      return;
    case 'momentum': {
      const acc = slots[0]!.subarray(from, to);
      const mu = h.momentum;
      for (let i = 0; i < n; i++) {
        const gi = g[i]!;
        const a = mu * acc[i]! + gi;
        acc[i] = a;
        W[i] = W[i]! - lr * (h.nesterov ? gi + Math.fround(a) * mu : a);
      }
      return;
    }
    case 'adam': {
      const m = slots[0]!.subarray(from, to);
      const v = slots[1]!.subarray(from, to);
      const { beta1: b1, beta2: b2, epsilon: eps } = h;
      const a1 = 1 - b1;
      const a2 = 1 - b2;
      const c1 = 1 - Math.pow(b1, t);
      const c2 = 1 - Math.pow(b2, t);
      for (let i = 0; i < n; i++) {
        const gi = g[i]!;
        const mi = b1 * m[i]! + a1 * gi;
        const vi = b2 * v[i]! + a2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        W[i] = W[i]! - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + eps);
      }
      return;
    }
    case 'rmsprop': {
      const ms = slots[0]!.subarray(from, to);
      const mom = slots[1]!.subarray(from, to);
      const { decay: d, momentum: mu, epsilon: eps } = h;
      for (let i = 0; i < n; i++) {
        const gi = g[i]!;
        const s2 = d * ms[i]! + (1 - d) * gi * gi;
        ms[i] = s2;
        const mo = mu * mom[i]! + (gi * lr) / Math.sqrt(s2 + eps);
        mom[i] = mo;
        W[i] = W[i]! - mo;
      }
      return;
    }
  }
}

let scratchBuf = new Float32Array(0);
function scratch(n: number): Float32Array {
  if (scratchBuf.length < n) scratchBuf = new Float32Array(n);
  return scratchBuf;
}

/** The tfjs optimizer's state (from getWeights(), iterations first) into flat slots; returns iterations. */
export function fromTf(state: { tensor: tf.Tensor }[], slots: Float32Array[]): number {
  const iterations = state.length > 0 ? state[0]!.tensor.dataSync()[0]! : 0;
  const rest = state.slice(1);
  if (rest.length === 0) return iterations; // no step yet: zero state
  const perSlot = rest.length / slots.length;
  slots.forEach((slot, s) => {
    let off = 0;
    for (const w of rest.slice(s * perSlot, (s + 1) * perSlot)) {
      const d = w.tensor.dataSync();
      slot.set(d, off);
      off += d.length;
    }
  });
  return iterations;
}

/**
 * Sets a tfjs optimizer's state from flat slots (variables in `vars` order), freeing the state
 * variables it had.
 */
export async function toTf(opt: tf.Optimizer, h: FlatHyper, vars: tf.Variable[], slots: Float32Array[], iterations: number): Promise<void> {
  if (h.kind === 'sgd') {
    (opt as unknown as { iterations_: number }).iterations_ = iterations;
    return;
  }
  const old = (await opt.getWeights()).map((w) => w.tensor);
  const weights: { name: string; tensor: tf.Tensor }[] = [{ name: 'iter', tensor: tf.scalar(iterations, 'int32') }];
  SLOTS[h.kind].forEach((name, s) => {
    let off = 0;
    for (const v of vars) {
      weights.push({ name: `${v.name}/${name}`, tensor: tf.tensor(slots[s]!.slice(off, off + v.size), v.shape) });
      off += v.size;
    }
  });
  try {
    await opt.setWeights(weights);
  } finally {
    tf.dispose(weights.map((w) => w.tensor));
    tf.dispose(old);
  }
}
