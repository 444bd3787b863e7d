/**
 * The walk of weight inheritance (./inherit.ts): visits the child graph in topological order and
 * tracks, for every child tensor, which parent tensor it reproduces (`Eq`), matching nodes to the
 * parent's and handing the weights to the per-op transforms of ./inherit-ops.ts.
 */
import type { ArchNode, CheckedGraph, OpSpec } from '../../space/arch/graph.js';
import { Rng } from '../../util/rng.js';
import { type ChannelMap, identityMap, isIdentity, splitFactors, widenMap } from './arrays.js';
import {
  canBeIdentity,
  identityBn,
  identityKernels,
  transferBias,
  transferBn,
  transferKernels,
  zeroWeights,
} from './inherit-ops.js';
import type { InheritOptions, NodeInheritance } from './inherit.js';
import { type GraphWeights, hasWeights, type NodeWeights, weightShapes } from './weights.js';

/** A child tensor as a parent tensor: child channel j holds parent channel map[j] (-1: new); exact: equal values. */
export interface Eq {
  tensor: string;
  map: ChannelMap;
  exact: boolean;
}

type OpNode = ArchNode & { kind: 'op' };
type MergeNode = ArchNode & { kind: 'merge' };

const lastDim = (s: number[]) => s[s.length - 1]!;
const stem = (id: string) => (id.includes('/') ? id.slice(0, id.lastIndexOf('/')) : '');
const positional = (n: number, p: number): ChannelMap => Int32Array.from({ length: n }, (_, j) => (j < p ? j : -1));
const clone = (w: NodeWeights): NodeWeights =>
  Object.fromEntries(Object.entries(w).map(([r, t]) => [r, { shape: [...t.shape], data: t.data.slice() }]));
const sameParams = (a: OpSpec, b: OpSpec): boolean => JSON.stringify(a) === JSON.stringify(b);

/** f(0) = 0 and shape-compatible: a zero branch stays zero through these. */
function zeroPreserving(op: OpSpec): boolean {
  if (op.type === 'act') return op.fn !== 'sigmoid' && op.fn !== 'softmax';
  return ['dropout', 'identity', 'pool', 'shift', 'zero', 'gap', 'flatten'].includes(op.type);
}

/** Whether an op's output is non-negative (given whether its input is). */
function nonNegative(op: OpSpec, inNonneg: boolean): boolean {
  const t = op.type;
  return (t === 'act' && ['relu', 'sigmoid', 'softmax'].includes(op.fn)) || t === 'zero' ||
    (['pool', 'dropout', 'identity', 'gap', 'flatten', 'shift'].includes(t) && inNonneg);
}

function compatible(c: ArchNode, p: ArchNode): boolean {
  if (c.kind !== p.kind) return false;
  if (c.kind === 'op' && p.kind === 'op') return c.op.type === p.op.type;
  if (c.kind === 'merge' && p.kind === 'merge') return c.mode === p.mode;
  return true;
}

export class InheritWalk {
  readonly eqs = new Map<string, Eq | null>();
  readonly weights: GraphWeights = new Map();
  readonly report = new Map<string, NodeInheritance>();
  private readonly nonneg = new Map<string, boolean>();
  private readonly rng: Rng;
  private readonly split: 'equal' | 'random';
  private readonly pById: Map<string, ArchNode>;
  private readonly cIds: Set<string>;
  private readonly claimed = new Set<string>();
  /** Consumers of each child tensor. */
  private readonly users = new Map<string, number>();
  /** One widening map per (old, new) width, so producers summed by an add stay consistent. */
  private readonly maps = new Map<string, ChannelMap>();

  constructor(
    private readonly pg: CheckedGraph,
    private readonly parentWeights: GraphWeights,
    private readonly cg: CheckedGraph,
    private readonly opts: InheritOptions,
  ) {
    this.rng = Rng.derive(opts.seed ?? 0, 'inherit');
    this.split = opts.split ?? 'equal';
    this.pById = new Map(pg.nodes.map((n) => [n.id, n]));
    this.cIds = new Set(cg.nodes.map((n) => n.id));
    for (const n of cg.nodes) for (const i of n.kind === 'merge' ? n.inputs : n.kind === 'input' ? [] : [n.input]) this.users.set(i, (this.users.get(i) ?? 0) + 1);
  }

