/**
 * ArchGraph -> tf.LayersModel through the functional API. The graph is validated (checkGraph) first;
 * each op node becomes the layer(s) of src/nn/ops.ts, add/concat merges become Add/Concatenate
 * layers (a one-input merge is a pass-through). The model outputs logits unless
 * `outputActivation: 'softmax'`.
 *
 * A relu whose only input is a conv/sepconv/dense node that feeds nothing else is folded into that
 * layer (`activation: 'relu'`, as Keras models are usually written): no layer of its own. Besides
 * saving a layer, this keeps training off tfjs's fused-op gradient, which computes the gradient of
 * every input eagerly: for the first layer that is the input-data gradient nobody needs (the MLP's
 * first 784x256 product, ~20% of its training step).
 */
import * as tf from '@tensorflow/tfjs';
import { type ArchGraph, type CheckedGraph, checkGraph } from '../space/arch/graph.js';
import { foldedRelus } from './fold.js';
import { applyOp } from './ops.js';

export { countCost, nodeCost, type Cost, type NodeCost } from './cost.js';

export interface BuildOpts {
  /** Model name (default 'tsnas'). */
  name?: string;
  /** 'linear' (logits, default) or 'softmax' appended at the output. */
  outputActivation?: 'linear' | 'softmax';
}

/** A tf layer name for a node id: [A-Za-z0-9_] only, unique within the model. */
function layerNamer() {
  const used = new Set<string>();
  return (id: string) => {
    const base = `n_${id.replace(/[^A-Za-z0-9_]/g, '_')}`;
    let name = base;
    for (let k = 2; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  };
}

export function buildModel(graph: ArchGraph | CheckedGraph, opts: BuildOpts = {}): tf.LayersModel {
  const g = graph.nodes && (graph as CheckedGraph).shapes instanceof Map ? (graph as CheckedGraph) : checkGraph(graph);
  const folds = foldedRelus(g);
  const foldedInto = new Set(folds.values());
  const name = layerNamer();
  const t = new Map<string, tf.SymbolicTensor>();
  let input: tf.SymbolicTensor | undefined;
  let output: tf.SymbolicTensor | undefined;
  for (const n of g.nodes) {
    switch (n.kind) {
      case 'input':
        input = tf.input({ shape: [...n.shape], name: name(n.id) });
        t.set(n.id, input);
        break;
      case 'op':
        if (folds.has(n.id)) {
          name(n.id); // keeps every later layer's name as without folding (morphism/weights.ts layerNames)
          t.set(n.id, t.get(n.input)!);
        } else t.set(n.id, applyOp(n.op, t.get(n.input)!, name(n.id), foldedInto.has(n.id)));
        break;
      case 'merge': {
        // tfjs's executor frees a tensor too early when one layer takes it twice (e.g. add of two
        // skip_connects of the same node): route repeats through a parameter-free linear layer.
        const seen = new Set<tf.SymbolicTensor>();
        const xs = n.inputs.map((id, k) => {
          const x = t.get(id)!;
          if (!seen.has(x)) {
            seen.add(x);
            return x;
          }
          return tf.layers.activation({ name: name(`${n.id}_dup${k}`), activation: 'linear' }).apply(x) as tf.SymbolicTensor;
        });
        if (xs.length === 1) {
          t.set(n.id, xs[0]!);
          break;
        }
        const layer = n.mode === 'add' ? tf.layers.add({ name: name(n.id) }) : tf.layers.concatenate({ name: name(n.id), axis: -1 });
        t.set(n.id, layer.apply(xs) as tf.SymbolicTensor);
        break;
      }
      case 'output': {
        let y = t.get(n.input)!;
        if (opts.outputActivation === 'softmax') y = tf.layers.activation({ name: name(n.id), activation: 'softmax' }).apply(y) as tf.SymbolicTensor;
        output = y;
        break;
      }
    }
  }
  return tf.model({ inputs: input!, outputs: output!, name: opts.name ?? 'tsnas' });
}

/** Sizes of the model's trainable and non-trainable weights (to compare with countCost). */
export function modelParamCounts(model: tf.LayersModel): { trainable: number; nonTrainable: number; total: number } {
  const size = (ws: tf.LayerVariable[]) => ws.reduce((a, w) => a + (w.shape as number[]).reduce((p: number, d: number) => p * d, 1), 0);
  const trainable = size(model.trainableWeights);
  const nonTrainable = size(model.nonTrainableWeights);
  return { trainable, nonTrainable, total: model.countParams() };
}
