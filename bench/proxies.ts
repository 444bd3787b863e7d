/**
 * Zero-cost proxies vs trained accuracy: Spearman rank correlation of synflow, NASWOT, SNIP,
 * grad-norm and Jacobian covariance (src/estimate/proxies) with
 *   (a) the fm-cells table's final (10-epoch) test accuracy, every architecture of the table, the
 *       proxies computed on exactly the trained network (C = 8, 1 cell per stage, 16x16x1 input) and
 *       one batch of its training images; written to data/fm-cells/proxies.json for the warm-start bench;
 *   (b) NAS-Bench-201 CIFAR-10 test_acc_200 on a seeded sample of cells. CIFAR-10 is not on this
 *       machine, so the batch is Fashion-MNIST training images resized to --nb201-res and repeated
 *       to 3 channels (real image statistics rather than noise, which NASWOT/Jacobian covariance need
 *       to tell networks apart), and the proxies run on the reduced skeleton (--nb201-width x 16
 *       channels, --nb201-cells cells per stage): the full 32x32 C=16 N=5 network costs ~10-60 CPU s
 *       per cell for all five proxies on this wasm backend, and float32 synflow overflows on it.
 * next to #params and FLOPs (of the benchmark's own networks) as baselines.
 *
 * and (c) synflow over all 15,625 NB201 cells from the committed data/nb201/synflow.json.gz
 * (bench/nb201-synflow.ts; --synflow-build computes what it lacks, resumable), next to #params and FLOPs.
 *
 *   npm run bench:proxies -- --nb201-sample 1000
 *   npm run bench:proxies -- --skip-curves --nb201-sample 0 --synflow-build     # (re)builds only the synflow file
 *
 * Scores are cached per setting in runs/proxies/ (git-ignored): a rerun computes only what is missing.
 * Last line: {"nb201": {"synflow": rho over all cells in the synflow file (synflow_sample: on the sample), ...,
 * "params": rho, "flops": rho (sample)}, "nb201_all": {"synflow", "params", "flops", "cells"}, "curves": {...}}.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import type { Dataset } from '../src/data/dataset.js';
import { loadNamedDataset } from '../src/data/registry.js';
import { downscale } from '../src/data/resize.js';
import { bestOf, Experiment } from '../src/core/experiment.js';
import { FM_CELLS_SETTING as S, FmCellsEvaluator, loadFmCellsTable } from '../src/estimate/fm-cells.js';
import { MemoryStore } from '../src/store/memory.js';
import { createStrategy } from '../src/strategy/index.js';
import { loadNb201Table } from '../src/estimate/nb201.js';
import { PROXY_NAMES, proxyBatch, proxyScores, proxyWarmStart, spearman, type ProxyBatch, type ProxyName } from '../src/estimate/proxies/index.js';
import { initBackend } from '../src/nn/backend.js';
import { decodeNb201, parseNb201Arch } from '../src/space/arch/index.js';
import { Rng } from '../src/util/rng.js';
import { buildSynflow, loadSynflowFile, synflowOf } from './nb201-synflow.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
type Scores = Record<string, { score: number; seconds: number }>;

/** Non-finite scores (log det of a singular matrix, a dead network) rank lowest. */
const finite = (v: number) => (Number.isFinite(v) ? v : v > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE);

function rgb(ds: Dataset): Dataset {
  const [h, w] = ds.shape as [number, number, number];
  const n = ds.y.length;
  const x = new Float32Array(n * h * w * 3);
  for (let i = 0; i < n * h * w; i++) x[3 * i] = x[3 * i + 1] = x[3 * i + 2] = ds.x[i]!;
  return { ...ds, x, shape: [h, w, 3], name: `${ds.name}/rgb` };
}

