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
import { SpaceError, validateParams, type Params, type SearchSpace } from '../params.js';
import { GraphBuilder, scaleWidth } from './blocks.js';
import type { ArchGraph, CheckedGraph } from './graph.js';
import type { ArchSpace, DecodeOpts } from './types.js';

export const NB201_OPS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'] as const;
export type Nb201Op = (typeof NB201_OPS)[number];

/** Edges in arch-string order: [target node j, source node i]. */
export const NB201_EDGES: readonly [number, number][] = [
  [1, 0], [2, 0], [2, 1], [3, 0], [3, 1], [3, 2],
];
export const NB201_EDGE_NAMES = NB201_EDGES.map(([j, i]) => `edge_${j}_${i}`);

export const nb201Space: SearchSpace = {
  params: Object.fromEntries(NB201_EDGE_NAMES.map((n) => [n, { type: 'categorical', choices: [...NB201_OPS] }])),
};

function opOf(params: Params, name: string): Nb201Op {
  const v = params[name];
  if (!NB201_OPS.includes(v as Nb201Op)) {
    throw new SpaceError(`params.${name}: ${JSON.stringify(v)} is not an NB201 op; use one of ${NB201_OPS.join(', ')}`);
  }
  return v as Nb201Op;
}

/** `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` of a configuration. */
export function nb201ArchString(params: Params): string {
  const parts: string[] = [];
  for (let j = 1; j <= 3; j++) {
    const ops: string[] = [];
    for (let i = 0; i < j; i++) ops.push(`${opOf(params, `edge_${j}_${i}`)}~${i}`);
    parts.push(`|${ops.join('|')}|`);
  }
  return parts.join('+');
}

/** Inverse of nb201ArchString; throws SpaceError naming the bad part. */
export function parseNb201Arch(str: string): Params {
  const nodes = str.split('+');
  if (nodes.length !== 3) throw new SpaceError(`nb201 arch "${str}": needs 3 '+'-separated nodes like |op~0|+|op~0|op~1|+|op~0|op~1|op~2|`);
  const out: Params = {};
  nodes.forEach((node, k) => {
    const j = k + 1;
    const m = /^\|(.*)\|$/.exec(node);
    const entries = m ? m[1]!.split('|') : [];
    if (entries.length !== j) throw new SpaceError(`nb201 arch "${str}": node ${j} ("${node}") needs ${j} entries |op~i|`);
    entries.forEach((e, i) => {
      const [op, src] = e.split('~');
      if (src !== String(i)) throw new SpaceError(`nb201 arch "${str}": entry "${e}" of node ${j} must have source ~${i}`);
      out[`edge_${j}_${i}`] = opOf({ x: op ?? null }, 'x');
    });
  });
  return Object.fromEntries(NB201_EDGE_NAMES.map((n) => [n, out[n]!]));
}

/** The CSV `config_id`: six digits, op index per edge in arch-string order. */
export function nb201ConfigId(params: Params): string {
  return NB201_EDGE_NAMES.map((n) => NB201_OPS.indexOf(opOf(params, n))).join('');
}

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
  const ops = NB201_EDGE_NAMES.map((n) => opOf(params, n));
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
  space: nb201Space,
  decode(params, opts) {
    validateParams(nb201Space, params);
    return decodeNb201(params, opts);
  },
};
