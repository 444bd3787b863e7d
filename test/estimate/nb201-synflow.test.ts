import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildSynflow, loadSynflowFile, synflowOf } from '../../bench/nb201-synflow.js';
import { loadNb201Table } from '../../src/estimate/nb201.js';
import { initBackend } from '../../src/nn/backend.js';

const COMMITTED = path.join(import.meta.dirname, '..', '..', 'data', 'nb201', 'synflow.json.gz');

describe('synflow of every NB201 cell (bench:proxies cache)', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('builds resumably: a second build scores only what the first left out, and reproduces the committed scores', () => {
    const rows = [...loadNb201Table('cifar10').values()].slice(0, 5);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'synflow-')), 'synflow.json.gz');
    const first = buildSynflow(file, rows, { limit: 2, flush: 1 });
    const tensors = tf.memory().numTensors;
    expect(first.scores.filter((v) => v !== null)).toHaveLength(2);
    expect(loadSynflowFile(file)!.scores.filter((v) => v !== null)).toHaveLength(2);
    const second = buildSynflow(file, rows);
    expect(second.scores.filter((v) => v !== null)).toHaveLength(5);
    expect(second.scores[rows[0]!.index]).toBe(first.scores[rows[0]!.index]);
    expect(tf.memory().numTensors).toBe(tensors); // three more cells, no tensor left behind
    const committed = loadSynflowFile(COMMITTED)!;
    for (const r of rows) expect(synflowOf(second, r.index)).toBe(synflowOf(committed, r.index));
  });

  it('the committed file holds all 15,625 cells and refuses another setting', () => {
    const f = loadSynflowFile(COMMITTED)!;
    expect(f.scores).toHaveLength(15625);
    expect(f.scores.every((v) => v !== null)).toBe(true);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'synflow-')), 'x.json.gz');
    fs.writeFileSync(file, zlib.gzipSync(JSON.stringify({ ...f, setting: { ...f.setting, width: 1 } })));
    expect(() => loadSynflowFile(file)).toThrow(/another setting/);
  });
});
