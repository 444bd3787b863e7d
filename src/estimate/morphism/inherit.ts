/**
 * Weight inheritance between two architecture graphs: `inheritWeights(parentGraph, parentWeights,
 * childGraph)` gives the child initial weights from its (trained) parent, by stable node identity,
 * applying a function-preserving transform wherever one explains the difference.
 *
 * It walks the child graph in topological order and tracks, for every child tensor, which parent
 * tensor it reproduces (`Eq`): a parent node id, a channel map (child channel j holds parent
 * channel map[j], or a new channel when -1) and whether the values are exactly equal. Per node:
 *
 * - Same id in the parent (or, for a renamed node, an unclaimed parent node with the same id
 *   prefix before the last '/' and the same op type, e.g. chain's `layer0/conv3x3` -> `layer0/conv5x5`):
 *   weights are copied bit-exactly when nothing changed ('copied'); otherwise transformed
 *   ('morphed'): more output units/filters replicate parent units by a random mapping (Net2WiderNet,
 *   one map per (old, new) width so producers summed by an add stay consistent); the consumers of
 *   replicated channels divide the incoming weights among the copies (equal, or random shares with
 *   `split: 'random'`); channels marked new get zero incoming weights; batch norm gathers its four
 *   vectors; a larger odd kernel is zero-padded around the old one (exact for 'same' padding).
 * - New conv/sepconv (stride 1, 'same', odd kernel), dense and bn nodes are identity-initialised
 *   (Net2DeeperNet; bn: moving mean/variance from `opts.stats` of the tensor it reads, else 0/1,
 *   and gamma = sqrt(variance + eps), beta = mean); a new ReLU is exact when its input is
 *   non-negative ('identity'). A new layer wider than its input replicates input channels.
 * - A new add merge reproduces its first input when every other input is zero: the last weighted
 *   node of a new branch (through 0 -> 0 ops) is zero-initialised ('zeroed'). A new concat
 *   reproduces its first input with the other inputs' channels marked new.
 * - Anything else gets no weights ('fresh': the built model keeps its own initialisation).
 *
 * `functionPreserving` says whether the child's output equals the parent's (inference mode).
 */
import { BN_EPSILON } from '../../nn/ops.js';
import type { ArchGraph, ArchNode, CheckedGraph, OpSpec } from '../../space/arch/graph.js';
import { Rng } from '../../util/rng.js';
import {
  type ChannelMap,
  filled,
  gatherAxis,
  heNormal,
  identityMap,
  isIdentity,
  resizeKernel,
  splitFactors,
  widenMap,
} from './arrays.js';
import { asChecked, type GraphWeights, hasWeights, type NodeWeights, roles, weightShapes } from './weights.js';

export interface InheritOptions {
  /** Seed of the widening maps, random splits and fresh depthwise filters (default 0). */
  seed?: number;
  /** How copies of a replicated channel share its outgoing weights (default 'equal'). */
  split?: 'equal' | 'random';
  /**
   * Per-channel statistics of parent tensors (by parent node id, e.g. from `activationStats` on a
   * data sample). A new batch norm reading an equivalent tensor gets them as moving statistics and
   * gamma = sqrt(variance + eps), beta = mean: still the identity at inference, and close to it in
   * training mode, where batch statistics are used. Without them: mean 0, variance 1.
   */
  stats?: Map<string, { mean: Float32Array; variance: Float32Array }>;
}

export type InheritStatus = 'copied' | 'morphed' | 'identity' | 'zeroed' | 'fresh';

export interface NodeInheritance {
  id: string;
  status: InheritStatus;
  /** The parent node the weights came from ('copied', 'morphed'). */
  from?: string;
  /** Whether the node's output still equals (a channel mapping of) the parent's tensor. */
  exact: boolean;
}

export interface InheritResult {
  /** Weights of every weighted child node except the 'fresh' ones. */
  weights: GraphWeights;
  /** One entry per weighted child node, in topological order. */
  nodes: NodeInheritance[];
  functionPreserving: boolean;
}

interface Eq {
  tensor: string;
  map: ChannelMap;
  exact: boolean;
}

