/**
 * An architecture search space: a `SearchSpace` (plain JSON, so every strategy samples, mutates and
 * models it unchanged) plus a decoder from a configuration to an `ArchGraph`.
 */
import type { Params, SearchSpace } from '../params.js';
import type { ArchGraph } from './graph.js';

export interface DecodeOpts {
  /** Without the batch axis: [H, W, C] for images, [D] for flat (tabular) input. */
  inputShape: number[];
  numClasses: number;
  /** Width multiplier on every channel/unit count (fidelity knob "fewer filters"); default 1. */
  width?: number;
  /** Cells per stage, overriding the configuration's (cell spaces only; fidelity knob "fewer cells"). */
  cells?: number;
}

export interface ArchSpace {
  name: string;
  space: SearchSpace;
  /** Decodes a complete, valid configuration; throws SpaceError/GraphError with a message naming the fix. */
  decode(params: Params, opts: DecodeOpts): ArchGraph;
}
