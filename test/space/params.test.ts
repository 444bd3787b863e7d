import { describe, expect, it } from 'vitest';
import {
  activeNames,
  fromUnit,
  paramsKey,
  sampleSpace,
  SpaceError,
  toUnit,
  validateParams,
  validateSpace,
  type SearchSpace,
} from '../../src/space/params.js';
import { gridIterator, gridSize } from '../../src/space/grid.js';
import { Rng } from '../../src/util/rng.js';

const space: SearchSpace = validateSpace({
  params: {
    optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
    momentum: { type: 'float', low: 0, high: 0.99, when: { optimizer: ['sgd'] } },
    lr: { type: 'float', low: 1e-4, high: 1e-1, log: true },
    layers: { type: 'int', low: 1, high: 8 },
    units: { type: 'int', low: 16, high: 512, log: true },
  },
});

describe('search space validation', () => {
  it.each([
    [{ params: { lr: { type: 'float', low: 0, high: 1, log: true } } }, 'space.params.lr.low: must be > 0 when log is true'],
    [{ params: { a: { type: 'int', low: 5, high: 1 } } }, 'space.params.a: low (5) must be <= high (1)'],
    [{ params: { a: { type: 'categorical', choices: [] } } }, 'space.params.a.choices'],
    [{ params: { a: { type: 'categorical', choices: [1, 1] } } }, 'space.params.a.choices: values must be distinct'],
    [{ params: { a: { type: 'bogus' } } }, 'space.params.a.type'],
    [{ params: { a: { type: 'int', low: 0, high: 3, color: 1 } } }, 'space.params.a'],
    [{ params: { b: { type: 'int', low: 0, high: 3, when: { a: [1] } } } }, 'space.params.b.when.a: no parameter "a" is declared before "b"'],
    [
      { params: { a: { type: 'categorical', choices: ['x'] }, b: { type: 'int', low: 0, high: 3, when: { a: ['y'] } } } },
      'space.params.b.when.a: "y" is not a possible value of "a"',
    ],
    [{ params: {} }, 'space.params: must declare at least one parameter'],
    [{ parameters: {} }, 'space'],
  ])('rejects %j', (raw, message) => {
    expect(() => validateSpace(raw)).toThrow(SpaceError);
    expect(() => validateSpace(raw)).toThrow(message);
  });

  it('keeps a valid space as declared', () => {
    expect(Object.keys(space.params)).toEqual(['optimizer', 'momentum', 'lr', 'layers', 'units']);
  });
});

describe('conditional parameters', () => {
  it('activates children only under their parent values', () => {
    expect(activeNames(space, { optimizer: 'adam' })).toEqual(['optimizer', 'lr', 'layers', 'units']);
    expect(activeNames(space, { optimizer: 'sgd' })).toEqual(['optimizer', 'momentum', 'lr', 'layers', 'units']);
  });

  it('samples complete, valid configurations with conditionals respected', () => {
    const rng = new Rng(7);
    let sgd = 0;
    for (let i = 0; i < 500; i++) {
      const p = sampleSpace(space, rng);
      validateParams(space, p);
      expect('momentum' in p).toBe(p.optimizer === 'sgd');
      if (p.optimizer === 'sgd') sgd++;
    }
    expect(sgd).toBeGreaterThan(200);
    expect(sgd).toBeLessThan(300);
  });

  it('rejects inactive, missing, unknown and out-of-range values', () => {
    const ok = { optimizer: 'adam', lr: 0.01, layers: 3, units: 64 };
    expect(() => validateParams(space, { ...ok, momentum: 0.9 })).toThrow('params.momentum: not active');
    expect(() => validateParams(space, { optimizer: 'sgd', lr: 0.01, layers: 3, units: 64 })).toThrow('params.momentum: missing');
    expect(() => validateParams(space, { ...ok, depth: 2 })).toThrow('params.depth: not a parameter of the space');
    expect(() => validateParams(space, { ...ok, layers: 3.5 })).toThrow('params.layers: 3.5 is outside its range');
    expect(() => validateParams(space, { ...ok, lr: 1 })).toThrow('params.lr');
  });
});

describe('sampling and grids', () => {
  it('samples log-scaled parameters uniformly in log space', () => {
    const rng = new Rng(1);
    const lrs = Array.from({ length: 4000 }, () => sampleSpace(space, rng).lr as number);
    const below = lrs.filter((v) => v < 1e-2).length / lrs.length; // 2 of 3 decades
    expect(below).toBeGreaterThan(0.62);
    expect(below).toBeLessThan(0.71);
  });

  it('is reproducible from the seed', () => {
    const a = Array.from({ length: 5 }, ((r) => () => sampleSpace(space, r))(new Rng(3)));
    const b = Array.from({ length: 5 }, ((r) => () => sampleSpace(space, r))(new Rng(3)));
    expect(a).toEqual(b);
  });

  it('maps numbers to the unit interval and back', () => {
    const lr = space.params.lr as { type: 'float'; low: number; high: number; log: boolean };
    expect(toUnit(lr, 1e-4)).toBeCloseTo(0);
    expect(toUnit(lr, 1e-2)).toBeCloseTo(2 / 3);
    expect(fromUnit(lr, 1 / 3)).toBeCloseTo(1e-3);
    expect(fromUnit({ type: 'int', low: 1, high: 8 }, 0.5)).toBe(5);
    expect(fromUnit({ type: 'float', low: 0, high: 1, step: 0.25 }, 0.6)).toBe(0.5);
  });

  it('enumerates a conditional grid exactly once per point', () => {
    const s = validateSpace({
      params: {
        k: { type: 'categorical', choices: ['a', 'b'] },
        n: { type: 'int', low: 1, high: 3, when: { k: ['b'] } },
        x: { type: 'float', low: 0, high: 1 },
      },
    });
    const pts = [...gridIterator(s, 3)];
    expect(pts.length).toBe(3 + 9);
    expect(gridSize(s, 3)).toBe(12);
    expect(new Set(pts.map(paramsKey)).size).toBe(12);
    for (const p of pts) validateParams(s, p);
  });

  it('gives the same key whatever the key order', () => {
    expect(paramsKey({ a: 1, b: 'x' })).toBe(paramsKey({ b: 'x', a: 1 }));
    expect(paramsKey({ a: 1 })).not.toBe(paramsKey({ a: 2 }));
  });
});
