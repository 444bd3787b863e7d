/**
 * The self-contained report page: ECharts inlined from node_modules, the data embedded as JSON in a
 * non-executed <script type="application/json"> (with <, >, &, U+2028/9 escaped so no string can end
 * the script element), and the page script of ./client.ts. Opens from disk with no network access.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { CLIENT_JS } from './client.js';
import type { ReportData } from './data.js';

const require = createRequire(import.meta.url);
let echartsSource: string | null = null;

/** The minified ECharts bundle, made safe to inline in a <script> element. */
export function echartsJs(): string {
  if (echartsSource === null) {
    const file = require.resolve('echarts/dist/echarts.min.js');
    echartsSource = fs.readFileSync(file, 'utf8').replace(/<\/(script)/gi, '<\\/$1');
  }
  return echartsSource;
}

/** JSON that is safe inside a <script> element and in any JS string context. */
export function safeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface PageOptions {
  /** The dashboard: the page starts from `data` (empty) and asks /api/data for the rest. */
  live?: boolean;
  pollMs?: number;
  /** Where ECharts comes from: inlined (default, for the file report) or a URL the server serves. */
  echartsSrc?: string;
}

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 24px 40px; color: #222; }
h1 { font-size: 22px; margin: 16px 0 4px; } h2 { font-size: 16px; margin: 22px 0 6px; }
.meta { color: #666; font-size: 12px; overflow-wrap: anywhere; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; vertical-align: top; max-width: 420px; overflow-wrap: anywhere; }
th { background: #f4f4f4; position: sticky; top: 0; }
td { white-space: nowrap; } td.wrap { white-space: normal; min-width: 240px; }
#trials td { overflow: hidden; text-overflow: ellipsis; } #trials td.clip { max-width: 360px; min-width: 120px; }
#trials tr.spacer td { padding: 0; border: 0; }
.chart { width: 100%; height: 340px; }
.grid2 { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; }
.scroll { max-height: 420px; overflow: auto; }
.empty { color: #888; font-style: italic; padding: 20px; }
tr.state-PRUNED td { color: #b03a2e; } tr.state-FAILED td { color: #888; }
#arch { overflow: auto; min-height: 120px; max-height: 900px; }
#arch svg { max-width: 100%; height: auto; }
#live-status { color: #2a7; font-size: 12px; }
`;

export function renderPage(data: ReportData, opts: PageOptions = {}): string {
  const config = { live: opts.live === true, pollMs: opts.pollMs ?? 1000 };
  // Served (the dashboard): loaded async, so the tables paint without waiting for 1 MB of chart code.
  const echarts = opts.echartsSrc
    ? `<script src="${escapeHtml(opts.echartsSrc)}" async></script>`
    : `<script>${echartsJs()}</script>`;
  // The dashboard's first /api/data is fetched while the page and ECharts load.
  const preload = config.live ? '<link rel="preload" href="api/data" as="fetch" crossorigin="anonymous">\n' : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}${config.live ? ' (live)' : ''}</title>
${preload}<style>${CSS}</style>
</head>
<body>
<h1>${escapeHtml(data.title)}</h1>
<div class="meta">storage <span id="storage"></span>, generated <span id="generated"></span>, <b id="total-trials"></b> trials in total
${config.live ? '<span id="live-status">live</span>' : ''}</div>

<h2>Efficacy per experiment</h2>
<div class="scroll"><table id="totals"><thead><tr><th>experiment</th><th>strategy</th><th>trials</th><th>complete</th><th>pruned</th>
<th>failed</th><th>wall s</th><th>CPU s</th><th>simulated s</th><th>FLOPs (sum)</th><th>peak memory</th><th>backends</th><th>billed</th>
<th>cost${data.costPerHour === null ? '' : ` (${escapeHtml(String(data.costPerHour))}/h)`}</th></tr></thead><tbody></tbody></table></div>

<h2>Anytime performance: best so far vs compute</h2>
<div id="chart-anytime" class="chart"></div>

<h2>Experiment <select id="exp-select"></select></h2>
<div class="meta"><b id="exp-name"></b>: <span id="exp-strategy"></span>, <b id="trial-count"></b> trials; best <span id="exp-best"></span></div>
<div class="grid2">
  <div><h2>Learning curves</h2><div id="chart-lc" class="chart"></div></div>
  <div><h2>Parameter importance</h2><div id="chart-importance" class="chart"></div></div>
  <div><h2>Parallel coordinates (most important parameters)</h2><div id="chart-parallel" class="chart"></div></div>
  <div><h2>Trial cost</h2><div id="chart-cost" class="chart"></div></div>
  <div><h2 id="pareto-title">Pareto front</h2><div id="chart-pareto" class="chart"></div></div>
  <div><h2 id="arch-title">Best architecture</h2><div id="arch"></div></div>
</div>

<h2>Trials</h2>
<div class="scroll" id="trials-box"><table id="trials"><thead><tr><th>#</th><th>state</th><th>values</th><th>params</th><th>fidelity</th><th>train s</th>
<th>wall s</th><th>CPU s</th><th>FLOPs</th><th>params</th><th>backend</th><th>error</th></tr></thead><tbody></tbody></table></div>

${echarts}
<script type="application/json" id="tsnas-config">${safeJson(config)}</script>
<script type="application/json" id="tsnas-data">${safeJson(data)}</script>
<script>${CLIENT_JS}</script>
</body>
</html>
`;
}
