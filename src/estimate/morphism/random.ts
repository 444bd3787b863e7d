/**
 * Random, non-trivial weights for a graph without building a model (tests, checks): kernels
 * N(0, 1/fan_in), biases and batch-norm betas N(0, 0.1^2), gammas in [0.5, 1.5], moving means
 * N(0, 0.5^2) and moving variances in [0.5, 2] (far from the 0/1 defaults, so a morphism that
 * ignores the statistics is caught).
 */
import type { ArchGraph, CheckedGraph } from '../../space/arch/graph.js';
import { Rng } from '../../util/rng.js';
import { filled } from './arrays.js';
import { asChecked, type GraphWeights, hasWeights, type NodeWeights, roles, weightShapes } from './weights.js';

export function randomWeights(graph: ArchGraph | CheckedGraph, seed: number): GraphWeights {
  const g = asChecked(graph);
  const rng = Rng.derive(seed, 'random-weights');
  const out: GraphWeights = new Map();
  for (const n of g.nodes) {
    if (n.kind !== 'op' || !hasWeights(n.op)) continue;
    const s = g.shapes.get(n.input)!;
    const shapes = weightShapes(n.op, s[s.length - 1]!);
    const w: NodeWeights = {};
    for (const r of roles(n.op)) {
      const shape = shapes[r]!;
      const fanIn = r === 'kernel' || r === 'pointwise' ? shape.slice(0, -1).reduce((a, b) => a * b, 1) : r === 'depthwise' ? shape[0]! * shape[1]! : 1;
      const gen: Record<string, () => number> = {
        gamma: () => 0.5 + rng.random(),
        variance: () => 0.5 + 1.5 * rng.random(),
        mean: () => 0.5 * rng.normal(),
        beta: () => 0.1 * rng.normal(),
        bias: () => 0.1 * rng.normal(),
      };
      w[r] = filled(shape, gen[r] ?? (() => rng.normal() / Math.sqrt(fanIn)));
    }
    out.set(n.id, w);
  }
  return out;
}
