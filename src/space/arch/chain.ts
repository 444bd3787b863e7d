/**
 * Macro chain space: a sequence of `depth` layers, each with its own op, width, activation, batch
 * norm and dropout, then a classifier head.
 *
 * Conditional parameters: `layer_i_*` is active only when depth > i (`when: { depth: [i+1..max] }`);
 * width, activation and batch norm are active only for ops with weights (dense, convs).
 *
 * Image vs tabular input is handled by two space variants, not by decode-time remapping:
 * - `chain` (image input [H,W,C]): ops dense, conv3x3, conv5x5, sepconv3x3, maxpool3x3, avgpool3x3,
 *   identity. Convs are stride 1 'same'; pools are 3x3 stride 2 'same' (they halve H and W, never
 *   below 1). `dense` on an image acts on the channel axis per pixel (a 1x1 conv), so any op order
 *   is valid. Head: `head` = gap (global average pooling) or flatten, then a linear classifier.
 * - `chain-flat` (flat input [D]): ops dense and identity only; head is the linear classifier.
 *   Decoding the image variant on flat input is rejected with a message pointing to `chain-flat`.
 * A weighted layer is op (bias only without BN) -> BN (optional) -> activation -> dropout (if rate > 0).
 */
import { SpaceError, validateParams, type Params, type ParamSpec, type SearchSpace } from '../params.js';
import { GraphBuilder, scaleWidth } from './blocks.js';
import type { Activation, ArchGraph, OpSpec } from './graph.js';
import type { ArchSpace, DecodeOpts } from './types.js';

export const CHAIN_IMAGE_OPS = ['dense', 'conv3x3', 'conv5x5', 'sepconv3x3', 'maxpool3x3', 'avgpool3x3', 'identity'] as const;
export const CHAIN_FLAT_OPS = ['dense', 'identity'] as const;
export type ChainOp = (typeof CHAIN_IMAGE_OPS)[number];
const WEIGHTED: ChainOp[] = ['dense', 'conv3x3', 'conv5x5', 'sepconv3x3'];
export const CHAIN_ACTIVATIONS: Activation[] = ['relu', 'elu', 'tanh', 'selu', 'swish'];

export interface ChainSpaceOpts {
  input: 'image' | 'flat';
  maxDepth?: number;
  widths?: number[];
}

export function makeChainSpace(o: ChainSpaceOpts): SearchSpace {
  const maxDepth = o.maxDepth ?? 6;
  const ops: readonly ChainOp[] = o.input === 'image' ? CHAIN_IMAGE_OPS : CHAIN_FLAT_OPS;
  const widths = o.widths ?? (o.input === 'image' ? [16, 32, 64, 128] : [16, 32, 64, 128, 256, 512]);
  const params: Record<string, ParamSpec> = { depth: { type: 'int', low: 1, high: maxDepth } };
  for (let i = 0; i < maxDepth; i++) {
    const deeper = Array.from({ length: maxDepth - i }, (_, k) => i + 1 + k);
    const weighted = { depth: deeper, [`layer_${i}_op`]: WEIGHTED.filter((w) => ops.includes(w)) };
    params[`layer_${i}_op`] = { type: 'categorical', choices: [...ops], when: { depth: deeper } };
    params[`layer_${i}_width`] = { type: 'categorical', choices: [...widths], when: weighted };
    params[`layer_${i}_act`] = { type: 'categorical', choices: [...CHAIN_ACTIVATIONS], when: weighted };
    params[`layer_${i}_bn`] = { type: 'categorical', choices: [false, true], when: weighted };
    params[`layer_${i}_dropout`] = { type: 'float', low: 0, high: 0.5, step: 0.1, when: { depth: deeper } };
  }
  if (o.input === 'image') params.head = { type: 'categorical', choices: ['gap', 'flatten'] };
  return { params };
}

function layerOp(op: ChainOp, filters: number, bias: boolean): OpSpec {
  switch (op) {
    case 'dense':
      return { type: 'dense', units: filters, bias };
    case 'conv3x3':
      return { type: 'conv', filters, kernel: 3, stride: 1, padding: 'same', bias };
    case 'conv5x5':
      return { type: 'conv', filters, kernel: 5, stride: 1, padding: 'same', bias };
    case 'sepconv3x3':
      return { type: 'sepconv', filters, kernel: 3, stride: 1, padding: 'same', bias };
    case 'maxpool3x3':
      return { type: 'pool', mode: 'max', size: 3, stride: 2, padding: 'same' };
    case 'avgpool3x3':
      return { type: 'pool', mode: 'avg', size: 3, stride: 2, padding: 'same' };
    case 'identity':
      return { type: 'identity' };
  }
}

function decodeChain(name: string, input: 'image' | 'flat', params: Params, opts: DecodeOpts): ArchGraph {
  if (input === 'image' && opts.inputShape.length !== 3) {
    throw new SpaceError(
      `${name}: input shape [${opts.inputShape.join(',')}] is not an image [H,W,C]; use the chain-flat space for flat (tabular) input`,
    );
  }
  const b = new GraphBuilder();
  let x = b.input('input', opts.inputShape);
  const depth = params.depth as number;
  for (let i = 0; i < depth; i++) {
    const op = params[`layer_${i}_op`] as ChainOp;
    const p = `layer${i}`;
    if (WEIGHTED.includes(op)) {
      const bn = params[`layer_${i}_bn`] === true;
      const width = scaleWidth(params[`layer_${i}_width`] as number, opts.width ?? 1);
      x = b.op(`${p}/${op}`, layerOp(op, width, !bn), x);
      if (bn) x = b.op(`${p}/bn`, { type: 'bn' }, x);
      const act = params[`layer_${i}_act`] as Activation;
      x = b.op(`${p}/${act}`, { type: 'act', fn: act }, x);
    } else {
      x = b.op(`${p}/${op}`, layerOp(op, 0, false), x);
    }
    const rate = params[`layer_${i}_dropout`] as number;
    if (rate > 0) x = b.op(`${p}/dropout`, { type: 'dropout', rate }, x);
  }
  if (b.shape(x).length === 3) {
    const head = params.head === 'flatten' ? 'flatten' : 'gap';
    x = b.op(`head/${head}`, { type: head }, x);
  }
  x = b.op('head/classifier', { type: 'dense', units: opts.numClasses, bias: true }, x);
  b.output(x);
  return b.build();
}

function chainArchSpace(name: string, o: ChainSpaceOpts): ArchSpace {
  const space = makeChainSpace(o);
  return {
    name,
    space,
    decode(params, opts) {
      validateParams(space, params);
      return decodeChain(name, o.input, params, opts);
    },
  };
}

/** Chain space for image input. */
export const chainSpace: ArchSpace = chainArchSpace('chain', { input: 'image' });
/** Chain space for flat (tabular) input: dense and identity layers only. */
export const chainFlatSpace: ArchSpace = chainArchSpace('chain-flat', { input: 'flat' });
/** A chain space with other depth/width choices. */
export function makeChainArchSpace(name: string, o: ChainSpaceOpts): ArchSpace {
  return chainArchSpace(name, o);
}
