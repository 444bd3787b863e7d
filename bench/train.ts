/**
 * Training throughput benchmark (npm run bench:train).
 *
 * Samples/s of full training steps (forward, backward, Adam update; batch 128, synthetic data,
 * softmax cross-entropy), median over steady steps after warm-up, for:
 *   mlp   784-256-256-10 (relu)
 *   cnn28 conv3x3(32,same)-relu-maxpool2-conv3x3(64,same)-relu-maxpool2-dense128-relu-dense10 on 28x28x1
 *   cnn32 the same CNN on 32x32x3
 * Columns: tsnas (the model as tsnas builds it from its graph IR, wasm + training-kernel pack via
 * initBackend, tsnas's fused Adam and loss) on one thread, tsnas data-parallel
 * on --threads threads (src/nn/parallel, bench/train/parallel.ts; default 2), plain tfjs wasm (stock
 * kernels and tf.sequential layers with relu activations, tf.train.adam, tf.losses, run in a child
 * process so that the pack is not registered there), PyTorch CPU with 2
 * threads (bench/train/torch_bench.py, when `import torch` works). The last line is one JSON object
 * whose `tsnas` is the faster tsnas path (`tsnasPath` says which).
 *
 * Options: --seconds=S (time per model and column, default 5), --rounds=R (default 2: the tsnas and
 * PyTorch columns are measured R times, interleaved, and each keeps its best round: on a shared
 * machine a single run of either side can lose a third to other load), --profile (print the kernels that
 * dominate one tsnas training step; --top=N lines, default 18), --only=mlp,cnn28 (subset).
 * Internal: --worker=stock|tsnas runs one column and prints its JSON.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { makeOptimizer } from '../src/estimate/train-util.js';
import { initBackend } from '../src/nn/backend.js';
import { softmaxCrossEntropy } from '../src/nn/losses.js';
import { Rng } from '../src/util/rng.js';
import { benchGraph, measureSideBySide } from './train/parallel.js';
import { buildModel as buildGraphModel } from '../src/nn/builder.js';

const BATCH = 128;
const MODELS = ['mlp', 'cnn28', 'cnn32'] as const;
type ModelName = (typeof MODELS)[number];
type Column = Record<ModelName, number | null | string>;

const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k!, v ?? 'true'] as [string, string];
  }),
);
const SECONDS = Number(args.get('seconds') ?? 5);
const ONLY = (args.get('only')?.split(',') ?? [...MODELS]) as ModelName[];
const THREADS = Number(args.get('threads') ?? 2);
const ROUNDS = Math.max(1, Number(args.get('rounds') ?? 2));

function buildModel(name: ModelName): { model: tf.LayersModel; inShape: number[] } {
  const m = tf.sequential();
  if (name === 'mlp') {
    m.add(tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }));
    m.add(tf.layers.dense({ units: 256, activation: 'relu' }));
    m.add(tf.layers.dense({ units: 10 }));
    return { model: m, inShape: [784] };
  }
  const inShape = name === 'cnn28' ? [28, 28, 1] : [32, 32, 3];
  m.add(tf.layers.conv2d({ inputShape: inShape, filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 128, activation: 'relu' }));
  m.add(tf.layers.dense({ units: 10 }));
  return { model: m, inShape };
}

/**
 * Training FLOPs per sample: forward, input gradient and weight gradient of every layer (2 FLOPs
 * per multiply-add) except the first layer's input gradient, which nobody needs.
 */
function trainFlopsPerSample(name: ModelName): number {
  const macs: Record<ModelName, number[]> = {
    mlp: [784 * 256, 256 * 256, 256 * 10],
    cnn28: [28 * 28 * 9 * 1 * 32, 14 * 14 * 9 * 32 * 64, 3136 * 128, 128 * 10],
    cnn32: [32 * 32 * 9 * 3 * 32, 16 * 16 * 9 * 32 * 64, 4096 * 128, 128 * 10],
  };
  const layers = macs[name];
  return 2 * (3 * layers.reduce((a, b) => a + b, 0) - layers[0]!);
}

/** The same model as tsnas builds it from its graph IR (bench/train/parallel.ts), as a NAS trial trains it. */
function tsnasModel(name: ModelName): { model: tf.LayersModel; inShape: number[] } {
  const { graph, shape } = benchGraph(name);
  return { model: buildGraphModel(graph), inShape: shape };
}

function syntheticBatch(inShape: number[], seed: number): { x: tf.Tensor; y: tf.Tensor } {
  const rng = new Rng(seed);
  const n = BATCH * inShape.reduce((a, b) => a * b, 1);
  const xs = new Float32Array(n);
  for (let i = 0; i < n; i++) xs[i] = rng.normal();
  const labels = Int32Array.from({ length: BATCH }, () => rng.int(0, 9));
  return { x: tf.tensor(xs, [BATCH, ...inShape]), y: tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat() };
}

