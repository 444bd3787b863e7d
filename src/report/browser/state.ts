/** The page's state: its configuration and data (from the page's JSON scripts), the live cursor and the selected experiment. */
import type { ReportData, ReportExperiment } from '../data.js';
import { byId } from './dom.js';

export interface PageConfig {
  live: boolean;
  pollMs: number;
}

export const cfg = JSON.parse(byId('tsnas-config').textContent!) as PageConfig;

export const state = {
  data: JSON.parse(byId('tsnas-data').textContent!) as ReportData,
  /** The dashboard's cursor of what the page has (null: nothing read yet, or the static report). */
  cursor: null as string | null,
  /** Id of the experiment shown. */
  selected: null as number | null,
};

/** The selected experiment (else the first; null when there is none). */
export function current(): ReportExperiment | null {
  const exps = state.data.experiments;
  for (let i = 0; i < exps.length; i++) if (exps[i]!.id === state.selected) return exps[i]!;
  return exps[0] || null;
}
