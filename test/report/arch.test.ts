import { describe, expect, it } from 'vitest';
import { archLayout, compressChains } from '../../src/report/arch.js';
import { sampleSpace } from '../../src/space/params.js';
import { Rng } from '../../src/util/rng.js';

describe('architecture drawings of src/space/arch graphs', () => {
  it('compressChains draws a ReLU-Conv-BN run as one box and keeps branches and merges', () => {
    const g = compressChains([
      { id: 'in', kind: 'input', shape: [8, 8, 3] },
      { id: 'a/relu', kind: 'op', op: { type: 'act', fn: 'relu' }, input: 'in' },
      { id: 'a/conv', kind: 'op', op: { type: 'conv', kernel: 3, filters: 16 }, input: 'a/relu' },
      { id: 'a/bn', kind: 'op', op: { type: 'bn' }, input: 'a/conv' },
      { id: 'b/pool', kind: 'op', op: { type: 'pool', mode: 'avg', size: 3 }, input: 'in' },
      { id: 'add', kind: 'merge', mode: 'add', inputs: ['a/bn', 'b/pool'] },
      { id: 'gap', kind: 'op', op: { type: 'gap' }, input: 'add' },
      { id: 'out', kind: 'output', input: 'gap' },
    ]);
    expect(g.nodes.map((n) => n.label)).toEqual(['input [8,8,3]', 'relu \u00b7 conv 3x3 16 \u00b7 bn', 'avgpool 3', 'add', 'gap', 'output']);
    expect(g.edges.map((e) => `${e.source}>${e.target}`)).toEqual(['in>a/relu', 'in>b/pool', 'a/relu>add', 'b/pool>add', 'add>gap', 'gap>out']);
  });

  it('lays out a decoded dag-space configuration (loaded lazily by the space name)', async () => {
    const { ARCH_SPACES } = await import('../../src/space/arch/index.js');
    const params = sampleSpace(ARCH_SPACES.dag!.space, new Rng(3));
    const laid = (await archLayout('dag', params, { inputShape: [16, 16, 3], numClasses: 5 }))!;
    expect(laid.title).toBe('dag architecture');
    const ids = new Set(laid.nodes.map((n) => n.id));
    expect(laid.nodes.filter((n) => n.kind === 'input')).toHaveLength(1);
    expect(laid.nodes.filter((n) => n.kind === 'output')).toHaveLength(1);
    for (const e of laid.edges) {
      expect(ids.has(e.source) && ids.has(e.target)).toBe(true);
      expect(e.points.length).toBeGreaterThanOrEqual(2);
    }
    for (const n of laid.nodes) expect(n.x + n.width).toBeLessThanOrEqual(laid.width);
    expect(await archLayout('no-such-space', params)).toBeNull();
  });
});
