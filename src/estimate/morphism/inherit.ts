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
 *
 * The walk and the node matching are in ./inherit-walk.ts, the weight transforms by op type in
 * ./inherit-ops.ts.
 */
import type { ArchGraph, CheckedGraph } from '../../space/arch/graph.js';
import { InheritWalk } from './inherit-walk.js';
import { asChecked, type GraphWeights, hasWeights } from './weights.js';

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

export function inheritWeights(
  parentGraph: ArchGraph | CheckedGraph,
  parentWeights: GraphWeights,
  childGraph: ArchGraph | CheckedGraph,
  opts: InheritOptions = {},
): InheritResult {
  const pg = asChecked(parentGraph);
  const cg = asChecked(childGraph);
  const walk = new InheritWalk(pg, parentWeights, cg, opts);
  let functionPreserving = false;
  for (const n of cg.nodes) {
    if (n.kind === 'input') walk.visitInput(n);
    else if (n.kind === 'op') walk.visitOp(n);
    else if (n.kind === 'merge') walk.visitMerge(n);
    else functionPreserving = walk.outputPreserved(n);
  }
  const { weights, report } = walk;
  const nodes = cg.nodes.filter((n) => n.kind === 'op' && hasWeights(n.op)).map((n) => report.get(n.id)!);
  for (const r of nodes) if (r.status === 'fresh') weights.delete(r.id);
  return { weights, nodes, functionPreserving };
}
