/**
 * The in-process executor for objective specs (`--executor inprocess --workers N`, a queue worker's
 * in-process runner): core's InProcessExecutor resolving each job's ObjectiveSpec, with an artifact store.
 */
import type { Objective } from '../core/experiment.js';
import { InProcessExecutor as CoreInProcess } from '../core/inprocess.js';
import { setTrialArtifacts, type ArtifactStore } from '../store/artifacts.js';
import { resolveObjectiveSpec, type ObjectiveSpec } from './objective-spec.js';

export interface InProcessOptions {
  /** Trials at once (default 1). */
  slots?: number;
  /** Use this function instead of resolving the job's objective spec. */
  objective?: Objective;
  artifacts?: ArtifactStore | null;
}

export class InProcessExecutor extends CoreInProcess<ObjectiveSpec> {
  constructor(opts: InProcessOptions = {}) {
    super({
      slots: opts.slots,
      objective: opts.objective,
      resolve: resolveObjectiveSpec,
      onTrial: (t) => setTrialArtifacts(t, opts.artifacts ?? null),
    });
  }
}