  private wmap(from: number, to: number): ChannelMap {
    const key = `${from}->${to}`;
    if (!this.maps.has(key)) this.maps.set(key, widenMap(from, to, this.rng));
    return this.maps.get(key)!;
  }

  private cShape(id: string): number[] {
    return this.cg.shapes.get(id)!;
  }

  private pShape(id: string): number[] {
    return this.pg.shapes.get(id)!;
  }

  /** The input node maps to the parent's input (exact when the shapes agree). */
  visitInput(n: ArchNode): void {
    const same = this.cShape(n.id).join(',') === this.pShape(this.pg.inputId).join(',');
    this.eqs.set(n.id, { tensor: this.pg.inputId, map: identityMap(lastDim(this.cShape(n.id))), exact: same });
    this.nonneg.set(n.id, false);
  }

  /** Whether the output node reads exactly the parent's output tensor. */
  outputPreserved(n: ArchNode & { kind: 'output' }): boolean {
    const e = this.eqs.get(n.input);
    const pIn = (this.pById.get(this.pg.outputId) as ArchNode & { kind: 'output' }).input;
    return !!e && e.exact && e.tensor === pIn && isIdentity(e.map, lastDim(this.pShape(pIn)));
  }

  /** The parent node a child node takes over: same id, else an unclaimed same-stem node of the same type (renamed ops). */
  private match(n: ArchNode): ArchNode | undefined {
    const same = this.pById.get(n.id);
    if (same && compatible(n, same) && !this.claimed.has(same.id)) {
      this.claimed.add(same.id);
      return same;
    }
    if (n.kind !== 'op' || same) return undefined;
    const inT = this.eqs.get(n.input)?.tensor;
    const cands = this.pg.nodes.filter((p) => !this.cIds.has(p.id) && !this.claimed.has(p.id) && stem(p.id) === stem(n.id) && compatible(n, p));
    const best = cands.find((p) => p.kind === 'op' && p.input === inT) ?? cands[0];
    if (best) this.claimed.add(best.id);
    return best;
  }

  /** Input channel map of child node n relative to parent node p's input, and whether it is exact. */
  private inputMap(n: OpNode, p: OpNode): { map: ChannelMap; exact: boolean } {
    const e = this.eqs.get(n.input);
    if (e && e.tensor === p.input) return { map: e.map, exact: e.exact };
    return { map: positional(lastDim(this.cShape(n.input)), lastDim(this.pShape(p.input))), exact: false };
  }

  private fresh(id: string): void {
    this.report.set(id, { id, status: 'fresh', exact: false });
    this.eqs.set(id, null);
  }

  visitOp(n: OpNode): void {
    const inNonneg = this.nonneg.get(n.input) ?? false;
    this.nonneg.set(n.id, nonNegative(n.op, inNonneg));
    const p = this.match(n) as OpNode | undefined;
    if (p) {
      const inMap = this.inputMap(n, p);
      if (hasWeights(n.op)) this.visitMatchedWeighted(n, p, inMap.map, inMap.exact);
      else this.visitMatchedPlain(n, p, inMap.map, inMap.exact);
    } else if (hasWeights(n.op)) this.visitNewWeighted(n, inNonneg);
    else this.visitNewPlain(n, inNonneg);
  }

  /** A weighted node the parent has: copied when nothing changed, else transformed ('morphed'). */
  private visitMatchedWeighted(n: OpNode, p: OpNode, inMap: ChannelMap, inExact: boolean): void {
    const pw = this.parentWeights.get(p.id);
    if (!pw) return this.fresh(n.id);
    const unchanged = sameParams(n.op, p.op) && isIdentity(inMap, lastDim(this.pShape(p.input)));
    if (unchanged) {
      this.weights.set(n.id, clone(pw));
      this.report.set(n.id, { id: n.id, status: 'copied', from: p.id, exact: inExact });
      this.eqs.set(n.id, { tensor: p.id, map: n.op.type === 'bn' ? inMap : identityMap(lastDim(this.cShape(n.id))), exact: inExact });
      return;
    }
    const r = this.transfer(n, p, pw, inMap);
    const exact = inExact && r.exact;
    this.weights.set(n.id, r.w);
    this.report.set(n.id, { id: n.id, status: 'morphed', from: p.id, exact });
    this.eqs.set(n.id, { tensor: p.id, map: r.outMap, exact });
  }

