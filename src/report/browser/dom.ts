/** DOM, formatting and chart-registry helpers of the report's page script. */
import type * as Echarts from 'echarts';

/** ECharts, from its own <script> (inlined in the file report, loaded async by the dashboard). */
declare const echarts: typeof Echarts | undefined;

export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

/** An element with text (set as textContent, never parsed) and attributes. */
export function el(tag: string, text?: unknown, attrs?: Record<string, string> | null): HTMLElement {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (attrs) for (const k in attrs) e.setAttribute(k, attrs[k]!);
  return e;
}

export function fmt(v: unknown, d?: number): string {
  if (v === null || v === undefined || v === '') return '';
  if (typeof v !== 'number') return String(v);
  if (Math.abs(v) >= 1e6) return v.toExponential(2);
  return v.toFixed(d === undefined ? 2 : d);
}

const SVG = 'http://www.w3.org/2000/svg';

export function svgEl(tag: string, attrs: Record<string, string | number>, text?: unknown): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const k in attrs) e.setAttribute(k, String(attrs[k]));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

export function echartsLoaded(): boolean {
  return typeof echarts !== 'undefined';
}

const charts: Record<string, Echarts.ECharts> = {};

/** The chart drawn in element `id` (made on first use). */
export function chart(id: string): Echarts.ECharts {
  const node = byId(id);
  if (!charts[id]) charts[id] = echarts!.init(node, null, { renderer: 'canvas' });
  return charts[id];
}

/** Replaces a chart by a message. */
export function empty(id: string, message: string): void {
  if (charts[id]) {
    charts[id].dispose();
    delete charts[id];
  }
  const node = byId(id);
  node.textContent = '';
  node.appendChild(el('p', message, { class: 'empty' }));
}

export function clearEmpty(id: string): void {
  const node = byId(id);
  const p = node.querySelector('p.empty');
  if (p) node.removeChild(p);
}

export function resizeCharts(): void {
  for (const k in charts) charts[k]!.resize();
}
