/**
 * The dashboard's model process: polls the storage every `watchMs` (one pragma when unchanged), sends
 * the changed trial rows at once and fresh experiment summaries at most every `summaryMs` (and never
 * more often than three times the last summary took, so a big storage under constant writes leaves
 * the CPU mostly idle). Messages go to the server over IPC; it exits with its parent.
 */
import { LiveModel, type ModelChanges } from './model.js';
import { isTransient, StorageReader } from './reader.js';
import type { ExperimentSummary } from '../report/data.js';

export interface ModelConfig {
  file: string;
  names?: string[];
  costPerHour?: number;
  watchMs: number;
  summaryMs: number;
}

export type ModelMsg =
  | { type: 'update'; changes: ModelChanges | null; summaries: ExperimentSummary[] }
  | { type: 'warning'; message: string }
  | { type: 'error'; message: string };

const cfg = JSON.parse(process.argv[2]!) as ModelConfig;
const send = (m: ModelMsg) => process.send?.(m);
let reader: StorageReader | null = null;
let model: LiveModel | null = null;
let lastSummaryAt = 0;
let lastSummaryMs = 0;

async function tick(): Promise<void> {
  try {
    reader ??= new StorageReader(cfg.file);
    model ??= new LiveModel(reader, { names: cfg.names, costPerHour: cfg.costPerHour });
    const changes = model.poll();
    let summaries: ExperimentSummary[] = [];
    const due = Date.now() - lastSummaryAt >= Math.max(cfg.summaryMs, 3 * lastSummaryMs);
    if (model.unsummarized || changes?.reset || (model.dirty && due)) {
      const t0 = Date.now();
      summaries = await model.summaries();
      lastSummaryAt = Date.now();
      lastSummaryMs = lastSummaryAt - t0;
    }
    if (changes || summaries.length) send({ type: 'update', changes, summaries });
  } catch (e) {
    if (!isTransient(e)) {
      send({ type: 'error', message: (e as Error).message });
      process.exit(1);
    }
    send({ type: 'warning', message: (e as Error).message }); // busy: try again on the next tick
  }
  setTimeout(() => void tick(), cfg.watchMs);
}

process.on('disconnect', () => process.exit(0));
void tick();
