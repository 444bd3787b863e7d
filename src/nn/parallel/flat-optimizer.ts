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
  const k = grads.filter((_, j) => shardWeights[j]! > 0);
  const ws = shardWeights.filter((x) => x > 0);
  const g0 = k[0]!;
  const w0 = ws[0]!;
  const g1 = k[1];
  const w1 = ws[1] ?? 0;
  const grad = (i: number): number => {
    let g = Math.fround(w0 * g0[i]!);
    if (g1) g = Math.fround(g + w1 * g1[i]!);
    for (let j = 2; j < k.length; j++) g = Math.fround(g + ws[j]! * k[j]![i]!);
    return g;
  };
  switch (h.kind) {
    case 'sgd':
      for (let i = from; i < to; i++) w[i] = w[i]! - lr * grad(i);
      return;
    case 'momentum': {
      const acc = slots[0]!;
      for (let i = from; i < to; i++) {
        const g = grad(i);
        const a = (acc[i] = h.momentum * acc[i]! + g);
        w[i] = w[i]! - lr * (h.nesterov ? g + acc[i]! * h.momentum : a);
      }
      return;
    }
    case 'adam': {
      const [m, v] = slots as [Float32Array, Float32Array];
      const c1 = 1 - Math.pow(h.beta1, t);
      const c2 = 1 - Math.pow(h.beta2, t);
      for (let i = from; i < to; i++) {
        const g = grad(i);
        const mi = (m[i] = h.beta1 * m[i]! + (1 - h.beta1) * g);
        const vi = (v[i] = h.beta2 * v[i]! + (1 - h.beta2) * g * g);
        w[i] = w[i]! - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + h.epsilon);
      }
      return;
    }
    case 'rmsprop': {
      const [ms, mom] = slots as [Float32Array, Float32Array];
      for (let i = from; i < to; i++) {
        const g = grad(i);
        const s = (ms[i] = h.decay * ms[i]! + (1 - h.decay) * g * g);
        const mo = (mom[i] = h.momentum * mom[i]! + (g * lr) / Math.sqrt(s + h.epsilon));
        w[i] = w[i]! - mo;
      }
      return;
    }
  }
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
