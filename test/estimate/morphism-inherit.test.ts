/**
 * inheritWeights after a strategy's mutation (the generic one-parameter mutation of
 * src/strategy/mutation.ts on the chain and dag spaces): unchanged layers are copied bit-exactly,
 * a claimed function preservation holds numerically, width increases and identity-able new layers
 * are explained by morphisms; weights survive model and artifact round trips.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/nn/builder.js';
import { DirArtifactStore } from '../../src/store/artifacts.js';
import { chainSpace } from '../../src/space/arch/chain.js';
import { makeDagArchSpace } from '../../src/space/arch/dag.js';
import { type ArchGraph, type CheckedGraph, checkGraph } from '../../src/space/arch/graph.js';
import type { ArchSpace } from '../../src/space/arch/types.js';
import { type Params, sampleSpace } from '../../src/space/params.js';
import { mutate } from '../../src/strategy/mutation.js';
import { Rng } from '../../src/util/rng.js';
import type { SystemAttrs, TrialRecord } from '../../src/core/store.js';
import {
  activationStats,
  deepen,
  morphismInheritance,
  nearestParent,
  decodeWeights,
  encodeWeights,
  type GraphWeights,
  inheritWeights,
  loadTrialWeights,
  randomWeights,
  readWeights,
  saveTrialWeights,
  writeWeights,
} from '../../src/estimate/morphism/index.js';

const INPUT = [8, 8, 1];
const OPTS = { inputShape: INPUT, numClasses: 4, width: 0.25 };

function forward(g: ArchGraph, w: GraphWeights, x: tf.Tensor): Float32Array {
  const model = buildModel(g);
  try {
    writeWeights(model, g, w, tf);
    const y = model.predict(x) as tf.Tensor;
    const out = Float32Array.from(y.dataSync());
    y.dispose();
    return out;
  } finally {
    model.dispose();
  }
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const bitEqual = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/**
 * What a node's input is, up to the nearest weighted producers: the ids and ops of the weightless
 * nodes and merges in between, and the producers' ids and widths.
 */
function inputSignature(g: CheckedGraph, id: string): string {
  const n = g.nodes.find((x) => x.id === id)!;
  if (n.kind === 'input') return `input${JSON.stringify(n.shape)}`;
  if (n.kind === 'merge') return `${n.id}:${n.mode}[${n.inputs.map((i) => inputSignature(g, i)).join(',')}]`;
  if (n.kind === 'op' && ['conv', 'sepconv', 'dense'].includes(n.op.type)) return `${n.id}:${g.shapes.get(n.id)!.join('x')}`;
  if (n.kind === 'op') return `${n.id}:${JSON.stringify(n.op)}<-${inputSignature(g, n.input)}`;
  return n.id;
}

