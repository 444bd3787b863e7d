/**
 * What a `tsnas worker` agrees to run. Anyone who can write to the Redis queue can submit jobs, so a
 * worker only imports objective modules on its allow-list and only reads data under its data roots,
 * both given when it starts (`--allow-module`, `--data-root`); a job naming anything else is failed
 * with a one-line error before any file is opened. Paths are compared after resolving symbolic links
 * and `..`, so neither escapes a root. Built-in objectives (NAS-Bench-201 from the worker's own
 * folder, named datasets) need no permission. The refusal reads the same whether or not the named file
 * exists, and errors while loading data never carry the data's contents (see redactDataErrors).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DATASET_NAMES } from '../data/registry.js';
import type { ObjectiveSpec } from './objective-spec.js';

export interface WorkerTrust {
  /** Objective module files, or folders whose modules (at any depth) may be imported. */
  allowModules?: readonly string[];
  /** Folders under which a job's data (CSV datasets, NB201 tables, inherited weights) may be read. */
  dataRoots?: readonly string[];
}

export class UntrustedJob extends Error {
  override name = 'UntrustedJob';
  readonly userError = true;
}

/** Real absolute paths of allow-list entries; a missing entry is a start-up error naming the option. */
export function resolveTrust(t: WorkerTrust): { modules: string[]; data: string[] } {
  const real = (p: string, option: string): string => {
    try {
      return fs.realpathSync(path.resolve(p));
    } catch {
      throw new UntrustedJob(`${option} ${p}: no such file or folder on this machine`);
    }
  };
  return {
    modules: (t.allowModules ?? []).map((p) => real(p, '--allow-module')),
    data: (t.dataRoots ?? []).map((p) => real(p, '--data-root')),
  };
}

/** The real path of `p` when it exists (symbolic links resolved), else its absolute form. */
function realOrResolved(p: string): string {
  const abs = path.resolve(p);
  try {
    return fs.realpathSync(abs);
  } catch {
    return abs;
  }
}

function inside(p: string, root: string): boolean {
  if (p === root) return true;
  const rel = path.relative(root, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Throws UntrustedJob unless everything `spec` would import or read is allowed by `trust`. */
export function checkTrusted(spec: ObjectiveSpec, trust: { modules: string[]; data: string[] }): void {
  if (!spec || typeof spec !== 'object') throw new UntrustedJob('the job carries no objective spec');
  const data = (p: unknown, what: string) => {
    if (typeof p !== 'string' || p === '') throw new UntrustedJob(`${what}: the job gives no path`);
    if (!trust.data.some((r) => inside(realOrResolved(p), r))) {
      throw new UntrustedJob(`${what} ${p} is outside this worker's data roots; start the worker with --data-root FOLDER (a folder holding it) to allow it`);
    }
  };
  switch (spec.kind) {
    case 'nb201':
      if (spec.dir !== undefined) data(spec.dir, 'NAS-Bench-201 folder');
      return;
    case 'fm-cells':
      if (spec.file !== undefined) data(spec.file, 'fm-cells table');
      return;
    case 'module':
      if (typeof spec.file !== 'string' || spec.file === '') throw new UntrustedJob('objective module: the job gives no file');
      if (!trust.modules.some((m) => inside(realOrResolved(spec.file), m))) {
        throw new UntrustedJob(
          `objective module ${spec.file} is not on this worker's allow-list; start the worker with --allow-module ${spec.file} (or a folder holding it) to run it`,
        );
      }
      return;
    case 'train': {
      const ds = spec.setup?.dataset;
      if (typeof ds !== 'string' || !(DATASET_NAMES as readonly string[]).includes(ds)) data(ds, 'dataset');
      if (spec.setup.inheritWeights !== undefined) data(spec.setup.inheritWeights, 'weights folder');
      return;
    }
    case 'jobs':
      return checkTrusted(spec.objective, trust);
    default:
      throw new UntrustedJob(`unknown objective kind ${JSON.stringify((spec as { kind?: unknown }).kind).slice(0, 40)}; this worker runs nb201, fm-cells, module, train and jobs`);
  }
}
