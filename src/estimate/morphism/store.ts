/**
 * Trained weights as trial artifacts: `<key>/weights.bin` (encodeWeights: JSON manifest + float32
 * data) and `<key>/graph.json` (the ArchGraph the weights belong to), in any `ArtifactStore`
 * (src/store/artifacts.ts: a shared directory, or Redis for small models). The key is `trial-<n>` for
 * a trial number, or a given string (e.g. `experiment-2/trial-5`).
 */
import type { ArtifactStore } from '../../store/artifacts.js';
import type { ArchGraph } from '../../space/arch/graph.js';
import { decodeWeights, encodeWeights, type GraphWeights } from './weights.js';

export const trialKey = (trial: number) => `trial-${trial}`;
const keyOf = (trial: number | string) => (typeof trial === 'number' ? trialKey(trial) : trial);

export async function saveTrialWeights(store: ArtifactStore, trial: number | string, graph: ArchGraph, weights: GraphWeights): Promise<void> {
  const k = keyOf(trial);
  await store.put(`${k}/weights.bin`, encodeWeights(weights));
  // graph.json last: a reader that sees it also sees the weights.
  await store.put(`${k}/graph.json`, new TextEncoder().encode(JSON.stringify({ nodes: graph.nodes })));
}

export async function loadTrialWeights(store: ArtifactStore, trial: number | string): Promise<{ graph: ArchGraph; weights: GraphWeights } | null> {
  const k = keyOf(trial);
  const g = await store.get(`${k}/graph.json`);
  if (!g) return null;
  const w = await store.get(`${k}/weights.bin`);
  if (!w) return null;
  return { graph: JSON.parse(g.toString('utf8')) as ArchGraph, weights: decodeWeights(w) };
}

export async function hasTrialWeights(store: ArtifactStore, trial: number | string): Promise<boolean> {
  return store.has(`${keyOf(trial)}/graph.json`);
}
