import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { currentBackend, initBackend } from '../../src/nn/backend.js';
import { PACK_KERNELS, isPackRegistered } from '../../src/nn/kernels/index.js';

describe('initBackend', () => {
  it("'auto' picks wasm here (tfjs-node is not installed), registers the pack, is idempotent", async () => {
    expect(currentBackend()).toBeNull();
    const name = await initBackend();
    expect(name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(currentBackend()).toBe('wasm');
    expect(isPackRegistered('wasm')).toBe(true);
    expect(await initBackend()).toBe('wasm');
    expect(await initBackend({ backend: 'wasm', threads: 4 })).toBe('wasm');
  });

  it('the pack is registered on wasm only', () => {
    for (const k of PACK_KERNELS) {
      expect(tf.getKernel(k, 'wasm')!.kernelFunc.toString(), k).toContain('withExec');
      // cpu keeps its stock kernels (its registry entries are the backend's own functions).
      const cpu = tf.getKernel(k, 'cpu');
      if (cpu) expect(cpu.kernelFunc.toString()).not.toContain('withExec');
    }
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')!.kernelFunc.toString()).toContain('withExec');
  });

  it('forcing a backend that cannot start throws a one-line error and keeps the current one', async () => {
    await expect(initBackend({ backend: 'tfjs-node' })).rejects.toThrow(
      /^tsnas: backend 'tfjs-node' cannot start: @tensorflow\/tfjs-node is not installed/,
    );
    try {
      await initBackend({ backend: 'tfjs-node' });
    } catch (err) {
      expect((err as Error).message).not.toContain('\n');
    }
    expect(currentBackend()).toBe('wasm');
  });

  it('can switch to cpu and back', async () => {
    expect(await initBackend({ backend: 'cpu' })).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(await initBackend({ backend: 'wasm' })).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });
});
