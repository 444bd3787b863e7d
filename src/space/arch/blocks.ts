/**
 * Incremental graph construction for decoders: adds nodes in order, infers each shape as it goes
 * (so decoders can read channel counts), and expands the common composite blocks into primitives.
 */
import {
  type Activation,
  type ArchGraph,
  type ArchNode,
  type CheckedGraph,
  type OpSpec,
  type Shape,
  GraphError,
  checkGraph,
  nodeInputs,
  nodeShape,
} from './graph.js';

export class GraphBuilder {
  readonly nodes: ArchNode[] = [];
  private readonly shapes = new Map<string, Shape>();

  private add(n: ArchNode): string {
    if (this.shapes.has(n.id)) throw new GraphError(`node "${n.id}": duplicate id; give every node a unique id`);
    this.shapes.set(n.id, nodeShape(n, this.shapes));
    this.nodes.push(n);
    return n.id;
  }

  shape(id: string): Shape {
    const s = this.shapes.get(id);
    if (!s) throw new GraphError(`node "${id}": not defined yet`);
    return s;
  }

  channels(id: string): number {
    const s = this.shape(id);
    return s[s.length - 1]!;
  }

  input(id: string, shape: Shape): string {
    return this.add({ id, kind: 'input', shape: [...shape] });
  }

  op(id: string, op: OpSpec, input: string): string {
    return this.add({ id, kind: 'op', op, input });
  }

  /** Merge; a single input is passed through unchanged (no node is added). */
  merge(id: string, mode: 'add' | 'concat', inputs: string[]): string {
    if (inputs.length === 1) return inputs[0]!;
    return this.add({ id, kind: 'merge', mode, inputs: [...inputs] });
  }

  output(input: string, id = 'output'): string {
    return this.add({ id, kind: 'output', input });
  }

  /** Applies ops in sequence, naming them `${prefix}/${suffix}`. */
  seq(prefix: string, input: string, ops: [string, OpSpec][]): string {
    let x = input;
    for (const [suffix, op] of ops) x = this.op(`${prefix}/${suffix}`, op, x);
    return x;
  }

  /** ReLU -> Conv (no bias) -> BN (NAS-Bench-201 / DARTS `ReLUConvBN`). */
  reluConvBn(prefix: string, input: string, filters: number, kernel: number, stride = 1): string {
    return this.seq(prefix, input, [
      ['relu', { type: 'act', fn: 'relu' }],
      ['conv', { type: 'conv', filters, kernel, stride, padding: 'same' }],
      ['bn', { type: 'bn' }],
    ]);
  }

  /** Conv (no bias) -> BN -> activation (optional). */
  convBnAct(prefix: string, input: string, filters: number, kernel: number, stride = 1, act: Activation | null = 'relu'): string {
    const ops: [string, OpSpec][] = [
      ['conv', { type: 'conv', filters, kernel, stride, padding: 'same' }],
      ['bn', { type: 'bn' }],
    ];
    if (act) ops.push([act, { type: 'act', fn: act }]);
    return this.seq(prefix, input, ops);
  }

  /**
   * DARTS factorized reduce: ReLU, two stride-2 1x1 convs (on x and on x shifted by one pixel) with
   * floor(C/2) and C - floor(C/2) outputs, concatenated, then BN. Halves H and W.
   */
  factorizedReduce(prefix: string, input: string, filters: number): string {
    const r = this.op(`${prefix}/relu`, { type: 'act', fn: 'relu' }, input);
    const half = Math.floor(filters / 2);
    const a = this.op(`${prefix}/conv_a`, { type: 'conv', filters: half, kernel: 1, stride: 2, padding: 'same' }, r);
    const sh = this.op(`${prefix}/shift`, { type: 'shift' }, r);
    const b = this.op(`${prefix}/conv_b`, { type: 'conv', filters: filters - half, kernel: 1, stride: 2, padding: 'same' }, sh);
    const cat = this.merge(`${prefix}/concat`, 'concat', [a, b]);
    return this.op(`${prefix}/bn`, { type: 'bn' }, cat);
  }

  /** Global average pooling (image) or nothing (flat), then a linear classifier, then the output node. */
  classifierHead(input: string, numClasses: number): string {
    let x = input;
    if (this.shape(x).length === 3) x = this.op('head/gap', { type: 'gap' }, x);
    x = this.op('head/classifier', { type: 'dense', units: numClasses, bias: true }, x);
    return this.output(x);
  }

  /**
   * The finished graph, validated by checkGraph (dangling nodes, output shape, ...). With `prune`,
   * nodes from which the output cannot be reached are dropped first (they cannot affect the output).
   */
  build(o: { prune?: boolean } = {}): ArchGraph {
    return this.buildChecked(o).graph;
  }

  /** build(), also returning the checkGraph result (saves re-checking in bulk cost counting). */
  buildChecked(o: { prune?: boolean } = {}): { graph: ArchGraph; checked: CheckedGraph } {
    const graph: ArchGraph = { nodes: o.prune ? pruneUnreachable(this.nodes) : [...this.nodes] };
    return { graph, checked: checkGraph(graph) };
  }
}

/** Keeps the input node and the nodes the output depends on, in their original order. */
export function pruneUnreachable(nodes: ArchNode[]): ArchNode[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const keep = new Set<string>();
  const stack = nodes.filter((n) => n.kind === 'output' || n.kind === 'input').map((n) => n.id);
  while (stack.length) {
    const id = stack.pop()!;
    if (keep.has(id)) continue;
    keep.add(id);
    const n = byId.get(id);
    if (n) stack.push(...nodeInputs(n));
  }
  return nodes.filter((n) => keep.has(n.id));
}

/** Scales a channel count by a width multiplier (at least 1). */
export function scaleWidth(channels: number, width = 1): number {
  if (!(width > 0)) throw new GraphError(`width multiplier must be > 0 (got ${width})`);
  return Math.max(1, Math.round(channels * width));
}
