/** Efficacy reports: accounting, importance, architecture drawings and the self-contained HTML page. */
import { writeFileAtomic } from '../util/output.js';
import { buildReportData, type ReportOptions, type StoreView } from './data.js';
import { renderPage } from './html.js';

export * from './efficacy.js';
export * from './importance.js';
export * from './data.js';
export { archLayout, nb201CellGraph, layoutGraph, type ArchLayout } from './arch.js';
export { renderPage, safeJson, escapeHtml } from './html.js';

/** Writes the self-contained HTML report of a store to `out`; returns the data it holds. */
export async function writeReport(store: StoreView, out: string, opts: ReportOptions) {
  const data = await buildReportData(store, opts);
  writeFileAtomic(out, renderPage(data)); // a full disk leaves no truncated report

  return data;
}
