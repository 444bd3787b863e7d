/**
 * Function-preserving network morphisms on (graph, trained weights by node id). Each one edits the
 * graph and then lets `inheritWeights` derive the child's weights, so the same rules serve an
 * explicit morphism and a child produced by a strategy's mutation:
 *
 * - `widen` (Net2WiderNet): more filters/units for a conv/sepconv/dense node. Every producer whose
 *   output is summed with it (through bn/act/pool/... and add merges) is widened along, so the graph
 *   stays valid; units are replicated by a random mapping, consumers' incoming weights divided.
 * - `deepen` (Net2DeeperNet): an identity-initialised conv/sepconv/dense (+ identity batch norm,
 *   + ReLU, which stays the identity on a non-negative input, e.g. after a ReLU) after a node.
 * - `addBranch`: a new branch from `from` merged into `to` by add (its last conv or batch norm
 *   zero-initialised) or concat (the followers' weights on the new channels zero).
 * - `enlargeKernel`: a larger odd kernel, the old one zero-padded around its centre.
 */
import type { Activation, ArchGraph, ArchNode, CheckedGraph, OpSpec } from '../../space/arch/graph.js';
import { checkGraph, GraphError, nodeInputs } from '../../space/arch/graph.js';
import { type InheritOptions, type InheritResult, inheritWeights } from './inherit.js';
import { asChecked, type GraphWeights } from './weights.js';

export interface MorphResult {
  graph: ArchGraph;
  weights: GraphWeights;
  inherit: InheritResult;
}

const CHANNEL_PRESERVING = new Set(['bn', 'act', 'pool', 'dropout', 'identity', 'zero', 'shift', 'gap']);
const cloneNodes = (g: CheckedGraph): ArchNode[] => g.nodes.map((n) => JSON.parse(JSON.stringify(n)) as ArchNode);

function finish(parent: CheckedGraph, weights: GraphWeights, nodes: ArchNode[], opts: InheritOptions): MorphResult {
  const graph: ArchGraph = { nodes };
  const checked = checkGraph(graph);
  const inherit = inheritWeights(parent, weights, checked, opts);
  return { graph, weights: inherit.weights, inherit };
}

function opNode(g: CheckedGraph, id: string): ArchNode & { kind: 'op' } {
  const n = g.nodes.find((x) => x.id === id);
  if (!n || n.kind !== 'op') throw new GraphError(`node "${id}": not an op node of this graph`);
  return n;
}

function usersOf(nodes: ArchNode[]): Map<string, ArchNode[]> {
  const u = new Map<string, ArchNode[]>();
  for (const n of nodes) for (const i of nodeInputs(n)) u.set(i, [...(u.get(i) ?? []), n]);
  return u;
}

/** Points every user of `from` (except `except`) at `to`. */
function rewire(nodes: ArchNode[], from: string, to: string, except: Set<string>): void {
  for (const n of nodes) {
    if (except.has(n.id)) continue;
    if (n.kind === 'op' || n.kind === 'output') {
      if (n.input === from) n.input = to;
    } else if (n.kind === 'merge') n.inputs = n.inputs.map((i) => (i === from ? to : i));
  }
}

