/**
 * Weight transforms of weight inheritance (./inherit.ts), by op type: a matched node's parent
 * weights carried over to the child's shapes (`transfer*`), a new node's identity initialisation
 * (`identity*`, Net2DeeperNet) and the zero initialisation that closes a new branch (`zeroWeights`).
 * Every function draws from the caller's rng in a fixed order, so an inheritance is reproducible.
 */
import { BN_EPSILON } from '../../nn/ops.js';
import type { OpSpec } from '../../space/arch/graph.js';
import type { Rng } from '../../util/rng.js';
import { type ChannelMap, filled, gatherAxis, heNormal, resizeKernel } from './arrays.js';
import { type NodeWeights, roles, type WTensor } from './weights.js';

type Op<T extends OpSpec['type']> = OpSpec & { type: T };
type KernelOp = Op<'conv'> | Op<'sepconv'> | Op<'dense'>;

/** The child's weights from a matched parent node's, and whether the node still reproduces the parent's output. */
export interface Transferred {
  w: NodeWeights;
  exact: boolean;
}

/** Batch norm: the four vectors gathered by the input channel map (new channels: the identity's 1, 0, 0, 1). */
export function transferBn(op: Op<'bn'>, pw: NodeWeights, inMap: ChannelMap): NodeWeights {
  const fills: Record<string, number> = { gamma: 1, beta: 0, mean: 0, variance: 1 };
  const w: NodeWeights = {};
  for (const r of roles(op)) w[r] = gatherAxis(pw[r]!, 0, inMap, undefined, () => fills[r]!);
  return w;
}

/** Dense: rows by the input map (replicated rows share by `f`), columns by the output map. */
export function transferDense(pw: NodeWeights, inMap: ChannelMap, outMap: ChannelMap, f: Float32Array): NodeWeights {
  return { kernel: gatherAxis(gatherAxis(pw.kernel!, 0, inMap, f), 1, outMap) };
}

/** Whether a conv/sepconv keeps the parent's function: same stride and padding, and a same or zero-padded larger odd kernel. */
export function convExact(c: Op<'conv'> | Op<'sepconv'>, q: Op<'conv'> | Op<'sepconv'>): boolean {
  const same = (c.padding ?? 'same') === 'same';
  if ((c.stride ?? 1) !== (q.stride ?? 1) || (c.padding ?? 'same') !== (q.padding ?? 'same')) return false;
  return c.kernel === q.kernel || (c.kernel > q.kernel && (c.kernel - q.kernel) % 2 === 0 && same && (c.stride ?? 1) <= 3);
}

/** Conv: input and output channels gathered, the kernel zero-padded to the child's size. */
export function transferConv(c: Op<'conv'>, pw: NodeWeights, inMap: ChannelMap, outMap: ChannelMap, f: Float32Array): NodeWeights {
  return { kernel: resizeKernel(gatherAxis(gatherAxis(pw.kernel!, 2, inMap, f), 3, outMap), c.kernel) };
}

/** Sepconv: depthwise filters by the input map (new channels: fresh He-normal filters), pointwise as a conv. */
export function transferSepconv(
  c: Op<'sepconv'>,
  q: Op<'sepconv'>,
  pw: NodeWeights,
  inMap: ChannelMap,
  outMap: ChannelMap,
  f: Float32Array,
  rng: Rng,
): NodeWeights {
  const std = Math.sqrt(2 / (q.kernel * q.kernel));
  return {
    depthwise: resizeKernel(gatherAxis(pw.depthwise!, 2, inMap, undefined, () => rng.normal() * std), c.kernel),
    pointwise: gatherAxis(gatherAxis(pw.pointwise!, 2, inMap, f), 3, outMap),
  };
}

