/**
 * Trained weights keyed by graph node id, independent of tfjs: `GraphWeights` maps an op node's id
 * to its named weight arrays (row-major, last axis fastest, the tfjs layouts):
 *
 * - conv:    kernel [k, k, cin, cout], bias [cout] (when the op has a bias)
 * - sepconv: depthwise [k, k, cin, 1], pointwise [1, 1, cin, cout], bias [cout]
 * - dense:   kernel [cin, cout], bias [cout]
 * - bn:      gamma, beta, mean, variance [C] (mean/variance are the moving statistics)
 *
 * `readWeights` / `writeWeights` move them between a model built by `buildModel(graph)` and this
 * form; layer names are the builder's (`n_<id with non [A-Za-z0-9_] as _>`, a `_2`... suffix on
 * collisions, assigned in topological order), checked against the model so a naming change fails
 * loudly. `encodeWeights` / `decodeWeights` give one byte buffer (JSON manifest + float32 data).
 */
import type * as tf from '@tensorflow/tfjs';
import { type ArchGraph, type CheckedGraph, type OpSpec, checkGraph } from '../../space/arch/graph.js';

export interface WTensor {
  shape: number[];
  data: Float32Array;
}
export type NodeWeights = Record<string, WTensor>;
export type GraphWeights = Map<string, NodeWeights>;

export const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Ops that own weights. */
export function hasWeights(op: OpSpec): boolean {
  return op.type === 'conv' || op.type === 'sepconv' || op.type === 'dense' || op.type === 'bn';
}

/** Weight roles of an op in the order tfjs stores them. */
export function roles(op: OpSpec): string[] {
  switch (op.type) {
    case 'conv':
      return op.bias ? ['kernel', 'bias'] : ['kernel'];
    case 'sepconv':
      return op.bias ? ['depthwise', 'pointwise', 'bias'] : ['depthwise', 'pointwise'];
    case 'dense':
      return (op.bias ?? true) ? ['kernel', 'bias'] : ['kernel'];
    case 'bn':
      return ['gamma', 'beta', 'mean', 'variance'];
    default:
      return [];
  }
}

/** Expected shapes of an op's weights given its input channel count. */
export function weightShapes(op: OpSpec, cin: number): Record<string, number[]> {
  switch (op.type) {
    case 'conv':
      return { kernel: [op.kernel, op.kernel, cin, op.filters], bias: [op.filters] };
    case 'sepconv':
      return { depthwise: [op.kernel, op.kernel, cin, 1], pointwise: [1, 1, cin, op.filters], bias: [op.filters] };
    case 'dense':
      return { kernel: [cin, op.units], bias: [op.units] };
    case 'bn':
      return { gamma: [cin], beta: [cin], mean: [cin], variance: [cin] };
    default:
      return {};
  }
}

export function asChecked(g: ArchGraph | CheckedGraph): CheckedGraph {
  return (g as CheckedGraph).shapes instanceof Map ? (g as CheckedGraph) : checkGraph(g);
}

/** Layer name of each node, as src/nn/builder.ts assigns them (op nodes with weights only matter here). */
export function layerNames(graph: ArchGraph | CheckedGraph): Map<string, string> {
  const g = asChecked(graph);
  const used = new Set<string>();
  const name = (id: string) => {
    const base = `n_${id.replace(/[^A-Za-z0-9_]/g, '_')}`;
    let n = base;
    for (let k = 2; used.has(n); k++) n = `${base}_${k}`;
    used.add(n);
    return n;
  };
  const out = new Map<string, string>();
  for (const n of g.nodes) {
    if (n.kind === 'merge') {
      const seen = new Set<string>();
      n.inputs.forEach((id, k) => {
        if (seen.has(id)) name(`${n.id}_dup${k}`);
        seen.add(id);
      });
      if (n.inputs.length > 1) out.set(n.id, name(n.id));
    } else if (n.kind !== 'output') {
      // Every input and op node takes a name (identity too, though it makes no layer). The output
      // node is last in topological order, so its optional softmax layer never shifts the others.
      out.set(n.id, name(n.id));
    }
  }
  return out;
}

