/**
 * NAS-Bench-201 cell space (Dong & Yang, ICLR 2020): a 4-node cell DAG whose 6 edges each carry one
 * of 5 ops, stacked in the benchmark's macro skeleton.
 *
 * Parameters `edge_j_i` (edge from node i to node j), values the op names below. Arch strings are
 * `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` (node 1 | node 2 | node 3, each entry `op~source`).
 *
 * Skeleton (as in the paper and its reference code): stem conv3x3(C) + BN; 3 stages of N cells at
 * C, 2C, 4C channels with a ResNet basic block (stride 2) between stages; BN + ReLU, global average
 * pooling, linear classifier. Cell node j = sum over i < j of op_{j,i}(node i); the cell output is node 3.
 * Ops: none = zeros (the edge stays in the graph, as the reference Zero module does, so the built
 * model contains every conv of the genotype, exactly like the benchmark's PyTorch network);
 * skip_connect = identity; nor_conv_kxk = ReLU-Conv(bias-free)-BN; avg_pool_3x3 = 3x3 stride-1 'same'
 * average pool excluding padding. TF 'same' padding of the stride-2 convs pads bottom/right only
 * (PyTorch pads 1 on every side): shapes, parameters and FLOPs are identical, activations shift.
 */
import { SpaceError, validateParams, type Params } from '../params.js';
import { NB201_EDGES, NB201_EDGE_NAMES, NB201_SPACE, nb201OpOf, type Nb201Op } from '../nb201.js';
import { GraphBuilder, scaleWidth } from './blocks.js';
import type { ArchGraph, CheckedGraph } from './graph.js';
import type { ArchSpace, DecodeOpts } from './types.js';

function edgeOp(b: GraphBuilder, prefix: string, op: Nb201Op, x: string, c: number): string {
  switch (op) {
    case 'none':
      return b.op(`${prefix}/none`, { type: 'zero' }, x);
    case 'skip_connect':
      return b.op(`${prefix}/skip`, { type: 'identity' }, x);
    case 'nor_conv_1x1':
      return b.reluConvBn(prefix, x, c, 1);
    case 'nor_conv_3x3':
      return b.reluConvBn(prefix, x, c, 3);
    case 'avg_pool_3x3':
      return b.op(`${prefix}/avgpool`, { type: 'pool', mode: 'avg', size: 3, stride: 1, padding: 'same' }, x);
  }
}

/** One NB201 cell (channel count unchanged) on `x`; returns node 3. */
export function nb201Cell(b: GraphBuilder, prefix: string, ops: Nb201Op[], x: string): string {
  const c = b.channels(x);
  const nodes = [x];
  for (let j = 1; j <= 3; j++) {
    const terms: string[] = [];
    for (let i = 0; i < j; i++) {
      const e = NB201_EDGES.findIndex(([jj, ii]) => jj === j && ii === i);
      terms.push(edgeOp(b, `${prefix}/e${j}_${i}`, ops[e]!, nodes[i]!, c));
    }
    nodes.push(b.merge(`${prefix}/n${j}`, 'add', terms));
  }
  return nodes[3]!;
}

/** ResNet basic block with stride 2 (the reduction between NB201 stages). */
export function resnetReduction(b: GraphBuilder, prefix: string, x: string, filters: number): string {
  const a = b.reluConvBn(`${prefix}/conv_a`, x, filters, 3, 2);
  const bb = b.reluConvBn(`${prefix}/conv_b`, a, filters, 3, 1);
  const p = b.op(`${prefix}/down/avgpool`, { type: 'pool', mode: 'avg', size: 2, stride: 2, padding: 'valid' }, x);
  const d = b.op(`${prefix}/down/conv`, { type: 'conv', filters, kernel: 1, stride: 1, padding: 'same' }, p);
  return b.merge(`${prefix}/add`, 'add', [d, bb]);
}

/** Decodes without validating params against the space (for bulk use); `decode` validates first. */
export function decodeNb201(params: Params, opts: DecodeOpts): ArchGraph {
  return nb201Builder(params, opts).build();
}

/** The decoded graph already checked (shapes, order): pass it to countCost without re-checking. */
export function decodeNb201Checked(params: Params, opts: DecodeOpts): CheckedGraph {
  return nb201Builder(params, opts).buildChecked().checked;
}

function nb201Builder(params: Params, opts: DecodeOpts): GraphBuilder {
  const ops = NB201_EDGE_NAMES.map((n) => nb201OpOf(params, n));
  const c = scaleWidth(16, opts.width ?? 1);
  const n = opts.cells ?? 5;
  if (!(Number.isInteger(n) && n >= 1)) throw new SpaceError(`cells: must be an integer >= 1 (got ${n})`);
  const b = new GraphBuilder();
  let x = b.input('input', opts.inputShape);
  x = b.seq('stem', x, [
    ['conv', { type: 'conv', filters: c, kernel: 3, stride: 1, padding: 'same' }],
    ['bn', { type: 'bn' }],
  ]);
  for (let s = 0; s < 3; s++) {
    if (s > 0) x = resnetReduction(b, `reduce${s}`, x, c << s);
    for (let k = 0; k < n; k++) x = nb201Cell(b, `s${s}c${k}`, ops, x);
  }
  x = b.seq('lastact', x, [
    ['bn', { type: 'bn' }],
    ['relu', { type: 'act', fn: 'relu' }],
  ]);
  b.classifierHead(x, opts.numClasses);
  return b;
}

export const nb201ArchSpace: ArchSpace = {
  name: 'nb201',
  space: NB201_SPACE,
  decode(params, opts) {
    validateParams(NB201_SPACE, params);
    return decodeNb201(params, opts);
  },
};

export { NB201_OPS, NB201_EDGES, NB201_EDGE_NAMES, NB201_SPACE, nb201ArchString, parseNb201Arch, nb201ConfigId } from '../nb201.js';
export type { Nb201Op } from '../nb201.js';
