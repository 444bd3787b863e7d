/** The report's scatter charts: trial cost against value, and the Pareto front (or the objective per trial). */
import type { ReportExperiment, ReportTrial } from '../data.js';
import type { TipParam } from './charts.js';
import { byId, chart, clearEmpty, empty, esc, fmt } from './dom.js';

/** Scatter charts show the latest this many finished trials (and say so). */
const SCATTER_MAX = 3000;

export function renderCost(e: ReportExperiment): void {
  let fin = e.trials.filter((t) => t.state !== 'RUNNING' && t.state !== 'WAITING');
  const all = fin.length;
  fin = fin.slice(-SCATTER_MAX);
  if (!fin.length) return empty('chart-cost', 'no finished trial yet');
  clearEmpty('chart-cost');
  const sim = e.totals.computeAxis === 'simulated';
  const states = ['COMPLETE', 'PRUNED', 'FAILED'] as const;
  const colors = { COMPLETE: '#1f77b4', PRUNED: '#d62728', FAILED: '#999' };
  chart('chart-cost').setOption({
    animation: false,
    legend: { top: 0 },
    title: all > fin.length ? { text: 'latest ' + fin.length + ' of ' + all + ' trials', right: 0, top: 0, textStyle: { fontSize: 11, fontWeight: 'normal' } } : undefined,
    tooltip: { trigger: 'item', formatter: ((p: TipParam) => '#' + p.data.n + ' ' + esc(p.seriesName) + '<br>' + fmt(p.value[0], 2) + ' s, ' + fmt(p.value[1], 4)) },
    grid: { left: 60, right: 20, top: 40, bottom: 50 },
    xAxis: { type: 'value', name: sim ? 'simulated training seconds per trial' : 'wall seconds per trial', nameLocation: 'middle', nameGap: 28, scale: true },
    yAxis: { type: 'value', name: e.objectiveNames[0] + ' (last value)', scale: true },
    series: states.map((st) => ({
      name: st, type: 'scatter', symbolSize: 6, large: true, largeThreshold: 2000, itemStyle: { color: colors[st] },
      data: fin.filter((t) => t.state === st && t.values && t.values[0] !== null).map((t) => ({ n: t.number, value: [t.efficacy.trainSeconds, t.values![0]] })),
    })),
  }, true);
}

export function renderPareto(e: ReportExperiment): void {
  let done = e.trials.filter((t) => t.state === 'COMPLETE' && t.values && t.values[0] !== null);
  if (!e.paretoFront && done.length > SCATTER_MAX) done = done.slice(-SCATTER_MAX);
  const title = byId('pareto-title');
  if (!done.length) {
    title.textContent = 'Objectives';
    return empty('chart-pareto', 'no complete trial yet');
  }
  clearEmpty('chart-pareto');
  const tip = { trigger: 'item' as const, formatter: ((p: TipParam) => esc(p.seriesName) + ' #' + p.data.n + '<br>' + p.value.map((v) => fmt(v, 4)).join(', ')) };
  if (e.paretoFront) return renderFront(e, e.paretoFront, done, tip);
  title.textContent = 'Objective per trial' + (done.length === SCATTER_MAX ? ' (latest ' + SCATTER_MAX + ')' : '');
  chart('chart-pareto').setOption({
    animation: false, tooltip: tip,
    grid: { left: 60, right: 20, top: 20, bottom: 50 },
    xAxis: { type: 'value', name: 'trial', nameLocation: 'middle', nameGap: 28 },
    yAxis: { type: 'value', scale: true, name: e.objectiveNames[0] },
    series: [{ name: 'trial', type: 'scatter', symbolSize: 6, large: true, largeThreshold: 2000, data: done.map((t) => ({ n: t.number, value: [t.number, t.values![0]] })) }],
  }, true);
}

/** Two objectives: every complete trial, the front drawn as a dashed line. */
function renderFront(e: ReportExperiment, paretoFront: number[], done: ReportTrial[], tip: object): void {
  byId('pareto-title').textContent = 'Pareto front';
  const front: Record<number, number> = {};
  paretoFront.forEach((n) => (front[n] = 1));
  const pt = (t: ReportTrial) => ({ n: t.number, value: [t.values![0]!, t.values![1]!] });
  const fr = done.filter((t) => front[t.number]).map(pt).sort((a, b) => a.value[0]! - b.value[0]!);
  chart('chart-pareto').setOption({
    animation: false, tooltip: tip, legend: { top: 0 },
    grid: { left: 60, right: 20, top: 40, bottom: 50 },
    xAxis: { type: 'value', scale: true, name: e.objectiveNames[0] + ' (' + e.directions[0] + ')', nameLocation: 'middle', nameGap: 28 },
    yAxis: { type: 'value', scale: true, name: e.objectiveNames[1] + ' (' + e.directions[1] + ')' },
    series: [
      { name: 'trials', type: 'scatter', symbolSize: 6, large: true, largeThreshold: 2000, itemStyle: { color: '#aaa' }, data: done.filter((t) => !front[t.number]).map(pt) },
      { name: 'Pareto front', type: 'line', step: false, symbolSize: 9, itemStyle: { color: '#d62728' }, lineStyle: { type: 'dashed' }, data: fr },
    ],
  }, true);
}