function layerFor(model: tf.LayersModel, names: Map<string, string>, id: string, op: OpSpec): tf.layers.Layer {
  const ln = names.get(id)!;
  let layer: tf.layers.Layer;
  try {
    layer = model.getLayer(ln);
  } catch {
    throw new Error(`node "${id}": the model has no layer "${ln}"; was it built by buildModel from this graph?`);
  }
  if (layer.weights.length !== roles(op).length) {
    throw new Error(`node "${id}": layer "${ln}" has ${layer.weights.length} weights, expected ${roles(op).length} (${roles(op).join(', ')})`);
  }
  return layer;
}

/** Copies every weighted node's weights out of `model` (built by buildModel from `graph`). */
export function readWeights(model: tf.LayersModel, graph: ArchGraph | CheckedGraph): GraphWeights {
  const g = asChecked(graph);
  const names = layerNames(g);
  const out: GraphWeights = new Map();
  for (const n of g.nodes) {
    if (n.kind !== 'op' || !hasWeights(n.op)) continue;
    const layer = layerFor(model, names, n.id, n.op);
    const vals = layer.getWeights();
    const w: NodeWeights = {};
    roles(n.op).forEach((r, i) => {
      w[r] = { shape: [...vals[i]!.shape], data: Float32Array.from(vals[i]!.dataSync()) };
    });
    out.set(n.id, w);
  }
  return out;
}

/** Sets the weights of the nodes present in `weights` (others keep the model's initialisation). */
export function writeWeights(model: tf.LayersModel, graph: ArchGraph | CheckedGraph, weights: GraphWeights, tfm: typeof tf): void {
  const g = asChecked(graph);
  const names = layerNames(g);
  for (const n of g.nodes) {
    if (n.kind !== 'op' || !hasWeights(n.op)) continue;
    const w = weights.get(n.id);
    if (!w) continue;
    const layer = layerFor(model, names, n.id, n.op);
    const ts = roles(n.op).map((r, i) => {
      const v = w[r];
      const want = layer.weights[i]!.shape as number[];
      if (!v || v.shape.join(',') !== want.join(',')) {
        throw new Error(`node "${n.id}": weight ${r} has shape [${v?.shape.join(',') ?? 'missing'}], the layer needs [${want.join(',')}]`);
      }
      return tfm.tensor(v.data, v.shape);
    });
    layer.setWeights(ts);
    for (const t of ts) t.dispose();
  }
}

/** One buffer: 4-byte manifest length, JSON manifest, padding to 4 bytes, float32 data. */
export function encodeWeights(weights: GraphWeights): Uint8Array {
  const manifest: Record<string, Record<string, { shape: number[]; offset: number }>> = {};
  let total = 0;
  for (const [id, w] of weights) {
    manifest[id] = {};
    for (const [r, t] of Object.entries(w)) {
      manifest[id]![r] = { shape: t.shape, offset: total };
      total += t.data.length;
    }
  }
  const json = new TextEncoder().encode(JSON.stringify(manifest));
  const head = 4 + json.length + ((4 - ((4 + json.length) % 4)) % 4);
  const buf = new Uint8Array(head + total * 4);
  new DataView(buf.buffer).setUint32(0, json.length, true);
  buf.set(json, 4);
  const f = new Float32Array(buf.buffer, head, total);
  for (const [id, w] of weights) for (const [r, t] of Object.entries(w)) f.set(t.data, manifest[id]![r]!.offset);
  return buf;
}

export function decodeWeights(bytes: Uint8Array): GraphWeights {
  const copy = new Uint8Array(bytes); // own, aligned buffer
  const len = new DataView(copy.buffer).getUint32(0, true);
  const manifest = JSON.parse(new TextDecoder().decode(copy.subarray(4, 4 + len))) as Record<
    string,
    Record<string, { shape: number[]; offset: number }>
  >;
  const head = 4 + len + ((4 - ((4 + len) % 4)) % 4);
  const f = new Float32Array(copy.buffer, head, (copy.length - head) / 4);
  const out: GraphWeights = new Map();
  for (const [id, rs] of Object.entries(manifest)) {
    const w: NodeWeights = {};
    for (const [r, { shape, offset }] of Object.entries(rs)) w[r] = { shape, data: f.slice(offset, offset + size(shape)) };
    out.set(id, w);
  }
  return out;
}
