/**
 * Architecture IR: a directed acyclic graph of typed nodes (input, op, merge, output) over tensors
 * without the batch axis: images are NHWC `[H, W, C]`, flat vectors are `[D]`.
 *
 * A genotype is a plain `Params` record of an arch space (see ./types.ts); decoding it gives an
 * `ArchGraph`, which `checkGraph` validates (unique ids, known ops, every input exists, no cycle,
 * no dangling node, shapes compatible) and annotates with inferred shapes and a topological order.
 * Composite blocks (ReLU-Conv-BN, separable conv stacks, ...) are expanded into primitive op nodes by
 * the decoders, so the builder (src/nn/builder.ts) and the cost counter (src/nn/cost.ts) only know
 * the primitives below.
 */

export type Shape = number[];

export type Activation = 'relu' | 'elu' | 'tanh' | 'selu' | 'swish' | 'gelu' | 'sigmoid' | 'softmax';
export const ACTIVATIONS: readonly Activation[] = ['relu', 'elu', 'tanh', 'selu', 'swish', 'gelu', 'sigmoid', 'softmax'];

export type Padding = 'same' | 'valid';

/** Primitive operations. Convolutions are NHWC with TensorFlow padding semantics. */
export type OpSpec =
  /** k x k convolution, `filters` outputs; `bias` defaults to false (BN usually follows). */
  | { type: 'conv'; filters: number; kernel: number; stride?: number; padding?: Padding; bias?: boolean }
  /** Depthwise k x k (multiplier 1) then pointwise 1x1 to `filters`; `bias` defaults to false. */
  | { type: 'sepconv'; filters: number; kernel: number; stride?: number; padding?: Padding; bias?: boolean }
  /** Linear layer on the last axis (on an image it acts per pixel, like a 1x1 conv); bias defaults to true. */
  | { type: 'dense'; units: number; bias?: boolean }
  /** Batch norm over the last axis with affine gamma/beta (trainable) and moving mean/variance. */
  | { type: 'bn' }
  | { type: 'act'; fn: Activation }
  /** Max or average pooling; average pooling excludes the padding (TF semantics). */
  | { type: 'pool'; mode: 'max' | 'avg'; size: number; stride?: number; padding?: Padding }
  /** Global average pooling: [H, W, C] -> [C]. */
  | { type: 'gap' }
  /** [H, W, C] -> [H * W * C]. */
  | { type: 'flatten' }
  | { type: 'dropout'; rate: number }
  | { type: 'identity' }
  /** Outputs zeros of the input's shape (NAS-Bench-201 / DARTS 'none'); keeps the edge in the graph. */
  | { type: 'zero' }
  /** Drops the first row and column and zero-pads the last ones: the shifted path of a factorized reduce. */
  | { type: 'shift' };

export type OpType = OpSpec['type'];
export const OP_TYPES: readonly OpType[] = [
  'conv', 'sepconv', 'dense', 'bn', 'act', 'pool', 'gap', 'flatten', 'dropout', 'identity', 'zero', 'shift',
];

export type ArchNode =
  | { id: string; kind: 'input'; shape: Shape }
  | { id: string; kind: 'op'; op: OpSpec; input: string }
  | { id: string; kind: 'merge'; mode: 'add' | 'concat'; inputs: string[] }
  | { id: string; kind: 'output'; input: string };

/** Plain-JSON graph: exactly one input node and one output node. */
export interface ArchGraph {
  nodes: ArchNode[];
}

/** A validated graph: nodes in topological order, with every node's output shape. */
export interface CheckedGraph {
  nodes: ArchNode[];
  shapes: Map<string, Shape>;
  inputId: string;
  outputId: string;
}

/** Invalid graph; the message names the node and says how to fix it. */
export class GraphError extends Error {
  override name = 'GraphError';
}

export function nodeInputs(n: ArchNode): string[] {
  if (n.kind === 'input') return [];
  if (n.kind === 'merge') return n.inputs;
  return [n.input];
}

const fmt = (s: Shape) => `[${s.join(',')}]`;

function posInt(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

function needImage(id: string, what: string, s: Shape, from: string): [number, number, number] {
  if (s.length !== 3) {
    throw new GraphError(
      `node "${id}": ${what} needs an image input [H,W,C] but "${from}" gives ${fmt(s)}; ` +
        `use dense/identity on flat vectors, or keep the tensor an image before this node`,
    );
  }
  return [s[0]!, s[1]!, s[2]!];
}

/** Output size along one spatial axis, TensorFlow semantics. */
export function convOut(size: number, kernel: number, stride: number, padding: Padding): number {
  return padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - kernel) / stride) + 1;
}

