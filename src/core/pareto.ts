/**
 * Multi-objective helpers: Pareto dominance, the non-dominated front, non-dominated sorting and
 * crowding distance (NSGA-II), on trials whose objectives have directions.
 */
import type { Direction, TrialRecord } from './store.js';

/** Objective vector turned into "larger is better" for every objective. */
export function maximised(values: readonly number[], directions: readonly Direction[]): number[] {
  return values.map((v, i) => (directions[i] === 'minimize' ? -v : v));
}

/** Whether a dominates b (both already maximised): no worse in all, better in one. */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < b[i]!) return false;
    if (a[i]! > b[i]!) better = true;
  }
  return better;
}

function complete(trials: readonly TrialRecord[], directions: readonly Direction[]): { t: TrialRecord; v: number[] }[] {
  return trials
    .filter((t) => t.state === 'COMPLETE' && t.values && t.values.length === directions.length && t.values.every(Number.isFinite))
    .map((t) => ({ t, v: maximised(t.values!, directions) }));
}

/** Fronts of non-dominated sorting: [0] is the Pareto front. O(M N^2), fine for thousands of trials. */
export function nonDominatedSort(trials: readonly TrialRecord[], directions: readonly Direction[]): TrialRecord[][] {
  const items = complete(trials, directions);
  const n = items.length;
  const dominatedBy = new Array<number>(n).fill(0);
  const dominating: number[][] = items.map(() => []);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (dominates(items[i]!.v, items[j]!.v)) {
        dominating[i]!.push(j);
        dominatedBy[j]!++;
      } else if (dominates(items[j]!.v, items[i]!.v)) {
        dominating[j]!.push(i);
        dominatedBy[i]!++;
      }
    }
  }
  const fronts: TrialRecord[][] = [];
  let current = items.map((_, i) => i).filter((i) => dominatedBy[i] === 0);
  while (current.length > 0) {
    fronts.push(current.map((i) => items[i]!.t));
    const next: number[] = [];
    for (const i of current) {
      for (const j of dominating[i]!) if (--dominatedBy[j]! === 0) next.push(j);
    }
    current = next;
  }
  return fronts;
}

/** The Pareto front (non-dominated COMPLETE trials), ordered by trial number. */
export function paretoFront(trials: readonly TrialRecord[], directions: readonly Direction[]): TrialRecord[] {
  return (nonDominatedSort(trials, directions)[0] ?? []).sort((a, b) => a.number - b.number);
}

/** NSGA-II crowding distance of each trial within one front (Infinity at the extremes). */
export function crowdingDistance(front: readonly TrialRecord[], directions: readonly Direction[]): Map<number, number> {
  const d = new Map<number, number>(front.map((t) => [t.id, 0]));
  if (front.length <= 2) {
    for (const t of front) d.set(t.id, Infinity);
    return d;
  }
  for (let m = 0; m < directions.length; m++) {
    const sorted = [...front].sort((a, b) => a.values![m]! - b.values![m]!);
    const span = sorted.at(-1)!.values![m]! - sorted[0]!.values![m]!;
    d.set(sorted[0]!.id, Infinity);
    d.set(sorted.at(-1)!.id, Infinity);
    if (span === 0) continue;
    for (let i = 1; i < sorted.length - 1; i++) {
      const id = sorted[i]!.id;
      d.set(id, d.get(id)! + (sorted[i + 1]!.values![m]! - sorted[i - 1]!.values![m]!) / span);
    }
  }
  return d;
}
