/**
 * Objective specs: a serialisable name for an objective that any process can turn back into a
 * function (a child of the local pool, a `tsnas worker` on another machine). Paths in a spec must be
 * valid where the objective runs (shared file system), or left out where the worker has a default.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Objective } from '../core/experiment.js';
import { FmCellsEvaluator, type FmCellsRungMetric } from '../estimate/fm-cells.js';
import { Nb201Evaluator, type Nb201Dataset, type Nb201Epochs } from '../estimate/nb201.js';
import type { TrainingSetup } from '../estimate/train-setup.js';
import { jobObjective, type JobObjective } from '../strategy/schedulers/job.js';

export type ObjectiveSpec =
  /** NAS-Bench-201 tabular objective; `dir` omitted: the worker's TSNAS_NB201_DIR or default folder. */
  | { kind: 'nb201'; dataset: Nb201Dataset; epochs?: Nb201Epochs; dir?: string }
  /** The fm-cells learning-curve table (every epoch a fidelity); `file` omitted: the committed table; `rungMetric`: what a job below 10 epochs returns. */
  | { kind: 'fm-cells'; file?: string; rungMetric?: FmCellsRungMetric }
  /** A module exporting an objective function (`exportName`, else `objective`, else default). */
  | { kind: 'module'; file: string; exportName?: string }
  /** Real training of an architecture space (data loaded and evaluator built in the trial process). */
  | { kind: 'train'; setup: TrainingSetup }
  /**
   * The inner objective run at each trial's multi-fidelity job (`system.job`, stored by a scheduler
   * strategy): NB201 trains to the job's 12/200 epochs, training continues to `job.budget` epochs
   * (from the parent's checkpoint when this process has it), a module exports `jobObjective(trial, job)`.
   */
  | { kind: 'jobs'; objective: ObjectiveSpec };

export class ObjectiveSpecError extends Error {
  override name = 'ObjectiveSpecError';
  readonly userError = true;
}

const cache = new Map<string, Promise<Objective>>();

let redact = process.env.TSNAS_REDACT_DATA_ERRORS === '1';
/**
 * On a queue worker, errors while loading a job's data go to this process's stderr in full, and the
 * job's error (which whoever can read the queue sees) only names the dataset: a parse error can quote
 * the file (a CSV header line). Pool children of a worker get it through TSNAS_REDACT_DATA_ERRORS=1.
 */
export function redactDataErrors(on: boolean): void {
  redact = on;
}

async function trainingEvaluator(setup: TrainingSetup) {
  const { createTrainingEvaluator } = await import('../estimate/train-setup.js');
  try {
    return (await createTrainingEvaluator(setup)).evaluator;
  } catch (e) {
    if (!redact) throw e;
    console.error(`tsnas worker: dataset ${setup.dataset}: ${(e as Error).message}`);
    throw new ObjectiveSpecError(
      `dataset ${setup.dataset} could not be loaded on this worker (${(e as Error).name}); the worker's log has the details (data is not echoed through the queue)`,
    );
  }
}

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
  if (spec.kind === 'fm-cells') return new FmCellsEvaluator({ file: spec.file }).objective;
  if (spec.kind === 'train') return (await trainingEvaluator(spec.setup)).objective;
  if (spec.kind === 'module') return exported(spec, await loadModule(spec.file), spec.exportName ?? ['objective', 'default']) as Objective;
  if (spec.kind === 'jobs') return jobObjective(await loadJobObjective(spec.objective));
  throw new ObjectiveSpecError(`unknown objective spec ${JSON.stringify(spec)}`);
}

async function loadJobObjective(spec: ObjectiveSpec): Promise<JobObjective> {
  if (spec.kind === 'nb201') {
    const ev = new Nb201Evaluator({ dir: spec.dir, dataset: spec.dataset });
    return (trial, job) => ev.trainTo(trial, job.budget as Nb201Epochs, job.previousBudget as 0 | Nb201Epochs);
  }
  if (spec.kind === 'fm-cells') {
    const ev = new FmCellsEvaluator({ file: spec.file, rungMetric: spec.rungMetric });
    return (trial, job) => ev.trainTo(trial, job.budget, job.previousBudget);
  }
  if (spec.kind === 'train') {
    const { trainingJobObjective } = await import('../estimate/train-jobs.js');
    return trainingJobObjective(await trainingEvaluator(spec.setup)).objective;
  }
  if (spec.kind === 'module') return exported(spec, await loadModule(spec.file), ['jobObjective']) as JobObjective;
  throw new ObjectiveSpecError(`objective spec ${JSON.stringify(spec)} cannot run multi-fidelity jobs`);
}

async function loadModule(file: string): Promise<Record<string, unknown>> {
  if (!fs.existsSync(file)) throw new ObjectiveSpecError(`objective module ${file}: no such file on this machine`);
  return (await import(pathToFileURL(path.resolve(file)).href)) as Record<string, unknown>;
}

/** The first function exported under one of `names`. */
function exported(spec: { file: string }, mod: Record<string, unknown>, names: string | string[]): (...a: never[]) => unknown {
  const list = typeof names === 'string' ? [names] : names;
  for (const n of list) if (typeof mod[n] === 'function') return mod[n] as (...a: never[]) => unknown;
  throw new ObjectiveSpecError(`objective module ${spec.file}: export a function named ${list.join(' (or ')}${list.length > 1 ? ')' : ''}`);
}

/** The spec for what the CLI's `--space`/`--objective` name (see cli/targets.ts). */
export function objectiveSpecFor(o: { space: string; objective?: string; nb201Dir?: string; dataset?: string }): ObjectiveSpec {
  if (o.space === 'nb201') {
    return { kind: 'nb201', dataset: (o.dataset ?? 'cifar10') as Nb201Dataset, epochs: 12, ...(o.nb201Dir ? { dir: path.resolve(o.nb201Dir) } : {}) };
  }
  if (o.space === 'fm-cells') return { kind: 'fm-cells' };
  if (!o.objective) throw new ObjectiveSpecError(`--space ${o.space} needs --objective FILE`);
  return { kind: 'module', file: path.resolve(o.objective) };
}
