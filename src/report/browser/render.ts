/**
 * Drawing the page: tables and numbers at once; the charts (they cost the most) one per task, so the
 * page answers input between them, redrawn when a summary changed, at most every `chartMs`.
 */
import type { ReportExperiment } from '../data.js';
import { renderArch } from './arch-svg.js';
import { renderAnytime, renderImportance, renderLearningCurves, renderParallel } from './charts.js';
import { echartsLoaded } from './dom.js';
import { renderCost, renderPareto } from './scatter.js';
import { current, state } from './state.js';
import { renderSelect, renderSummary, renderTotals, renderTrials } from './tables.js';

const CHART_MS = 2000;
let chartMs = CHART_MS;
let lastCharts = 0;
let chartTimer: ReturnType<typeof setTimeout> | null = null;

type ChartTask = (e: ReportExperiment | null) => void;
const CHARTS: ChartTask[] = [
  () => renderAnytime(state.data),
  (e) => e && renderLearningCurves(e),
  (e) => e && renderImportance(e),
  (e) => e && renderParallel(e),
  (e) => e && renderCost(e),
  (e) => e && renderPareto(e),
  (e) => e && renderArch(e),
];
let chartQueue: ChartTask[] = [];

/** Draws the charts one per task, so the page answers input between them. */
function renderCharts(): void {
  lastCharts = Date.now();
  if (chartTimer) {
    clearTimeout(chartTimer);
    chartTimer = null;
  }
  const queued = chartQueue.length > 0;
  chartQueue = CHARTS.slice();
  if (queued) return;
  let spent = 0;
  const next = (): void => {
    if (!echartsLoaded()) return void setTimeout(next, 50); // still loading (dashboard)
    const f = chartQueue.shift();
    if (!f) return;
    const t0 = Date.now();
    f(current());
    spent += Date.now() - t0;
    if (chartQueue.length) setTimeout(next, 0);
    // Redraw no more often than every 2 s, nor than 10 times what a redraw costs (big experiments).
    else chartMs = Math.max(CHART_MS, 10 * spent);
  };
  // Let the tables reach the screen first.
  requestAnimationFrame(() => setTimeout(next, 0));
}

/** Tables and numbers now; charts now when `charts`, never when false (only rows changed), else at most every chartMs. */
export function render(charts?: boolean): void {
  renderTotals();
  renderSelect();
  const e = current();
  if (e) {
    renderSummary(e);
    renderTrials(e);
  }
  if (charts === false) {
    /* only rows changed: the next summary redraws the charts */
  } else if (charts === true || Date.now() - lastCharts >= chartMs) renderCharts();
  else if (!chartTimer) chartTimer = setTimeout(renderCharts, chartMs - (Date.now() - lastCharts));
  document.body.setAttribute('data-rendered', state.cursor === null ? 'static' : state.cursor);
}
