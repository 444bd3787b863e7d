/**
 * REINFORCE (Williams 1992) as a NAS strategy: a controller samples each decision from a learned
 * policy; after each finished trial the policy takes one Adam step on
 *   (reward - baseline) * log pi(decisions) + entropyWeight * entropy,
 * where the reward is the first objective (sign-flipped when minimised) and the baseline an
 * exponential moving average of the rewards, updated before the advantage as in NAS-Bench-201's
 * reference code. Controllers: 'factorized' (one logit vector per parameter, NB201's baseline) or
 * 'lstm' (Zoph & Le, TensorFlow.js CPU).
 *
 * State: the policy weights, Adam moments, baseline and the number of the next trial to learn from
 * are saved in the store (`ctx.state`, key "reinforce") after each update. Updates consume finished
 * trials strictly in trial order (waiting for an earlier running one), in `tell`, and `ask` first
 * catches up with any finished trial the state has not seen (e.g. a process stopped between
 * recording a result and updating). So `ask` is a function of (history, stored state, ctx.rng) and
 * a resumed or shared experiment continues the same policy and makes the same next decision.
 * A stored policy for another layout (space or controller options changed) is replaced by a fresh
 * one trained on the whole history.
 *
 * The reward is used as is (NB201 uses accuracy in %); `entropyWeight` is relative to that scale.
 */
import { isActive, paramsKey, sampleSpace, type Params, type SearchSpace } from '../space/params.js';
import type { TrialRecord } from '../core/store.js';
import { Rng } from '../util/rng.js';
import type { Controller, ControllerState } from './rl/controller.js';
import {
  decisionsOf,
  decisionsSignature,
  decodeOption,
  encodeValue,
  sampleIndex,
  type Action,
  type Decision,
} from './rl/decisions.js';
import { FactorizedController } from './rl/factorized.js';
import { seenKeys } from './random.js';
import { score, type Strategy, type StrategyContext } from '../core/strategy.js';

export interface ReinforceOptions {
  controller?: 'factorized' | 'lstm';
  /** Adam learning rate. Default 0.01 for 'factorized' (NB201/NATS-Bench setup), 0.005 for 'lstm'. */
  learningRate?: number;
  /** Momentum of the reward moving-average baseline. Default 0.9 (NB201). */
  emaMomentum?: number;
  /** Weight of the entropy bonus. Default 0.01. */
  entropyWeight?: number;
  /** Bins of a numeric parameter with more values than this. Default 10. */
  bins?: number;
  /** LSTM hidden units and embedding size. Defaults 32 and 16. */
  hidden?: number;
  embedding?: number;
  /** Redraw from the policy when the draw is already in the history, then fall back to random. Default true. */
  dedupe?: boolean;
  maxRetries?: number;
}

export interface ReinforceState {
  version: 1;
  signature: string;
  /** Number of the next trial the policy learns from. */
  next: number;
  /** Bias-corrected EMA baseline: value = num / den. */
  ema: { num: number; den: number };
  updates: number;
  controller: ControllerState;
}

export const REINFORCE_STATE_KEY = 'reinforce';

export class ReinforceStrategy implements Strategy {
  readonly name = 'reinforce';
  readonly controllerKind: 'factorized' | 'lstm';
  readonly learningRate: number;

  constructor(private readonly opts: ReinforceOptions = {}) {
    this.controllerKind = opts.controller ?? 'factorized';
    if (this.controllerKind !== 'factorized' && this.controllerKind !== 'lstm') {
      throw new RangeError(`reinforce: controller must be "factorized" or "lstm" (got ${JSON.stringify(opts.controller)})`);
    }
    this.learningRate = opts.learningRate ?? (this.controllerKind === 'lstm' ? 0.005 : 0.01);
  }

  private decisions(space: SearchSpace): Decision[] {
    return decisionsOf(space, this.opts.bins ?? 10);
  }

  private signature(ds: readonly Decision[]): string {
    const dims = this.controllerKind === 'lstm' ? `|h${this.opts.hidden ?? 32}e${this.opts.embedding ?? 16}` : '';
    return `${this.controllerKind}${dims}|${decisionsSignature(ds)}`;
  }

  private async makeController(ds: readonly Decision[], st: ControllerState | null, seed: number): Promise<Controller> {
    if (this.controllerKind === 'factorized') {
      return st ? FactorizedController.fromState(ds, st) : FactorizedController.create(ds, Rng.derive(seed, 'reinforce', 'init'));
    }
    const { LstmController } = await import('./rl/lstm.js');
    if (st) return LstmController.fromState(ds, st);
    const dims = { hidden: this.opts.hidden ?? 32, embedding: this.opts.embedding ?? 16 };
    return LstmController.create(ds, dims, Rng.derive(seed, 'reinforce', 'init'));
  }

