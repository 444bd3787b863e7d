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
import { sharedSimdKernels } from '../kernels/simd.js';

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
 * The flat arrays of a run, laid out in one shared WebAssembly.Memory (the typed arrays are views of
 * its SharedArrayBuffer), so that the optimizer kernels of asm/optim.ts and asm/flat.ts (shared
 * build) update them in place, in every thread. `scratch` holds the reduced gradient; each replica
 * uses its own element range of it.
 */
export interface FlatState {
  memory: WebAssembly.Memory;
  weights: Float32Array;
  slots: Float32Array[];
  /** Every replica's gradient slot, by rank. */
  grads: Float32Array[];
  scratch: Float32Array;
}

export function allocFlatState(size: number, threads: number, kind: FlatKind): FlatState {
  const n = slotCount(kind);
  const arrays = 2 + n + threads;
  const stride = Math.ceil(size / 4) * 16; // 16-byte aligned arrays
  const pages = Math.max(1, Math.ceil((arrays * stride) / 65536));
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  let next = 0;
  const take = () => new Float32Array(memory.buffer, stride * next++, size);
  return {
    memory,
    weights: take(),
    slots: Array.from({ length: n }, take),
    grads: Array.from({ length: threads }, take),
    scratch: take(),
  };
}

/** asm/flat.ts + asm/optim.ts (pointers: byte offsets into the flat state's memory). */
interface FlatKernels {
  flatReduce(dst: number, src: number, w: number, n: number, first: number): void;
  adam(n: number, x: number, g: number, m: number, v: number, out: number,
    b1: number, c1: number, b2: number, c2: number, d1: number, d2: number, eps: number, nlr: number): void;
  sgd(n: number, x: number, g: number, s0: number, s1: number, out: number, nlr: number): void;
  momentum(n: number, x: number, g: number, a: number, s1: number, out: number, mu: number, nlr: number, nesterov: number): void;
  rmsprop(n: number, x: number, g: number, ms: number, mom: number, out: number,
    decay: number, c: number, mu: number, lr: number, eps: number): void;
}

/**
 * One step on elements [from, to): the gradient is sum_k shardWeights[k] * grads[k][i] (fixed rank
 * order, so every replica would compute the same value), `t` the 1-based step number (Adam's bias
 * correction). One SIMD pass per shard for the reduction and one for the update, in place.
 */
export function flatUpdate(
  h: FlatHyper,
  s: FlatState,
  shardWeights: number[],
  from: number,
  to: number,
  lr: number,
  t: number,
): void {
  const n = to - from;
  if (n <= 0) return;
  const k = sharedSimdKernels<FlatKernels>(s.memory);
  const at = (a: Float32Array) => a.byteOffset + 4 * from;
  const g = at(s.scratch);
  let first = 1;
  for (let r = 0; r < s.grads.length; r++) {
    const wr = shardWeights[r]!;
    if (!(wr > 0)) continue;
    k.flatReduce(g, at(s.grads[r]!), wr, n, first);
    first = 0;
  }
  if (first) s.scratch.fill(0, from, to);
  const w = at(s.weights);
  const f = Math.fround;
  const slot = (i: number) => (s.slots[i] ? at(s.slots[i]!) : 0);
  switch (h.kind) {
    case 'sgd':
      return k.sgd(n, w, g, 0, 0, w, f(-lr));
    case 'momentum':
      return k.momentum(n, w, g, slot(0), 0, w, h.momentum, f(-lr), h.nesterov ? 1 : 0);
    case 'adam':
      return k.adam(n, w, g, slot(0), slot(1), w, h.beta1, f(1 - h.beta1), h.beta2, f(1 - h.beta2),
        f(1 - Math.pow(h.beta1, t)), f(1 - Math.pow(h.beta2, t)), h.epsilon, f(-lr));
    case 'rmsprop':
      return k.rmsprop(n, w, g, slot(0), slot(1), w, h.decay, f(1 - h.decay), h.momentum, lr, h.epsilon);
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
