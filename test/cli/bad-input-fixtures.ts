/**
 * Files the bad-input harness points commands at: good and broken storages, a small model folder and
 * broken copies of it, CSVs, image folders, JSON spaces and objective modules. Built once per run.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import Database from 'better-sqlite3';
import * as tf from '@tensorflow/tfjs';
import { SqliteStore } from '../../src/store/sqlite.js';
import { loadFitData } from '../../src/fit/data.js';
import { saveModelDir } from '../../src/fit/export.js';
import { initBackend } from '../../src/nn/backend.js';
import { writeSyntheticImageFolder } from '../../src/data/imageWriter.js';

export interface Fixtures {
  dir: string;
  f: (name: string) => string;
  /** A loopback port something listens on (dashboard: port in use). */
  busyPort: number;
  close(): Promise<void>;
}

const config = { directions: ['maximize' as const], strategy: { name: 'random' }, space: { params: { x: { type: 'float' as const, low: 0, high: 1 } } }, spaceName: 'space', seed: 0 };

function storage(file: string, names: string[]): void {
  const s = new SqliteStore(file);
  for (const name of names) {
    const e = s.openExperiment(name, config);
    const t = s.createTrial(e.id, { state: 'RUNNING', params: { x: 0.5 }, distributions: { x: config.space.params.x }, owner: 'h:1' });
    s.addIntermediate(t.id, 1, 0.4);
    s.finishTrial(t.id, { state: 'COMPLETE', values: [0.5], cost: { wallSeconds: 1, cpuSeconds: 1, simulatedSeconds: 0 } });
  }
  s.close();
}

function csv(file: string, rows: number, withTarget = true, missingTargets = false): void {
  const lines = [withTarget ? 'a,b,label' : 'a,b'];
  for (let i = 0; i < rows; i++) {
    const label = missingTargets && i >= 2 ? '' : i % 2 ? 'yes' : 'no';
    lines.push(withTarget ? `${i / rows},${(i * 7) % 5},${label}` : `${i / rows},${(i * 7) % 5}`);
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

/** A valid PNG header claiming 12000 x 12000 pixels with a tiny compressed body (a decompression bomb). */
function pngBomb(file: string): void {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(12000, 0);
  ihdr.writeUInt32BE(12000, 4);
  ihdr[8] = 8;
  ihdr[9] = 0; // grayscale
  const row = Buffer.alloc(12001);
  const idat = deflateSync(Buffer.concat(Array.from({ length: 64 }, () => row))); // a small part is enough to be refused
  fs.writeFileSync(file, Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]));
}

async function model(dir: string, data: string): Promise<void> {
  await initBackend({ backend: 'cpu' });
  const d = loadFitData(data, { target: 'label', seed: 0 });
  const m = tf.sequential({ layers: [tf.layers.dense({ units: d.profile.numClasses, inputShape: d.profile.inputShape, activation: 'softmax' })] });
  await saveModelDir(dir, m, { space: 'chain', params: {}, graph: { nodes: [], edges: [] } as never }, d.preprocessing);
  m.dispose();
}

function copyModel(from: string, to: string, edit: (dir: string) => void): void {
  fs.cpSync(from, to, { recursive: true });
  edit(to);
}

