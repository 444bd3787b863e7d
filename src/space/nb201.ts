/**
 * The NAS-Bench-201 cell space as a genotype: a 4-node cell DAG whose 6 edges (node i -> node j,
 * i < j) each carry one of 5 ops; 5^6 = 15,625 architectures. Parameter `edge_j_i` holds the op of
 * the edge i -> j. The benchmark's arch string is `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` (inputs of
 * node 1, node 2, node 3). Building the network from it is `space/arch/nb201.ts`; answering from the
 * published tables is `estimate/nb201.ts`.
 */
import { SpaceError, type Params, type SearchSpace } from './params.js';

export const NB201_OPS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'] as const;
export type Nb201Op = (typeof NB201_OPS)[number];

/** Edges in arch-string order: [target node j, source node i]. */
export const NB201_EDGES: readonly [number, number][] = [
  [1, 0], [2, 0], [2, 1], [3, 0], [3, 1], [3, 2],
];
/** Parameter name of the edge from node `from` to node `to`. */
export const nb201EdgeName = (to: number, from: number): string => `edge_${to}_${from}`;
export const NB201_EDGE_NAMES = NB201_EDGES.map(([j, i]) => nb201EdgeName(j, i));

export const NB201_SPACE: SearchSpace = {
  params: Object.fromEntries(NB201_EDGE_NAMES.map((n) => [n, { type: 'categorical', choices: [...NB201_OPS] }])),
};

export function nb201OpOf(params: Params, name: string): Nb201Op {
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
    for (let i = 0; i < j; i++) ops.push(`${nb201OpOf(params, `edge_${j}_${i}`)}~${i}`);
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
      if (!(NB201_OPS as readonly string[]).includes(op ?? '')) {
        throw new SpaceError(`nb201 arch "${str}": entry "${e}" of node ${j} is not an NB201 op; use one of ${NB201_OPS.join(', ')}`);
      }
      out[nb201EdgeName(j, i)] = op!;
    });
  });
  return Object.fromEntries(NB201_EDGE_NAMES.map((n) => [n, out[n]!]));
}

/** The CSV `config_id`: six digits, op index per edge in arch-string order. */
export function nb201ConfigId(params: Params): string {
  return NB201_EDGE_NAMES.map((n) => NB201_OPS.indexOf(nb201OpOf(params, n))).join('');
}