/**
 * Median samples/s of Adam training steps; throws if the backend cannot train the model. tsnas:
 * the optimizer and loss of tsnas's training (fused Adam, fused softmax cross-entropy), stock:
 * tfjs's own.
 */
function measure(name: ModelName, seconds: number, stock: boolean): { sps: number; best: number; cpu: number; steps: number } {
  const { model, inShape } = stock ? buildModel(name) : tsnasModel(name);
  const { x, y } = syntheticBatch(inShape, 1);
  const opt = stock ? tf.train.adam(1e-3) : makeOptimizer('adam', 1e-3);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const step = (): number =>
    tf.tidy(() => {
      const loss = opt.minimize(
        () => {
          const out = model.apply(x, { training: true }) as tf.Tensor;
          return stock ? (tf.losses.softmaxCrossEntropy(y, out) as tf.Scalar) : softmaxCrossEntropy(y, out);
        },
        true,
        vars,
      )!;
      return loss.dataSync()[0]!;
    });
  const first = step();
  if (!Number.isFinite(first)) throw new Error(`loss is ${first}`);
  step();
  step();
  const times: number[] = [];
  const cpu: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000 || times.length < 5) {
    const s = performance.now();
    const c = process.cpuUsage();
    step();
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  const cpuMedian = cpu[Math.floor(cpu.length / 2)]!;
  model.dispose();
  opt.dispose();
  tf.dispose([x, y]);
  return {
    sps: (BATCH * 1000) / median,
    best: (BATCH * 1000) / times[0]!,
    cpu: (BATCH * 1000) / Math.max(cpuMedian, 1e-3),
    steps: times.length,
  };
}

/**
 * Wraps every wasm kernel with a CPU-time counter (process.cpuUsage, robust to other load on the
 * machine) and prints where one training step spends its time. Nested calls made inside the pack's
 * kernels go straight to the stock functions and are attributed to the calling kernel.
 */
async function profileStep(name: ModelName): Promise<void> {
  const stats = new Map<string, { ms: number; n: number }>();
  for (const k of tf.getKernelsForBackend('wasm')) {
    const inner = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel({
      ...k,
      setupFunc: undefined,
      kernelFunc: (a) => {
        const c = process.cpuUsage();
        const out = inner(a);
        const d = process.cpuUsage(c);
        const shapes = Object.values(a.inputs).map((t) => (t as tf.TensorInfo | undefined)?.shape.join('x') ?? '-');
        const key = `${k.kernelName} ${shapes.join(' ')}`;
        const e = stats.get(key) ?? { ms: 0, n: 0 };
        e.ms += (d.user + d.system) / 1000;
        e.n++;
        stats.set(key, e);
        return out;
      },
    });
  }
  const { model, inShape } = tsnasModel(name);
  const { x, y } = syntheticBatch(inShape, 1);
  const opt = makeOptimizer('adam', 1e-3);
  const run = () =>
    tf.tidy(() => {
      opt.minimize(() => softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor));
    });
  for (let i = 0; i < 5; i++) run(); // past wasm tier-up
  stats.clear();
  const reps = 5;
  for (let i = 0; i < reps; i++) run();
  const total = [...stats.values()].reduce((a, b) => a + b.ms, 0) / reps;
  console.log(`profile ${name}: ${total.toFixed(1)} ms CPU in kernels per step (mean of ${reps})`);
  for (const [k, e] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(args.get('top') ?? 18))) {
    const ms = e.ms / reps;
    console.log(`  ${ms.toFixed(2).padStart(8)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}% x${e.n / reps} ${k.slice(0, 100)}`);
  }
  model.dispose();
}

async function worker(kind: Kind): Promise<void> {
  if (kind !== 'stock') await initBackend({ backend: 'wasm' });
  else {
    await tf.setBackend('wasm');
    await tf.ready();
  }
  const out: WorkerResult = { best: {}, cpu: {} };
  for (const name of ONLY) {
    try {
      if (kind === 'parallel') {
        const { one, many } = await measureSideBySide(name, THREADS, SECONDS, BATCH);
        out[name] = many.sps;
        out.best![name] = many.best;
        out.cpu![name] = many.cpu;
        (out.one ??= {})[name] = one.sps;
        continue;
      }
      const r = measure(name, SECONDS, kind === 'stock');
      out[name] = r.sps;
      out.best![name] = r.best;
      out.cpu![name] = r.cpu;
    } catch (err) {
      out[name] = `cannot train (${(err as Error).message.split('\n')[0]!.slice(0, 80)})`;
    }
  }
  console.log('RESULT ' + JSON.stringify(out));
}