/** Weighted child nodes that exist unchanged in the parent: same id, same op, same input signature. */
function unchangedNodes(p: CheckedGraph, c: CheckedGraph): string[] {
  const pById = new Map(p.nodes.map((n) => [n.id, n]));
  return c.nodes
    .filter((n) => {
      if (n.kind !== 'op' || !['conv', 'sepconv', 'dense', 'bn'].includes(n.op.type)) return false;
      const q = pById.get(n.id);
      if (!q || q.kind !== 'op' || JSON.stringify(q.op) !== JSON.stringify(n.op)) return false;
      return inputSignature(c, n.input) === inputSignature(p, q.input);
    })
    .map((n) => n.id);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.each([
  { space: chainSpace as ArchSpace, mutations: 40 },
  { space: makeDagArchSpace('dag', 4, [4, 8]), mutations: 15 },
])('inheritWeights after mutations on the $space.name space', ({ space, mutations }) => {
  it('copies unchanged layers bit-exactly; claimed preservation holds; widening is explained', () => {
    const rng = new Rng(11);
    const x = tf.randomNormal([4, ...INPUT], 0, 1, 'float32', 3);
    let preserved = 0;
    let copied = 0;
    let morphed = 0;
    for (let i = 0; i < mutations; i++) {
      const parentParams = sampleSpace(space.space, rng);
      const pg = checkGraph(space.decode(parentParams, OPTS));
      const pw = randomWeights(pg, i);
      const childParams: Params = mutate(space.space, parentParams, rng);
      const cg = checkGraph(space.decode(childParams, OPTS));
      const r = inheritWeights(pg, pw, cg, { seed: i });
      const st = new Map(r.nodes.map((n) => [n.id, n]));
      for (const id of unchangedNodes(pg, cg)) {
        expect(st.get(id)!.status, id).toBe('copied');
        for (const [role, t] of Object.entries(pw.get(id)!)) expect(bitEqual(r.weights.get(id)![role]!.data, t.data), `${id}/${role}`).toBe(true);
        copied++;
      }
      morphed += r.nodes.filter((n) => n.status === 'morphed').length;
      // Every weighted node has weights unless it is fresh.
      for (const n of r.nodes) expect(r.weights.has(n.id), n.id).toBe(n.status !== 'fresh');
      if (r.functionPreserving) {
        preserved++;
        expect(maxDiff(forward(pg, pw, x), forward(cg, r.weights, x)), JSON.stringify(childParams)).toBeLessThan(1e-4);
      }
    }
    x.dispose();
    expect(copied).toBeGreaterThan(mutations);
    expect(preserved).toBeGreaterThan(0);
    if (space.name === 'chain') expect(morphed).toBeGreaterThan(0);
  });
});

describe('chain mutations the morphisms explain', () => {
  const base: Params = {
    depth: 2, head: 'flatten',
    layer_0_op: 'conv3x3', layer_0_width: 16, layer_0_act: 'relu', layer_0_bn: true, layer_0_dropout: 0,
    layer_1_op: 'dense', layer_1_width: 32, layer_1_act: 'relu', layer_1_bn: false, layer_1_dropout: 0.1,
  };
  const cases: [string, Params, boolean][] = [
    ['width up (conv, flatten follower)', { layer_0_width: 64 }, true],
    ['width up (dense)', { layer_1_width: 64 }, true],
    ['kernel 3x3 -> 5x5 (renamed node)', { layer_0_op: 'conv5x5' }, true],
    ['a layer added (dense, relu after relu)', { depth: 3, layer_2_op: 'dense', layer_2_width: 64, layer_2_act: 'relu', layer_2_bn: true, layer_2_dropout: 0 }, true],
    ['activation changed', { layer_1_act: 'tanh' }, false],
    ['width down', { layer_1_width: 16 }, false],
  ];
  it.each(cases)('%s', (_what, change, exact) => {
    const pg = checkGraph(chainSpace.decode(base, OPTS));
    const pw = randomWeights(pg, 5);
    const cg = checkGraph(chainSpace.decode({ ...base, ...change }, OPTS));
    const r = inheritWeights(pg, pw, cg, { seed: 1 });
    expect(r.functionPreserving).toBe(exact);
    const x = tf.randomNormal([4, ...INPUT], 0, 1, 'float32', 9);
    const d = maxDiff(forward(pg, pw, x), forward(cg, r.weights, x));
    x.dispose();
    if (exact) expect(d).toBeLessThan(1e-4);
    else expect(d).toBeGreaterThan(1e-3);
    // The classifier is always inherited from the parent, never fresh.
    expect(['copied', 'morphed']).toContain(r.nodes.find((n) => n.id === 'head/classifier')!.status);
  });
});

describe('weights round trips', () => {
  it('model -> GraphWeights -> model and bytes -> GraphWeights are exact; artifacts by trial', async () => {
    const g = checkGraph(makeDagArchSpace('dag', 4, [4]).decode(sampleSpace(makeDagArchSpace('dag', 4, [4]).space, new Rng(4)), OPTS));
    const w = randomWeights(g, 2);
    const m = buildModel(g);
    writeWeights(m, g, w, tf);
    const back = readWeights(m, g);
    m.dispose();
    const bytes = encodeWeights(back);
    const dec = decodeWeights(bytes);
    expect([...dec.keys()]).toEqual([...w.keys()]);
    for (const [id, nw] of w) for (const [r, t] of Object.entries(nw)) {
      expect(dec.get(id)![r]!.shape).toEqual(t.shape);
      expect(bitEqual(dec.get(id)![r]!.data, t.data), `${id}/${r}`).toBe(true);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-morph-'));
    try {
      const store = new DirArtifactStore(dir);
      expect(await loadTrialWeights(store, 3)).toBeNull();
      await saveTrialWeights(store, 3, g, w);
      expect(fs.existsSync(path.join(dir, 'trial-3', 'weights.bin'))).toBe(true);
      const got = (await loadTrialWeights(store, 3))!;
      expect(got.graph.nodes).toEqual(g.nodes);
      expect(bitEqual(got.weights.get('stem/conv')!.kernel!.data, w.get('stem/conv')!.kernel!.data)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('layer names', () => {
  it('match the builder when ids collide after sanitising, identity nodes and repeated merge inputs', () => {
    const g: ArchGraph = {
      nodes: [
        { id: 'in', kind: 'input', shape: [4, 4, 2] },
        { id: 'a/b', kind: 'op', op: { type: 'conv', filters: 3, kernel: 3 }, input: 'in' },
        { id: 'skip', kind: 'op', op: { type: 'identity' }, input: 'a/b' },
        { id: 'a_b', kind: 'op', op: { type: 'conv', filters: 3, kernel: 1 }, input: 'skip' },
        { id: 'm', kind: 'merge', mode: 'add', inputs: ['a_b', 'a_b', 'a/b'] },
        { id: 'n', kind: 'op', op: { type: 'bn' }, input: 'm' },
        { id: 'g', kind: 'op', op: { type: 'gap' }, input: 'n' },
        { id: 'a-b', kind: 'op', op: { type: 'dense', units: 2 }, input: 'g' },
        { id: 'out', kind: 'output', input: 'a-b' },
      ],
    };
    const w = randomWeights(g, 8);
    const m = buildModel(g);
    writeWeights(m, g, w, tf);
    const back = readWeights(m, g);
    m.dispose();
    for (const [id, nw] of w) for (const [r, t] of Object.entries(nw)) expect(bitEqual(back.get(id)![r]!.data, t.data), `${id}/${r}`).toBe(true);
  });
});

describe('the evaluator hook and batch-norm statistics', () => {
  const base: Params = {
    depth: 1, head: 'gap', layer_0_op: 'conv3x3', layer_0_width: 16, layer_0_act: 'relu', layer_0_bn: true, layer_0_dropout: 0,
  };

  it('save stores a trained model by trial number; init inherits from the parent and records it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-morph-hook-'));
    try {
      const hook = morphismInheritance({ store: new DirArtifactStore(dir), parentOf: () => 0, tf });
      const pg = chainSpace.decode(base, OPTS);
      const pw = randomWeights(pg, 1);
      const pm = buildModel(pg);
      writeWeights(pm, pg, pw, tf);
      expect(await hook.init({ trialNumber: 0, params: base, graph: pg, model: pm })).toBeNull(); // own number: fresh
      const saved: Record<string, unknown> = {};
      await hook.save({ trialNumber: 0, params: base, graph: pg, model: pm, setAttr: (k, v) => (saved[k] = v) });
      expect(saved).toEqual({ weights: 'trial-0' });
      const childParams = { ...base, layer_0_width: 32 };
      const cg = chainSpace.decode(childParams, OPTS);
      const cm = buildModel(cg);
      const system: SystemAttrs = {};
      const s = (await hook.init({ trialNumber: 1, params: childParams, graph: cg, model: cm, setSystem: (p) => Object.assign(system, p) }))!;
      expect(s.parent).toBe(0);
      expect(s.functionPreserving).toBe(true);
      expect(s.counts).toEqual({ morphed: 3 });
      expect(system.inherit).toEqual(s);
      const x = tf.randomNormal([2, ...INPUT], 0, 1, 'float32', 1);
      const [a, b] = [pm.predict(x) as tf.Tensor, cm.predict(x) as tf.Tensor];
      expect(maxDiff(a.dataSync() as Float32Array, b.dataSync() as Float32Array)).toBeLessThan(1e-4);
      tf.dispose([x, a, b]);
      pm.dispose();
      cm.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('nearestParent picks the finished earlier trial with the fewest differing parameters', () => {
    const t = (number: number, params: Params, state = 'COMPLETE') => ({ number, params, state }) as unknown as TrialRecord;
    const hist = [t(0, { a: 1, b: 1, c: 1 }), t(1, { a: 1, b: 2, c: 1 }), t(2, { a: 1, b: 2, c: 3 }, 'RUNNING'), t(3, { a: 2, b: 2, c: 1 })];
    expect(nearestParent(hist, { a: 1, b: 2, c: 3 }, 4)).toBe(1);
    expect(nearestParent(hist, { a: 2, b: 2, c: 1 }, 3)).toBe(1);
    expect(nearestParent(hist, { a: 1 }, 0)).toBeNull();
    expect(nearestParent(hist, { a: 1, b: 2, c: 3 }, 4, (r) => r.number !== 1)).toBe(3);
  });

  it('a new batch norm takes the measured statistics and stays the identity', () => {
    const pg = checkGraph(chainSpace.decode(base, OPTS));
    const pw = randomWeights(pg, 3);
    const pm = buildModel(pg);
    writeWeights(pm, pg, pw, tf);
    const x = tf.randomNormal([16, ...INPUT], 0, 1, 'float32', 2);
    const stats = activationStats(tf, pm, pg, ['layer0/bn'], x);
    const bnOut = tf.tidy(() => tf.model({ inputs: pm.inputs, outputs: pm.getLayer('n_layer0_bn').output as tf.SymbolicTensor }).predict(x) as tf.Tensor);
    const mean = tf.tidy(() => tf.mean(bnOut, [0, 1, 2]).dataSync() as Float32Array);
    expect(maxDiff(stats.get('layer0/bn')!.mean, mean)).toBeLessThan(1e-5);
    const r = deepen(pg, pw, 'layer0/bn', { bn: true, stats });
    const bn = r.weights.get('layer0/bn/deep1/bn')!;
    expect(maxDiff(bn.mean!.data, stats.get('layer0/bn')!.mean)).toBe(0);
    expect(maxDiff(bn.beta!.data, stats.get('layer0/bn')!.mean)).toBe(0);
    expect(r.inherit.functionPreserving).toBe(true);
    expect(maxDiff(forward(pg, pw, x), forward(r.graph, r.weights, x))).toBeLessThan(1e-4);
    tf.dispose([x, bnOut]);
    pm.dispose();
  });
});
