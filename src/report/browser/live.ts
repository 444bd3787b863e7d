/**
 * The dashboard's live page: polls /api/data every `pollMs` with the cursor of what it has and merges
 * the changed trials and summaries it gets back (src/dashboard/live.ts sends them).
 */
import type { ExperimentSummary, LiveDelta, ReportExperiment, ReportTrial } from '../data.js';
import { byId } from './dom.js';
import { render } from './render.js';
import { type PageConfig, state } from './state.js';

/** Row index by trial id, per experiment id. */
let trialIndex: Record<number, Record<number, number>> = {};

/** Merges a /api/data answer into the page's data: summaries replaced, trial rows added or replaced by id; says whether a summary changed. */
function merge(msg: LiveDelta): boolean {
  const { data } = state;
  if (msg.reset) {
    data.experiments = [];
    trialIndex = {};
  }
  const byExp: Record<number, ReportExperiment> = {};
  data.experiments.forEach((e) => (byExp[e.id] = e));
  let summaryChanged = msg.reset;
  msg.experiments.forEach((m) => {
    let e = byExp[m.id];
    if (!e) {
      e = byExp[m.id] = { trials: [] } as unknown as ReportExperiment;
      trialIndex[m.id] = {};
    }
    const target = e as unknown as Record<string, unknown>;
    for (const k in m) {
      if (k !== 'trials') {
        target[k] = (m as Record<string, unknown>)[k];
        if (k !== 'id') summaryChanged = true;
      }
    }
    if (addRows(e, m.trials, trialIndex[m.id]!)) {
      e.trials.sort((a, b) => a.number - b.number);
      const index: Record<number, number> = (trialIndex[m.id] = {});
      e.trials.forEach((t, i) => (index[t.id] = i));
    }
  });
  data.experiments = msg.order.map((id) => byExp[id]!).filter(Boolean);
  data.storage = msg.storage;
  data.generatedAt = msg.generatedAt;
  data.costPerHour = msg.costPerHour;
  data.totalTrials = msg.totalTrials;
  state.cursor = msg.cursor;
  return summaryChanged;
}

/** Replaces known rows, appends new ones; true when they arrived out of trial order (the caller sorts). */
function addRows(e: ReportExperiment, rows: ReportTrial[], index: Record<number, number>): boolean {
  let unsorted = false;
  rows.forEach((t) => {
    const i = index[t.id];
    if (i !== undefined) {
      e.trials[i] = t;
      return;
    }
    if (e.trials.length && e.trials[e.trials.length - 1]!.number > t.number) unsorted = true;
    index[t.id] = e.trials.length;
    e.trials.push(t);
  });
  return unsorted;
}

/** Polls /api/data for good (every pollMs; a failed poll is said in the status line and retried). */
export function startPolling(cfg: PageConfig): void {
  const status = byId('live-status');
  const roundTrips: number[] = ((window as unknown as { tsnasRoundTrips: number[] }).tsnasRoundTrips = []);
  const poll = (): void => {
    const url = 'api/data' + (state.cursor === null ? '' : '?since=' + encodeURIComponent(state.cursor));
    let wait = cfg.pollMs;
    const asked = performance.now();
    // The first request matches the page's preload (same URL, default cache mode); later ones bypass caches.
    fetch(url, state.cursor === null ? {} : { cache: 'no-store' })
      .then((r): Promise<LiveDelta> | null => {
        if (r.status === 204) return null;
        if (!r.ok) return r.text().then((t) => { throw new Error('HTTP ' + r.status + ' ' + t.slice(0, 200)); });
        return r.json() as Promise<LiveDelta>;
      })
      .then((msg) => {
        status.textContent = 'live, updated ' + new Date().toLocaleTimeString() + (msg && msg.warning ? ' (retrying: ' + msg.warning + ')' : '');
        if (msg) {
          const first = state.cursor === null;
          const charts = merge(msg);
          render(first ? true : charts ? undefined : false);
          // For the scale test (and anyone curious): when the first data was on screen, and each poll's
          // time from request to its rows drawn, in ms.
          if (first) requestAnimationFrame(() => setTimeout(() => document.body.setAttribute('data-first-paint', String(Math.round(performance.now()))), 0));
          roundTrips.push(Math.round(performance.now() - asked));
          if (roundTrips.length > 100) roundTrips.shift();
        } else if (state.cursor === null) wait = 200; // nothing read yet: ask again soon
      })
      .catch((err: Error) => {
        status.textContent = 'live, retrying (' + err.message + ')';
      })
      .then(() => setTimeout(poll, wait));
  };
  poll();
}
