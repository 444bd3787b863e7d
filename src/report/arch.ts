/**
 * Drawing of an architecture, laid out with elkjs in Node at report time. The page only draws the
 * computed boxes, edge polylines and labels (as SVG, text set via textContent).
 *
 * - NAS-Bench-201: the cell DAG, 4 nodes and one labelled edge per non-'none' op.
 * - Any space of src/space/arch (looked up by the experiment's spaceName): the decoded graph,
 *   one box per node. That module is loaded lazily, so a report works without it.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { ELK as ElkApi, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import { NB201_EDGES, NB201_OPS, nb201EdgeName } from '../space/nb201.js';
import type { Params } from '../space/params.js';

export interface LaidNode {
  id: string;
  label: string;
  kind: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LaidEdge {
  source: string;
  target: string;
  label: string;
  points: { x: number; y: number }[];
  labelPos: { x: number; y: number } | null;
}

export interface ArchLayout {
  title: string;
  width: number;
  height: number;
  nodes: LaidNode[];
  edges: LaidEdge[];
}

interface GraphIn {
  title: string;
  nodes: { id: string; label: string; kind: string }[];
  edges: { source: string; target: string; label: string }[];
}

// elkjs is CommonJS; its bundled build runs the layout synchronously in the calling thread.
const require = createRequire(import.meta.url);
const ELK_PATH = require.resolve('elkjs/lib/elk.bundled.js');
const ELK = require(ELK_PATH) as new () => ElkApi;
/** Graphs larger than this are laid out in a worker thread so a server stays responsive. */
const WORKER_ABOVE = 30;

const WORKER_SRC = `
const { parentPort, workerData } = require('node:worker_threads');
const ELK = require(workerData.elkPath);
new ELK().layout(workerData.graph).then((g) => parentPort.postMessage({ g }), (e) => parentPort.postMessage({ error: String(e && e.message || e) }));
`;

function runLayout(root: ElkNode): Promise<ElkNode> {
  if ((root.children?.length ?? 0) <= WORKER_ABOVE) return new ELK().layout(root);
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER_SRC, { eval: true, workerData: { elkPath: ELK_PATH, graph: root } });
    w.once('message', (m: { g?: ElkNode; error?: string }) => {
      void w.terminate();
      if (m.g) resolve(m.g);
      else reject(new Error(`elk layout failed: ${m.error}`));
    });
    w.once('error', reject);
  });
}

const CHAR_W = 7;
const MAX_NODES = 200;

export function isNb201Params(params: Params): boolean {
  return NB201_EDGES.every(([to, from]) => (NB201_OPS as readonly unknown[]).includes(params[nb201EdgeName(to, from)]));
}

/** The NB201 cell: nodes 0..3, one edge per op other than 'none'. */
export function nb201CellGraph(params: Params): GraphIn {
  const nodes = [0, 1, 2, 3].map((i) => ({ id: `n${i}`, label: i === 0 ? 'in (0)' : i === 3 ? 'out (3)' : `node ${i}`, kind: 'cell-node' }));
  const edges = NB201_EDGES.map(([to, from]) => ({ source: `n${from}`, target: `n${to}`, label: String(params[nb201EdgeName(to, from)]) })).filter(
    (e) => e.label !== 'none',
  );
  return { title: 'NAS-Bench-201 cell', nodes, edges };
}

interface IrNode {
  id: string;
  kind: string;
  op?: Record<string, unknown> & { type: string };
  mode?: string;
  input?: string;
  inputs?: string[];
  shape?: number[];
}

function opLabel(n: IrNode): string {
  if (n.kind === 'input') return `input [${(n.shape ?? []).join(',')}]`;
  if (n.kind === 'output') return 'output';
  if (n.kind === 'merge') return n.mode ?? 'merge';
  const op = n.op!;
  switch (op.type) {
    case 'conv':
    case 'sepconv':
      return `${op.type} ${op.kernel}x${op.kernel} ${op.filters}${(op.stride ?? 1) !== 1 ? ` /${op.stride}` : ''}`;
    case 'dense':
      return `dense ${op.units}`;
    case 'act':
      return String(op.fn);
    case 'pool':
      return `${op.mode}pool ${op.size}`;
    case 'dropout':
      return `dropout ${op.rate}`;
    default:
      return op.type;
  }
}

/** Decodes params with a space of src/space/arch, when the module and the space exist. */
export async function archIrGraph(spaceName: string, params: Params, meta: Record<string, unknown> = {}): Promise<GraphIn | null> {
  const spec = '../space/arch/index.js';
  let mod: { ARCH_SPACES?: Record<string, { decode(p: Params, o: { inputShape: number[]; numClasses: number }): { nodes: IrNode[] } }> };
  try {
    mod = await import(spec);
  } catch {
    return null;
  }
  const space = mod.ARCH_SPACES?.[spaceName];
  if (!space) return null;
  const inputShape = Array.isArray(meta.inputShape) ? (meta.inputShape as number[]) : spaceName.includes('flat') ? [16] : [32, 32, 3];
  const numClasses = typeof meta.numClasses === 'number' ? meta.numClasses : 10;
  const g = compressChains(space.decode(params, { inputShape, numClasses }).nodes);
  if (g.nodes.length > MAX_NODES) return null;
  return { title: `${spaceName} architecture`, ...g };
}

