/**
 * LSTM controller (Zoph & Le 2017), with TensorFlow.js on its CPU backend: at each decision the
 * embedding of the previous decision (a start token first) goes through one LSTM cell, and that
 * decision's own softmax head reads the hidden state. Inactive (conditional) decisions are skipped.
 * Weights live as plain arrays in the state; tensors are made from them for each pass, so sampling
 * is a function of the stored state and the random stream only.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/rng.js';
import { adamAscend, adamInit } from './adam.js';
import type { Controller, ControllerState, Rollout } from './controller.js';
import type { Action, Decision } from './decisions.js';

export interface LstmDims {
  hidden: number;
  embedding: number;
}

/** Runs `fn` with TensorFlow.js on its CPU backend, restoring the previous backend afterwards. */
export async function withCpuBackend<T>(fn: () => T | Promise<T>): Promise<T> {
  const prev = tf.getBackend();
  if (prev !== 'cpu') await tf.setBackend('cpu');
  try {
    return await fn();
  } finally {
    if (prev && prev !== 'cpu') await tf.setBackend(prev);
  }
}

export class LstmController implements Controller {
  private readonly offsets: number[];
  private tensors: tf.Tensor[] | null = null;

  private constructor(
    readonly decisions: readonly Decision[],
    private readonly st: ControllerState,
    private readonly dims: LstmDims,
  ) {
    this.offsets = [];
    let o = 1; // token 0: start
    for (const d of decisions) {
      this.offsets.push(o);
      o += d.size;
    }
  }

  private static shapes(decisions: readonly Decision[], dims: LstmDims): number[][] {
    const vocab = 1 + decisions.reduce((a, d) => a + d.size, 0);
    const { hidden: h, embedding: e } = dims;
    const out = [[vocab, e], [e + h, 4 * h], [4 * h]];
    for (const d of decisions) out.push([h, d.size], [d.size]);
    return out;
  }

  /** Fresh controller, weights uniform in [-0.08, 0.08] as in Zoph & Le. */
  static create(decisions: readonly Decision[], dims: LstmDims, rng: Rng): LstmController {
    const weights = LstmController.shapes(decisions, dims).map((s) =>
      Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.uniform(-0.08, 0.08)),
    );
    return new LstmController(decisions, { kind: 'lstm', weights, adam: adamInit(weights), dims: { ...dims } }, dims);
  }

  static fromState(decisions: readonly Decision[], st: ControllerState): LstmController {
    const dims = { hidden: st.dims?.hidden ?? 0, embedding: st.dims?.embedding ?? 0 };
    const shapes = LstmController.shapes(decisions, dims);
    const ok =
      st.kind === 'lstm' &&
      st.weights.length === shapes.length &&
      st.weights.every((w, i) => w.length === shapes[i]!.reduce((a, b) => a * b, 1));
    if (!ok) throw new Error('reinforce: stored LSTM policy does not match the search space or controller sizes');
    return new LstmController(decisions, st, dims);
  }

  private weightTensors(): tf.Tensor[] {
    if (!this.tensors) {
      const shapes = LstmController.shapes(this.decisions, this.dims);
      this.tensors = this.st.weights.map((w, i) => tf.tensor(w, shapes[i]!, 'float32'));
    }
    return this.tensors;
  }

  /** One decision: LSTM cell on the previous token's embedding, then decision `d`'s head. `w(i)` is weight i. */
  private step(w: (i: number) => tf.Tensor, token: number, c: tf.Tensor2D, h: tf.Tensor2D, d: number): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
    const x = tf.gather(w(0) as tf.Tensor2D, [token]);
    const [c2, h2] = tf.basicLSTMCell(tf.scalar(1), w(1) as tf.Tensor2D, w(2) as tf.Tensor1D, x, c, h);
    const logits = tf.add(tf.matMul(h2, w(3 + 2 * d) as tf.Tensor2D), w(4 + 2 * d)) as tf.Tensor2D;
    return [c2, h2, logits];
  }

  private zeros(): tf.Tensor2D {
    return tf.zeros([1, this.dims.hidden]);
  }

  rollout(): Rollout {
    const ws = this.weightTensors();
    let c = this.zeros();
    let h = this.zeros();
    let token = 0;
    return {
      probs: (d) => {
        const [c2, h2, p] = tf.tidy(() => {
          const [cc, hh, logits] = this.step((i) => ws[i]!, token, c, h, d);
          return [cc, hh, tf.softmax(logits)];
        });
        c.dispose();
        h.dispose();
        c = c2;
        h = h2;
        const out = Array.from(p.dataSync());
        p.dispose();
        return out;
      },
      choose: (d, k) => {
        token = this.offsets[d]! + k;
      },
      dispose: () => {
        c.dispose();
        h.dispose();
      },
    };
  }

  update(actions: readonly Action[], advantage: number, entropyWeight: number, lr: number): number {
    if (actions.length === 0) return 0;
    const ws = this.weightTensors();
    // Differentiate only w.r.t. the weights the actions use (tf.grads rejects unused inputs).
    const used = [...new Set(actions.map(([d]) => d))].sort((a, b) => a - b);
    const inputs = [0, 1, 2, ...used.flatMap((d) => [3 + 2 * d, 4 + 2 * d])];
    const pos = new Map(inputs.map((i, k) => [i, k]));
    let logp = 0;
    const sub = tf.tidy(() => {
      const f = (...args: tf.Tensor[]): tf.Scalar => {
        const w = (i: number) => args[pos.get(i)!]!;
        let c = this.zeros();
        let h = this.zeros();
        let token = 0;
        let lp: tf.Scalar = tf.scalar(0);
        let ent: tf.Scalar = tf.scalar(0);
        for (const [d, a] of actions) {
          const [c2, h2, logits] = this.step(w, token, c, h, d);
          c = c2;
          h = h2;
          const ls = tf.logSoftmax(logits);
          lp = tf.add(lp, tf.sum(tf.slice(ls, [0, a], [1, 1])));
          ent = tf.sub(ent, tf.sum(tf.mul(tf.exp(ls), ls)));
          token = this.offsets[d]! + a;
        }
        logp = lp.dataSync()[0]!;
        return tf.add(tf.mul(lp, advantage), tf.mul(ent, entropyWeight)) as tf.Scalar;
      };
      return tf.grads(f)(inputs.map((i) => ws[i]!)).map((g) => g.dataSync().slice());
    });
    const grads: ArrayLike<number>[] = this.st.weights.map((w, i) => (pos.has(i) ? sub[pos.get(i)!]! : new Float32Array(w.length)));
    adamAscend(this.st.weights, grads, this.st.adam, lr);
    this.disposeTensors();
    return logp;
  }

  state(): ControllerState {
    return this.st;
  }

  private disposeTensors(): void {
    for (const t of this.tensors ?? []) t.dispose();
    this.tensors = null;
  }

  dispose(): void {
    this.disposeTensors();
  }
}
