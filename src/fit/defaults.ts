/**
 * The default architecture of each space (then, for tables, a warm-start portfolio: PORTFOLIO below):
 * the first trial of every fit search (so a search never
 * ends worse, on validation, than this fixed model), the model trained when no trial finished in
 * the budget, and the baseline fit is compared with in the tests.
 * - chain-flat (tabular): two dense layers of 64 units, ReLU, no batch norm, no dropout.
 * - chain (images): conv3x3 16 + ReLU, max-pool, conv3x3 32 + ReLU, max-pool, flatten: the smallest
 *   useful CNN of the plan's cost model (~320 us/sample on 28x28x1, policy.ts MIN_IMAGE_US), so it fits
 *   every image cost cap and is cheap as a fallback.
 * - dag: three conv3x3 layers of 32 filters, no skips.
 * - cell: one cell per stage, 16 filters; every node sums sep_conv_3x3(previous node) and
 *   skip_connect(previous cell) (normal) or max_pool_3x3(previous cell) (reduction).
 */
import type { Params } from '../space/params.js';
import type { ArchSpace } from '../space/arch/types.js';

function chainLayers(layers: ({ op: string; width: number; bn: boolean } | { op: string })[], dropout = 0): Params {
  const p: Params = { depth: layers.length };
  layers.forEach((l, i) => {
    p[`layer_${i}_op`] = l.op;
    if ('width' in l) {
      p[`layer_${i}_width`] = l.width;
      p[`layer_${i}_act`] = 'relu';
      p[`layer_${i}_bn`] = l.bn;
    }
    p[`layer_${i}_dropout`] = dropout;
  });
  return p;
}

function cellParams(nodes = 4): Params {
  const p: Params = { cells_per_stage: 1, init_filters: 16 };
  for (const t of ['normal', 'reduce']) {
    for (let b = 0; b < nodes; b++) {
      p[`${t}_${b}_in0`] = b === 0 ? 1 : b + 1;
      p[`${t}_${b}_op0`] = 'sep_conv_3x3';
      p[`${t}_${b}_in1`] = 1;
      p[`${t}_${b}_op1`] = t === 'normal' ? 'skip_connect' : 'max_pool_3x3';
    }
  }
  return p;
}

const DEFAULTS: Record<string, () => Params> = {
  'chain-flat': () =>
    chainLayers([
      { op: 'dense', width: 64, bn: false },
      { op: 'dense', width: 64, bn: false },
    ]),
  chain: () => ({
    ...chainLayers([{ op: 'conv3x3', width: 16, bn: false }, { op: 'maxpool3x3' }, { op: 'conv3x3', width: 32, bn: false }, { op: 'maxpool3x3' }]),
    head: 'flatten',
  }),
  dag: () => {
    const p: Params = { num_layers: 3, filters: 32 };
    for (let i = 0; i < 3; i++) {
      p[`layer_${i}_op`] = 'conv3x3';
      for (let k = 0; k < i; k++) p[`layer_${i}_skip_${k}`] = false;
      if (i > 0) p[`layer_${i}_merge`] = 'add';
    }
    return p;
  },
  cell: () => cellParams(),
};

/**
 * Warm-start portfolio (trials #1.. after the default): hand-picked configurations that cover what
 * the default lacks, as AutoML systems seed their searches (auto-sklearn 2.0, AutoGluon's model
 * zoo). chain-flat: the default with dropout 0.2 (regularisation: on a 2,000-row 16-feature
 * checkerboard it tests 0.665-0.695 against the default's 0.605-0.640, 54-160 epochs) and a wider,
 * deeper net with dropout 0.3 (capacity). Other spaces: none.
 */
const PORTFOLIO: Record<string, () => Params[]> = {
  'chain-flat': () => [
    chainLayers([
      { op: 'dense', width: 64, bn: false },
      { op: 'dense', width: 64, bn: false },
    ], 0.2),
    chainLayers([
      { op: 'dense', width: 256, bn: false },
      { op: 'dense', width: 256, bn: false },
      { op: 'dense', width: 256, bn: false },
    ], 0.3),
  ],
};

/** The space's default configuration followed by its warm-start portfolio, each checked by decoding it. */
export function startParams(space: ArchSpace, inputShape: number[], numClasses: number): Params[] {
  const first = defaultParams(space, inputShape, numClasses);
  if (!first) return [];
  const rest = (PORTFOLIO[space.name]?.() ?? []).map((p) => (space.decode(p, { inputShape, numClasses }), p));
  return [first, ...rest];
}

/** The default configuration of an arch space, checked by decoding it; undefined for other spaces. */
export function defaultParams(space: ArchSpace, inputShape: number[], numClasses: number): Params | undefined {
  const make = DEFAULTS[space.name];
  if (!make) return undefined;
  const p = make();
  space.decode(p, { inputShape, numClasses }); // throws if the space changed under us (a bug, caught by the tests)
  return p;
}