const lastDim = (s: number[]) => s[s.length - 1]!;
const stem = (id: string) => (id.includes('/') ? id.slice(0, id.lastIndexOf('/')) : '');
const positional = (n: number, p: number): ChannelMap => Int32Array.from({ length: n }, (_, j) => (j < p ? j : -1));
const clone = (w: NodeWeights): NodeWeights =>
  Object.fromEntries(Object.entries(w).map(([r, t]) => [r, { shape: [...t.shape], data: t.data.slice() }]));

/** f(0) = 0 and shape-compatible: a zero branch stays zero through these. */
function zeroPreserving(op: OpSpec): boolean {
  if (op.type === 'act') return op.fn !== 'sigmoid' && op.fn !== 'softmax';
  return ['dropout', 'identity', 'pool', 'shift', 'zero', 'gap', 'flatten'].includes(op.type);
}

function sameParams(a: OpSpec, b: OpSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function inheritWeights(
  parentGraph: ArchGraph | CheckedGraph,
  parentWeights: GraphWeights,
  childGraph: ArchGraph | CheckedGraph,
  opts: InheritOptions = {},
): InheritResult {
  const pg = asChecked(parentGraph);
  const cg = asChecked(childGraph);
  const rng = Rng.derive(opts.seed ?? 0, 'inherit');
  const split = opts.split ?? 'equal';
  const pById = new Map(pg.nodes.map((n) => [n.id, n]));
  const cIds = new Set(cg.nodes.map((n) => n.id));
  const claimed = new Set<string>();
  const users = new Map<string, number>();
  for (const n of cg.nodes) for (const i of n.kind === 'merge' ? n.inputs : n.kind === 'input' ? [] : [n.input]) users.set(i, (users.get(i) ?? 0) + 1);

  const eqs = new Map<string, Eq | null>();
  const nonneg = new Map<string, boolean>();
  const weights: GraphWeights = new Map();
  const report = new Map<string, NodeInheritance>();
  const maps = new Map<string, ChannelMap>();
  const wmap = (from: number, to: number) => {
    const key = `${from}->${to}`;
    if (!maps.has(key)) maps.set(key, widenMap(from, to, rng));
    return maps.get(key)!;
  };
  const cShape = (id: string) => cg.shapes.get(id)!;
  const pShape = (id: string) => pg.shapes.get(id)!;

  function compatible(c: ArchNode, p: ArchNode): boolean {
    if (c.kind !== p.kind) return false;
    if (c.kind === 'op' && p.kind === 'op') return c.op.type === p.op.type;
    if (c.kind === 'merge' && p.kind === 'merge') return c.mode === p.mode;
    return true;
  }

  function match(n: ArchNode): ArchNode | undefined {
    const same = pById.get(n.id);
    if (same && compatible(n, same) && !claimed.has(same.id)) {
      claimed.add(same.id);
      return same;
    }
    if (n.kind !== 'op' || same) return undefined;
    const inT = eqs.get(n.input)?.tensor;
    const cands = pg.nodes.filter((p) => !cIds.has(p.id) && !claimed.has(p.id) && stem(p.id) === stem(n.id) && compatible(n, p));
    const best = cands.find((p) => p.kind === 'op' && p.input === inT) ?? cands[0];
    if (best) claimed.add(best.id);
    return best;
  }

  /** Input channel map of child node n relative to parent node p's input, and whether it is exact. */
  function inputMap(n: ArchNode & { kind: 'op' }, p: ArchNode & { kind: 'op' }): { map: ChannelMap; exact: boolean } {
    const e = eqs.get(n.input);
    if (e && e.tensor === p.input) return { map: e.map, exact: e.exact };
    return { map: positional(lastDim(cShape(n.input)), lastDim(pShape(p.input))), exact: false };
  }

  function transfer(n: ArchNode & { kind: 'op' }, p: ArchNode & { kind: 'op' }, pw: NodeWeights, inMap: ChannelMap): { w: NodeWeights; outMap: ChannelMap; exact: boolean } {
    const c = n.op;
    const q = p.op;
    const cin = lastDim(cShape(n.input));
    const shapes = weightShapes(c, cin);
    const f = splitFactors(inMap, split, rng);
    const w: NodeWeights = {};
    if (c.type === 'bn') {
      const fills: Record<string, number> = { gamma: 1, beta: 0, mean: 0, variance: 1 };
      for (const r of roles(c)) w[r] = gatherAxis(pw[r]!, 0, inMap, undefined, () => fills[r]!);
      return { w, outMap: inMap, exact: true };
    }
    const pout = lastDim(pShape(p.id));
    const cout = lastDim(cShape(n.id));
    const outMap = cout === pout ? identityMap(cout) : wmap(pout, cout);
    let exact = cout >= pout;
    if (c.type === 'dense') {
      w.kernel = gatherAxis(gatherAxis(pw.kernel!, 0, inMap, f), 1, outMap);
    } else if (c.type === 'conv' || c.type === 'sepconv') {
      const qk = (q as typeof c).kernel;
      const same = (c.padding ?? 'same') === 'same';
      if ((c.stride ?? 1) !== ((q as typeof c).stride ?? 1) || (c.padding ?? 'same') !== ((q as typeof c).padding ?? 'same')) exact = false;
      if (c.kernel !== qk && !(c.kernel > qk && (c.kernel - qk) % 2 === 0 && same && (c.stride ?? 1) <= 3)) exact = false;
      if (c.type === 'conv') {
        w.kernel = resizeKernel(gatherAxis(gatherAxis(pw.kernel!, 2, inMap, f), 3, outMap), c.kernel);
      } else {
        const std = Math.sqrt(2 / (qk * qk));
        w.depthwise = resizeKernel(gatherAxis(pw.depthwise!, 2, inMap, undefined, () => rng.normal() * std), c.kernel);
        w.pointwise = gatherAxis(gatherAxis(pw.pointwise!, 2, inMap, f), 3, outMap);
      }
    }
    const cb = roles(c).includes('bias');
    const pb = roles(q).includes('bias');
    if (cb) w.bias = pb ? gatherAxis(pw.bias!, 0, outMap) : filled(shapes.bias!, 0);
    if (pb && !cb) exact = false;
    return { w, outMap, exact };
  }

  /** Identity initialisation of a new weighted node; null when it cannot be one. */
  function identityInit(op: OpSpec, cin: number, inEq: Eq): { w: NodeWeights; h: ChannelMap } | null {
    const shapes = weightShapes(op, cin);
    const w: NodeWeights = {};
    if (op.type === 'bn') {
      const st = opts.stats?.get(inEq.tensor);
      const ok = (j: number) => !!st && inEq.map[j]! >= 0 && inEq.map[j]! < st.mean.length;
      w.mean = filled([cin], (j) => (ok(j) ? st!.mean[inEq.map[j]!]! : 0));
      w.variance = filled([cin], (j) => (ok(j) ? st!.variance[inEq.map[j]!]! : 1));
      w.gamma = filled([cin], (j) => Math.sqrt(w.variance!.data[j]! + BN_EPSILON));
      w.beta = filled([cin], (j) => w.mean!.data[j]!);
      return { w, h: identityMap(cin) };
    }
    if (op.type !== 'conv' && op.type !== 'sepconv' && op.type !== 'dense') return null;
    if (op.type !== 'dense' && ((op.stride ?? 1) !== 1 || (op.padding ?? 'same') !== 'same' || op.kernel % 2 !== 1)) return null;
    const cout = op.type === 'dense' ? op.units : op.filters;
    const h = wmap(cin, cout);
    const eye = (shape: number[], k: number) => {
      const t = filled(shape, 0);
      const c = (k - 1) / 2;
      for (let j = 0; j < cout; j++) t.data[(c * k + c) * cin * cout + h[j]! * cout + j] = 1;
      return t;
    };
    if (op.type === 'dense') w.kernel = eye(shapes.kernel!, 1);
    else if (op.type === 'conv') w.kernel = eye(shapes.kernel!, op.kernel);
    else {
      const k = op.kernel;
      w.depthwise = filled(shapes.depthwise!, (i) => (Math.floor(i / cin) === ((k - 1) / 2) * (k + 1) ? 1 : 0));
      w.pointwise = eye(shapes.pointwise!, 1);
    }
    if (roles(op).includes('bias')) w.bias = filled(shapes.bias!, 0);
    return { w, h };
  }

  /** Zero-initialises the last weighted node of the new branch ending at `id`; false if there is none. */
  function zeroBranch(id: string): boolean {
    let cur = id;
    for (;;) {
      const n = cg.nodes.find((x) => x.id === cur)!;
      if (n.kind !== 'op' || (users.get(cur) ?? 0) !== 1) return false;
      if (n.op.type === 'zero') return true;
      if (hasWeights(n.op)) {
        const st = report.get(cur)?.status;
        if (st !== 'identity' && st !== 'fresh') return false;
        const cin = lastDim(cShape(n.input));
        const shapes = weightShapes(n.op, cin);
        const w: NodeWeights = {};
        for (const r of roles(n.op)) {
          if (r === 'depthwise') w[r] = heNormal(shapes[r]!, n.op.type === 'sepconv' ? n.op.kernel ** 2 : 1, rng);
          else w[r] = filled(shapes[r]!, r === 'variance' ? 1 : 0);
        }
        weights.set(cur, w);
        report.set(cur, { id: cur, status: 'zeroed', exact: true });
        return true;
      }
      if (!zeroPreserving(n.op)) return false;
      cur = n.input;
    }
  }

  function visitOp(n: ArchNode & { kind: 'op' }): void {
    const inEq = eqs.get(n.input) ?? null;
    const inNonneg = nonneg.get(n.input) ?? false;
    const t = n.op.type;
    nonneg.set(n.id, (t === 'act' && ['relu', 'sigmoid', 'softmax'].includes((n.op as { fn: string }).fn)) || t === 'zero' ||
      (['pool', 'dropout', 'identity', 'gap', 'flatten', 'shift'].includes(t) && inNonneg));
    const p = match(n) as (ArchNode & { kind: 'op' }) | undefined;
    const cin = lastDim(cShape(n.input));
    if (p) {
      const { map: inMap, exact: inExact } = inputMap(n, p);
      if (hasWeights(n.op)) {
        const pw = parentWeights.get(p.id);
        if (!pw) {
          report.set(n.id, { id: n.id, status: 'fresh', exact: false });
          eqs.set(n.id, null);
          return;
        }
        const pcin = lastDim(pShape(p.input));
        const unchanged = sameParams(n.op, p.op) && isIdentity(inMap, pcin);
        if (unchanged) {
          weights.set(n.id, clone(pw));
          report.set(n.id, { id: n.id, status: 'copied', from: p.id, exact: inExact });
          eqs.set(n.id, { tensor: p.id, map: t === 'bn' ? inMap : identityMap(lastDim(cShape(n.id))), exact: inExact });
          return;
        }
        const r = transfer(n, p, pw, inMap);
        weights.set(n.id, r.w);
        report.set(n.id, { id: n.id, status: 'morphed', from: p.id, exact: inExact && r.exact });
        eqs.set(n.id, { tensor: p.id, map: r.outMap, exact: inExact && r.exact });
        return;
      }
      let map = inMap;
      // Dropout is the identity at inference whatever its rate.
      let exact = inExact && (sameParams(n.op, p.op) || t === 'dropout');
      if (t === 'flatten') {
        const [h, w, c] = cShape(n.input) as [number, number, number];
        const [ph, pw, pc] = pShape(p.input) as [number, number, number];
        if (h === ph && w === pw) {
          map = new Int32Array(h * w * c);
          for (let s = 0; s < h * w; s++) for (let j = 0; j < c; j++) map[s * c + j] = inMap[j]! < 0 ? -1 : s * pc + inMap[j]!;
        } else {
          map = positional(h * w * c, ph * pw * pc);
          exact = false;
        }
      }
      eqs.set(n.id, { tensor: p.id, map, exact });
      return;
    }
    // A node the parent does not have.
    if (hasWeights(n.op)) {
      const init = inEq ? identityInit(n.op, cin, inEq) : null;
      if (!init || !inEq) {
        report.set(n.id, { id: n.id, status: 'fresh', exact: false });
        eqs.set(n.id, null);
        return;
      }
      const cout = lastDim(cShape(n.id));
      const exact = inEq.exact && cout >= cin;
      weights.set(n.id, init.w);
      report.set(n.id, { id: n.id, status: 'identity', exact });
      eqs.set(n.id, { tensor: inEq.tensor, map: Int32Array.from(init.h, (i) => inEq.map[i]!), exact });
      if (exact) nonneg.set(n.id, inNonneg);
      return;
    }
    if (!inEq) return void eqs.set(n.id, null);
    if (t === 'identity' || t === 'dropout') return void eqs.set(n.id, inEq);
    if (t === 'act') {
      const fn = (n.op as { fn: string }).fn;
      return void eqs.set(n.id, { ...inEq, exact: inEq.exact && fn === 'relu' && inNonneg });
    }
    // Shape-preserving but not the identity (pool, shift, zero): same channels, other values.
    const sameShape = cShape(n.id).join(',') === cShape(n.input).join(',');
    eqs.set(n.id, sameShape && t !== 'gap' && t !== 'flatten' ? { ...inEq, exact: false } : null);
  }

  function visitMerge(n: ArchNode & { kind: 'merge' }): void {
    nonneg.set(n.id, n.inputs.every((i) => nonneg.get(i) ?? false));
    const p = match(n) as (ArchNode & { kind: 'merge' }) | undefined;
    const ins = n.inputs.map((i) => eqs.get(i) ?? null);
    if (!p) {
      const main = ins[0];
      if (!main) return void eqs.set(n.id, null);
      if (n.mode === 'add') {
        const zeroed = n.inputs.slice(1).map((i) => zeroBranch(i)).every(Boolean);
        return void eqs.set(n.id, { ...main, exact: main.exact && zeroed });
      }
      const extra = lastDim(cShape(n.id)) - main.map.length;
      const map = new Int32Array(main.map.length + extra).fill(-1);
      map.set(main.map);
      return void eqs.set(n.id, { tensor: main.tensor, map, exact: main.exact });
    }
    const used = new Set<number>();
    let exact = true;
    const parts: ChannelMap[] = [];
    let first: ChannelMap | null = null;
    const pOff: number[] = [];
    let off = 0;
    for (const pi of p.inputs) {
      pOff.push(off);
      off += lastDim(pShape(pi));
    }
    n.inputs.forEach((ci, k) => {
      const e = ins[k];
      const idx = e ? p.inputs.findIndex((pi, j) => pi === e.tensor && !used.has(j)) : -1;
      if (idx < 0 || !e) {
        if (n.mode === 'add') exact = zeroBranch(ci) && exact;
        parts.push(new Int32Array(lastDim(cShape(ci))).fill(-1));
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
    if (n.mode === 'add') {
      eqs.set(n.id, first ? { tensor: p.id, map: first, exact } : null);
      return;
    }
    const map = new Int32Array(parts.reduce((a, m) => a + m.length, 0));
    let o = 0;
    for (const m of parts) {
      map.set(m, o);
      o += m.length;
    }
    eqs.set(n.id, { tensor: p.id, map, exact });
  }

  let functionPreserving = false;
  for (const n of cg.nodes) {
    if (n.kind === 'input') {
      const same = cShape(n.id).join(',') === pShape(pg.inputId).join(',');
      eqs.set(n.id, { tensor: pg.inputId, map: identityMap(lastDim(cShape(n.id))), exact: same });
      nonneg.set(n.id, false);
    } else if (n.kind === 'op') visitOp(n);
    else if (n.kind === 'merge') visitMerge(n);
    else {
      const e = eqs.get(n.input);
      const pIn = (pById.get(pg.outputId) as ArchNode & { kind: 'output' }).input;
      functionPreserving = !!e && e.exact && e.tensor === pIn && isIdentity(e.map, lastDim(pShape(pIn)));
    }
  }
  const nodes = cg.nodes.filter((n) => n.kind === 'op' && hasWeights(n.op)).map((n) => report.get(n.id)!);
  for (const r of nodes) if (r.status === 'fresh') weights.delete(r.id);
  return { weights, nodes, functionPreserving };
}

