/**
 * Zero-cost proxies (Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021; Mellor
 * et al., NASWOT, ICML 2021): scores of an untrained tfjs model from one batch, each timed.
 *
 * - grad_norm: sum over weight tensors of ||dL/dW||_2 (cross-entropy, batch-norm in training mode).
 * - snip: sum |W * dL/dW| (connection sensitivity).
 * - naswot: log|det K| with K[i][j] = number of ReLUs on which samples i and j agree (on or off),
 *   summed over every ReLU of the network (K = c c^T + (1 - c)(1 - c)^T of the binary codes c).
 * - jacob_cov: -sum_k log(l_k + 1e-5) + 1 / (l_k + 1e-5) over the eigenvalues l of the correlation
 *   matrix of the per-sample input Jacobians d(sum of logits)/dx.
 * - synflow: sum |W * dR/dW| with R = sum of the outputs of the network with every weight replaced
 *   by |W|, batch-norm in inference mode (fresh statistics: identity up to epsilon, as the reference
 *   code removes it) and an all-ones input; data-independent. Computed last: it overwrites weights.
 * Larger is better for every score.
 */
import * as tf from '@tensorflow/tfjs';
import { softmaxCrossEntropy } from '../../nn/losses.js';
import { logAbsDet, symmetricEigenvalues } from './linalg.js';

export const PROXY_NAMES = ['synflow', 'naswot', 'snip', 'grad_norm', 'jacob_cov'] as const;
export type ProxyName = (typeof PROXY_NAMES)[number];
/** Proxies that need no data (a batch is still accepted for its input shape). */
export const DATA_INDEPENDENT: readonly ProxyName[] = ['synflow'];

export interface ProxyBatch {
  /** Inputs [B, ...sample shape]. */
  x: tf.Tensor;
  /** One-hot labels [B, K] (grad_norm and snip). */
  y: tf.Tensor;
}

export interface ProxyScore {
  score: number;
  /** Wall seconds of this proxy on this model (forward/backward passes and the small linear algebra). */
  seconds: number;
}

export function isProxyName(s: string): s is ProxyName {
  return (PROXY_NAMES as readonly string[]).includes(s);
}

function weightVars(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** sum over weight tensors of f(W, dF/dW) for a scalar F of the model. */
function gradSum(model: tf.LayersModel, f: () => tf.Scalar, term: (w: tf.Tensor, g: tf.Tensor) => tf.Scalar): number {
  const vars = weightVars(model);
  const total = tf.tidy(() => {
    const { grads } = tf.variableGrads(f, vars);
    let s = tf.scalar(0);
    for (const v of vars) {
      const g = grads[v.name];
      if (g) s = s.add(term(v, g));
    }
    return s;
  });
  const v = total.dataSync()[0]!;
  total.dispose();
  return v;
}

function gradNorm(model: tf.LayersModel, b: ProxyBatch): number {
  return gradSum(model, () => softmaxCrossEntropy(b.y, model.apply(b.x, { training: true }) as tf.Tensor), (_w, g) => tf.norm(g) as tf.Scalar);
}

function snip(model: tf.LayersModel, b: ProxyBatch): number {
  return gradSum(model, () => softmaxCrossEntropy(b.y, model.apply(b.x, { training: true }) as tf.Tensor), (w, g) => w.mul(g).abs().sum());
}

function synflow(model: tf.LayersModel, b: ProxyBatch): number {
  // In tidy: assign() keeps the new value's data but not the tensor objects made for it.
  tf.tidy(() => {
    for (const v of weightVars(model)) v.assign(v.abs());
    // Fresh batch-norm statistics: the data-dependent proxies ran in training mode and moved them.
    for (const w of model.nonTrainableWeights) {
      const v = w.read() as tf.Variable;
      if (/moving_mean/.test(w.name)) v.assign(tf.zerosLike(v));
      else if (/moving_variance/.test(w.name)) v.assign(tf.onesLike(v));
    }
  });
  const ones = tf.ones([1, ...b.x.shape.slice(1)]);
  try {
    return gradSum(model, () => (model.apply(ones, { training: false }) as tf.Tensor).sum(), (w, g) => w.mul(g).abs().sum());
  } finally {
    ones.dispose();
  }
}

/** Layers whose output is a ReLU's (activation layers and layers with a folded relu). */
function reluOutputs(model: tf.LayersModel): tf.SymbolicTensor[] {
  const out: tf.SymbolicTensor[] = [];
  for (const l of model.layers) {
    if ((l.getConfig() as { activation?: string }).activation === 'relu') out.push(l.output as tf.SymbolicTensor);
  }
  return out;
}

function naswot(model: tf.LayersModel, b: ProxyBatch): number {
  const taps = reluOutputs(model);
  if (taps.length === 0) return NaN;
  const probe = tf.model({ inputs: model.inputs, outputs: taps });
  const n = b.x.shape[0]!;
  const k = tf.tidy(() => {
    const acts = probe.apply(b.x, { training: true }) as tf.Tensor | tf.Tensor[];
    let kk = tf.zeros([n, n]);
    for (const a of Array.isArray(acts) ? acts : [acts]) {
      const c = a.greater(0).toFloat().reshape([n, -1]);
      const nc = tf.scalar(1).sub(c);
      kk = kk.add(c.matMul(c, false, true)).add(nc.matMul(nc, false, true));
    }
    return kk;
  });
  const m = Float64Array.from(k.dataSync());
  k.dispose();
  return logAbsDet(m, n);
}

function jacobCov(model: tf.LayersModel, b: ProxyBatch): number {
  const n = b.x.shape[0]!;
  const corr = tf.tidy(() => {
    const j = tf.grad((x: tf.Tensor) => (model.apply(x, { training: true }) as tf.Tensor).sum())(b.x).reshape([n, -1]);
    const centred = j.sub(j.mean(1, true));
    const normed = centred.div(centred.square().sum(1, true).sqrt().add(1e-12));
    return normed.matMul(normed, false, true);
  });
  const m = Float64Array.from(corr.dataSync());
  corr.dispose();
  const k = 1e-5;
  return -symmetricEigenvalues(m, n).reduce((s, l) => s + Math.log(Math.max(l, 0) + k) + 1 / (Math.max(l, 0) + k), 0);
}

const IMPL: Record<ProxyName, (m: tf.LayersModel, b: ProxyBatch) => number> = {
  grad_norm: gradNorm,
  snip,
  naswot,
  jacob_cov: jacobCov,
  synflow,
};

/**
 * Scores `model` by each proxy in `names` (synflow last, since it overwrites the weights: the model
 * is spent afterwards when synflow is asked for).
 */
export function scoreModel(model: tf.LayersModel, batch: ProxyBatch, names: readonly ProxyName[] = PROXY_NAMES): Record<string, ProxyScore> {
  const order = [...names].sort((a, b) => Number(a === 'synflow') - Number(b === 'synflow'));
  const out: Record<string, ProxyScore> = {};
  for (const name of order) {
    const t0 = performance.now();
    const score = IMPL[name](model, batch);
    out[name] = { score, seconds: (performance.now() - t0) / 1000 };
  }
  return out;
}