/** Scores every arch (cached in a JSON-lines file keyed by the setting). */
function scoreAll(
  archs: string[], batch: ProxyBatch, dec: { inputShape: number[]; width: number; cells: number }, names: readonly ProxyName[], cacheFile: string, label: string,
): Map<string, Scores> {
  const have = new Map<string, Scores>();
  if (fs.existsSync(cacheFile)) {
    for (const line of fs.readFileSync(cacheFile, 'utf8').split('\n')) if (line) {
      const r = JSON.parse(line) as { arch: string; scores: Scores };
      have.set(r.arch, r.scores);
    }
  }
  fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
  const t0 = performance.now();
  let done = 0;
  const todo = archs.filter((a) => !have.has(a) || names.some((n) => !(n in have.get(a)!)));
  for (const a of todo) {
    const g = decodeNb201(parseNb201Arch(a), { inputShape: dec.inputShape, numClasses: 10, width: dec.width, cells: dec.cells });
    const s = proxyScores(g, batch, names.filter((n) => !(n in (have.get(a) ?? {}))), S.seed);
    const merged = { ...have.get(a), ...s };
    have.set(a, merged);
    fs.appendFileSync(cacheFile, JSON.stringify({ arch: a, scores: merged }) + '\n');
    if (++done % 100 === 0 || done === todo.length) console.error(`${label}: ${done}/${todo.length} scored (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  return have;
}

function report(
  label: string, archs: string[], target: (a: string) => number, scores: Map<string, Scores>, baselines: Record<string, (a: string) => number>, names: readonly ProxyName[],
): Record<string, number> {
  const y = archs.map(target);
  const out: Record<string, number> = {};
  console.log(`\n${label}: Spearman rho with the target over ${archs.length} architectures; wall seconds of each proxy per architecture (mean)`);
  for (const n of names) {
    const rho = spearman(archs.map((a) => finite(scores.get(a)![n]!.score)), y);
    const sec = archs.reduce((s, a) => s + scores.get(a)![n]!.seconds, 0) / archs.length;
    out[n] = +rho.toFixed(3);
    console.log(`  ${n.padEnd(10)} rho ${rho.toFixed(3).padStart(6)}   ${sec.toFixed(3)} s/arch`);
  }
  for (const [n, f] of Object.entries(baselines)) {
    const rho = spearman(archs.map(f), y);
    out[n] = +rho.toFixed(3);
    console.log(`  ${n.padEnd(10)} rho ${rho.toFixed(3).padStart(6)}   (baseline)`);
  }
  const best = Object.entries(out).filter(([k]) => !(k in baselines)).sort((a, b) => b[1] - a[1])[0];
  const pb = out.params!;
  if (best) console.log(`  best proxy ${best[0]} ${best[1] >= pb ? 'beats' : 'does NOT beat'} #params (${best[1].toFixed(3)} vs ${pb.toFixed(3)})`);
  return out;
}

/**
 * Random search vs proxy warm-start (score --ws-candidates random cells of the table by the proxy,
 * train the best-scored first) at equal numbers of full 10-epoch trainings K; the pick is the best by
 * validation accuracy, we report its test accuracy. `params` warm-starts by #params (the baseline).
 */
async function warmStartBench(names: readonly ProxyName[], runs: number, candidates: number): Promise<Record<string, number>> {
  const ev = new FmCellsEvaluator();
  const proxies = JSON.parse(fs.readFileSync(path.join(ROOT, 'data', 'fm-cells', 'proxies.json'), 'utf8')) as { rows: Record<string, number | string>[] };
  const score = new Map(proxies.rows.map((r) => [r.arch as string, r]));
  const ks = [3, 5, 10, 20];
  const kMax = Math.max(...ks);
  const run = async (name: string, seed: number): Promise<number[]> => {
    const strategy = name === 'random'
      ? createStrategy('random')
      : proxyWarmStart({
        candidates,
        warmup: kMax,
        score: (p) => (name === 'params' ? ev.row(p).params : finite(Number(score.get(p.arch as string)![name] ?? NaN))),
      });
    const exp = Experiment.open({ store: new MemoryStore(), name: `${name}-${seed}`, strategy, space: ev.space, seed });
    await exp.optimize(ev.objective, { nTrials: kMax });
    const trials = exp.trials();
    return ks.map((k) => ev.testAt(ev.row(bestOf(trials.slice(0, k), exp.directions)!.params)));
  };
  console.log(`\nwarm-start on fm-cells: test accuracy (%) of the pick after K full trainings, mean of ${runs} seeds; warm-started searches score ${candidates} random cells first`);
  console.log(`method     | ${ks.map((k) => `K = ${k}`.padStart(7)).join(' | ')}`);
  const out: Record<string, number> = {};
  const base: number[] = [];
  for (const name of ['random', 'params', ...names]) {
    const acc = ks.map(() => 0);
    for (let r = 0; r < runs; r++) (await run(name, r)).forEach((v, i) => (acc[i]! += v / runs));
    if (name === 'random') base.push(...acc);
    out[name] = +acc[ks.indexOf(10)]!.toFixed(3);
    console.log(`${name.padEnd(10)} | ${acc.map((v, i) => `${v.toFixed(2)}${name === 'random' ? '' : ` (${v - base[i]! >= 0 ? '+' : ''}${(v - base[i]!).toFixed(2)})`}`.padStart(name === 'random' ? 7 : 15)).join(' | ')}`);
  }
  return out;
}

async function main(): Promise<void> {
  const o = new Command()
    .name('bench:proxies')
    .option('--proxies <list>', `comma-separated (${PROXY_NAMES.join(', ')})`, PROXY_NAMES.join(','))
    .option('--batch <n>', 'images in the one batch', (v) => parseInt(v, 10), 64)
    .option('--nb201-sample <n>', 'NB201 cells scored (seeded sample; 15625 = all)', (v) => parseInt(v, 10), 1000)
    .option('--nb201-res <n>', 'NB201 input side (Fashion-MNIST resized, 3 channels)', (v) => parseInt(v, 10), 16)
    .option('--nb201-width <x>', 'width multiplier of the NB201 skeleton (16 channels x this)', (v) => parseFloat(v), 0.5)
    .option('--nb201-cells <n>', 'cells per stage of the NB201 skeleton', (v) => parseInt(v, 10), 1)
    .option('--nb201-dir <dir>', 'folder with nb201_cifar10.csv')
    .option('--skip-nb201', 'only the fm-cells table')
    .option('--skip-curves', 'only NAS-Bench-201')
    .option('--synflow-file <file>', 'synflow of every NB201 cell (committed)', path.join(ROOT, 'data', 'nb201', 'synflow.json.gz'))
    .option('--synflow-build', 'score the NB201 cells the synflow file lacks (resumable), then report')
    .option('--synflow-recompute', 'discard the synflow file and score every cell again')
    .option('--synflow-limit <n>', 'score at most n cells in this build', (v) => parseInt(v, 10))
    .option('--ws-runs <n>', 'seeded searches per method in the warm-start comparison', (v) => parseInt(v, 10), 200)
    .option('--ws-candidates <n>', 'candidates a warm-started search scores by its proxy', (v) => parseInt(v, 10), 64)
    .parse()
    .opts();
  const names = (o.proxies as string).split(',').map((s) => s.trim()) as ProxyName[];
  for (const n of names) if (!(PROXY_NAMES as readonly string[]).includes(n)) {
    console.error(`bench:proxies: unknown proxy "${n}"; choose from ${PROXY_NAMES.join(', ')}`);
    process.exit(2);
  }
  const backend = await initBackend({ backend: 'wasm' });
  const result: Record<string, Record<string, number>> = {};
  const parts = loadNamedDataset(S.dataset, { trainCount: S.trainCount + S.valCount, testCount: 10, valFraction: S.valCount / (S.trainCount + S.valCount), seed: S.seed });

  // (a) the fm-cells table: the very networks and data that were trained.
  if (!o.skipCurves) {
    const table = loadFmCellsTable();
    const fmData = downscale(parts.train, { size: S.resolution });
    const fmBatch = proxyBatch(fmData, o.batch, S.seed);
    const fmArchs = table.rows.map((r) => r.arch);
    const fmKey = `fm-cells-b${o.batch}`;
    const fmScores = scoreAll(fmArchs, fmBatch, { inputShape: fmData.shape, width: S.widthMultiplier, cells: S.cells }, names, path.join(ROOT, 'runs', 'proxies', `${fmKey}.jsonl`), 'fm-cells');
    const byArch = new Map(table.rows.map((r) => [r.arch, r]));
    result.curves = report(`fm-cells (${table.rows.length} cells, Fashion-MNIST ${S.resolution}x${S.resolution}, ${S.epochs}-epoch test accuracy), batch ${o.batch}, ${backend}`, fmArchs, (a) => byArch.get(a)!.test.at(-1)!, fmScores,
      { params: (a) => byArch.get(a)!.params, flops: (a) => byArch.get(a)!.flops }, names);
    fs.writeFileSync(path.join(ROOT, 'data', 'fm-cells', 'proxies.json'), JSON.stringify({
      note: `zero-cost proxy scores of the fm-cells networks (seeded init, one batch of ${o.batch} training images), written by npm run bench:proxies`,
      proxies: names,
      rows: fmArchs.map((a) => ({ arch: a, ...Object.fromEntries(names.map((n) => [n, fmScores.get(a)![n]!.score])), seconds: +names.reduce((s, n) => s + fmScores.get(a)![n]!.seconds, 0).toFixed(4) })),
    }) + '\n');
  }

  // (c) Proxy warm-start vs random search at equal training budget on the fm-cells table.
  if (!o.skipCurves) result.warmstart = await warmStartBench(names, o.wsRuns, o.wsCandidates);

  // (b) NAS-Bench-201 CIFAR-10.
  if (!o.skipNb201 && o.nb201Sample > 0) {
    const nb = loadNb201Table('cifar10', o.nb201Dir);
    const all = [...nb.keys()];
    const sample = o.nb201Sample >= all.length ? all : Rng.derive(201, 'proxy-sample').shuffle([...all]).slice(0, o.nb201Sample);
    const nbData = rgb(downscale(parts.train, { size: o.nb201Res }));
    const nbBatch = proxyBatch(nbData, o.batch, S.seed);
    const key = `nb201-r${o.nb201Res}-w${o.nb201Width}-c${o.nb201Cells}-b${o.batch}`;
    const nbScores = scoreAll(sample, nbBatch, { inputShape: nbData.shape, width: o.nb201Width, cells: o.nb201Cells }, names, path.join(ROOT, 'runs', 'proxies', `${key}.jsonl`), 'nb201');
    result.nb201 = report(
      `NAS-Bench-201 CIFAR-10 test_acc_200, ${sample.length === all.length ? 'all' : `seeded sample of ${sample.length} of`} ${all.length} cells; proxies on C=${16 * o.nb201Width}, ${o.nb201Cells} cell/stage, Fashion-MNIST ${o.nb201Res}x${o.nb201Res}x3, batch ${o.batch}`,
      sample, (a) => nb.get(a)!.testAcc200, nbScores, { params: (a) => nb.get(a)!.paramsMb, flops: (a) => nb.get(a)!.flopsM }, names,
    );
  }
  // (c) synflow over all NB201 cells, from the committed file.
  if (!o.skipNb201) {
    const nb = loadNb201Table('cifar10', o.nb201Dir);
    const rows = [...nb.values()];
    const f = o.synflowBuild || o.synflowRecompute
      ? buildSynflow(o.synflowFile, rows, { fresh: !!o.synflowRecompute, limit: o.synflowLimit })
      : loadSynflowFile(o.synflowFile);
    const have = f ? rows.filter((r) => synflowOf(f, r.index) !== undefined) : [];
    if (!f || have.length === 0) console.log(`\nno synflow file with scores (${o.synflowFile}): run with --synflow-build`);
    else {
      const y = have.map((r) => r.testAcc200);
      const rho = (x: number[]) => +spearman(x, y).toFixed(3);
      const all = { synflow: rho(have.map((r) => finite(synflowOf(f, r.index)!))), params: rho(have.map((r) => r.paramsMb)), flops: rho(have.map((r) => r.flopsM)), cells: have.length };
      result.nb201_all = all;
      if (result.nb201) result.nb201 = { ...result.nb201, synflow_sample: result.nb201.synflow!, synflow: all.synflow };
      else result.nb201 = { synflow: all.synflow, params: all.params, flops: all.flops };
      console.log(`\nNAS-Bench-201 CIFAR-10 test_acc_200, ${have.length === rows.length ? 'all' : `${have.length} of`} ${rows.length} cells (${o.synflowFile.replace(ROOT + '/', '')}; scored in ${f.cpuSeconds} CPU s, ${(f.cpuSeconds / have.length).toFixed(3)} CPU s per cell)`);
      console.log(`  synflow    rho ${all.synflow.toFixed(3).padStart(6)}\n  params     rho ${all.params.toFixed(3).padStart(6)}   (baseline)\n  flops      rho ${all.flops.toFixed(3).padStart(6)}   (baseline)`);
      console.log(`  synflow ${all.synflow >= all.params ? 'beats' : 'does NOT beat'} #params (${all.synflow.toFixed(3)} vs ${all.params.toFixed(3)}); the paper reports ~0.76 for synflow on NB201 CIFAR-10`);
    }
  }
  console.log(JSON.stringify({ nb201: result.nb201 ?? null, nb201_all: result.nb201_all ?? null, curves: result.curves ?? null, warmstart_test_at_10: result.warmstart ?? null }));
}

main().catch((e) => {
  console.error((e as Error).stack ?? String(e));
  process.exit(1);
});
