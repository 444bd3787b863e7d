/**
 * synflow of every NAS-Bench-201 cell (all 15,625), cached in the committed data/nb201/synflow.json.gz
 * so that `npm run bench:proxies` prints its Spearman rho with CIFAR-10 test_acc_200 without
 * recomputing. `npm run bench:proxies -- --synflow-build` computes the cells the file lacks (resumable:
 * the file is rewritten every --synflow-flush cells, a restart continues where it stopped);
 * `--synflow-recompute` starts the file over.
 *
 * Setting (the same as the bench's 1,000-cell sample of all five proxies): the reduced skeleton (C = 8,
 * 1 cell per stage), 16x16x3 input, weights initialised as in training (seed 0); synflow is data-
 * independent (an all-ones input), so no batch enters the score. Float32 synflow overflows on the
 * full C = 16, N = 5 network.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { FM_CELLS_SETTING as S } from '../src/estimate/fm-cells.js';
import type { Nb201Row } from '../src/estimate/nb201.js';
import { proxyScores } from '../src/estimate/proxies/index.js';
import { decodeNb201, parseNb201Arch } from '../src/space/arch/index.js';

export const SYNFLOW_SETTING = { proxy: 'synflow', inputShape: [16, 16, 3], width: 0.5, cells: 1, initSeed: S.seed, numClasses: 10 } as const;

export interface SynflowFile {
  setting: typeof SYNFLOW_SETTING;
  /** Indexed by the NB201 index: the score (6 significant digits), a string for a non-finite one, null when not computed yet. */
  scores: (number | string | null)[];
  /** Summed over all builds (resumes add up): process CPU seconds and wall seconds of the scoring. */
  cpuSeconds: number;
  wallSeconds: number;
  builtOn: string;
}

export function loadSynflowFile(file: string): SynflowFile | null {
  if (!fs.existsSync(file)) return null;
  const f = JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString('utf8')) as SynflowFile;
  if (JSON.stringify(f.setting) !== JSON.stringify(SYNFLOW_SETTING)) {
    throw new Error(`${file} was made with another setting (${JSON.stringify(f.setting)}); rebuild it with --synflow-recompute`);
  }
  return f;
}

function save(file: string, f: SynflowFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, zlib.gzipSync(JSON.stringify(f) + '\n', { level: 9 }));
  fs.renameSync(tmp, file);
}

/** The stored score as a number (Infinity / NaN for the non-finite ones), undefined when not computed. */
export function synflowOf(f: SynflowFile, index: number): number | undefined {
  const v = f.scores[index];
  return v === null || v === undefined ? undefined : Number(v);
}

/** Scores the cells the file lacks (all of them when `fresh`), writing the file every `flush` cells. */
export function buildSynflow(file: string, rows: Nb201Row[], o: { fresh?: boolean; flush?: number; limit?: number } = {}): SynflowFile {
  const n = Math.max(...rows.map((r) => r.index)) + 1;
  const f: SynflowFile = (!o.fresh && loadSynflowFile(file)) || { setting: SYNFLOW_SETTING, scores: new Array(n).fill(null), cpuSeconds: 0, wallSeconds: 0, builtOn: '' };
  const todo = rows.filter((r) => f.scores[r.index] === null || f.scores[r.index] === undefined).slice(0, o.limit ?? Infinity);
  // synflow reads only the input's shape: a one-sample all-zeros batch.
  const batch = { x: tf.zeros([1, ...SYNFLOW_SETTING.inputShape]), y: tf.zeros([1, SYNFLOW_SETTING.numClasses]) };
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const cpuBase = f.cpuSeconds;
  const wallBase = f.wallSeconds;
  const flushNow = () => {
    const c = process.cpuUsage(c0);
    f.cpuSeconds = +(cpuBase + (c.user + c.system) / 1e6).toFixed(1);
    f.wallSeconds = +(wallBase + (performance.now() - w0) / 1000).toFixed(1);
    f.builtOn = new Date().toISOString().slice(0, 10);
    save(file, f);
  };
  let done = 0;
  for (const r of todo) {
    const g = decodeNb201(parseNb201Arch(r.arch), { inputShape: [...SYNFLOW_SETTING.inputShape], numClasses: SYNFLOW_SETTING.numClasses, width: SYNFLOW_SETTING.width, cells: SYNFLOW_SETTING.cells });
    const s = proxyScores(g, batch, ['synflow'], SYNFLOW_SETTING.initSeed).synflow!.score;
    f.scores[r.index] = Number.isFinite(s) ? Number(s.toPrecision(6)) : String(s);
    if (++done % (o.flush ?? 500) === 0 || done === todo.length) {
      flushNow();
      console.error(`nb201 synflow: ${done}/${todo.length} scored this run, ${f.scores.filter((v) => v !== null).length}/${n} in ${file} (${f.cpuSeconds} CPU s in all)`);
    }
  }
  batch.x.dispose();
  batch.y.dispose();
  return f;
}