  /** The parent's weights carried to the child's widths (wider outputs replicate parent units by a random map). */
  private transfer(n: OpNode, p: OpNode, pw: NodeWeights, inMap: ChannelMap): { w: NodeWeights; outMap: ChannelMap; exact: boolean } {
    const c = n.op;
    const shapes = weightShapes(c, lastDim(this.cShape(n.input)));
    const f = splitFactors(inMap, this.split, this.rng);
    if (c.type === 'bn') return { w: transferBn(c, pw, inMap), outMap: inMap, exact: true };
    const pout = lastDim(this.pShape(p.id));
    const cout = lastDim(this.cShape(n.id));
    const outMap = cout === pout ? identityMap(cout) : this.wmap(pout, cout);
    const k = c.type === 'conv' || c.type === 'sepconv' || c.type === 'dense'
      ? transferKernels(c, p.op as typeof c, pw, inMap, outMap, f, this.rng)
      : { w: {}, exact: true };
    const { bias, exact: biasExact } = transferBias(c, p.op, pw, outMap, shapes.bias);
    const w: NodeWeights = bias ? { ...k.w, bias } : k.w;
    return { w, outMap, exact: cout >= pout && k.exact && biasExact };
  }

  /** A weightless node the parent has: the same tensor (exact when its params agree; dropout always). */
  private visitMatchedPlain(n: OpNode, p: OpNode, inMap: ChannelMap, inExact: boolean): void {
    let map = inMap;
    // Dropout is the identity at inference whatever its rate.
    let exact = inExact && (sameParams(n.op, p.op) || n.op.type === 'dropout');
    if (n.op.type === 'flatten') {
      const [h, w, c] = this.cShape(n.input) as [number, number, number];
      const [ph, pw, pc] = this.pShape(p.input) as [number, number, number];
      if (h === ph && w === pw) {
        map = new Int32Array(h * w * c);
        for (let s = 0; s < h * w; s++) for (let j = 0; j < c; j++) map[s * c + j] = inMap[j]! < 0 ? -1 : s * pc + inMap[j]!;
      } else {
        map = positional(h * w * c, ph * pw * pc);
        exact = false;
      }
    }
    this.eqs.set(n.id, { tensor: p.id, map, exact });
  }

  /** A weighted node the parent lacks: the identity where it can be one (Net2DeeperNet), else fresh. */
  private visitNewWeighted(n: OpNode, inNonneg: boolean): void {
    const inEq = this.eqs.get(n.input) ?? null;
    const cin = lastDim(this.cShape(n.input));
    const init = inEq ? this.identityInit(n.op, cin, inEq) : null;
    if (!init || !inEq) return this.fresh(n.id);
    const exact = inEq.exact && lastDim(this.cShape(n.id)) >= cin;
    this.weights.set(n.id, init.w);
    this.report.set(n.id, { id: n.id, status: 'identity', exact });
    this.eqs.set(n.id, { tensor: inEq.tensor, map: Int32Array.from(init.h, (i) => inEq.map[i]!), exact });
    if (exact) this.nonneg.set(n.id, inNonneg);
  }

  /** Identity initialisation of a new weighted node (h: the input channel each output copies); null when it cannot be one. */
  private identityInit(op: OpSpec, cin: number, inEq: Eq): { w: NodeWeights; h: ChannelMap } | null {
    const shapes = weightShapes(op, cin);
    if (op.type === 'bn') return { w: identityBn(cin, inEq.map, this.opts.stats?.get(inEq.tensor)), h: identityMap(cin) };
    if (!canBeIdentity(op)) return null;
    const h = this.wmap(cin, op.type === 'dense' ? op.units : op.filters);
    return { w: identityKernels(op, shapes, cin, h), h };
  }

