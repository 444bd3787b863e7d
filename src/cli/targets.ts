/**
 * What `--space` names: a built-in benchmark/space with its evaluator, or a JSON space file with a
 * user objective module (`--objective file.mjs` exporting `objective(trial)` or a default function).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Objective } from '../core/experiment.js';
import { Nb201Evaluator, type Nb201Dataset } from '../estimate/nb201.js';
import { validateSpace, type SearchSpace } from '../space/params.js';
import type { Direction } from '../store/types.js';
import { UsageError } from './errors.js';

export interface Target {
  spaceName: string;
  space: SearchSpace | null;
  objective: Objective;
  directions: Direction[];
  /** Builds a value for the trials table (e.g. the NB201 arch string). */
  describe?: (params: Record<string, unknown>) => string;
  meta?: Record<string, unknown>;
}

export interface TargetOptions {
  space: string;
  objective?: string;
  nb201Dir?: string;
  dataset?: string;
  direction?: string;
}

export async function resolveTarget(o: TargetOptions): Promise<Target> {
  if (o.space === 'nb201') {
    const dataset = (o.dataset ?? 'cifar10') as Nb201Dataset;
    if (dataset !== 'cifar10' && dataset !== 'cifar100') {
      throw new UsageError(`--dataset ${dataset}: the nb201 space has cifar10 and cifar100`);
    }
    const ev = new Nb201Evaluator({ dir: o.nb201Dir, dataset, epochs: 12 });
    return { spaceName: 'nb201', space: ev.space, objective: ev.objective, directions: ['maximize'], meta: { dataset, epochs: 12 } };
  }
  if (o.space.endsWith('.json')) {
    if (!fs.existsSync(o.space)) throw new UsageError(`--space ${o.space}: no such file`);
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(o.space, 'utf8'));
    } catch (e) {
      throw new UsageError(`--space ${o.space}: not valid JSON (${(e as Error).message})`);
    }
    const space = validateSpace(raw, path.basename(o.space));
    if (!o.objective) throw new UsageError(`--space ${o.space} needs --objective FILE.mjs exporting objective(trial)`);
    return { spaceName: path.basename(o.space, '.json'), space, objective: await loadObjective(o.objective), directions: [direction(o.direction)] };
  }
  throw new UsageError(`--space ${o.space}: unknown space; use nb201 or a JSON space file with --objective`);
}

function direction(d: string | undefined): Direction {
  if (d === undefined || d === 'maximize' || d === 'minimize') return d ?? 'maximize';
  throw new UsageError(`--direction ${d}: use maximize or minimize`);
}

export async function loadObjective(file: string): Promise<Objective> {
  if (!fs.existsSync(file)) throw new UsageError(`--objective ${file}: no such file`);
  const mod = (await import(pathToFileURL(path.resolve(file)).href)) as Record<string, unknown>;
  const fn = mod.objective ?? mod.default;
  if (typeof fn !== 'function') throw new UsageError(`--objective ${file}: export a function named objective (or a default export)`);
  return fn as Objective;
}
