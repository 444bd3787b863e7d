/**
 * Objective specs: a serialisable name for an objective that any process can turn back into a
 * function (a child of the local pool, a `tsnas worker` on another machine). Paths in a spec must be
 * valid where the objective runs (shared file system), or left out where the worker has a default.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Objective } from '../core/experiment.js';
import { Nb201Evaluator, type Nb201Dataset, type Nb201Epochs } from '../estimate/nb201.js';
import type { TrainingSetup } from '../estimate/train-setup.js';

export type ObjectiveSpec =
  /** NAS-Bench-201 tabular objective; `dir` omitted: the worker's TSNAS_NB201_DIR or default folder. */
  | { kind: 'nb201'; dataset: Nb201Dataset; epochs?: Nb201Epochs; dir?: string }
  /** A module exporting an objective function (`exportName`, else `objective`, else default). */
  | { kind: 'module'; file: string; exportName?: string }
  /** Real training of an architecture space (data loaded and evaluator built in the trial process). */
  | { kind: 'train'; setup: TrainingSetup };

export class ObjectiveSpecError extends Error {
  override name = 'ObjectiveSpecError';
  readonly userError = true;
}

const cache = new Map<string, Promise<Objective>>();

/** Turns a spec into an objective (cached per process). */
export function resolveObjectiveSpec(spec: ObjectiveSpec): Promise<Objective> {
  const key = JSON.stringify(spec);
  let hit = cache.get(key);
  if (!hit) {
    hit = load(spec);
    hit.catch(() => cache.delete(key));
    cache.set(key, hit);
  }
  return hit;
}

async function load(spec: ObjectiveSpec): Promise<Objective> {
  if (spec.kind === 'nb201') {
    return new Nb201Evaluator({ dir: spec.dir, dataset: spec.dataset, epochs: spec.epochs ?? 12 }).objective;
  }
  if (spec.kind === 'train') {
    const { createTrainingEvaluator } = await import('../estimate/train-setup.js');
    return (await createTrainingEvaluator(spec.setup)).evaluator.objective;
  }
  if (spec.kind === 'module') {
    if (!fs.existsSync(spec.file)) throw new ObjectiveSpecError(`objective module ${spec.file}: no such file on this machine`);
    const mod = (await import(pathToFileURL(path.resolve(spec.file)).href)) as Record<string, unknown>;
    const fn = spec.exportName ? mod[spec.exportName] : (mod.objective ?? mod.default);
    if (typeof fn !== 'function') {
      throw new ObjectiveSpecError(`objective module ${spec.file}: export a function named ${spec.exportName ?? 'objective (or a default export)'}`);
    }
    return fn as Objective;
  }
  throw new ObjectiveSpecError(`unknown objective spec ${JSON.stringify(spec)}`);
}

/** The spec for what the CLI's `--space`/`--objective` name (see cli/targets.ts). */
export function objectiveSpecFor(o: { space: string; objective?: string; nb201Dir?: string; dataset?: string }): ObjectiveSpec {
  if (o.space === 'nb201') {
    return { kind: 'nb201', dataset: (o.dataset ?? 'cifar10') as Nb201Dataset, epochs: 12, ...(o.nb201Dir ? { dir: path.resolve(o.nb201Dir) } : {}) };
  }
  if (!o.objective) throw new ObjectiveSpecError(`--space ${o.space} needs --objective FILE`);
  return { kind: 'module', file: path.resolve(o.objective) };
}
