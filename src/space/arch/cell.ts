/**
 * Micro (cell) space, NASNet/DARTS style. A normal and a reduction cell of B nodes each; node b sums
 * op0(input in0) and op1(input in1), inputs chosen among the cell's two inputs (0 = output of the
 * cell before the previous one, 1 = previous cell) and earlier nodes (2 + b'). The cell output is
 * the concatenation of its B nodes (B * C channels), so no node dangles.
 *
 * Skeleton (DARTS CIFAR network): stem conv3x3 (3C) + BN; 3 stages of N normal cells at C, 2C, 4C
 * channels with a reduction cell (stride 2 on ops reading the cell inputs, channels doubled) between
 * stages; global average pooling and a linear classifier. Cell inputs are preprocessed by
 * ReLU-Conv1x1-BN to C channels (a factorized reduce for input 0 after a reduction cell), built only
 * when a node reads that input. Cells whose output no later cell reads are pruned at decode time.
 * Parameters: `cells_per_stage` (N), `init_filters` (C), and per cell type t in {normal, reduce} and
 * node b: `t_b_in0`, `t_b_in1` (int 0..b+1), `t_b_op0`, `t_b_op1`.
 * Ops: sep_conv_kxk = (ReLU, separable conv, BN) twice (the first with the stride), max/avg pool 3x3,
 * skip_connect = identity (a factorized reduce at stride 2). Dilated convs are left out: tfjs has no
 * dilated-conv gradient.
 */
import { SpaceError, validateParams, type Params, type ParamSpec, type SearchSpace } from '../params.js';
import { GraphBuilder, scaleWidth } from './blocks.js';
import type { ArchGraph } from './graph.js';
import type { ArchSpace, DecodeOpts } from './types.js';

