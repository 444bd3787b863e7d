/**
 * Calls a backend's own (stock) kernel functions directly, without going through the engine, and
 * tracks the intermediate results so that they can be freed. The training kernels of this pack are
 * compositions of the backend's fast forward kernels (XNNPACK convolutions and matmuls, slices,
 * pads, transposes); calling them directly avoids engine overhead and, more importantly, avoids
 * re-entering our own overrides (the stock functions are captured before the pack is registered).
 */
import * as tf from '@tensorflow/tfjs';
import { fastTranspose } from './transpose.js';

export type TI = tf.TensorInfo;
type Attrs = Record<string, unknown>;

/** Stock kernel functions of one backend, captured before any override. */
export class StockKernels {
  private readonly fns = new Map<string, tf.KernelFunc>();

  constructor(readonly backendName: string) {}

  /** Remembers the currently registered kernel `name` as the stock one (first capture wins). */
  capture(name: string): void {
    if (this.fns.has(name)) return;
    const k = tf.getKernel(name, this.backendName);
    if (k) this.fns.set(name, k.kernelFunc);
  }

  has(name: string): boolean {
    return this.fns.has(name) || tf.getKernel(name, this.backendName) !== undefined;
  }

  get(name: string): tf.KernelFunc {
    const f = this.fns.get(name) ?? tf.getKernel(name, this.backendName)?.kernelFunc;
    if (!f) throw new Error(`tsnas kernels: backend '${this.backendName}' has no kernel '${name}'`);
    return f;
  }
}

/** One kernel invocation's scratch space: every result is freed by dispose() unless kept. */
export class Exec {
  private readonly temps: TI[] = [];

  constructor(
    readonly backend: tf.KernelBackend,
    private readonly stock: StockKernels,
  ) {}

  run(name: string, inputs: Record<string, TI>, attrs: Attrs = {}): TI {
    const out = this.stock.get(name)({
      inputs: inputs as tf.NamedTensorInfoMap,
      backend: this.backend,
      attrs: attrs as tf.NamedAttrMap,
    }) as TI | TI[];
    if (Array.isArray(out)) throw new Error(`tsnas kernels: '${name}' returned several tensors`);
    this.temps.push(out);
    return out;
  }

  reshape(x: TI, shape: number[]): TI {
    return this.run('Reshape', { x }, { shape });
  }

  /** Transpose; those that move the innermost axis by a blocked copy over the heap (transpose.ts). */
  transpose(x: TI, perm: number[]): TI {
    return fastTranspose(this, x, perm) ?? this.run('Transpose', { x }, { perm });
  }

  /**
   * Slice. On wasm, copies runs straight between heap views: the stock wasm Slice first copies the
   * whole input out of the heap (readSync) on every call, which dominated e.g. the max-pool
   * gradient's tap extraction. Trailing full axes are merged into one run per copy.
   */
  slice(x: TI, begin: number[], size: number[]): TI {
    const heap = this.backend as unknown as {
      makeOutput?(shape: number[], dtype: string): TI;
      typedArrayFromHeap?(t: TI): Float32Array | Int32Array | Uint8Array;
    };
    const rank = x.shape.length;
    if (!heap.makeOutput || !heap.typedArrayFromHeap || x.dtype === 'string' || x.dtype === 'complex64') {
      return this.run('Slice', { x }, { begin, size });
    }
    // k = last axis that is not taken whole; runs cover axes k..rank-1.
    let k = rank - 1;
    while (k > 0 && begin[k] === 0 && size[k] === x.shape[k]) k--;
    const strides: number[] = new Array(rank).fill(1);
    for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1]! * x.shape[i + 1]!;
    const run = size[k]! * strides[k]!;
    const out = heap.makeOutput(size, x.dtype);
    this.temps.push(out);
    if (size.some((d) => d === 0)) return out;
    const src = heap.typedArrayFromHeap(x); // after makeOutput: a heap growth detaches old views
    const dst = heap.typedArrayFromHeap(out);
    const idx: number[] = new Array(k).fill(0);
    let o = 0;
    for (;;) {
      let off = begin[k]! * strides[k]!;
      for (let i = 0; i < k; i++) off += (begin[i]! + idx[i]!) * strides[i]!;
      dst.set(src.subarray(off, off + run), o);
      o += run;
      let i = k - 1;
      while (i >= 0) {
        if (++idx[i]! < size[i]!) break;
        idx[i] = 0;
        i--;
      }
      if (i < 0) break;
    }
    return out;
  }

  pad(x: TI, paddings: [number, number][], constantValue = 0): TI {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue });
  }

  concat(xs: TI[], axis: number): TI {
    if (xs.length === 1) return xs[0]!;
    // Concat takes its inputs as an array.
    return this.run('Concat', xs as unknown as Record<string, TI>, { axis });
  }

  /** A new float32 scratch tensor on the wasm heap (uninitialised; write it through view()). */
  alloc(shape: number[]): TI {
    const heap = this.backend as unknown as { makeOutput(shape: number[], dtype: string): TI };
    return this.adopt(heap.makeOutput(shape, 'float32'));
  }

  /** The wasm heap's float32 view of `t`; re-take it after any allocation (a heap growth detaches it). */
  view(t: TI): Float32Array {
    return (this.backend as unknown as { typedArrayFromHeap(t: TI): Float32Array }).typedArrayFromHeap(t);
  }

  /** Frees a scratch tensor now instead of at dispose() (bounds the memory of chunked loops). */
  free(t: TI): void {
    const i = this.temps.lastIndexOf(t);
    if (i < 0) return;
    this.temps.splice(i, 1);
    this.backend.disposeData(t.dataId);
  }

  /** Registers a tensor made outside run() (e.g. with backend.makeOutput) as scratch. */
  adopt(t: TI): TI {
    this.temps.push(t);
    return t;
  }

  /** Creates a float32 tensor from values (small constants). */
  constant(values: Float32Array, shape: number[]): TI {
    const dataId = this.backend.write(values, shape, 'float32');
    const out: TI = { dataId, shape, dtype: 'float32' };
    this.temps.push(out);
    return out;
  }

  /**
   * Removes `t` from the scratch list so that it survives dispose() (the kernel's result). Returns a
   * plain TensorInfo: kernel inputs are Tensor objects, and the engine passes a returned Tensor
   * object through untracked (so returning an input as-is would alias and later dispose it).
   */
  keep(t: TI): TI {
    const i = this.temps.lastIndexOf(t);
    if (i >= 0) this.temps.splice(i, 1);
    else {
      // Not produced here (e.g. an input passed through): take a new reference to its data.
      (this.backend as unknown as { incRef(d: unknown): void }).incRef(t.dataId);
    }
    return { dataId: t.dataId, shape: t.shape.slice(), dtype: t.dtype };
  }

  dispose(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }
}

/** Runs `f` with a fresh Exec and frees every intermediate except the returned tensor. */
export function withExec(
  backend: tf.KernelBackend,
  stock: StockKernels,
  f: (e: Exec) => TI,
): TI {
  const e = new Exec(backend, stock);
  try {
    return e.keep(f(e));
  } finally {
    e.dispose();
  }
}
