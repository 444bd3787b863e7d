/**
 * The executor seam (core/executor.ts) with this layer's objective specs: what crosses to pool
 * children and queue workers.
 */
import type { Executor as CoreExecutor, TrialJob as CoreTrialJob } from '../core/executor.js';
import type { ObjectiveSpec } from './objective-spec.js';

export { brokenOutcome, errorMessage, type DynamicProposal, type ExecutorListener, type LiveAccess, type TrialEvent, type TrialOutcome } from '../core/executor.js';
export type TrialJob = CoreTrialJob<ObjectiveSpec>;
export type Executor = CoreExecutor<ObjectiveSpec>;
