/**
 * The NAS-Bench-201 cell space: a 4-node DAG whose 6 edges (node i -> node j, i < j) each carry one
 * of 5 ops. 5^6 = 15,625 architectures. Parameter `edge_j_i` holds the op of the edge i -> j; the
 * benchmark's arch string is `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` (node 1, node 2, node 3 inputs).
 */
import type { Params, SearchSpace } from './params.js';
import { SpaceError } from './params.js';

export const NB201_OPS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'] as const;
export type Nb201Op = (typeof NB201_OPS)[number];
/** Edges in arch-string order: [to, from]. */
export const NB201_EDGES: readonly (readonly [number, number])[] = [
  [1, 0],
  [2, 0],
  [2, 1],
  [3, 0],
  [3, 1],
  [3, 2],
];
export const nb201EdgeName = (to: number, from: number) => `edge_${to}_${from}`;

export const NB201_SPACE: SearchSpace = {
  params: Object.fromEntries(
    NB201_EDGES.map(([to, from]) => [nb201EdgeName(to, from), { type: 'categorical' as const, choices: [...NB201_OPS] }]),
  ),
};

export function nb201ArchString(params: Params): string {
  const nodes: string[] = [];
  for (let to = 1; to <= 3; to++) {
    const ops: string[] = [];
    for (let from = 0; from < to; from++) {
      const op = params[nb201EdgeName(to, from)];
      if (typeof op !== 'string' || !(NB201_OPS as readonly string[]).includes(op)) {
        throw new SpaceError(`params.${nb201EdgeName(to, from)}: ${JSON.stringify(op)} is not an NB201 op (${NB201_OPS.join(', ')})`);
      }
      ops.push(`${op}~${from}`);
    }
    nodes.push(`|${ops.join('|')}|`);
  }
  return nodes.join('+');
}

export function parseNb201Arch(arch: string): Params {
  const nodes = arch.split('+');
  if (nodes.length !== 3) throw new SpaceError(`arch "${arch}": expected 3 nodes separated by "+"`);
  const out: Params = {};
  nodes.forEach((node, k) => {
    const to = k + 1;
    const parts = node.split('|').filter((s) => s.length > 0);
    if (parts.length !== to) throw new SpaceError(`arch "${arch}": node ${to} must have ${to} input edges`);
    for (const part of parts) {
      const [op, fromStr] = part.split('~');
      const from = Number(fromStr);
      if (!(NB201_OPS as readonly string[]).includes(op!) || !(from >= 0 && from < to)) {
        throw new SpaceError(`arch "${arch}": bad edge "${part}"`);
      }
      out[nb201EdgeName(to, from)] = op!;
    }
  });
  return out;
}
