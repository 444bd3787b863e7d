/**
 * Fused optimizer updates on the wasm backend. tfjs's optimizers update each variable with ~10
 * stock kernels (mul, add, sqrt, div, ..., each allocating a tensor); on wasm with the tsnas kernel
 * pack registered, these subclasses do the whole update of a variable in one SIMD pass over the
 * heap (asm/optim.ts, run as the kernels TsnasAdam, TsnasSGD, TsnasMomentum and TsnasRMSProp so that
 * profiles see them): the optimizer's state
 * slots are updated in place, and the variable gets a NEW tensor (its current buffer may be shared
 * with clones or snapshots). Same formulas in the same float32 operation order as the stock kernels
 * (the same bits on the same gradients, see test/nn/optimizers.test.ts). On any other backend, or
 * without the pack, applyGradients is tfjs's own.
 *
 * The classes extend tfjs's optimizer classes and keep their state fields, so className,
 * getConfig, getWeights/setWeights (checkpoints, resumes, the data-parallel state hand-over in
 * src/nn/parallel/flat-optimizer.ts) and serialization are exactly tfjs's.
 */
import * as tf from '@tensorflow/tfjs';
import { isPackRegistered } from './kernels/index.js';
import { heapOffset, simdKernels } from './kernels/simd.js';

/**
 * asm/optim.ts: every update takes (n, x, g, s0, s1, out, ...scalars), pointers being byte offsets
 * into the wasm heap; s0/s1 (state slots) are updated in place, out receives the new variable.
 */
type Update = (n: number, x: number, g: number, s0: number, s1: number, out: number, ...scalars: number[]) => void;
type OptimKernels = Record<'adam' | 'sgd' | 'momentum' | 'rmsprop', Update>;

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  refCount(dataId: object): number;
}

/** The kernels (engine-run, so that profiles see them) and the asm function each one calls. */
const KERNELS = { TsnasAdam: 'adam', TsnasSGD: 'sgd', TsnasMomentum: 'momentum', TsnasRMSProp: 'rmsprop' } as const;
type KernelName = keyof typeof KERNELS;

/** Inputs: x (variable), g (gradient), s0, s1 (state, optional, updated in place); attrs.scalars; output: the new variable. */
function registerOptimizerKernels(): void {
  for (const [kernelName, fn] of Object.entries(KERNELS)) {
    if (tf.getKernel(kernelName, 'wasm')) continue;
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { x, g, s0, s1 } = inputs as Partial<Record<'x' | 'g' | 's0' | 's1', tf.TensorInfo>>;
        const b = backend as tf.KernelBackend;
        const out = (b as unknown as WasmBackendLike).makeOutput(x!.shape, 'float32');
        const p = (t: tf.TensorInfo | undefined) => (t ? heapOffset(b, t) : 0);
        simdKernels<OptimKernels>(b)[fn](
          tf.util.sizeFromShape(x!.shape), p(x), p(g), p(s0), p(s1), p(out), ...(attrs as { scalars: number[] }).scalars);
        return out;
      },
    });
  }
}
registerOptimizerKernels();

/** Whether applyGradients takes the fused path now (wasm backend with the tsnas kernel pack). */
export function fusedOptimizerActive(): boolean {
  return tf.getBackend() === 'wasm' && isPackRegistered('wasm');
}

type Gradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];

/** The variables and gradients of an applyGradients call, in its order (tfjs indexes state by position). */
function entries(grads: Gradients): { name: string; grad: tf.Tensor | undefined }[] {
  return Array.isArray(grads)
    ? grads.map((e) => ({ name: e.name, grad: e.tensor }))
    : Object.keys(grads).map((name) => ({ name, grad: grads[name] }));
}

/** Whether the fused path applies: on wasm with the pack, float32 variables with gradients of their size. */
function fusable(list: { name: string; grad: tf.Tensor | undefined }[]): boolean {
  if (!fusedOptimizerActive()) return false;
  const vars = tf.engine().registeredVariables;
  return list.every(({ name, grad }) => {
    const v = vars[name];
    return v?.dtype === 'float32' && (grad == null || (grad.dtype === 'float32' && grad.size === v.size));
  });
}

/**
 * A state variable that this optimizer alone holds, so it can be written in place: one whose
 * buffer is shared (setWeights with a tensor the caller keeps, a clone) gets a private copy first.
 */
function ownState(s: tf.Variable): void {
  const backend = tf.engine().backend as unknown as WasmBackendLike;
  if (backend.refCount(s.dataId) > 1) {
    const copy = tf.tensor(s.dataSync(), s.shape, 'float32');
    s.assign(copy);
    copy.dispose();
  }
}

interface OptimizerVariable {
  originalName: string;
  variable: tf.Variable;
}

const zeroState = (value: tf.Variable, originalName: string): OptimizerVariable => ({
  originalName,
  variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
});

/**
 * The fused update of every variable of an applyGradients call: `state(i, value, name)` returns
 * (creating them, as tfjs does, before looking at the gradient) the state slots of the i-th entry.
 */
