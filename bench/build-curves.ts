/**
 * Builds the fm-cells learning-curve table: every architecture of fmCellsArchs() trained at
 * FM_CELLS_SETTING (src/estimate/fm-cells.ts), through tsnas's own experiment, SQLite store and
 * local pool executor, then exported as data/fm-cells/curves.json.gz.
 *
 *   npm run bench:build-curves                    # train what is missing (resumable), then export
 *   npm run bench:build-curves -- --workers 1 --export-only
 *
 * Resumable: the store (default data/fm-cells/build.db, git-ignored) keeps every finished trial; a
 * restart trains only the architectures without a COMPLETE trial (an interrupted one is retried).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { Experiment } from '../src/core/experiment.js';
import { FM_CELLS_SETTING, fmCellsArchs } from '../src/estimate/fm-cells.js';
import { runWithExecutor } from '../src/run/coordinator.js';
import { LocalPoolExecutor } from '../src/run/pool.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { SearchExhausted } from '../src/core/errors.js';
import type { Strategy } from '../src/core/strategy.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = path.resolve(here, '..', 'data', 'fm-cells');

/** Proposes, in list order, the first architecture with no COMPLETE or RUNNING trial nor one its objective failed (an abandoned one is retried). */
function fixedList(archs: string[]): Strategy {
  return {
    name: 'fixed-list',
    ask(ctx) {
      const taken = new Set(ctx.history.filter((t) => t.number !== ctx.trialNumber && (t.state !== 'FAILED' || t.system.abandoned !== true)).map((t) => t.params.arch));
      const next = archs.find((a) => !taken.has(a));
      if (next === undefined) throw new SearchExhausted(`all ${archs.length} architectures are trained`);
      return { arch: next };
    },
  };
}

async function main(): Promise<void> {
  const o = new Command()
    .name('bench:build-curves')
    .option('--db <file>', 'SQLite store of the build', path.join(dataDir, 'build.db'))
    .option('--out <file>', 'exported table', path.join(dataDir, 'curves.json.gz'))
    .option('--workers <n>', 'training processes', (v) => parseInt(v, 10), 2)
    .option('--random <n>', 'random architectures after the hand-picked ones', (v) => parseInt(v, 10), 120)
    .option('--export-only', 'only export what the store holds')
    .parse()
    .opts();
  const archs = fmCellsArchs(o.random);
  const store = new SqliteStore(o.db);
  const exp = Experiment.open({
    store,
    name: 'fm-cells',
    strategy: fixedList(archs),
    space: { params: { arch: { type: 'categorical', choices: fmCellsArchs(120) } } },
    seed: FM_CELLS_SETTING.seed,
    meta: { setting: FM_CELLS_SETTING },
    staleSeconds: o.exportOnly ? 1e9 : 120, // export-only must not touch a running build's trials
  });
  if (!o.exportOnly) {
    const t0 = Date.now();
    const file = path.join(here, 'curves-objective.ts');
    let done = exp.trials().filter((t) => t.state === 'COMPLETE').length;
    await runWithExecutor(exp, new LocalPoolExecutor({ size: o.workers }), {
      objective: { kind: 'module', file },
      parallelism: o.workers,
      onTrialEnd: (t) => {
        const c = t.attrs.curve as { test: number[]; cpu: number[] } | undefined;
        if (t.state === 'COMPLETE') done++;
        console.log(
          `[${new Date().toISOString().slice(11, 19)}] ${done}/${archs.length} ${t.state} ${t.params.arch} val ${t.values?.[0]?.toFixed(3)} test ${c?.test.at(-1)?.toFixed(3)} cpu ${c ? c.cpu.reduce((a, b) => a + b, 0).toFixed(1) : '-'} s (${((Date.now() - t0) / 1000).toFixed(0)} s)${t.error ? ' ' + t.error : ''}`,
        );
      },
    });
  }
  exportTable(exp, archs, o.out);
  store.close();
}

function exportTable(exp: Experiment, archs: string[], out: string): void {
  const byArch = new Map(exp.trials().filter((t) => t.state === 'COMPLETE' && t.attrs.curve).map((t) => [t.params.arch as string, t]));
  const rows = archs.filter((a) => byArch.has(a)).map((a) => {
    const t = byArch.get(a)!;
    return { arch: a, ...(t.attrs.curve as object) };
  });
  const first = Math.min(...rows.map((a) => byArch.get(a.arch)!.createdAt));
  const last = Math.max(...rows.map((a) => byArch.get(a.arch)!.finishedAt ?? 0));
  const cpu = rows.reduce((s, r) => s + (r as unknown as { cpu: number[] }).cpu.reduce((a, b) => a + b, 0), 0);
  const table = { setting: FM_CELLS_SETTING, built: { archs: rows.length, cpuSeconds: +cpu.toFixed(1), wallSeconds: Number.isFinite(first) ? Math.round((last - first) / 1000) : null }, rows };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, zlib.gzipSync(JSON.stringify(table), { level: 9 }));
  console.log(`exported ${rows.length}/${archs.length} architectures to ${out} (${fs.statSync(out).size} bytes; training CPU ${(cpu / 60).toFixed(1)} min)`);
}

main().catch((e) => {
  console.error((e as Error).stack ?? String(e));
  process.exit(1);
});