type WorkerResult = Partial<Column> & {
  best?: Partial<Record<ModelName, number>>;
  /** parallel: the 1-thread samples/s measured alternately with the data-parallel one. */
  one?: Partial<Record<ModelName, number>>;
  cpu?: Partial<Record<ModelName, number>>;
};

type Kind = 'stock' | 'tsnas' | 'parallel';

function runChild(kind: Kind): WorkerResult | null {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(
    process.execPath,
    [...process.execArgv, self, `--worker=${kind}`, `--seconds=${SECONDS}`, `--only=${ONLY.join(',')}`, `--threads=${THREADS}`],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) {
    console.error(`${kind} worker failed:\n${r.stderr.slice(-2000)}`);
    return null;
  }
  return JSON.parse(line.slice(7));
}

/** Per model (and per nested per-model table), the best samples/s over the rounds; null if none ran. */
function bestRound<T extends Record<string, unknown>>(rounds: (T | null)[]): T | null {
  const ok = rounds.filter((r): r is T => r !== null);
  if (ok.length === 0) return null;
  const merge = (vals: unknown[]): unknown => {
    const nums = vals.filter((v): v is number => typeof v === 'number');
    if (nums.length > 0) return Math.max(...nums);
    const objs = vals.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null);
    if (objs.length > 0) {
      const keys = new Set(objs.flatMap((o) => Object.keys(o)));
      return Object.fromEntries([...keys].map((k) => [k, merge(objs.map((o) => o[k]))]));
    }
    return vals.find((v) => v !== undefined);
  };
  return merge(ok) as T;
}

function findPython(): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}

type TorchResult = Record<string, number | string> & { cpu?: Record<string, number> };

function runTorch(py: string, threads: number, seconds: number): TorchResult | null {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'train', 'torch_bench.py');
  // OpenBLAS keeps its own thread pool: pin it (and OpenMP) to the same thread count as torch.
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
  const r = spawnSync(py, [script, String(seconds), String(threads)], { encoding: 'utf8', maxBuffer: 1 << 24, env });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line);
  } catch {
    console.error(`PyTorch run failed:\n${r.stderr.slice(-2000)}`);
    return null;
  }
}

const fmt = (v: number | null | string | undefined): string =>
  typeof v === 'number' ? v.toFixed(0) : v == null ? '-' : v.length > 14 ? 'cannot train' : v;