/** A weighted op's kernels from its parent's (the two ops have the same type); exact says whether the kernel change keeps the function. */
export function transferKernels(c: KernelOp, q: KernelOp, pw: NodeWeights, inMap: ChannelMap, outMap: ChannelMap, f: Float32Array, rng: Rng): Transferred {
  if (c.type === 'dense') return { w: transferDense(pw, inMap, outMap, f), exact: true };
  const exact = convExact(c, q as typeof c);
  if (c.type === 'conv') return { w: transferConv(c, pw, inMap, outMap, f), exact };
  return { w: transferSepconv(c, q as typeof c, pw, inMap, outMap, f, rng), exact };
}

/** The bias: the parent's by the output map, zeros when the parent had none; a dropped bias breaks exactness. */
export function transferBias(c: OpSpec, q: OpSpec, pw: NodeWeights, outMap: ChannelMap, shape: number[] | undefined): { bias?: WTensor; exact: boolean } {
  const cb = roles(c).includes('bias');
  const pb = roles(q).includes('bias');
  const bias = cb ? (pb ? gatherAxis(pw.bias!, 0, outMap) : filled(shape!, 0)) : undefined;
  return { ...(bias ? { bias } : {}), exact: !(pb && !cb) };
}

/**
 * A new batch norm as the identity at inference: moving statistics of the tensor it reads (by the
 * channel map into the parent's `stats`, else mean 0 and variance 1), gamma = sqrt(variance + eps), beta = mean.
 */
export function identityBn(cin: number, map: ChannelMap, st: { mean: Float32Array; variance: Float32Array } | undefined): NodeWeights {
  const ok = (j: number) => !!st && map[j]! >= 0 && map[j]! < st.mean.length;
  const mean = filled([cin], (j) => (ok(j) ? st!.mean[map[j]!]! : 0));
  const variance = filled([cin], (j) => (ok(j) ? st!.variance[map[j]!]! : 1));
  const gamma = filled([cin], (j) => Math.sqrt(variance.data[j]! + BN_EPSILON));
  const beta = filled([cin], (j) => mean.data[j]!);
  return { mean, variance, gamma, beta };
}

/** Whether a new weighted op can start as the identity (conv/sepconv: stride 1, 'same', odd kernel). */
export function canBeIdentity(op: OpSpec): op is KernelOp {
  if (op.type !== 'conv' && op.type !== 'sepconv' && op.type !== 'dense') return false;
  return op.type === 'dense' || ((op.stride ?? 1) === 1 && (op.padding ?? 'same') === 'same' && op.kernel % 2 === 1);
}

/** A new conv/sepconv/dense as the identity: output j copies input channel h[j] through the kernel's centre. */
export function identityKernels(op: KernelOp, shapes: Record<string, number[]>, cin: number, h: ChannelMap): NodeWeights {
  const cout = op.type === 'dense' ? op.units : op.filters;
  const eye = (shape: number[], k: number) => {
    const t = filled(shape, 0);
    const c = (k - 1) / 2;
    for (let j = 0; j < cout; j++) t.data[(c * k + c) * cin * cout + h[j]! * cout + j] = 1;
    return t;
  };
  const w: NodeWeights = {};
  if (op.type === 'dense') w.kernel = eye(shapes.kernel!, 1);
  else if (op.type === 'conv') w.kernel = eye(shapes.kernel!, op.kernel);
  else {
    const k = op.kernel;
    w.depthwise = filled(shapes.depthwise!, (i) => (Math.floor(i / cin) === ((k - 1) / 2) * (k + 1) ? 1 : 0));
    w.pointwise = eye(shapes.pointwise!, 1);
  }
  if (roles(op).includes('bias')) w.bias = filled(shapes.bias!, 0);
  return w;
}

/** Weights whose output is zero (the end of a new branch into an add): zeros, variance 1, He-normal depthwise filters. */
export function zeroWeights(op: OpSpec, shapes: Record<string, number[]>, rng: Rng): NodeWeights {
  const w: NodeWeights = {};
  for (const r of roles(op)) {
    if (r === 'depthwise') w[r] = heNormal(shapes[r]!, op.type === 'sepconv' ? op.kernel ** 2 : 1, rng);
    else w[r] = filled(shapes[r]!, r === 'variance' ? 1 : 0);
  }
  return w;
}
