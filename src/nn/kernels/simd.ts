/**
 * tsnas's SIMD kernels (AssemblyScript sources in asm/, compiled by `npm run build:asm` to
 * asm/build/kernels.wasm). The module imports the tfjs wasm backend's own WebAssembly.Memory, so its
 * functions read and write tensors in place on the backend's heap, given their byte offsets: no
 * copies in or out, no engine dispatch. It owns no memory (no data segments, no allocator); every
 * buffer it touches is allocated by the backend (makeOutput) or passed in as a kernel input.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';

interface WasmBackendLike {
  wasm: { asm?: { memory?: WebAssembly.Memory }; HEAPF32: Float32Array };
  dataIdMap: { get(id: unknown): { memoryOffset: number } | undefined };
}

/** asm/build/kernels.wasm, at the same depth from src/nn/kernels and dist/nn/kernels. */
const SIMD_WASM_PATH = new URL('../../../asm/build/kernels.wasm', import.meta.url);
/** The same kernels built for a shared memory (asm/asconfig.json target "shared"). */
const SHARED_SIMD_WASM_PATH = new URL('../../../asm/build/kernels-shared.wasm', import.meta.url);

function compile(url: URL): WebAssembly.Module {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(fs.readFileSync(url));
  } catch {
    throw new Error(`tsnas kernels: ${url.pathname} is missing; build it with \`npm run build:asm\``);
  }
  return new WebAssembly.Module(bytes);
}

const loaded = new WeakMap<object, WebAssembly.Exports>();

/**
 * The module's exports instantiated on `backend`'s memory (once per backend instance), typed by the
 * caller's interface of the functions it uses (pointers are byte offsets into the backend's heap).
 * Throws with the fix when the compiled module is missing or the backend does not expose its memory.
 */
export function simdKernels<T>(backend: tf.KernelBackend): T {
  const hit = loaded.get(backend);
  if (hit) return hit as T;
  const memory = (backend as unknown as WasmBackendLike).wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new Error('tsnas kernels: the wasm backend does not export its memory (needs @tensorflow/tfjs-backend-wasm 4.x)');
  }
  const instance = new WebAssembly.Instance(compile(SIMD_WASM_PATH), { env: { memory } });
  loaded.set(backend, instance.exports);
  return instance.exports as T;
}

let sharedModule: WebAssembly.Module | null = null;
const sharedLoaded = new WeakMap<WebAssembly.Memory, WebAssembly.Exports>();

/**
 * The kernels instantiated on a shared WebAssembly.Memory of the caller's (the flat state of a
 * data-parallel run, src/nn/parallel), once per memory and thread; pointers are byte offsets into it.
 */
export function sharedSimdKernels<T>(memory: WebAssembly.Memory): T {
  const hit = sharedLoaded.get(memory);
  if (hit) return hit as T;
  sharedModule ??= compile(SHARED_SIMD_WASM_PATH);
  const instance = new WebAssembly.Instance(sharedModule, { env: { memory } });
  sharedLoaded.set(memory, instance.exports);
  return instance.exports as T;
}

/** Byte offset of a tensor's data on the wasm heap. */
export function heapOffset(backend: tf.KernelBackend, t: tf.TensorInfo): number {
  const d = (backend as unknown as WasmBackendLike).dataIdMap.get(t.dataId);
  if (!d) throw new Error('tsnas kernels: tensor is not on the wasm heap');
  return d.memoryOffset;
}
