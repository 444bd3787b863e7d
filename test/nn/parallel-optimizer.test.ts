/**
 * The flat optimizer update of data-parallel training (src/nn/parallel/flat-optimizer.ts) against
 * tfjs's own optimizers: same weights after several steps (1e-5 relative), same state after a
 * round trip through toTf/fromTf, and a split by element range equals the whole update. The flat
 * state is the shared WebAssembly.Memory of a run, updated by the SIMD kernels.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { makeOptimizer, type OptimizerName } from '../../src/estimate/train-util.js';
import { initBackend } from '../../src/nn/backend.js';
import { allocFlatState, flatHyper, flatUpdate, fromTf, toTf } from '../../src/nn/parallel/flat-optimizer.js';
import { Rng } from '../../src/util/rng.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let scale = 0;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]!));
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
  }
  return d / scale;
};

describe('flat optimizer', () => {
  for (const name of ['sgd', 'momentum', 'adam', 'rmsprop'] as OptimizerName[]) {
    it(`${name}: 5 steps split over 2 ranges and 2 shards equal tfjs's optimizer on the mean gradient`, async () => {
      const rng = new Rng(3);
      const shapes = [[7, 5], [5]];
      const size = 40;
      const init = Float32Array.from({ length: size }, () => rng.normal());
      const vars = [tf.variable(tf.tensor(init.slice(0, 35), shapes[0])), tf.variable(tf.tensor(init.slice(35), shapes[1]))];
      const ref = makeOptimizer(name, 0.01);
      const flatOpt = makeOptimizer(name, 0.01);
      const h = flatHyper(flatOpt);
      // The shared-memory flat state of a 2-thread run; ranges split at 17 (unaligned, SIMD tails).
      const flat = allocFlatState(size, 2, h.kind);
      const { weights: w, slots, grads: [g0, g1] } = flat;
      w.set(init);
      for (let t = 1; t <= 5; t++) {
        g0!.set(Float32Array.from({ length: size }, () => rng.normal()));
        g1!.set(Float32Array.from({ length: size }, () => rng.normal()));
        const mean = g0!.map((v, i) => 0.25 * v + 0.75 * g1![i]!);
        tf.tidy(() =>
          ref.applyGradients([
            { name: vars[0]!.name, tensor: tf.tensor(mean.slice(0, 35), shapes[0]) },
            { name: vars[1]!.name, tensor: tf.tensor(mean.slice(35), shapes[1]) },
          ]),
        );
        flatUpdate(h, flat, [0.25, 0.75], 0, 17, 0.01, t);
        flatUpdate(h, flat, [0.25, 0.75], 17, size, 0.01, t);
      }
      const got = new Float32Array([...vars[0]!.dataSync(), ...vars[1]!.dataSync()]);
      expect(relDiff(got, w)).toBeLessThan(1e-5);
      expect(relDiff(got, init)).toBeGreaterThan(1e-3); // the weights moved
      // State round trip: flat -> tfjs optimizer -> flat, and equal to the reference optimizer's state.
      await toTf(flatOpt, h, vars, slots, 5);
      const back = slots.map(() => new Float32Array(size));
      const state = await flatOpt.getWeights();
      expect(fromTf(state, back)).toBe(5);
      back.forEach((b, s) => expect(Array.from(b)).toEqual(Array.from(slots[s]!)));
      const refState = await ref.getWeights();
      const refFlat = slots.map(() => new Float32Array(size));
      expect(fromTf(refState, refFlat)).toBe(5);
      refFlat.forEach((r, s) => expect(relDiff(r, slots[s]!)).toBeLessThan(1e-5));
      tf.dispose([...vars]);
      ref.dispose();
      flatOpt.dispose();
    });
  }

  it('centered rmsprop is refused with a way out', () => {
    expect(() => flatHyper(tf.train.rmsprop(0.01, 0.9, 0, 1e-7, true))).toThrow(/centered rmsprop is not supported \(use threads: 1\)/);
  });
});