  /** Runs `fn` on the CPU backend when the controller uses TensorFlow.js. */
  private async withBackend<T>(fn: () => Promise<T>): Promise<T> {
    if (this.controllerKind === 'factorized') return fn();
    const { withCpuBackend } = await import('./rl/lstm.js');
    return withCpuBackend(fn);
  }

  /** The actions a configuration took (active decisions only, in order). */
  static actionsOf(ds: readonly Decision[], params: Params): Action[] {
    const out: Action[] = [];
    ds.forEach((d, i) => {
      if (d.name in params) out.push([i, encodeValue(d, params[d.name]!)]);
    });
    return out;
  }

  /**
   * Loads (or initialises) the stored policy and learns from every finished trial it has not seen,
   * in trial order, stopping at the first one still running. Saves the state when it changed.
   */
  private async sync(ctx: StrategyContext, ds: readonly Decision[]): Promise<{ st: ReinforceState; ctrl: Controller }> {
    const signature = this.signature(ds);
    let stored = ctx.state.get(REINFORCE_STATE_KEY) as ReinforceState | undefined;
    // A policy made for another decision layout or controller (a define-by-run space that grew, other
    // options on reopening) cannot be continued: start afresh and relearn from the whole history.
    if (stored && (stored.version !== 1 || stored.signature !== signature)) stored = undefined;
    const ctrl = await this.makeController(ds, stored?.controller ?? null, ctx.seed);
    const st: ReinforceState = stored ?? {
      version: 1,
      signature,
      next: 0,
      ema: { num: 0, den: 0 },
      updates: 0,
      controller: ctrl.state(),
    };
    const m = this.opts.emaMomentum ?? 0.9;
    const ordered = [...ctx.history].sort((a, b) => a.number - b.number);
    let changed = !stored;
    for (const t of ordered) {
      if (t.number < st.next) continue;
      if (t.state === 'RUNNING' || t.state === 'WAITING') break;
      const r = score(t, ctx.directions);
      if (r !== null) {
        st.ema.num = m * st.ema.num + (1 - m) * r;
        st.ema.den = m * st.ema.den + (1 - m);
        const advantage = r - st.ema.num / st.ema.den;
        ctrl.update(ReinforceStrategy.actionsOf(ds, t.params), advantage, this.opts.entropyWeight ?? 0.01, this.learningRate);
        st.updates++;
      }
      st.next = t.number + 1;
      changed = true;
    }
    st.controller = ctrl.state();
    if (changed) ctx.state.set(REINFORCE_STATE_KEY, st);
    return { st, ctrl };
  }

  /** One configuration drawn from the policy (conditional parameters decided only when active). */
  static draw(ctrl: Controller, rng: Rng): Params {
    const out: Params = {};
    const roll = ctrl.rollout();
    try {
      ctrl.decisions.forEach((d, i) => {
        if (!isActive(d.spec, out)) return;
        const k = sampleIndex(roll.probs(i), rng);
        roll.choose(i, k);
        out[d.name] = decodeOption(d, k, rng);
      });
    } finally {
      roll.dispose();
    }
    return out;
  }

  async ask(ctx: StrategyContext): Promise<Params> {
    const space = ctx.space;
    if (!space) return {};
    const ds = this.decisions(space);
    return this.withBackend(async () => {
      const { ctrl } = await this.sync(ctx, ds);
      try {
        let p = ReinforceStrategy.draw(ctrl, ctx.rng);
        if (this.opts.dedupe === false) return p;
        const seen = seenKeys(ctx);
        const tries = this.opts.maxRetries ?? 50;
        for (let i = 0; i < tries && seen.has(paramsKey(p)); i++) p = ReinforceStrategy.draw(ctrl, ctx.rng);
        for (let i = 0; i < 100 && seen.has(paramsKey(p)); i++) p = sampleSpace(space, ctx.rng);
        return p;
      } finally {
        ctrl.dispose();
      }
    });
  }

  async tell(ctx: StrategyContext, _trial: TrialRecord): Promise<void> {
    if (!ctx.space) return;
    const ds = this.decisions(ctx.space);
    await this.withBackend(async () => (await this.sync(ctx, ds)).ctrl.dispose());
  }
}
