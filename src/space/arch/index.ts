/** Architecture spaces and the IR; see ./graph.ts for the IR and ./types.ts for ArchSpace. */
import { cellSpace } from './cell.js';
import { chainFlatSpace, chainSpace } from './chain.js';
import { dagSpace } from './dag.js';
import { nb201ArchSpace } from './nb201.js';
import type { ArchSpace } from './types.js';

export * from './graph.js';
export * from './types.js';
export { GraphBuilder, pruneUnreachable, scaleWidth } from './blocks.js';
export { chainSpace, chainFlatSpace, makeChainArchSpace, makeChainSpace, CHAIN_IMAGE_OPS, CHAIN_FLAT_OPS } from './chain.js';
export { dagSpace, makeDagArchSpace, makeDagSpace, dagReductions, DAG_OPS } from './dag.js';
export { cellSpace, makeCellArchSpace, makeCellSpace, CELL_OPS } from './cell.js';
export {
  nb201ArchSpace, NB201_SPACE, nb201ArchString, parseNb201Arch, nb201ConfigId, decodeNb201, decodeNb201Checked, nb201Cell, resnetReduction, NB201_OPS, NB201_EDGES, NB201_EDGE_NAMES,
} from './nb201.js';

/** The built-in architecture spaces by name. */
export const ARCH_SPACES: Record<string, ArchSpace> = Object.fromEntries(
  [chainSpace, chainFlatSpace, dagSpace, cellSpace, nb201ArchSpace].map((s) => [s.name, s]),
);
