/**
 * Backend selection for training. `initBackend()` picks, in order: `tfjs-node` (native TensorFlow,
 * only when the user has installed the optional `@tensorflow/tfjs-node`), then `wasm` (with the
 * tsnas training-kernel pack, src/nn/kernels), then the pure-JS `cpu` backend.
 *
 * Threads: multi-threaded wasm does not work in Node 20. tfjs detects no thread support there, and
 * forcing it (WASM_HAS_MULTITHREAD_SUPPORT=true + setThreadsCount(2)) fails at start-up with
 * ERR_WORKER_PATH, because emscripten starts its pthread workers from a `blob:` URL that Node's
 * worker_threads refuses (verified with tfjs-backend-wasm 4.22 on Node 20). So `threads` is
 * accepted but ignored: one training process uses one core, and parallelism comes from running
 * trials in parallel processes.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import { registerGradientFixes, registerTrainingKernels } from './kernels/index.js';

export type BackendChoice = 'tfjs-node' | 'wasm' | 'cpu';

export interface InitBackendOptions {
  backend?: 'auto' | BackendChoice;
  /** Ignored: multi-threaded wasm cannot start in Node 20 (see the module comment). */
  threads?: number;
}

let current: BackendChoice | null = null;
let tfjsNodeLoaded: boolean | null = null;
let wasmPathsSet = false;

/** The backend chosen by the last successful initBackend(), or null before. */
export function currentBackend(): BackendChoice | null {
  if (current === null) return null;
  // Someone may have switched tfjs' backend behind our back.
  const name = tf.getBackend();
  if (current === 'tfjs-node' ? name !== 'tensorflow' : name !== current) return null;
  return current;
}

async function loadTfjsNode(): Promise<boolean> {
  if (tfjsNodeLoaded !== null) return tfjsNodeLoaded;
  try {
    const name = '@tensorflow/tfjs-node'; // optional; not a dependency of tsnas
    await import(name);
    tfjsNodeLoaded = tf.findBackendFactory('tensorflow') !== null;
  } catch {
    tfjsNodeLoaded = false;
  }
  return tfjsNodeLoaded;
}

/** Points the wasm backend at the binaries in node_modules (no network, no bundler guesswork). */
function setLocalWasmPaths(): void {
  if (wasmPathsSet) return;
  wasmPathsSet = true;
  try {
    const require = createRequire(import.meta.url);
    const dir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    tfwasm.setWasmPaths(dir + path.sep);
  } catch {
    // Already initialised by someone else (setWasmPaths throws then): its paths worked.
  }
}

async function trySet(choice: BackendChoice): Promise<string | null> {
  if (choice === 'tfjs-node') {
    if (!(await loadTfjsNode())) return '@tensorflow/tfjs-node is not installed (it is optional)';
    return (await tf.setBackend('tensorflow')) ? null : 'the tensorflow backend failed to start';
  }
  if (choice === 'wasm') setLocalWasmPaths();
  let ok = false;
  let why = '';
  const warn = console.warn;
  try {
    console.warn = () => {}; // tfjs logs a stack trace when a backend fails; we report it instead
    ok = await tf.setBackend(choice);
  } catch (err) {
    why = (err as Error).message;
  } finally {
    console.warn = warn;
  }
  if (!ok) return `the ${choice} backend failed to start${why ? `: ${why}` : ''}`;
  await tf.ready();
  return null;
}

/**
 * Selects and initialises the tfjs backend used for training and returns its name
 * ('tfjs-node' | 'wasm' | 'cpu'). 'auto' (default) takes the first that starts of tfjs-node, wasm,
 * cpu; naming one forces it and throws a one-line error if it cannot start. Idempotent: calling it
 * again with 'auto' or the same backend returns at once. On wasm it registers the tsnas
 * training-kernel pack; on the others only the backend-independent AvgPool gradient fix.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<string> {
  const want = opts.backend ?? 'auto';
  const now = currentBackend();
  if (now !== null && (want === 'auto' || want === now)) return now;

  const order: BackendChoice[] = want === 'auto' ? ['tfjs-node', 'wasm', 'cpu'] : [want];
  const failures: string[] = [];
  for (const choice of order) {
    const why = await trySet(choice);
    if (why !== null) {
      failures.push(why);
      continue;
    }
    if (choice === 'wasm') registerTrainingKernels('wasm');
    else registerGradientFixes();
    current = choice;
    return choice;
  }
  if (want === 'auto') throw new Error(`tsnas: no tfjs backend could start (${failures.join('; ')})`);
  throw new Error(`tsnas: backend '${want}' cannot start: ${failures[0]}`);
}
