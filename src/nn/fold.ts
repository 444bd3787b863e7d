/**
 * Which relu nodes the model builder (builder.ts) folds into the layer before them: a relu whose
 * only input is a conv/sepconv/dense node that feeds nothing else. Kept free of tfjs so that graph
 * tools (morphism statistics) can map node ids to layers without loading it.
 */
import { type CheckedGraph, nodeInputs } from '../space/arch/graph.js';

/** Relu act nodes folded into their producer (act id -> producer id). */
export function foldedRelus(g: CheckedGraph): Map<string, string> {
  const consumers = new Map<string, number>();
  for (const n of g.nodes) for (const i of nodeInputs(n)) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const out = new Map<string, string>();
  for (const n of g.nodes) {
    if (n.kind !== 'op' || n.op.type !== 'act' || n.op.fn !== 'relu') continue;
    const p = byId.get(n.input);
    if (p?.kind === 'op' && ['conv', 'sepconv', 'dense'].includes(p.op.type) && consumers.get(p.id) === 1) out.set(n.id, p.id);
  }
  return out;
}