function spatial(id: string, what: string, inS: Shape, from: string, k: number, s: number, p: Padding): [number, number, number] {
  const [h, w, c] = needImage(id, what, inS, from);
  if (p !== 'same' && p !== 'valid') throw new GraphError(`node "${id}": padding must be "same" or "valid", got ${JSON.stringify(p)}`);
  if (!posInt(k) || !posInt(s)) throw new GraphError(`node "${id}": kernel/size and stride must be positive integers (got ${k}, ${s})`);
  if (p === 'valid' && (k > h || k > w)) {
    throw new GraphError(`node "${id}": ${what} window ${k}x${k} is larger than its input ${h}x${w}; use padding "same" or a smaller window`);
  }
  return [convOut(h, k, s, p), convOut(w, k, s, p), c];
}

/** Shape of one op's output given its input's; throws GraphError naming the node. */
export function inferOpShape(id: string, op: OpSpec, inS: Shape, from: string): Shape {
  switch (op.type) {
    case 'conv':
    case 'sepconv': {
      if (!posInt(op.filters)) throw new GraphError(`node "${id}": filters must be a positive integer (got ${op.filters})`);
      const [h, w] = spatial(id, op.type, inS, from, op.kernel, op.stride ?? 1, op.padding ?? 'same');
      return [h, w, op.filters];
    }
    case 'pool': {
      if (op.mode !== 'max' && op.mode !== 'avg') throw new GraphError(`node "${id}": pool mode must be "max" or "avg"`);
      return spatial(id, `${op.mode}pool`, inS, from, op.size, op.stride ?? op.size, op.padding ?? 'same');
    }
    case 'dense':
      if (!posInt(op.units)) throw new GraphError(`node "${id}": units must be a positive integer (got ${op.units})`);
      return [...inS.slice(0, -1), op.units];
    case 'gap':
      return [needImage(id, 'gap', inS, from)[2]];
    case 'flatten':
      return [inS.reduce((a, b) => a * b, 1)];
    case 'shift':
      needImage(id, 'shift', inS, from);
      return [...inS];
    case 'act':
      if (!ACTIVATIONS.includes(op.fn)) {
        throw new GraphError(`node "${id}": unknown activation ${JSON.stringify(op.fn)}; use one of ${ACTIVATIONS.join(', ')}`);
      }
      return [...inS];
    case 'dropout':
      if (!(op.rate >= 0 && op.rate < 1)) throw new GraphError(`node "${id}": dropout rate must be in [0, 1) (got ${op.rate})`);
      return [...inS];
    case 'bn':
    case 'identity':
    case 'zero':
      return [...inS];
    default: {
      const t = (op as { type?: unknown }).type;
      throw new GraphError(`node "${id}": unknown op ${JSON.stringify(t)}; use one of ${OP_TYPES.join(', ')}`);
    }
  }
}

/** Shape of a merge node's output; add needs equal shapes, concat equal shapes but the last axis. */
export function inferMergeShape(id: string, mode: 'add' | 'concat', ins: { id: string; shape: Shape }[]): Shape {
  if (ins.length === 0) throw new GraphError(`merge node "${id}": has no inputs; give it at least one input`);
  const first = ins[0]!;
  if (mode === 'add') {
    for (const o of ins.slice(1)) {
      if (fmt(o.shape) !== fmt(first.shape)) {
        throw new GraphError(
          `merge node "${id}" (add): input shapes differ: "${first.id}" ${fmt(first.shape)} vs "${o.id}" ${fmt(o.shape)}; ` +
            `make them equal (match strides and channels, e.g. a 1x1 conv or pooling on one input) or use concat`,
        );
      }
    }
    return [...first.shape];
  }
  if (mode !== 'concat') throw new GraphError(`merge node "${id}": mode must be "add" or "concat", got ${JSON.stringify(mode)}`);
  let last = 0;
  for (const o of ins) {
    const a = o.shape.slice(0, -1);
    if (o.shape.length !== first.shape.length || fmt(a) !== fmt(first.shape.slice(0, -1))) {
      throw new GraphError(
        `merge node "${id}" (concat): "${first.id}" ${fmt(first.shape)} and "${o.id}" ${fmt(o.shape)} differ outside the ` +
          `channel (last) axis; bring them to the same spatial size (strides/pooling) before concatenating`,
      );
    }
    last += o.shape[o.shape.length - 1]!;
  }
  return [...first.shape.slice(0, -1), last];
}

/**
 * Validates a graph and infers every node's shape. Rejects: no or several input/output nodes,
 * duplicate ids, inputs that name no node, cycles, nodes whose output nothing uses, unknown ops,
 * incompatible shapes, and an output that is not a flat vector.
 */
