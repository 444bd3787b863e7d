/** What a Trial needs from the experiment that runs it (kept narrow so trials can run anywhere). */
import type { ParamSpec, ParamValue } from '../space/params.js';
import type { Store } from './store.js';
import type { Rng } from '../util/rng.js';
import type { Trial } from './trial.js';

export interface TrialHost {
  readonly store: Store;
  sampleParam(trial: Trial, name: string, spec: ParamSpec): ParamValue | undefined;
  rngFor(trialNumber: number, purpose: string): Rng;
  shouldPrune(trial: Trial): boolean;
}