/**
 * One box per run of op nodes that feed only each other (e.g. ReLU-Conv-BN), labelled
 * `relu · conv 3x3 16 · bn`: the same graph with far fewer boxes, so layout stays fast.
 */
export function compressChains(nodes: IrNode[]): Pick<GraphIn, 'nodes' | 'edges'> {
  const inputsOf = (n: IrNode) => n.inputs ?? (n.input ? [n.input] : []);
  const users = new Map<string, number>();
  for (const n of nodes) for (const s of inputsOf(n)) users.set(s, (users.get(s) ?? 0) + 1);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const head = new Map<string, string>(); // node id -> id of the box it is drawn in
  const labels = new Map<string, string[]>();
  const boxOf = (id: string): string => head.get(id) ?? id;
  // Nodes arrive in topological order from the decoders; merge an op into its input's box when the
  // input is an op used by nothing else.
  for (const n of nodes) {
    const ins = inputsOf(n);
    const src = ins.length === 1 ? byId.get(ins[0]!) : undefined;
    if (n.kind === 'op' && src && src.kind === 'op' && users.get(src.id) === 1 && labels.has(boxOf(src.id))) {
      const box = boxOf(src.id);
      head.set(n.id, box);
      labels.get(box)!.push(opLabel(n));
    } else {
      labels.set(n.id, [opLabel(n)]);
    }
  }
  const out: GraphIn['nodes'] = [];
  for (const n of nodes) if (!head.has(n.id)) out.push({ id: n.id, label: labels.get(n.id)!.join(' \u00b7 '), kind: n.kind });
  const edges: GraphIn['edges'] = [];
  for (const n of nodes) {
    if (head.has(n.id)) continue;
    for (const s of inputsOf(n)) edges.push({ source: boxOf(s), target: n.id, label: '' });
  }
  return { nodes: out, edges };
}

/** Lays a graph out top-down with ELK's layered algorithm. */
export async function layoutGraph(g: GraphIn): Promise<ArchLayout> {
  const children: ElkNode[] = g.nodes.map((n) => ({ id: n.id, width: Math.max(60, n.label.length * CHAR_W + 16), height: 28 }));
  const edges: ElkExtendedEdge[] = g.edges.map((e, i) => ({
    id: `e${i}`,
    sources: [e.source],
    targets: [e.target],
    labels: e.label ? [{ text: e.label, width: e.label.length * CHAR_W + 6, height: 14 }] : [],
  }));
  const root: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.layered.spacing.nodeNodeBetweenLayers': '40',
      'elk.spacing.nodeNode': '30',
      'elk.spacing.edgeLabel': '4',
      'elk.padding': '[top=12,left=12,bottom=12,right=12]',
    },
    children,
    edges,
  };
  const out = await runLayout(root);
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const nodes: LaidNode[] = (out.children ?? []).map((c) => ({
    id: c.id,
    label: byId.get(c.id)!.label,
    kind: byId.get(c.id)!.kind,
    x: c.x ?? 0,
    y: c.y ?? 0,
    width: c.width ?? 0,
    height: c.height ?? 0,
  }));
  const laidEdges: LaidEdge[] = (out.edges ?? []).map((e, i) => {
    const sec = e.sections?.[0];
    const points = sec ? [sec.startPoint, ...(sec.bendPoints ?? []), sec.endPoint].map((p) => ({ x: p.x, y: p.y })) : [];
    const lab = e.labels?.[0];
    return {
      source: g.edges[i]!.source,
      target: g.edges[i]!.target,
      label: g.edges[i]!.label,
      points,
      labelPos: lab && lab.x !== undefined ? { x: lab.x + (lab.width ?? 0) / 2, y: (lab.y ?? 0) + (lab.height ?? 0) / 2 } : null,
    };
  });
  return { title: g.title, width: out.width ?? 0, height: out.height ?? 0, nodes, edges: laidEdges };
}

const cache = new Map<string, ArchLayout | null>();

/** The drawing of a configuration, or null when its space has no known graph. Cached per params. */
export async function archLayout(spaceName: string | undefined, params: Params, meta?: Record<string, unknown>): Promise<ArchLayout | null> {
  const key = `${spaceName}\u0000${JSON.stringify(params)}`;
  if (cache.has(key)) return cache.get(key)!;
  let g: GraphIn | null = null;
  try {
    if (isNb201Params(params)) g = nb201CellGraph(params);
    else if (spaceName) g = await archIrGraph(spaceName, params, meta);
  } catch {
    g = null;
  }
  const laid = g ? await layoutGraph(g) : null;
  if (cache.size > 200) cache.clear();
  cache.set(key, laid);
  return laid;
}