function fusedUpdate(
  kernel: KernelName,
  list: { name: string; grad: tf.Tensor | undefined }[],
  state: (i: number, value: tf.Variable, name: string) => tf.Variable[],
  scalars: number[],
): void {
  const vars = tf.engine().registeredVariables;
  const attrs = { scalars } as unknown as tf.NamedAttrMap;
  list.forEach(({ name, grad }, i) => {
    const value = vars[name]!;
    const slots = state(i, value, name);
    if (grad == null) return;
    slots.forEach(ownState);
    const inputs: tf.NamedTensorMap = { x: value, g: grad };
    if (slots[0]) inputs.s0 = slots[0];
    if (slots[1]) inputs.s1 = slots[1];
    const next = tf.engine().runKernel(kernel, inputs, attrs) as tf.Tensor;
    value.assign(next);
    next.dispose();
  });
}

const f32 = Math.fround;

/** The private state of tfjs's AdamOptimizer (adam_optimizer.js, tfjs 4.22). */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: OptimizerVariable[];
  accumulatedSecondMoment: OptimizerVariable[];
}

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Gradients): void {
    const list = entries(variableGradients);
    if (!fusable(list)) return super.applyGradients(variableGradients);
    const s = this as unknown as AdamState;
    // tfjs: oneMinusAccBeta = sub(1, accBeta) in float32 (1 - a is exact in float64, then rounded).
    const d1 = f32(1 - s.accBeta1.dataSync()[0]!);
    const d2 = f32(1 - s.accBeta2.dataSync()[0]!);
    const m = s.accumulatedFirstMoment;
    const v = s.accumulatedSecondMoment;
    fusedUpdate('TsnasAdam', list, (i, value, name) => {
      m[i] ??= zeroState(value, `${name}/m`);
      v[i] ??= zeroState(value, `${name}/v`);
      return [m[i]!.variable, v[i]!.variable];
    }, [f32(s.beta1), f32(1 - s.beta1), f32(s.beta2), f32(1 - s.beta2), d1, d2, f32(s.epsilon), f32(-s.learningRate)]);
    tf.tidy(() => {
      s.accBeta1.assign(tf.mul(s.accBeta1, s.beta1));
      s.accBeta2.assign(tf.mul(s.accBeta2, s.beta2));
    });
    this.incrementIterations();
  }
}

export class FusedSGDOptimizer extends tf.SGDOptimizer {
  override applyGradients(variableGradients: Gradients): void {
    const list = entries(variableGradients);
    if (!fusable(list)) return super.applyGradients(variableGradients);
    // tfjs: add(mul(c, g), value), c = scalar(-learningRate) (renewed by setLearningRate).
    fusedUpdate('TsnasSGD', list.filter((e) => e.grad != null), () => [], [f32(-this.learningRate)]);
    this.incrementIterations();
  }
}

/** The private state of tfjs's MomentumOptimizer. */
interface MomentumState {
  m: tf.Scalar;
  useNesterov: boolean;
  accumulations: OptimizerVariable[];
}

export class FusedMomentumOptimizer extends tf.MomentumOptimizer {
  override applyGradients(variableGradients: Gradients): void {
    const list = entries(variableGradients);
    if (!fusable(list)) return super.applyGradients(variableGradients);
    const s = this as unknown as MomentumState;
    const acc = s.accumulations;
    // tfjs multiplies by the scalar m made in the constructor (setMomentum does not renew it).
    const mu = s.m.dataSync()[0]!;
    fusedUpdate('TsnasMomentum', list, (i, value, name) => {
      acc[i] ??= zeroState(value, `${name}/momentum`);
      return [acc[i]!.variable];
    }, [mu, f32(-this.learningRate), s.useNesterov ? 1 : 0]);
    this.incrementIterations();
  }

  /** tfjs's MomentumOptimizer.dispose leaves the learning-rate scalar of its SGD base behind. */
  override dispose(): void {
    super.dispose();
    this.c.dispose();
  }
}

/** The private state of tfjs's RMSPropOptimizer. */
interface RMSPropState {
  learningRate: number;
  decay: number;
  momentum: number;
  epsilon: number;
  centered: boolean;
  accumulatedMeanSquares: OptimizerVariable[];
  accumulatedMoments: OptimizerVariable[];
}

/** Fused when not centered; the centered variant is tfjs's own. */
export class FusedRMSPropOptimizer extends tf.RMSPropOptimizer {
  override applyGradients(variableGradients: Gradients): void {
    const list = entries(variableGradients);
    const s = this as unknown as RMSPropState;
    if (s.centered || !fusable(list)) return super.applyGradients(variableGradients);
    const ms = s.accumulatedMeanSquares;
    const mom = s.accumulatedMoments;
    fusedUpdate('TsnasRMSProp', list, (i, value, name) => {
      ms[i] ??= zeroState(value, `${name}/rms`);
      mom[i] ??= zeroState(value, `${name}/momentum`);
      return [ms[i]!.variable, mom[i]!.variable];
    }, [f32(s.decay), f32(1 - s.decay), f32(s.momentum), f32(s.learningRate), f32(s.epsilon)]);
    this.incrementIterations();
  }
}

/** tf.train.adam / sgd / momentum / rmsprop (same defaults) with the fused update on wasm. */
export const fused = {
  adam: (learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number) => new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon),
  sgd: (learningRate: number) => new FusedSGDOptimizer(learningRate),
  momentum: (learningRate: number, momentum: number, useNesterov = false) => new FusedMomentumOptimizer(learningRate, momentum, useNesterov),
  rmsprop: (learningRate: number, decay = 0.9, momentum = 0, epsilon?: number, centered = false) =>
    new FusedRMSPropOptimizer(learningRate, decay, momentum, epsilon, centered),
};
