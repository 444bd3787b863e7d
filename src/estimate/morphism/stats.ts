/**
 * Per-channel mean and variance of a model's intermediate tensors on a data sample (inference
 * mode), by graph node id: what a new identity batch norm needs (InheritOptions.stats).
 */
import type * as tfType from '@tensorflow/tfjs';
import type { ArchGraph, CheckedGraph } from '../../space/arch/graph.js';
import { foldedRelus } from '../../nn/fold.js';
import { asChecked, layerNames } from './weights.js';

export function activationStats(
  tf: typeof tfType,
  model: tfType.LayersModel,
  graph: ArchGraph | CheckedGraph,
  ids: string[],
  x: tfType.Tensor,
): Map<string, { mean: Float32Array; variance: Float32Array }> {
  const g = asChecked(graph);
  const names = layerNames(g);
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const folds = foldedRelus(g);
  const folded = new Map([...folds].map(([relu, producer]) => [producer, relu]));
  const layerOf = (id: string): string => {
    let n = byId.get(id)!;
    while (n.kind === 'op' && n.op.type === 'identity') n = byId.get(n.input)!;
    // A relu folded into its producer is that layer's output; the producer's own (pre-relu) output no longer exists.
    if (folds.has(n.id)) return names.get(folds.get(n.id)!)!;
    if (folded.has(n.id)) {
      throw new Error(`node "${n.id}": its output is fused with the relu "${folded.get(n.id)}" that follows it in the model; take statistics of a later node`);
    }
    if (n.kind === 'merge' && n.inputs.length === 1) return layerOf(n.inputs[0]!);
    return names.get(n.id)!;
  };
  const outs = ids.map((id) => model.getLayer(layerOf(id)).output as tfType.SymbolicTensor);
  const probe = tf.model({ inputs: model.inputs, outputs: outs });
  const ys = probe.predict(x) as tfType.Tensor | tfType.Tensor[];
  const list = Array.isArray(ys) ? ys : [ys];
  const out = new Map<string, { mean: Float32Array; variance: Float32Array }>();
  list.forEach((y, i) => {
    const axes = Array.from({ length: y.rank - 1 }, (_, k) => k);
    const { mean, variance } = tf.moments(y, axes);
    out.set(ids[i]!, { mean: Float32Array.from(mean.dataSync()), variance: Float32Array.from(variance.dataSync()) });
    mean.dispose();
    variance.dispose();
    y.dispose();
  });
  return out;
}
