/** The report's line and bar charts: anytime performance, learning curves, parameter importance, parallel coordinates. */
import type { AnytimePoint } from '../efficacy.js';
import type { ReportData, ReportExperiment } from '../data.js';
import { chart, clearEmpty, empty, esc, fmt, PALETTE } from './dom.js';

/** Lines of the parallel-coordinates chart: the latest complete trials (thousands of lines say no more, and cost seconds). */
const PARALLEL_MAX = 500;
/** Above this many learning curves they are drawn as one series per kind (complete, pruned). */
const BUNDLE_CURVES = 60;

/** What ECharts hands a tooltip formatter (the fields these charts read). */
export interface TipParam<V = number[]> {
  seriesName: string;
  name: string;
  value: V;
  data: { n?: number };
}

/** The points of a best-so-far curve where it changes (and its last one): the same step line, far fewer points. */
function stepPoints(points: AnytimePoint[]): [number, number][] {
  const out: [number, number][] = [];
  let last: number | null = null;
  points.forEach((p, i) => {
    if (p.best === null) return;
    if (p.best !== last || i === points.length - 1) out.push([p.compute, p.best]);
    last = p.best;
  });
  return out;
}

export function renderAnytime(data: ReportData): void {
  const exps = data.experiments.filter((e) => e.anytime.points.length > 0);
  if (!exps.length) return empty('chart-anytime', 'no finished trials yet');
  clearEmpty('chart-anytime');
  const axes: Record<string, number> = {};
  exps.forEach((e) => (axes[e.anytime.axis] = 1));
  const axisName = Object.keys(axes).length > 1 ? 'compute (s, simulated or wall)' : exps[0]!.anytime.axis === 'simulated' ? 'simulated training seconds' : 'wall seconds';
  chart('chart-anytime').setOption({
    color: PALETTE,
    animation: false,
    tooltip: {
      trigger: 'axis',
      formatter: ((ps: TipParam[]) =>
        'compute ' + fmt(ps[0]!.value[0], 1) + ' s' + ps.map((p) => '<br>' + esc(p.seriesName) + ': best ' + fmt(p.value[1], 4)).join('')),
    },
    legend: { type: 'scroll', top: 0 },
    grid: { left: 60, right: 20, top: 40, bottom: 50 },
    xAxis: { type: 'value', name: axisName, nameLocation: 'middle', nameGap: 28 },
    yAxis: { type: 'value', name: 'best so far', scale: true },
    series: exps.map((e) => ({ name: e.name + ' (' + e.strategy + ')', type: 'line', step: 'end', showSymbol: false, data: stepPoints(e.anytime.points) })),
  }, true);
}

type Series = Record<string, unknown>;
type Point = { value: (number | null)[]; n?: number };

/** A trial's curve (a few trials: one series each), its bundle entry (many: one series per kind) and its predicted continuation. */
function curveSeries(t: ReportExperiment['trials'][number], k: number, bundled: boolean, bundles: { done: Point[]; pruned: Point[] }, series: Series[]): void {
  const stopped = t.state === 'PRUNED';
  if (bundled) {
    const b = stopped ? bundles.pruned : bundles.done;
    t.intermediate.forEach((iv) => b.push({ value: [iv.step, iv.value], n: t.number }));
    b.push({ value: [null, null] });
  }
  const color = stopped ? '#d62728' : PALETTE[k % PALETTE.length];
  const pts = t.intermediate.map((iv, i) => {
    const last = i === t.intermediate.length - 1;
    return { value: [iv.step, iv.value], symbol: stopped && last ? 'triangle' : 'circle', symbolSize: stopped && last ? 10 : 3 };
  });
  if (!bundled) {
    series.push({ name: '#' + t.number + (stopped ? ' pruned' : ''), type: 'line', data: pts, showSymbol: true,
      lineStyle: { width: 1, type: stopped ? 'dashed' : 'solid', color }, itemStyle: { color } });
  }
  if (t.prediction) {
    const lastIv = t.intermediate[t.intermediate.length - 1]!;
    const pred = [[lastIv.step, lastIv.value]].concat(t.prediction.map((p) => [p.step, p.mean]));
    series.push({ name: '#' + t.number + ' predicted', type: 'line', data: pred, showSymbol: true, symbol: 'diamond', symbolSize: 7,
      lineStyle: { width: 2, type: 'dotted', color: '#222' }, itemStyle: { color: '#222' } });
    t.prediction.forEach((p) => {
      if (p.lower === null || p.upper === null) return;
      series.push({ name: '#' + t.number + ' interval', type: 'line', data: [[p.step, p.lower], [p.step, p.upper]], showSymbol: true,
        symbol: 'rect', symbolSize: [10, 2], lineStyle: { width: 2, color: '#222' }, itemStyle: { color: '#222' } });
    });
  }
}