export async function buildFixtures(): Promise<Fixtures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnas-bad-input-'));
  const f = (name: string) => path.join(dir, name);
  storage(f('good.db'), ['exp']);
  storage(f('two.db'), ['a', 'b']);
  storage(f('newer.db'), ['exp']);
  let db = new Database(f('newer.db'));
  db.prepare('UPDATE schema_version SET version = 99').run();
  db.close();
  storage(f('badjson.db'), ['exp']);
  db = new Database(f('badjson.db'));
  db.prepare(`UPDATE trials SET params = '{not json'`).run();
  db.close();
  storage(f('badconfig.db'), ['exp']);
  db = new Database(f('badconfig.db'));
  db.prepare(`UPDATE experiments SET config = 'nope'`).run();
  db.close();
  db = new Database(f('foreign.db'));
  db.exec('CREATE TABLE trials (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO trials (note) VALUES (\'mine\')');
  db.close();
  storage(f('corrupt.db'), ['exp']);
  const buf = fs.readFileSync(f('corrupt.db'));
  for (let i = 4096; i < buf.length; i++) buf[i] = (i * 131) & 0xff; // every page after the first
  fs.writeFileSync(f('corrupt.db'), buf);
  fs.writeFileSync(f('empty.db'), '');
  fs.writeFileSync(f('notes.txt'), 'just some text, not a database\n'.repeat(10));
  fs.mkdirSync(f('folder.db'));
  csv(f('data.csv'), 60);
  csv(f('nolabel.csv'), 20, false);
  csv(f('fewlabels.csv'), 40, true, true);
  fs.writeFileSync(f('oneclass.csv'), 'x,y\n' + Array.from({ length: 20 }, (_, i) => `${i},same`).join('\n') + '\n');
  fs.writeFileSync(f('header.csv'), 'a,b,label\n');
  fs.writeFileSync(f('missingcol.csv'), 'a,label\n0.5,yes\n0.2,no\n');
  fs.mkdirSync(f('emptyfolder'));
  fs.mkdirSync(f('bomb/cat'), { recursive: true });
  fs.mkdirSync(f('bomb/dog'), { recursive: true });
  for (const c of ['cat', 'dog']) for (let i = 0; i < 6; i++) pngBomb(f(`bomb/${c}/${i}.png`));
  writeSyntheticImageFolder(f('mixed'), { classes: 2, perClass: 6, mixedSizes: true });
  fs.writeFileSync(f('space.json'), JSON.stringify({ params: { x: { type: 'float', low: 0, high: 1 } } }));
  fs.writeFileSync(f('badspace.json'), '{"params": {');
  fs.writeFileSync(f('emptyspace.json'), JSON.stringify({ params: {} }));
  fs.writeFileSync(f('lowhigh.json'), JSON.stringify({ params: { x: { type: 'float', low: 2, high: 1 } } }));
  fs.writeFileSync(f('nochoices.json'), JSON.stringify({ params: { c: { type: 'categorical', choices: [] } } }));
  fs.writeFileSync(f('badtype.json'), JSON.stringify({ params: { x: { type: 'complex', low: 0, high: 1 } } }));
  fs.writeFileSync(f('obj.mjs'), 'export function objective(trial) { return trial.suggestFloat("x", 0, 1); }\n');
  fs.writeFileSync(f('nofn.mjs'), 'export const objective = 3;\n');
  // Fit folders: a finished one, one with only a report (issue 18 item 5), one locked by a live fit.
  for (const [name, files] of [['fitted', ['model.json', 'weights.bin']], ['reportonly', ['report.html']], ['fitjsononly', ['fit.json']], ['weightsonly', ['weights.bin']]] as const) {
    fs.mkdirSync(f(name));
    for (const file of files) fs.writeFileSync(path.join(f(name), file), 'old');
  }
  fs.mkdirSync(f('locked'));
  fs.writeFileSync(path.join(f('locked'), '.tsnas-fit.lock'), `${process.pid}@${os.hostname()}\n`);
  // A model folder and broken copies.
  await model(f('model'), f('data.csv'));
  const manifest = (dir: string, paths: string[]) => {
    const j = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    j.weightsManifest[0].paths = paths;
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(j));
  };
  fs.writeFileSync(f('outside.bin'), fs.readFileSync(path.join(f('model'), 'weights.bin')));
  copyModel(f('model'), f('m-escape'), (d) => manifest(d, ['../outside.bin']));
  copyModel(f('model'), f('m-abs'), (d) => manifest(d, ['/dev/zero']));
  copyModel(f('model'), f('m-link'), (d) => {
    fs.symlinkSync('/dev/zero', path.join(d, 'zero.bin'));
    manifest(d, ['zero.bin']);
  });
  copyModel(f('model'), f('m-missing'), (d) => fs.rmSync(path.join(d, 'weights.bin')));
  copyModel(f('model'), f('m-trunc'), (d) => fs.truncateSync(path.join(d, 'weights.bin'), 5));
  copyModel(f('model'), f('m-empty'), (d) => fs.truncateSync(path.join(d, 'weights.bin'), 0));
  copyModel(f('model'), f('m-padded'), (d) => fs.appendFileSync(path.join(d, 'weights.bin'), Buffer.alloc(64)));
  copyModel(f('model'), f('m-nan'), (d) => fs.writeFileSync(path.join(d, 'weights.bin'), Buffer.alloc(fs.statSync(path.join(d, 'weights.bin')).size, 0xff)));
  copyModel(f('model'), f('m-badjson'), (d) => fs.writeFileSync(path.join(d, 'model.json'), '{"modelTopology": '));
  copyModel(f('model'), f('m-notlayers'), (d) => fs.writeFileSync(path.join(d, 'model.json'), '{"hello": 1}'));
  copyModel(f('model'), f('m-nopre'), (d) => fs.rmSync(path.join(d, 'preprocessing.json')));
  copyModel(f('model'), f('m-badpre'), (d) => fs.writeFileSync(path.join(d, 'preprocessing.json'), '{"version": 7}'));
  copyModel(f('model'), f('m-badshape'), (d) => {
    const j = JSON.parse(fs.readFileSync(path.join(d, 'model.json'), 'utf8'));
    j.weightsManifest[0].weights[0].shape = [-1, 2];
    fs.writeFileSync(path.join(d, 'model.json'), JSON.stringify(j));
  });
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const busyPort = (server.address() as net.AddressInfo).port;
  return {
    dir,
    f,
    busyPort,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every file under `dir` with its size and content hash (SQLite's -wal/-shm side files left out). */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isSymbolicLink()) out.set(p, `link:${fs.readlinkSync(p)}`);
      else if (e.isDirectory()) {
        out.set(p, 'dir');
        walk(p);
      } else if (!/-(wal|shm)$/.test(e.name)) {
        const b = fs.readFileSync(p);
        out.set(p, `${b.length}:${b.subarray(0, 64).toString('hex')}:${hash(b)}`);
      }
    }
  };
  walk(dir);
  return out;
}

function hash(b: Buffer): number {
  let h = 2166136261;
  for (let i = 0; i < b.length; i += 1) h = Math.imul(h ^ b[i]!, 16777619);
  return h >>> 0;
}