export function checkGraph(graph: ArchGraph): CheckedGraph {
  if (!graph || !Array.isArray(graph.nodes)) throw new GraphError('graph: must be { nodes: [...] }');
  const byId = new Map<string, ArchNode>();
  for (const n of graph.nodes) {
    if (typeof n.id !== 'string' || n.id === '') throw new GraphError('graph: every node needs a non-empty string id');
    if (byId.has(n.id)) throw new GraphError(`node "${n.id}": duplicate id; give every node a unique id`);
    if (!['input', 'op', 'merge', 'output'].includes(n.kind)) {
      throw new GraphError(`node "${n.id}": unknown kind ${JSON.stringify(n.kind)}; use input, op, merge or output`);
    }
    byId.set(n.id, n);
  }
  const inputs = graph.nodes.filter((n) => n.kind === 'input');
  const outputs = graph.nodes.filter((n) => n.kind === 'output');
  if (inputs.length !== 1) throw new GraphError(`graph: needs exactly one input node, found ${inputs.length}`);
  if (outputs.length !== 1) throw new GraphError(`graph: needs exactly one output node, found ${outputs.length}`);
  const users = new Map<string, number>();
  for (const n of graph.nodes) {
    for (const src of nodeInputs(n)) {
      const s = byId.get(src);
      if (!s) throw new GraphError(`node "${n.id}": input "${src}" does not exist (dangling edge); connect it to an existing node id`);
      if (s.kind === 'output') throw new GraphError(`node "${n.id}": cannot take the output node "${src}" as input; use the node feeding it`);
      users.set(src, (users.get(src) ?? 0) + 1);
    }
  }
  for (const n of graph.nodes) {
    if (n.kind !== 'output' && !users.has(n.id)) {
      throw new GraphError(
        `node "${n.id}": its output is not used by any node (dangling node); connect it to a later node or the output, or remove it`,
      );
    }
  }
  // Topological order (DFS), reporting a cycle by its path.
  const order: ArchNode[] = [];
  const state = new Map<string, 1 | 2>();
  for (const n of graph.nodes) visit(n.id, [], byId, state, order);
  const shapes = new Map<string, Shape>();
  for (const n of order) shapes.set(n.id, nodeShape(n, shapes));
  const out = outputs[0]!;
  const outS = shapes.get(out.id)!;
  if (outS.length !== 1) {
    throw new GraphError(`output node "${out.id}": shape ${fmt(outS)} is not a flat vector; add gap or flatten, then dense, before the output`);
  }
  return { nodes: order, shapes, inputId: inputs[0]!.id, outputId: out.id };
}

function visit(id: string, path: string[], byId: Map<string, ArchNode>, state: Map<string, 1 | 2>, order: ArchNode[]): void {
  const st = state.get(id);
  if (st === 2) return;
  if (st === 1) {
    const cyc = [...path.slice(path.indexOf(id)), id].join(' -> ');
    throw new GraphError(`graph: cycle ${cyc}; edges must go from earlier to later nodes (a DAG): remove one of these edges`);
  }
  state.set(id, 1);
  path.push(id);
  for (const src of nodeInputs(byId.get(id)!)) visit(src, path, byId, state, order);
  path.pop();
  state.set(id, 2);
  order.push(byId.get(id)!);
}

/** Shape of node `n` given the shapes of already-visited nodes. */
export function nodeShape(n: ArchNode, shapes: Map<string, Shape>): Shape {
  // (No closures here: this runs once per node, and tsx/esbuild's keepNames makes closures costly.)
  switch (n.kind) {
    case 'input':
      if (!Array.isArray(n.shape) || (n.shape.length !== 1 && n.shape.length !== 3) || !n.shape.every(posInt)) {
        throw new GraphError(`input node "${n.id}": shape must be [H,W,C] or [D] of positive integers, got ${JSON.stringify(n.shape)}`);
      }
      return [...n.shape];
    case 'op':
      if (!n.op || typeof n.op !== 'object') throw new GraphError(`node "${n.id}": op node needs an "op" object`);
      return inferOpShape(n.id, n.op, shapeOf(n, n.input, shapes), n.input);
    case 'merge':
      return inferMergeShape(n.id, n.mode, n.inputs.map((id) => ({ id, shape: shapeOf(n, id, shapes) })));
    case 'output':
      return [...shapeOf(n, n.input, shapes)];
  }
}

function shapeOf(n: ArchNode, src: string, shapes: Map<string, Shape>): Shape {
  const s = shapes.get(src);
  if (!s) throw new GraphError(`node "${n.id}": input "${src}" is not defined before it; add "${src}" first`);
  return s;
}