export const CELL_OPS = ['sep_conv_3x3', 'sep_conv_5x5', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect'] as const;
export type CellOp = (typeof CELL_OPS)[number];
export const CELL_TYPES = ['normal', 'reduce'] as const;

export interface CellSpaceOpts {
  nodes?: number;
  maxCellsPerStage?: number;
  initFilters?: number[];
}

export function makeCellSpace(o: CellSpaceOpts = {}): SearchSpace {
  const B = o.nodes ?? 4;
  const params: Record<string, ParamSpec> = {
    cells_per_stage: { type: 'int', low: 1, high: o.maxCellsPerStage ?? 3 },
    init_filters: { type: 'categorical', choices: [...(o.initFilters ?? [8, 16, 32])] },
  };
  for (const t of CELL_TYPES) {
    for (let b = 0; b < B; b++) {
      for (const k of [0, 1]) params[`${t}_${b}_in${k}`] = { type: 'int', low: 0, high: b + 1 };
      for (const k of [0, 1]) params[`${t}_${b}_op${k}`] = { type: 'categorical', choices: [...CELL_OPS] };
    }
  }
  return { params };
}

/** One cell edge op (as decoded): sep convs twice (stride on the first), 3x3 pools, identity or factorized reduce at stride 2. */
export function cellOp(b: GraphBuilder, p: string, op: CellOp, x: string, c: number, stride: number): string {
  switch (op) {
    case 'sep_conv_3x3':
    case 'sep_conv_5x5': {
      const kernel = op === 'sep_conv_3x3' ? 3 : 5;
      return b.seq(p, x, [
        ['relu1', { type: 'act', fn: 'relu' }],
        ['sep1', { type: 'sepconv', filters: c, kernel, stride, padding: 'same' }],
        ['bn1', { type: 'bn' }],
        ['relu2', { type: 'act', fn: 'relu' }],
        ['sep2', { type: 'sepconv', filters: c, kernel, stride: 1, padding: 'same' }],
        ['bn2', { type: 'bn' }],
      ]);
    }
    case 'max_pool_3x3':
    case 'avg_pool_3x3':
      return b.op(`${p}/pool`, { type: 'pool', mode: op === 'max_pool_3x3' ? 'max' : 'avg', size: 3, stride, padding: 'same' }, x);
    case 'skip_connect':
      return stride === 1 ? b.op(`${p}/skip`, { type: 'identity' }, x) : b.factorizedReduce(`${p}/fr`, x, c);
  }
}

interface CellIn {
  id: string;
  /** true when this input is at twice the cell's input resolution (cell k-2 before a reduction cell). */
  needsReduce: boolean;
}

function buildCell(
  b: GraphBuilder, p: string, t: (typeof CELL_TYPES)[number], params: Params, B: number,
  s0: CellIn, s1: CellIn, c: number,
): string {
  const reduce = t === 'reduce';
  const pre = new Map<number, string>();
  const input = (k: 0 | 1) => {
    let id = pre.get(k);
    if (!id) {
      const s = k === 0 ? s0 : s1;
      id = s.needsReduce ? b.factorizedReduce(`${p}/pre${k}`, s.id, c) : b.reluConvBn(`${p}/pre${k}`, s.id, c, 1);
      pre.set(k, id);
    }
    return id;
  };
  const nodes: string[] = [];
  for (let n = 0; n < B; n++) {
    const terms: string[] = [];
    for (const k of [0, 1] as const) {
      const src = params[`${t}_${n}_in${k}`] as number;
      const op = params[`${t}_${n}_op${k}`] as CellOp;
      const x = src < 2 ? input(src as 0 | 1) : nodes[src - 2]!;
      terms.push(cellOp(b, `${p}/n${n}/e${k}`, op, x, c, reduce && src < 2 ? 2 : 1));
    }
    nodes.push(b.merge(`${p}/n${n}/add`, 'add', terms));
  }
  return b.merge(`${p}/out`, 'concat', nodes);
}

function decodeCell(params: Params, opts: DecodeOpts, B: number): ArchGraph {
  if (opts.inputShape.length !== 3) {
    throw new SpaceError(`cell: input shape [${opts.inputShape.join(',')}] is not an image [H,W,C]; use chain-flat for flat input`);
  }
  const n = opts.cells ?? (params.cells_per_stage as number);
  if (!(Number.isInteger(n) && n >= 1)) throw new SpaceError(`cells: must be an integer >= 1 (got ${n})`);
  let c = scaleWidth(params.init_filters as number, opts.width ?? 1);
  const b = new GraphBuilder();
  const stem = b.convBnAct('stem', b.input('input', opts.inputShape), 3 * c, 3, 1, null);
  let s0: CellIn = { id: stem, needsReduce: false };
  let s1: CellIn = { id: stem, needsReduce: false };
  let k = 0;
  for (let stage = 0; stage < 3; stage++) {
    const types: (typeof CELL_TYPES)[number][] = [];
    if (stage > 0) types.push('reduce');
    for (let i = 0; i < n; i++) types.push('normal');
    for (const t of types) {
      if (t === 'reduce') c *= 2;
      const out = buildCell(b, `cell${k++}_${t}`, t, params, B, s0, s1, c);
      s0 = { id: s1.id, needsReduce: t === 'reduce' };
      s1 = { id: out, needsReduce: false };
    }
  }
  b.classifierHead(s1.id, opts.numClasses);
  // A cell output that no later cell reads (its successor reads only input 0, or the last cell only
  // nodes and input 0) cannot affect the output: drop it rather than leave it dangling.
  return b.build({ prune: true });
}

export function makeCellArchSpace(name = 'cell', o: CellSpaceOpts = {}): ArchSpace {
  const space = makeCellSpace(o);
  const B = o.nodes ?? 4;
  return {
    name,
    space,
    decode(params, opts) {
      validateParams(space, params);
      return decodeCell(params, opts, B);
    },
  };
}

export const cellSpace: ArchSpace = makeCellArchSpace();