/** The conv/sepconv/dense nodes whose outputs must share a width with `id` (see module comment). */
export function widenGroup(graph: ArchGraph | CheckedGraph, id: string): string[] {
  const g = asChecked(graph);
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const users = usersOf(g.nodes);
  const seen = new Set<string>();
  const producers: string[] = [];
  const work = [id];
  while (work.length) {
    const t = work.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const n = byId.get(t)!;
    if (n.kind === 'op' && ['conv', 'sepconv', 'dense'].includes(n.op.type)) producers.push(t);
    else if (n.kind === 'op' && CHANNEL_PRESERVING.has(n.op.type)) work.push(n.input);
    else if (n.kind === 'merge' && n.mode === 'add') work.push(...n.inputs);
    else throw new GraphError(`widen "${id}": its channels also come from "${t}" (${n.kind === 'op' ? n.op.type : n.kind}), which cannot be widened`);
    for (const u of users.get(t) ?? []) {
      if (u.kind === 'output') throw new GraphError(`widen "${id}": it feeds the network output; the number of outputs is fixed`);
      if ((u.kind === 'op' && CHANNEL_PRESERVING.has(u.op.type)) || (u.kind === 'merge' && u.mode === 'add')) work.push(u.id);
      else if ((u.kind === 'merge' && u.mode === 'concat') || (u.kind === 'op' && u.op.type === 'flatten')) checkDerived(u.id);
    }
  }
  return producers;

  /** Channels laid out from a widened tensor (concat, flatten) may reach weighted consumers, not an add. */
  function checkDerived(from: string): void {
    const stack = [from];
    const done = new Set<string>();
    while (stack.length) {
      const t = stack.pop()!;
      if (done.has(t)) continue;
      done.add(t);
      for (const u of users.get(t) ?? []) {
        if (u.kind === 'merge' && u.mode === 'add') {
          throw new GraphError(`widen "${id}": its channels reach the add "${u.id}" through "${from}", whose other inputs cannot be widened to match`);
        }
        if (u.kind === 'output') throw new GraphError(`widen "${id}": it feeds the network output through "${from}"; the number of outputs is fixed`);
        if (u.kind === 'merge' || (u.kind === 'op' && (CHANNEL_PRESERVING.has(u.op.type) || u.op.type === 'flatten'))) stack.push(u.id);
      }
    }
  }
}

/** Net2WiderNet: `id` (and the producers summed with it) get `width` filters/units. */
export function widen(graph: ArchGraph | CheckedGraph, weights: GraphWeights, id: string, width: number, opts: InheritOptions = {}): MorphResult {
  const g = asChecked(graph);
  const op = opNode(g, id).op;
  if (op.type !== 'conv' && op.type !== 'sepconv' && op.type !== 'dense') throw new GraphError(`widen "${id}": a ${op.type} node has no width`);
  const old = op.type === 'dense' ? op.units : op.filters;
  if (!(Number.isInteger(width) && width >= old)) throw new GraphError(`widen "${id}": width must be an integer >= ${old} (got ${width})`);
  const group = new Set(widenGroup(g, id));
  const nodes = cloneNodes(g);
  for (const n of nodes) {
    if (n.kind !== 'op' || !group.has(n.id)) continue;
    if (n.op.type === 'dense') n.op.units = width;
    else if (n.op.type === 'conv' || n.op.type === 'sepconv') n.op.filters = width;
  }
  return finish(g, weights, nodes, opts);
}

export interface DeepenOptions extends InheritOptions {
  /** Layer type: 'conv' (default on images), 'sepconv' or 'dense' (default on flat vectors). */
  op?: 'conv' | 'sepconv' | 'dense';
  /** Odd kernel size (default 3). */
  kernel?: number;
  /** Add an identity batch norm after it (default false). */
  bn?: boolean;
  /** Add an activation (a ReLU is exact only on a non-negative input). */
  act?: Activation;
}

/** Net2DeeperNet: an identity layer (+ bn, + activation) right after node `after`. */
export function deepen(graph: ArchGraph | CheckedGraph, weights: GraphWeights, after: string, o: DeepenOptions = {}): MorphResult {
  const g = asChecked(graph);
  const shape = g.shapes.get(after);
  if (!shape || after === g.outputId) throw new GraphError(`deepen: "${after}" is not a node whose output can be extended`);
  const c = shape[shape.length - 1]!;
  const kind = o.op ?? (shape.length === 3 ? 'conv' : 'dense');
  const kernel = o.kernel ?? 3;
  let k = 1;
  while (g.shapes.has(`${after}/deep${k}/${kind}`)) k++;
  const p = `${after}/deep${k}`;
  const ops: [string, OpSpec][] = [
    [kind, kind === 'dense' ? { type: 'dense', units: c } : { type: kind, filters: c, kernel, stride: 1, padding: 'same' }],
  ];
  if (o.bn) ops.push(['bn', { type: 'bn' }]);
  if (o.act) ops.push([o.act, { type: 'act', fn: o.act }]);
  const nodes = cloneNodes(g);
  const added: ArchNode[] = [];
  let x = after;
  for (const [s, op] of ops) {
    added.push({ id: `${p}/${s}`, kind: 'op', op, input: x });
    x = `${p}/${s}`;
  }
  rewire(nodes, after, x, new Set());
  const at = nodes.findIndex((n) => n.id === after);
  nodes.splice(at + 1, 0, ...added);
  return finish(g, weights, nodes, o);
}

