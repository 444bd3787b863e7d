/**
 * The page script shared by the static report and the live dashboard, bundled at build time into
 * src/report/client.ts (`npm run build:client`, scripts/bundle-client.ts) and inlined by
 * src/report/html.ts. It reads the data JSON from <script id="tsnas-data">, draws every view with
 * ECharts and SVG, and, when `live` is set, polls /api/data (./live.ts). Every user-supplied string
 * is put in the page with textContent or escaped (tooltips).
 */
import { byId, resizeCharts } from './dom.js';
import { startPolling } from './live.js';
import { render } from './render.js';
import { cfg, state } from './state.js';
import { watchTrialScroll } from './tables.js';

watchTrialScroll();
byId<HTMLSelectElement>('exp-select').addEventListener('change', (ev) => {
  state.selected = Number((ev.target as HTMLSelectElement).value);
  byId('trials-box').scrollTop = 0;
  render(true);
});
window.addEventListener('resize', resizeCharts);
if (cfg.live) startPolling(cfg);
else render(true);
