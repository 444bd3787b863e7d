/**
 * The page's tables: efficacy totals, the experiment selector and summary, and the trial table,
 * which is virtual: only the rows in view (plus a margin) are in the DOM, so 12,000 trials cost what 40 do.
 */
import type { ReportExperiment, ReportTrial } from '../data.js';
import { byId, el, fmt } from './dom.js';
import { state } from './state.js';

export function renderTotals(): void {
  const { data } = state;
  const tb = document.querySelector('#totals tbody')!;
  tb.textContent = '';
  data.experiments.forEach((e) => {
    const t = e.totals;
    const tr = el('tr');
    [e.name, e.strategy, t.trials, t.complete, t.pruned, t.failed, fmt(t.wallSeconds), fmt(t.cpuSeconds), fmt(t.simulatedSeconds, 0),
      fmt(t.flops), t.maxPeakMemoryBytes === null ? '' : fmt(t.maxPeakMemoryBytes / 1048576, 1) + ' MiB', t.backends.join(', '),
      fmt(t.billedHours, 3) + ' ' + t.billedAs, t.cost === null ? '' : fmt(t.cost, 2)].forEach((v) => tr.appendChild(el('td', v)));
    tb.appendChild(tr);
  });
  byId('total-trials').textContent = String(data.totalTrials);
  byId('generated').textContent = data.generatedAt;
  byId('storage').textContent = data.storage;
}

export function renderSelect(): void {
  const { data } = state;
  const sel = byId<HTMLSelectElement>('exp-select');
  sel.textContent = '';
  data.experiments.forEach((e) => {
    sel.appendChild(el('option', e.name + ' (' + e.strategy + ', ' + e.trials.length + ' trials)', { value: String(e.id) }));
  });
  if (state.selected === null && data.experiments.length) state.selected = data.experiments[0]!.id;
  sel.value = String(state.selected);
}

export function renderSummary(e: ReportExperiment): void {
  byId('exp-name').textContent = e.name;
  byId('trial-count').textContent = String(e.trials.length);
  byId('exp-strategy').textContent = e.strategy + (e.spaceName ? ' on ' + e.spaceName : '');
  byId('exp-best').textContent = e.best
    ? '#' + e.best.number + ' ' + e.best.values.map((v) => fmt(v, 4)).join(', ') + ' ' + JSON.stringify(e.best.params)
    : 'none yet';
}

const table = { rows: [] as ReportTrial[], rowH: 0, frame: 0 };

function trialRow(t: ReportTrial): HTMLElement {
  const f = t.efficacy;
  const tr = el('tr', null, { 'data-tid': String(t.id), class: 'row state-' + t.state });
  [t.number, t.state, t.values ? t.values.map((v) => fmt(v, 4)).join(', ') : '', JSON.stringify(t.params), f.fidelity,
    fmt(f.trainSeconds, 1), fmt(f.wallSeconds, 3), fmt(f.cpuSeconds, 3), fmt(f.flops), fmt(f.params, 0), f.backend, t.error].forEach((v, i) => {
    const td = el('td', v, i === 3 || i === 11 ? { class: 'clip' } : null);
    if ((i === 3 || i === 11) && v) td.setAttribute('title', String(v));
    tr.appendChild(td);
  });
  return tr;
}

function spacer(h: number): HTMLElement {
  const tr = el('tr', null, { class: 'spacer' });
  tr.appendChild(el('td', null, { colspan: '12', style: 'height:' + h + 'px' }));
  return tr;
}

/** Draws the rows in view of the scroll box (newest first), with spacers standing for the others. */
function drawTrialRows(): void {
  table.frame = 0;
  const box = byId('trials-box');
  const tb = document.querySelector('#trials tbody')!;
  const n = table.rows.length;
  const h = table.rowH || 24;
  const first = Math.max(0, Math.floor(box.scrollTop / h) - 10);
  const last = Math.min(n, first + Math.ceil((box.clientHeight || 420) / h) + 20);
  tb.textContent = '';
  if (first > 0) tb.appendChild(spacer(first * h));
  for (let i = first; i < last; i++) tb.appendChild(trialRow(table.rows[n - 1 - i]!));
  if (last < n) tb.appendChild(spacer((n - last) * h));
  if (!table.rowH && last > first) {
    table.rowH = tb.querySelector('tr.row')!.getBoundingClientRect().height || 24;
    if (Math.abs(table.rowH - h) > 0.5) drawTrialRows();
  }
}

export function renderTrials(e: ReportExperiment): void {
  table.rows = e.trials;
  drawTrialRows();
}

/** Redraws the rows in view once per frame while the table scrolls. */
export function watchTrialScroll(): void {
  byId('trials-box').addEventListener('scroll', () => {
    if (!table.frame) table.frame = requestAnimationFrame(drawTrialRows);
  });
}