  /** A weightless node the parent lacks: identity and dropout pass the tensor on, relu of a non-negative one too. */
  private visitNewPlain(n: OpNode, inNonneg: boolean): void {
    const inEq = this.eqs.get(n.input) ?? null;
    const t = n.op.type;
    if (!inEq) return void this.eqs.set(n.id, null);
    if (t === 'identity' || t === 'dropout') return void this.eqs.set(n.id, inEq);
    if (n.op.type === 'act') return void this.eqs.set(n.id, { ...inEq, exact: inEq.exact && n.op.fn === 'relu' && inNonneg });
    // Shape-preserving but not the identity (pool, shift, zero): same channels, other values.
    const sameShape = this.cShape(n.id).join(',') === this.cShape(n.input).join(',');
    this.eqs.set(n.id, sameShape && t !== 'gap' && t !== 'flatten' ? { ...inEq, exact: false } : null);
  }

  /** Zero-initialises the last weighted node of the new branch ending at `id`; false if there is none. */
  private zeroBranch(id: string): boolean {
    let cur = id;
    for (;;) {
      const n = this.cg.nodes.find((x) => x.id === cur)!;
      if (n.kind !== 'op' || (this.users.get(cur) ?? 0) !== 1) return false;
      if (n.op.type === 'zero') return true;
      if (hasWeights(n.op)) {
        const st = this.report.get(cur)?.status;
        if (st !== 'identity' && st !== 'fresh') return false;
        this.weights.set(cur, zeroWeights(n.op, weightShapes(n.op, lastDim(this.cShape(n.input))), this.rng));
        this.report.set(cur, { id: cur, status: 'zeroed', exact: true });
        return true;
      }
      if (!zeroPreserving(n.op)) return false;
      cur = n.input;
    }
  }

  visitMerge(n: MergeNode): void {
    this.nonneg.set(n.id, n.inputs.every((i) => this.nonneg.get(i) ?? false));
    const p = this.match(n) as MergeNode | undefined;
    const ins = n.inputs.map((i) => this.eqs.get(i) ?? null);
    if (p) this.visitMatchedMerge(n, p, ins);
    else this.visitNewMerge(n, ins);
  }

  /** A new add reproduces its first input when the other branches are zeroed; a new concat, with the others' channels new. */
  private visitNewMerge(n: MergeNode, ins: (Eq | null)[]): void {
    const main = ins[0];
    if (!main) return void this.eqs.set(n.id, null);
    if (n.mode === 'add') {
      const zeroed = n.inputs.slice(1).map((i) => this.zeroBranch(i)).every(Boolean);
      return void this.eqs.set(n.id, { ...main, exact: main.exact && zeroed });
    }
    const extra = lastDim(this.cShape(n.id)) - main.map.length;
    const map = new Int32Array(main.map.length + extra).fill(-1);
    map.set(main.map);
    this.eqs.set(n.id, { tensor: main.tensor, map, exact: main.exact });
  }

  /** A merge the parent has: inputs matched to the parent's; unmatched add inputs zeroed, unmatched concat channels new. */
  private visitMatchedMerge(n: MergeNode, p: MergeNode, ins: (Eq | null)[]): void {
    const used = new Set<number>();
    let exact = true;
    const parts: ChannelMap[] = [];
    let first: ChannelMap | null = null;
    const pOff: number[] = [];
    let off = 0;
    for (const pi of p.inputs) {
      pOff.push(off);
      off += lastDim(this.pShape(pi));
    }
    n.inputs.forEach((ci, k) => {
      const e = ins[k];
      const idx = e ? p.inputs.findIndex((pi, j) => pi === e.tensor && !used.has(j)) : -1;
      if (idx < 0 || !e) {
        if (n.mode === 'add') exact = this.zeroBranch(ci) && exact;
        parts.push(new Int32Array(lastDim(this.cShape(ci))).fill(-1));
        return;
      }
      used.add(idx);
      exact = exact && e.exact;
      if (n.mode === 'add') {
        if (first && (first.length !== e.map.length || first.some((v, j) => v !== e.map[j]))) exact = false;
        first ??= e.map;
      } else {
        parts.push(Int32Array.from(e.map, (v) => (v < 0 ? -1 : pOff[idx]! + v)));
      }
    });
    if (used.size < p.inputs.length) exact = false;
    if (n.mode === 'add') return void this.eqs.set(n.id, first ? { tensor: p.id, map: first, exact } : null);
    const map = new Int32Array(parts.reduce((a, m) => a + m.length, 0));
    let o = 0;
    for (const m of parts) {
      map.set(m, o);
      o += m.length;
    }
    this.eqs.set(n.id, { tensor: p.id, map, exact });
  }
}
