/**
 * Macro DAG space (ENAS macro style): `num_layers` layers of `filters` channels; layer i applies its
 * op to the previous layer's output and merges it with skip connections from any earlier layer
 * (or the stem), by add (then BN) or concat (then ReLU-Conv1x1-BN back to `filters` channels).
 *
 * Sources: 0 = stem output, k = output of layer k-1. Layer i reads source i; `layer_i_skip_k`
 * (k < i) adds source k as a branch. Parameters of layer i are active only when num_layers > i.
 * Ops: conv3x3/conv5x5/sepconv3x3/sepconv5x5 = ReLU-Conv-BN (stride 1), max/avg pool 3x3 stride 1,
 * identity. Resolution halves (2x2 max pool) after layers round(n/3)-1 and round(2n/3)-1 when
 * n >= 3 (ENAS's pooling positions); an older source that feeds a later layer is pooled to match.
 * Image input only. Head: global average pooling and a linear classifier.
 */
import { SpaceError, validateParams, type Params, type ParamSpec, type SearchSpace } from '../params.js';
import { GraphBuilder, scaleWidth } from './blocks.js';
import type { ArchGraph } from './graph.js';
import type { ArchSpace, DecodeOpts } from './types.js';

export const DAG_OPS = ['conv3x3', 'conv5x5', 'sepconv3x3', 'sepconv5x5', 'maxpool3x3', 'avgpool3x3', 'identity'] as const;
export type DagOp = (typeof DAG_OPS)[number];

export function makeDagSpace(maxLayers = 6, filters: number[] = [16, 32, 64]): SearchSpace {
  const params: Record<string, ParamSpec> = {
    num_layers: { type: 'int', low: 2, high: maxLayers },
    filters: { type: 'categorical', choices: [...filters] },
  };
  for (let i = 0; i < maxLayers; i++) {
    const when = { num_layers: Array.from({ length: maxLayers - Math.max(i, 1) }, (_, k) => Math.max(i, 1) + 1 + k) };
    params[`layer_${i}_op`] = { type: 'categorical', choices: [...DAG_OPS], when };
    for (let k = 0; k < i; k++) params[`layer_${i}_skip_${k}`] = { type: 'categorical', choices: [false, true], when };
    if (i > 0) params[`layer_${i}_merge`] = { type: 'categorical', choices: ['add', 'concat'], when };
  }
  return { params };
}

/** Layer indices after which the resolution halves. */
export function dagReductions(n: number): number[] {
  return n >= 3 ? [...new Set([Math.round(n / 3) - 1, Math.round((2 * n) / 3) - 1])] : [];
}

function layerOp(b: GraphBuilder, p: string, op: DagOp, x: string, f: number): string {
  switch (op) {
    case 'conv3x3':
    case 'conv5x5':
      return b.reluConvBn(p, x, f, op === 'conv3x3' ? 3 : 5);
    case 'sepconv3x3':
    case 'sepconv5x5':
      return b.seq(p, x, [
        ['relu', { type: 'act', fn: 'relu' }],
        ['sepconv', { type: 'sepconv', filters: f, kernel: op === 'sepconv3x3' ? 3 : 5, stride: 1, padding: 'same' }],
        ['bn', { type: 'bn' }],
      ]);
    case 'maxpool3x3':
    case 'avgpool3x3':
      return b.op(`${p}/${op}`, { type: 'pool', mode: op === 'maxpool3x3' ? 'max' : 'avg', size: 3, stride: 1, padding: 'same' }, x);
    case 'identity':
      return b.op(`${p}/identity`, { type: 'identity' }, x);
  }
}

function decodeDag(params: Params, opts: DecodeOpts): ArchGraph {
  if (opts.inputShape.length !== 3) {
    throw new SpaceError(`dag: input shape [${opts.inputShape.join(',')}] is not an image [H,W,C]; use chain-flat for flat input`);
  }
  const n = params.num_layers as number;
  const f = scaleWidth(params.filters as number, opts.width ?? 1);
  const reductions = dagReductions(n);
  const b = new GraphBuilder();
  const stem = b.convBnAct('stem', b.input('input', opts.inputShape), f, 3, 1, null);
  // sources[k] = [node id, level]; pooled copies are made on demand so that none dangles.
  const sources: { id: string; level: number }[] = [{ id: stem, level: 0 }];
  const pooled = new Map<string, string>();
  const at = (k: number, level: number): string => {
    const s = sources[k]!;
    let id = s.id;
    for (let l = s.level; l < level; l++) {
      const key = `${k}@${l + 1}`;
      let next = pooled.get(key);
      if (!next) {
        next = b.op(`src${k}/pool${l + 1}`, { type: 'pool', mode: 'max', size: 2, stride: 2, padding: 'same' }, id);
        pooled.set(key, next);
      }
      id = next;
    }
    return id;
  };
  let level = 0;
  for (let i = 0; i < n; i++) {
    const p = `layer${i}`;
    const main = layerOp(b, `${p}/op`, params[`layer_${i}_op`] as DagOp, at(i, level), f);
    const branches = [main];
    for (let k = 0; k < i; k++) if (params[`layer_${i}_skip_${k}`] === true) branches.push(at(k, level));
    let out = main;
    if (branches.length > 1) {
      if (params[`layer_${i}_merge`] === 'concat') {
        out = b.reluConvBn(`${p}/mix`, b.merge(`${p}/concat`, 'concat', branches), f, 1);
      } else {
        out = b.op(`${p}/bn`, { type: 'bn' }, b.merge(`${p}/add`, 'add', branches));
      }
    }
    sources.push({ id: out, level });
    if (reductions.includes(i) && i < n - 1) level++;
  }
  const last = b.op('head/relu', { type: 'act', fn: 'relu' }, sources[n]!.id);
  b.classifierHead(last, opts.numClasses);
  return b.build();
}

export function makeDagArchSpace(name = 'dag', maxLayers = 6, filters?: number[]): ArchSpace {
  const space = makeDagSpace(maxLayers, filters);
  return {
    name,
    space,
    decode(params, opts) {
      validateParams(space, params);
      return decodeDag(params, opts);
    },
  };
}

export const dagSpace: ArchSpace = makeDagArchSpace();