export function renderLearningCurves(e: ReportExperiment): void {
  const withLc = e.trials.filter((t) => t.intermediate.length > 0).slice(-200);
  if (!withLc.length) return empty('chart-lc', 'no intermediate values recorded in this experiment');
  clearEmpty('chart-lc');
  const series: Series[] = [];
  // Many curves: one series per kind (complete, pruned) with gaps between trials, so a redraw costs
  // milliseconds, not a second; a few: one series per trial, each in its own colour.
  const bundled = withLc.length > BUNDLE_CURVES;
  const bundles = { done: [] as Point[], pruned: [] as Point[] };
  withLc.forEach((t, k) => curveSeries(t, k, bundled, bundles, series));
  if (bundled) {
    series.unshift(
      { name: 'complete', type: 'line', data: bundles.done, showSymbol: false, connectNulls: false, lineStyle: { width: 1, color: '#1f77b4', opacity: 0.5 }, itemStyle: { color: '#1f77b4' } },
      { name: 'pruned', type: 'line', data: bundles.pruned, showSymbol: false, connectNulls: false, lineStyle: { width: 1, type: 'dashed', color: '#d62728', opacity: 0.6 }, itemStyle: { color: '#d62728' } });
  }
  chart('chart-lc').setOption({
    animation: false,
    title: { text: 'dashed red, triangle: pruned / early-stopped; dotted: extrapolated prediction', textStyle: { fontSize: 11, fontWeight: 'normal' }, left: 'center' },
    tooltip: {
      trigger: 'item',
      formatter: ((p: TipParam) => (p.data && p.data.n !== undefined ? '#' + p.data.n + ' ' : '') + esc(p.seriesName) + '<br>step ' + fmt(p.value[0], 0) + ': ' + fmt(p.value[1], 4)),
    },
    grid: { left: 60, right: 20, top: 30, bottom: 40 },
    xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 25 },
    yAxis: { type: 'value', name: e.objectiveNames[0], scale: true },
    series: series,
  }, true);
}

export function renderImportance(e: ReportExperiment): void {
  if (!e.importance.length) return empty('chart-importance', 'needs two or more complete trials');
  clearEmpty('chart-importance');
  const imp = e.importance.slice(0, 15).reverse();
  chart('chart-importance').setOption({
    animation: false,
    tooltip: { trigger: 'item', formatter: ((p: TipParam<number>) => esc(p.name) + ': adjusted R\u00b2 ' + fmt(p.value, 3)) },
    grid: { left: 140, right: 30, top: 10, bottom: 40 },
    xAxis: { type: 'value', name: 'adjusted R\u00b2 of marginal means', nameLocation: 'middle', nameGap: 25, min: 0 },
    yAxis: { type: 'category', data: imp.map((i) => (i.param.length > 22 ? i.param.slice(0, 21) + '\u2026' : i.param)) },
    series: [{ type: 'bar', data: imp.map((i) => ({ name: i.param, value: i.r2 })), itemStyle: { color: '#1f77b4' } }],
  }, true);
}

export function renderParallel(e: ReportExperiment): void {
  const done = e.trials.filter((t) => t.state === 'COMPLETE' && t.values && t.values[0] !== null).slice(-PARALLEL_MAX);
  const names = e.importance.slice(0, 8).map((i) => i.param);
  if (done.length < 2 || !names.length) return empty('chart-parallel', 'needs two or more complete trials');
  clearEmpty('chart-parallel');
  const axes: Record<string, unknown>[] = names.map((n, i) => {
    const vals = done.map((t) => t.params[n]);
    const numeric = vals.every((v) => typeof v === 'number' || v === undefined);
    if (numeric) return { dim: i, name: n, type: 'value', scale: true };
    const cats: string[] = [];
    vals.forEach((v) => {
      const k = v === undefined ? '(inactive)' : String(v);
      if (cats.indexOf(k) < 0) cats.push(k);
    });
    return { dim: i, name: n, type: 'category', data: cats.sort() };
  });
  axes.push({ dim: names.length, name: e.objectiveNames[0], type: 'value', scale: true });
  const ys = done.map((t) => t.values![0]!);
  chart('chart-parallel').setOption({
    animation: false,
    parallel: { left: 50, right: 90, top: 40, bottom: 30, parallelAxisDefault: { nameTextStyle: { fontSize: 10 }, axisLabel: { fontSize: 9 } } },
    parallelAxis: axes,
    visualMap: { type: 'continuous', dimension: names.length, min: Math.min.apply(null, ys), max: Math.max.apply(null, ys), right: 0, top: 'middle', itemHeight: 120,
      inverse: e.directions[0] === 'minimize', inRange: { color: ['#d0d7e5', '#1f77b4', '#08306b'] }, textStyle: { fontSize: 9 } },
    series: [{ type: 'parallel', lineStyle: { width: 1, opacity: 0.6 }, data: done.map((t) =>
      names.map((n, i) => {
        const v = t.params[n];
        return axes[i]!.type === 'category' ? (v === undefined ? '(inactive)' : String(v)) : v;
      }).concat([t.values![0]])) }],
  }, true);
}
