/**
 * Checks countCost of the NB201 graph (C=16, N=5, 32x32x3) against the `n_params_mb` and `flops_m`
 * columns of every row of the NAS-Bench-201 CSVs (CIFAR-100 first, CIFAR-10 last).
 * Tolerances: 1e-6 MB and 1e-3 MFLOPs. Last line: the CIFAR-10 summary JSON.
 * Data dir: $TSNAS_NB201_DIR or the tables shipped in data/nb201.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { countCost } from '../src/nn/cost.js';
import { readNb201Csv, type Nb201Dataset } from '../src/estimate/nb201.js';
import { decodeNb201Checked, parseNb201Arch } from '../src/space/arch/nb201.js';


export interface CostRow {
  arch: string;
  n_params_mb: number;
  flops_m: number;
}

export function readCostRows(dataset: Nb201Dataset): CostRow[] {
  const rows = parse(readNb201Csv(dataset), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return rows.map((r) => ({ arch: r.arch!, n_params_mb: Number(r.n_params_mb), flops_m: Number(r.flops_m) }));
}

export function checkRows(rows: CostRow[], numClasses: number) {
  let paramMismatches = 0;
  let flopMismatches = 0;
  const examples: string[] = [];
  for (const r of rows) {
    const g = decodeNb201Checked(parseNb201Arch(r.arch), { inputShape: [32, 32, 3], numClasses });
    const c = countCost(g);
    const pm = c.trainableParams / 1e6;
    const fm = c.flops / 1e6;
    const badP = !(Math.abs(pm - r.n_params_mb) <= 1e-6);
    const badF = !(Math.abs(fm - r.flops_m) <= 1e-3);
    if (badP) paramMismatches++;
    if (badF) flopMismatches++;
    if ((badP || badF) && examples.length < 5) {
      examples.push(`${r.arch}: params ${pm} vs ${r.n_params_mb}, flops ${fm} vs ${r.flops_m}`);
    }
  }
  return { checked: rows.length, param_mismatches: paramMismatches, flop_mismatches: flopMismatches, examples };
}

function main() {
  const t0 = performance.now();
  let failed = false;
  const summaries: string[] = [];
  for (const [dataset, classes] of [['cifar100', 100], ['cifar10', 10]] as const) {
    const file = `nb201_${dataset}`;
    const rows = readCostRows(dataset);
    const r = checkRows(rows, classes);
    for (const e of r.examples) console.error(`${file}: mismatch ${e}`);
    if (r.param_mismatches || r.flop_mismatches || r.checked !== 15625) failed = true;
    summaries.push(`{"checked": ${r.checked}, "param_mismatches": ${r.param_mismatches}, "flop_mismatches": ${r.flop_mismatches}}`);
    console.log(`${file} (${classes} classes): ${summaries.at(-1)}`);
  }
  console.log(`time ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(summaries.at(-1));
  if (failed) process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