export interface BranchOptions extends InheritOptions {
  merge: 'add' | 'concat';
  /** Conv kernel of the branch (default 1; ignored on flat vectors, where the branch is dense). */
  kernel?: number;
  /** Branch width for concat (default: the channels of `to`). */
  filters?: number;
  /** End the branch with batch norm (default true for add on images): it is what gets zeroed. */
  bn?: boolean;
}

/** A branch from node `from` merged into node `to`'s output (users of `to` now read the merge). */
export function addBranch(graph: ArchGraph | CheckedGraph, weights: GraphWeights, from: string, to: string, o: BranchOptions): MorphResult {
  const g = asChecked(graph);
  const fs = g.shapes.get(from);
  const ts = g.shapes.get(to);
  if (!fs || !ts || to === g.outputId || from === g.outputId) throw new GraphError(`addBranch: "${from}" and "${to}" must be nodes before the output`);
  if (fs.length !== ts.length) throw new GraphError(`addBranch: "${from}" [${fs}] and "${to}" [${ts}] differ in rank`);
  const cTo = ts[ts.length - 1]!;
  const width = o.merge === 'add' ? cTo : (o.filters ?? cTo);
  let k = 1;
  while (g.shapes.has(`${to}/branch${k}/${o.merge}`)) k++;
  const p = `${to}/branch${k}`;
  const ops: [string, OpSpec][] = [];
  if (fs.length === 3) {
    const s = fs[0]! / ts[0]!;
    if (!Number.isInteger(s) || fs[1]! / ts[1]! !== s) throw new GraphError(`addBranch: "${from}" ${fs[0]}x${fs[1]} does not reduce to "${to}" ${ts[0]}x${ts[1]} by an integer stride`);
    ops.push(['conv', { type: 'conv', filters: width, kernel: o.kernel ?? 1, stride: s, padding: 'same' }]);
    if (o.bn ?? o.merge === 'add') ops.push(['bn', { type: 'bn' }]);
  } else {
    ops.push(['dense', { type: 'dense', units: width }]);
    if (o.bn) ops.push(['bn', { type: 'bn' }]);
  }
  const nodes = cloneNodes(g);
  const added: ArchNode[] = [];
  let x = from;
  for (const [s, op] of ops) {
    added.push({ id: `${p}/${s}`, kind: 'op', op, input: x });
    x = `${p}/${s}`;
  }
  const mergeId = `${p}/${o.merge}`;
  rewire(nodes, to, mergeId, new Set());
  added.push({ id: mergeId, kind: 'merge', mode: o.merge, inputs: [to, x] });
  nodes.splice(nodes.findIndex((n) => n.kind === 'output'), 0, ...added);
  return finish(g, weights, nodes, o);
}

/** A larger (odd, by an even step) kernel for a conv/sepconv node with 'same' padding. */
export function enlargeKernel(graph: ArchGraph | CheckedGraph, weights: GraphWeights, id: string, kernel: number, opts: InheritOptions = {}): MorphResult {
  const g = asChecked(graph);
  const op = opNode(g, id).op;
  if (op.type !== 'conv' && op.type !== 'sepconv') throw new GraphError(`enlargeKernel "${id}": a ${op.type} node has no kernel`);
  if (!(kernel > op.kernel && (kernel - op.kernel) % 2 === 0) || (op.padding ?? 'same') !== 'same') {
    throw new GraphError(`enlargeKernel "${id}": needs 'same' padding and a kernel larger by an even step (${op.kernel} -> ${kernel})`);
  }
  const nodes = cloneNodes(g);
  for (const n of nodes) if (n.id === id && n.kind === 'op' && (n.op.type === 'conv' || n.op.type === 'sepconv')) n.op.kernel = kernel;
  return finish(g, weights, nodes, opts);
}