async function main(): Promise<void> {
  const w = args.get('worker');
  if (w === 'stock' || w === 'tsnas' || w === 'parallel') return worker(w);
  if (args.has('profile')) {
    await initBackend({ backend: 'wasm' });
    const name = ONLY[0]!; // the wrappers stay registered: one model per run
    await profileStep(name);
    return;
  }
  console.log(`bench:train  batch ${BATCH}, Adam, synthetic data, median of steady steps, ${SECONDS}s per model/column`);
  console.log(`node ${process.version}, ${os.cpus().length} cpus, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const stock = runChild('stock');
  const tsnasRounds: (WorkerResult | null)[] = [];
  const parRounds: (WorkerResult | null)[] = [];
  const torchRounds: (TorchResult | null)[] = [];
  const torch1Rounds: (TorchResult | null)[] = [];
  const py = findPython();
  if (!py) console.log('PyTorch column skipped: `python3 -c "import torch"` fails (apt-get install python3-torch libopenblas0-pthread)');
  for (let r = 0; r < ROUNDS; r++) {
    tsnasRounds.push(runChild('tsnas'));
    parRounds.push(runChild('parallel'));
    if (py) {
      torchRounds.push(runTorch(py, 2, SECONDS));
      torch1Rounds.push(runTorch(py, 1, Math.max(2, SECONDS / 2)));
    }
    const show = (o: Record<string, unknown> | null | undefined) =>
      ONLY.map((m) => `${m} ${typeof o?.[m] === 'number' ? (o[m] as number).toFixed(0) : '-'}`).join(', ');
    console.log(`round ${r + 1}: tsnas 1thr ${show(tsnasRounds[r])} | ${THREADS}thr ${show(parRounds[r])} | PyTorch 2thr ${show(torchRounds[r])} | 1thr ${show(torch1Rounds[r])}`);
  }
  const tsnas = bestRound(tsnasRounds);
  const par = bestRound(parRounds);
  const torch = bestRound(torchRounds) as TorchResult | null;
  const torch1 = bestRound(torch1Rounds) as TorchResult | null;
  if (ROUNDS > 1) console.log(`${ROUNDS} interleaved rounds; every column keeps its best round`);
  if (torch) console.log(`PyTorch ${String(torch['version'])}, ${String(torch['threads'])} threads (${py})`);
  console.log(`load average after ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const rows: string[][] = [[
    'model', 'tsnas wasm+pack', '(best step)', `tsnas ${THREADS}thr`, '(best step)', `${THREADS}thr/1thr`, 'plain tfjs wasm', 'PyTorch 2thr', '(1thr)', 'tsnas/plain', 'tsnas/torch',
    '| cpu-time: tsnas', 'torch 1thr x2', 'ratio',
  ]];
  const json: Record<string, Record<string, number | string | null>> = {};
  for (const name of ONLY) {
    const t1 = typeof tsnas?.[name] === 'number' ? (tsnas[name] as number) : null;
    const tn = typeof par?.[name] === 'number' ? (par[name] as number) : null;
    const t = t1 !== null && (tn === null || t1 >= tn) ? t1 : tn;
    const p = typeof stock?.[name] === 'number' ? (stock[name] as number) : null;
    const pt = typeof torch?.[name] === 'number' ? (torch[name] as number) : null;
    rows.push([
      name,
      fmt(tsnas?.[name]),
      fmt(tsnas?.best?.[name]),
      fmt(par?.[name]),
      fmt(par?.best?.[name]),
      tn && par?.one?.[name] ? `${(tn / par.one[name]!).toFixed(2)}x` : '-',
      fmt(stock?.[name]),
      torch ? fmt(pt) : 'skipped',
      fmt(typeof torch1?.[name] === 'number' ? (torch1[name] as number) : undefined),
      t1 && p ? `${(t1 / p).toFixed(2)}x` : '-',
      t && pt ? `${(t / pt).toFixed(2)}x` : '-',
      '| ' + fmt(tsnas?.cpu?.[name]),
      fmt(torch1?.cpu?.[name] !== undefined ? 2 * torch1.cpu[name]! : undefined),
      tsnas?.cpu?.[name] && torch1?.cpu?.[name] ? `${(tsnas.cpu[name]! / (2 * torch1.cpu[name]!)).toFixed(2)}x` : '-',
    ]);
    json[name] = {
      tsnas: t,
      tsnasPath: t === null ? null : t === t1 ? '1thr' : `${THREADS}thr`,
      tsnas1thr: t1,
      [`tsnas${THREADS}thr`]: tn,
      [`speedup${THREADS}thr`]: tn && par?.one?.[name] ? tn / par.one[name]! : null,
      torch: pt,
      plainWasm: p,
      tsnasCpuTime: tsnas?.cpu?.[name] ?? null,
      torch1thr: typeof torch1?.[name] === 'number' ? (torch1[name] as number) : null,
      torchCpuTime2x1thr: torch1?.cpu?.[name] !== undefined ? 2 * torch1.cpu[name]! : null,
    };
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padStart(widths[i]!)).join('  '));
  for (const name of ONLY) {
    const v = stock?.[name];
    if (typeof v === 'string') console.log(`plain wasm ${name}: ${v}`);
  }
  const gflops = (name: ModelName, sps: unknown) =>
    typeof sps === 'number' ? ((sps * trainFlopsPerSample(name)) / 1e9).toFixed(1) : '-';
  for (const name of ONLY) {
    const best = json[name]!['tsnas'];
    console.log(
      `${name}: training GFLOP/s (${(trainFlopsPerSample(name) / 1e6).toFixed(2)} MFLOP per sample): tsnas ${gflops(name, best)}` +
        ` (1thr ${gflops(name, tsnas?.[name])}), PyTorch 2thr ${gflops(name, torch?.[name])}, 1thr ${gflops(name, torch1?.[name])}`,
    );
  }
  console.log(
    'wall-clock columns: samples/s from the median step time (what the issue asks for); they are only\n' +
      'meaningful on an otherwise idle machine (see the load averages). cpu-time columns: samples per\n' +
      'CPU-second of the process, robust to other load; for PyTorch twice its 1-thread figure, i.e. a\n' +
      'perfect-scaling upper bound for 2 threads, so the cpu-time ratio is conservative. Under load,\n' +
      'PyTorch with 2 threads collapses (its threads wait on each other) far more than 1 thread, and so\n' +
      `does tsnas ${THREADS}thr (data-parallel: every step waits for the slowest replica). ${THREADS}thr/1thr: the\n` +
      `data-parallel and the 1-thread step measured in alternating half-second blocks of one process.\n` +
      'JSON: tsnas is the faster tsnas path (tsnasPath).',
  );
  console.log(JSON.stringify(json));
}

void main();
