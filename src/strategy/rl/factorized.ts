/**
 * Factorised categorical policy: one independent logit vector per decision (the REINFORCE baseline
 * of the NAS-Bench-201 paper). Gradients are analytic, so it needs no tensor library.
 */
import { adamAscend, adamInit } from './adam.js';
import type { Controller, ControllerState, Rollout } from './controller.js';
import { entropyAndGrad } from './controller.js';
import { softmax, type Action, type Decision } from './decisions.js';
import type { Rng } from '../../util/rng.js';

export class FactorizedController implements Controller {
  private constructor(
    readonly decisions: readonly Decision[],
    private readonly st: ControllerState,
  ) {}

  /** Fresh policy: logits 1e-3 * N(0, 1), as NB201's `Policy` (near-uniform). */
  static create(decisions: readonly Decision[], rng: Rng): FactorizedController {
    const weights = decisions.map((d) => Array.from({ length: d.size }, () => 1e-3 * rng.normal()));
    return new FactorizedController(decisions, { kind: 'factorized', weights, adam: adamInit(weights) });
  }

  static fromState(decisions: readonly Decision[], st: ControllerState): FactorizedController {
    if (st.kind !== 'factorized' || st.weights.length !== decisions.length || st.weights.some((w, i) => w.length !== decisions[i]!.size)) {
      throw new Error('reinforce: stored factorized policy does not match the search space');
    }
    return new FactorizedController(decisions, st);
  }

  probs(d: number): number[] {
    return softmax(this.st.weights[d]!);
  }

  rollout(): Rollout {
    return { probs: (d) => this.probs(d), choose: () => {}, dispose: () => {} };
  }

  update(actions: readonly Action[], advantage: number, entropyWeight: number, lr: number): number {
    const grads = this.st.weights.map((w) => w.map(() => 0));
    let logp = 0;
    for (const [d, a] of actions) {
      const p = this.probs(d);
      logp += Math.log(p[a]!);
      const { grad: hg } = entropyAndGrad(p);
      const g = grads[d]!;
      for (let k = 0; k < p.length; k++) g[k] = g[k]! + advantage * ((k === a ? 1 : 0) - p[k]!) + entropyWeight * hg[k]!;
    }
    adamAscend(this.st.weights, grads, this.st.adam, lr);
    return logp;
  }

  state(): ControllerState {
    return this.st;
  }

  dispose(): void {}
}
