/**
 * Fused optimizer updates on the wasm backend. tfjs's optimizers update each variable with ~10
 * stock kernels (mul, add, sqrt, div, ..., each allocating a tensor); on wasm with the tsnas kernel
 * pack registered, these subclasses do the whole update of a variable in one SIMD pass over the
 * heap (asm/optim.ts, run as the kernel 'TsnasAdam' so that profiles see it): the optimizer's state
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

/** asm/optim.ts; pointers are byte offsets into the wasm heap. */
interface OptimKernels {
  adam(
    n: number, x: number, g: number, m: number, v: number, mOut: number, vOut: number, out: number,
    b1: number, c1: number, b2: number, c2: number, d1: number, d2: number, eps: number, nlr: number,
  ): void;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  refCount(dataId: object): number;
}

const ADAM_KERNEL = 'TsnasAdam';

/** Kernel inputs: x (variable), g (gradient), m, v (updated in place); output: the new variable. */
function registerOptimizerKernels(): void {
  if (tf.getKernel(ADAM_KERNEL, 'wasm')) return;
  tf.registerKernel({
    kernelName: ADAM_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, g, m, v } = inputs as Record<'x' | 'g' | 'm' | 'v', tf.TensorInfo>;
      const a = attrs as unknown as Record<'b1' | 'c1' | 'b2' | 'c2' | 'd1' | 'd2' | 'eps' | 'nlr', number>;
      const b = backend as tf.KernelBackend;
      const out = (b as unknown as WasmBackendLike).makeOutput(x!.shape, 'float32');
      const p = (t: tf.TensorInfo) => heapOffset(b, t);
      simdKernels<OptimKernels>(b).adam(
        tf.util.sizeFromShape(x!.shape), p(x!), p(g!), p(m!), p(v!), p(m!), p(v!), p(out),
        a.b1, a.c1, a.b2, a.c2, a.d1, a.d2, a.eps, a.nlr);
      return out;
    },
  });
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

function allFloat32(list: { name: string; grad: tf.Tensor | undefined }[]): boolean {
  const vars = tf.engine().registeredVariables;
  return list.every(({ name, grad }) => vars[name]?.dtype === 'float32' && (grad === undefined || grad.dtype === 'float32'));
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

const zeroState = (value: tf.Variable, originalName: string): OptimizerVariable => ({
  originalName,
  variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
});

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Gradients): void {
    const list = entries(variableGradients);
    if (!fusedOptimizerActive() || !allFloat32(list)) {
      super.applyGradients(variableGradients);
      return;
    }
    const s = this as unknown as AdamState;
    const f = Math.fround;
    // tfjs: oneMinusAccBeta = sub(1, accBeta) in float32 (1 - a is exact in float64, then rounded).
    const d1 = f(1 - s.accBeta1.dataSync()[0]!);
    const d2 = f(1 - s.accBeta2.dataSync()[0]!);
    const attrs = {
      b1: f(s.beta1), c1: f(1 - s.beta1), b2: f(s.beta2), c2: f(1 - s.beta2),
      d1, d2, eps: f(s.epsilon), nlr: f(-s.learningRate),
    };
    const vars = tf.engine().registeredVariables;
    list.forEach(({ name, grad }, i) => {
      const value = vars[name]!;
      s.accumulatedFirstMoment[i] ??= zeroState(value, `${name}/m`);
      s.accumulatedSecondMoment[i] ??= zeroState(value, `${name}/v`);
      if (grad == null) return;
      const m = s.accumulatedFirstMoment[i]!.variable;
      const v = s.accumulatedSecondMoment[i]!.variable;
      ownState(m);
      ownState(v);
      const next = tf.engine().runKernel(ADAM_KERNEL, { x: value, g: grad, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
      value.assign(next);
      next.dispose();
    });
    tf.tidy(() => {
      s.accBeta1.assign(tf.mul(s.accBeta1, s.beta1));
      s.accBeta2.assign(tf.mul(s.accBeta2, s.beta2));
    });
    this.incrementIterations();
  }
}

/** tf.train.adam with the fused update on wasm (same defaults). */
export function fusedAdam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number): tf.AdamOptimizer {
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
