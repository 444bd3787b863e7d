/**
 * Policy controllers for REINFORCE. A controller samples decisions one at a time (so conditional
 * parameters are decided only when active) and takes one gradient-ascent step on
 * advantage * log pi(actions) + entropyWeight * sum of the entropies of the decisions taken.
 * Its whole state (weights and Adam moments) is plain JSON, saved in the store.
 */
import type { AdamState } from './adam.js';
import type { Action, Decision } from './decisions.js';

export interface ControllerState {
  kind: 'factorized' | 'lstm';
  weights: number[][];
  adam: AdamState;
  /** Architecture hyper-parameters the weights were made with (LSTM sizes). */
  dims?: Record<string, number>;
}

/** One sampling pass: ask probabilities for a decision, then say which option was taken. */
export interface Rollout {
  probs(decision: number): number[];
  choose(decision: number, option: number): void;
  dispose(): void;
}

export interface Controller {
  readonly decisions: readonly Decision[];
  rollout(): Rollout;
  /** One REINFORCE step (Adam ascent); returns the log-probability of the actions before the step. */
  update(actions: readonly Action[], advantage: number, entropyWeight: number, lr: number): number;
  state(): ControllerState;
  dispose(): void;
}

/** Entropy of a distribution and its gradient w.r.t. the logits: dH/dz_k = -p_k (log p_k + H). */
export function entropyAndGrad(p: readonly number[]): { h: number; grad: number[] } {
  let h = 0;
  for (const q of p) if (q > 0) h -= q * Math.log(q);
  return { h, grad: p.map((q) => (q > 0 ? -q * (Math.log(q) + h) : 0)) };
}
