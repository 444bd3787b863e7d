/**
 * Exact parameter counts and a FLOPs estimate, derived from an ArchGraph (no model is built).
 *
 * Parameters: trainable = conv/sepconv/dense kernels and biases + batch-norm gamma and beta (what
 * PyTorch counts as parameters, and tfjs as trainable weights); non-trainable = batch-norm moving
 * mean and variance (PyTorch buffers). `model.countParams()` of the built tf model equals
 * trainable + nonTrainable.
 *
 * FLOPs: multiply-adds of conv, separable conv and dense layers per example, plus one per output
 * element for a bias (the NAS-Bench-201 / xautodl counter's convention). Pooling, batch norm,
 * activations, merges and zero ops count 0.
 */
import { type ArchGraph, type ArchNode, type CheckedGraph, type Shape, checkGraph } from '../space/arch/graph.js';

export interface NodeCost {
  trainable: number;
  nonTrainable: number;
  flops: number;
}

export interface Cost {
  trainableParams: number;
  nonTrainableParams: number;
  /** trainable + non-trainable: what tfjs `model.countParams()` reports. */
  totalParams: number;
  /** Multiply-adds per example. */
  flops: number;
}

const prod = (s: Shape) => s.reduce((a, b) => a * b, 1);
const last = (s: Shape) => s[s.length - 1]!;

/** Cost of one node, given its input and output shapes. */
export function nodeCost(n: ArchNode, inShape: Shape | undefined, outShape: Shape): NodeCost {
  if (n.kind !== 'op' || !inShape) return { trainable: 0, nonTrainable: 0, flops: 0 };
  const op = n.op;
  const cin = last(inShape);
  switch (op.type) {
    case 'conv': {
      const positions = outShape[0]! * outShape[1]!;
      const b = op.bias ? op.filters : 0;
      const w = op.kernel * op.kernel * cin * op.filters;
      return { trainable: w + b, nonTrainable: 0, flops: positions * (w + b) };
    }
    case 'sepconv': {
      const positions = outShape[0]! * outShape[1]!;
      const b = op.bias ? op.filters : 0;
      const w = op.kernel * op.kernel * cin + cin * op.filters;
      return { trainable: w + b, nonTrainable: 0, flops: positions * (w + b) };
    }
    case 'dense': {
      const positions = prod(inShape.slice(0, -1));
      const b = op.bias === false ? 0 : op.units;
      const w = cin * op.units;
      return { trainable: w + b, nonTrainable: 0, flops: positions * (w + b) };
    }
    case 'bn':
      return { trainable: 2 * cin, nonTrainable: 2 * cin, flops: 0 };
    default:
      return { trainable: 0, nonTrainable: 0, flops: 0 };
  }
}

function isChecked(g: ArchGraph | CheckedGraph): g is CheckedGraph {
  return (g as CheckedGraph).shapes instanceof Map;
}

/** Parameter counts and FLOPs of a graph (validated first unless already a CheckedGraph). */
export function countCost(graph: ArchGraph | CheckedGraph): Cost {
  const g = isChecked(graph) ? graph : checkGraph(graph);
  let trainable = 0;
  let nonTrainable = 0;
  let flops = 0;
  for (const n of g.nodes) {
    const inS = n.kind === 'op' ? g.shapes.get(n.input) : undefined;
    const c = nodeCost(n, inS, g.shapes.get(n.id)!);
    trainable += c.trainable;
    nonTrainable += c.nonTrainable;
    flops += c.flops;
  }
  return { trainableParams: trainable, nonTrainableParams: nonTrainable, totalParams: trainable + nonTrainable, flops };
}
