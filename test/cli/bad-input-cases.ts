/**
 * The standing bad-input table: each case is a command line and a part of the one `tsnas: ...` line
 * it must print (exit 2, every fixture file unchanged). Grouped by command; matrices for numbers.
 */
import type { Fixtures } from './bad-input-fixtures.js';

export type Case = { args: string[]; expect: string | RegExp; env?: Record<string, string> };

const BAD_NUMBERS = ['abc', '-1', '0', 'NaN', 'Infinity', '1e999', ''];

export function cases(x: Fixtures): Case[] {
  const f = x.f;
  const c = (expect: string | RegExp, ...args: string[]): Case => ({ args, expect });
  const out: Case[] = [];
  const S = (file: string) => `sqlite:${f(file)}`;
  // A JSON space with an instant objective: search reaches storage and strategy checks quickly.
  const json = ['search', '--space', f('space.json'), '--objective', f('obj.mjs'), '--trials', '1'];

  // --- the command line itself ---
  out.push(c('unknown command', 'nosuch'));
  const required: Record<string, string[]> = {
    search: ['--space', 'nb201'],
    trials: ['--storage', S('good.db')],
    best: ['--storage', S('good.db')],
    report: ['--storage', S('good.db')],
    dashboard: ['--storage', S('good.db')],
    fit: ['--data', 'iris'],
    predict: ['--model', f('model'), '--data', f('data.csv')],
    worker: ['--redis', 'redis://127.0.0.1:1'],
  };
  for (const [cmd, args] of Object.entries(required)) {
    out.push(c("unknown option '--nosuch-option'", cmd, ...args, '--nosuch-option'));
    out.push(c("too many arguments for 'CMD'".replace('CMD', cmd), cmd, ...args, 'extra'));
  }
  out.push(c("required option '--space", 'search', '--trials', '1'));
  for (const cmd of ['trials', 'best', 'report', 'dashboard']) out.push(c("required option '--storage", cmd));
  out.push(c("required option '--data", 'fit'));
  out.push(c("required option '--model", 'predict', '--data', f('data.csv')));
  out.push(c("required option '--data", 'predict', '--model', f('model')));
  out.push(c("required option '--redis", 'worker'));
  for (const [cmd, opt] of [['search', '--trials'], ['trials', '--storage'], ['report', '--out'], ['fit', '--data'], ['predict', '--model'], ['worker', '--queue'], ['dashboard', '--port']]) {
    out.push(c('argument missing', cmd!, opt!));
  }

  // --- search: numbers ---
  const positive = ['--budget-seconds', '--timeout', '--epochs', '--data-fraction', '--resolution', '--width', '--cells', '--batch-size', '--lr', '--val-fraction', '--final-epochs', '--final-data-fraction', '--max-old-space-size'];
  for (const opt of positive) for (const v of BAD_NUMBERS) out.push(c(`${opt} ${v}: give a positive number`, ...json, opt, v));
  for (const v of [...BAD_NUMBERS, '2.5']) out.push(c(`--trials ${v}: give a whole number >= 1`, 'search', '--space', f('space.json'), '--trials', v));
  for (const v of [...BAD_NUMBERS.filter((n) => n !== '0'), '1.5']) out.push(c(`--seed ${v}: give a whole number >= 0`, ...json, '--seed', v));
  for (const v of [...BAD_NUMBERS, '1.5']) out.push(c(`--workers ${v}: give a whole number >= 1`, ...json, '--workers', v));

  // --- search: what to run ---
  out.push(c('give a stop condition', 'search', '--space', f('space.json'), '--objective', f('obj.mjs')));
  out.push(c('unknown space', 'search', '--space', 'nosuch', '--trials', '1'));
  out.push(c('unknown strategy "magic"', ...json, '--strategy', 'magic'));
  out.push(c('--executor carrier: use inprocess, pool or bullmq', ...json, '--executor', 'carrier'));
  out.push(c('--executor bullmq needs --redis', ...json, '--executor', 'bullmq'));
  out.push(c('--direction sideways', ...json, '--direction', 'sideways'));
  out.push(c('no such file', 'search', '--space', f('nosuch.json'), '--objective', f('obj.mjs'), '--trials', '1'));
  out.push(c('not valid JSON', 'search', '--space', f('badspace.json'), '--objective', f('obj.mjs'), '--trials', '1'));
  out.push(c('at least one parameter', 'search', '--space', f('emptyspace.json'), '--objective', f('obj.mjs'), '--trials', '1'));
  out.push(c('low', 'search', '--space', f('lowhigh.json'), '--objective', f('obj.mjs'), '--trials', '1'));
  out.push(c('choices', 'search', '--space', f('nochoices.json'), '--objective', f('obj.mjs'), '--trials', '1'));
  out.push(c('type', 'search', '--space', f('badtype.json'), '--objective', f('obj.mjs'), '--trials', '1'));
  out.push(c('needs --objective', 'search', '--space', f('space.json'), '--trials', '1'));
  out.push(c('--objective', 'search', '--space', f('space.json'), '--objective', f('nosuch.mjs'), '--trials', '1'));
  out.push(c('export a function named objective', 'search', '--space', f('space.json'), '--objective', f('nofn.mjs'), '--trials', '1'));
  out.push(c('--dataset imagenet: the nb201 space has cifar10 and cifar100', 'search', '--space', 'nb201', '--dataset', 'imagenet', '--trials', '1'));
  out.push(c(f('no-nb201'), 'search', '--space', 'nb201', '--nb201-dir', f('no-nb201'), '--trials', '1'));
  out.push(c('trains for real: give --dataset', 'search', '--space', 'chain', '--trials', '1'));
  out.push(c('--backend gpu9', 'search', '--space', 'chain', '--dataset', 'iris', '--backend', 'gpu9', '--trials', '1'));
  out.push(c('--optimizer lion', 'search', '--space', 'chain', '--dataset', 'iris', '--optimizer', 'lion', '--trials', '1'));
  out.push(c('--lr-schedule wavy', 'search', '--space', 'chain', '--dataset', 'iris', '--lr-schedule', 'wavy', '--trials', '1'));
  for (const v of ['abc', '0', '1.5']) out.push(c(`--threads ${v}`, 'search', '--space', 'chain', '--dataset', 'iris', '--threads', v, '--trials', '1'));
  for (const opt of ['--epochs', '--cells', '--batch-size', '--resolution', '--final-epochs']) out.push(c(`${opt} 2.5: give a whole number`, 'search', '--space', 'chain', '--dataset', 'iris', opt, '2.5', '--trials', '1'));
  for (const opt of ['--data-fraction', '--val-fraction', '--final-data-fraction']) out.push(c(`${opt} 1.5: give a fraction`, 'search', '--space', 'chain', '--dataset', 'iris', opt, '1.5', '--trials', '1'));
  out.push(c('--inherit-weights: --space nb201 is not trained here', 'search', '--space', 'nb201', '--inherit-weights', '--trials', '1'));
  out.push(c('--inherit-weights: --strategy asha', 'search', '--space', 'chain', '--dataset', 'iris', '--strategy', 'asha', '--inherit-weights', '--trials', '1'));

  // --- search: strategy options (one validation layer) ---
  for (const v of ['[1]', '3', 'not json', '"s"', 'null']) out.push(c('give a JSON object', ...json, '--options', v));
  const badOptions: [string, string, string][] = [
    ['evolution', '{"tournamentSize": 0}', 'tournamentSize: not an option of evolution'],
    ['evolution', '{"populationSize": 0}', 'populationSize: 0 is not valid'],
    ['evolution', '{"populationSize": 2.5}', 'populationSize: 2.5 is not valid'],
    ['evolution', '{"sampleSize": -3}', 'sampleSize: -3 is not valid'],
    ['evolution', '{"removal": "random"}', 'removal: "random" is not valid'],
    ['evolution', '{"crossover": 2}', 'crossover: 2 is not valid'],
    ['tpe', '{"nStartup": -1}', 'nStartup: -1 is not valid'],
    ['tpe', '{"gamma": 1.5}', 'gamma: 1.5 is not valid'],
    ['tpe', '{"nCandidates": 0}', 'nCandidates: 0 is not valid'],
    ['tpe', '{"multivariate": "yes"}', 'multivariate: "yes" is not valid'],
    ['tpe', '{"populationSize": 5}', 'populationSize: not an option of tpe'],
    ['bo', '{"nStartup": -1}', 'nStartup: -1 is not valid'],
    ['bo', '{"acquisition": "pi"}', 'acquisition: "pi" is not valid'],
    ['bo', '{"transform": "log"}', 'transform: "log" is not valid'],
    ['bo', '{"xi": -1}', 'xi: -1 is not valid'],
    ['random', '{"maxRetries": -1}', 'maxRetries: -1 is not valid'],
    ['random', '{"seed": 3}', 'seed: not an option of random'],
    ['grid', '{"floatPoints": 0}', 'floatPoints: 0 is not valid'],
    ['reinforce', '{"controller": "gru"}', 'controller: "gru" is not valid'],
    ['reinforce', '{"learningRate": 0}', 'learningRate: 0 is not valid'],
    ['reinforce', '{"emaMomentum": 3}', 'emaMomentum: 3 is not valid'],
    ['asha', '{"eta": -2}', 'eta: -2 is not valid'],
    ['hyperband', '{"budgets": "many"}', 'budgets: "many" is not valid'],
    ['sh', '{"n0": 0}', 'n0: 0 is not valid'],
    ['bohb', '{"randomFraction": 2}', 'randomFraction: 2 is not valid'],
    ['bohb', '{"minPoints": 0}', 'minPoints: 0 is not valid'],
  ];
  for (const [strategy, options, msg] of badOptions) out.push(c(`--options ${msg}`, ...json, '--strategy', strategy, '--options', options));

  // --- search: storages ---
  out.push(c('unknown scheme "postgres"', ...json, '--storage', 'postgres://db/x'));
  out.push(c('no file given', ...json, '--storage', 'sqlite:'));
  out.push(c('does not exist', ...json, '--storage', S('nodir/x.db')));
  out.push(c('is a directory', ...json, '--storage', S('folder.db')));
  out.push(c('not a tsnas SQLite database', ...json, '--storage', S('notes.txt')));
  out.push(c('holds other tables (trials)', ...json, '--storage', S('foreign.db')));
  out.push(c('written by a newer tsnas', ...json, '--storage', S('newer.db')));
  out.push(c('damaged', ...json, '--storage', S('corrupt.db'), '--name', 'exp'));
  out.push(c('was run with --strategy random --seed 0', 'search', '--space', f('space.json'), '--objective', f('obj.mjs'), '--trials', '5', '--storage', S('good.db'), '--name', 'exp', '--strategy', 'tpe'));
  out.push(c('was run with --strategy random --seed 0', 'search', '--space', f('space.json'), '--objective', f('obj.mjs'), '--trials', '5', '--storage', S('good.db'), '--name', 'exp', '--seed', '3'));

  // --- trials / best / report / dashboard: one read-only opener ---
  const reads: [string, ...string[]][] = [['trials'], ['best'], ['report', '--out', f('r.html')], ['dashboard', '--port', '0']];
  for (const [cmd, ...rest] of reads) {
    const r = (expect: string, storage: string, ...more: string[]) => out.push(c(expect, cmd, '--storage', storage, ...rest, ...more));
    r('no such file', S('nosuch.db'));
    r('no such file', f('nosuch.db'));
    r('is a directory', S('folder.db'));
    r('not a tsnas', S('notes.txt'));
    r('not a tsnas storage (it holds other tables: trials)', S('foreign.db'));
    r('not a tsnas storage (no tsnas tables)', S('empty.db'));
    r('written by a newer tsnas', S('newer.db'));
    r(cmd === 'dashboard' ? 'reads sqlite:FILE' : 'unknown scheme', 'postgres://db/x');
    if (cmd !== 'dashboard') r('memory storage', 'memory:');
    if (cmd !== 'dashboard') r('damaged', S('corrupt.db'));
    if (cmd !== 'dashboard') r('not valid JSON', S('badconfig.db'));
    if (cmd !== 'dashboard') r('--name nosuch: no such experiment', S('good.db'), '--name', 'nosuch');
  }
  for (const cmd of ['trials', 'best', 'report']) out.push(c('trial #0 (id 1) column params is not valid JSON', cmd, '--storage', S('badjson.db'), ...(cmd === 'report' ? ['--out', f('r.html')] : [])));
  out.push(c('has 2 experiments; pick one with --name', 'best', '--storage', S('two.db')));
  for (const v of ['-1', '0', 'abc', '1.5', '']) out.push(c(`--limit ${v}: give a whole number >= 1`, 'trials', '--storage', S('good.db'), '--limit', v));
  for (const cmd of ['report', 'dashboard']) for (const v of ['-1', 'abc', 'Infinity']) out.push(c(`--cost-per-hour ${v}`, cmd, '--storage', S('good.db'), '--cost-per-hour', v));
  // report --out: never over the storage, a database, a model's files, a folder; no empty path
  out.push(c('is the file this command reads', 'report', '--storage', S('good.db'), '--out', f('good.db')));
  out.push(c('is the file this command reads', 'report', '--storage', f('good.db'), '--out', f('./good.db')));
  out.push(c('is a SQLite database', 'report', '--storage', S('good.db'), '--out', f('two.db')));
  out.push(c('is a file of the model folder', 'report', '--storage', S('good.db'), '--out', f('model/model.json')));
  out.push(c('is a file of the model folder', 'report', '--storage', S('good.db'), '--out', f('model/weights.bin')));
  out.push(c('is a folder', 'report', '--storage', S('good.db'), '--out', f('folder.db')));
  out.push(c('does not exist', 'report', '--storage', S('good.db'), '--out', f('nodir/r.html')));
  out.push(c('--out: empty path', 'report', '--storage', S('good.db'), '--out', ''));
  // dashboard: port and host
  for (const v of ['abc', '-1', '70000', '1.5']) out.push(c(`--port ${v}: give an integer port`, 'dashboard', '--storage', S('good.db'), '--port', v));
  out.push(c(`--port ${x.busyPort}: already in use`, 'dashboard', '--storage', S('good.db'), '--port', String(x.busyPort)));
  out.push({ args: ['dashboard', '--storage', S('good.db'), '--port', '0'], expect: 'TSNAS_DASHBOARD_HOST=0.0.0.0 is not a loopback address', env: { TSNAS_DASHBOARD_HOST: '0.0.0.0' } });

  // --- fit ---
  const fit = (expect: string | RegExp, ...args: string[]) => out.push(c(expect, 'fit', ...args));
  const o = (name: string) => f(`out-${name}`);
  fit('--out: empty path', '--data', 'iris', '--trials', '1', '--out', '');
  fit('--out: empty path', '--data', 'iris', '--trials', '1', '--out', '  ');
  fit('is a file; give a folder', '--data', 'iris', '--trials', '1', '--out', f('notes.txt'));
  fit('already holds a fit (model.json, weights.bin)', '--data', 'iris', '--trials', '1', '--out', f('fitted'));
  fit('already holds a fit (report.html)', '--data', 'iris', '--trials', '1', '--out', f('reportonly'));
  fit('already holds a fit (fit.json)', '--data', 'iris', '--trials', '1', '--out', f('fitjsononly'));
  fit('already holds a fit (weights.bin)', '--data', 'iris', '--trials', '1', '--out', f('weightsonly'));
  fit('already holds a fit', '--data', 'iris', '--trials', '1', '--out', f('model'));
  fit(`another fit (pid ${process.pid}`, '--data', 'iris', '--trials', '1', '--out', f('locked'));
  for (const v of ['abc', '0', '-1', '2.5', '']) fit(`--trials ${v}: give a whole number >= 1`, '--data', 'iris', '--trials', v, '--out', o('t'));
  for (const v of ['abc', '-1', '1.5']) fit(`--seed ${v}: give a whole number`, '--data', 'iris', '--trials', '1', '--seed', v, '--out', o('s'));
  for (const v of ['abc', '0', '2.5']) fit(`--image-size ${v}: give a whole number >= 1`, '--data', 'iris', '--trials', '1', '--image-size', v, '--out', o('i'));
  fit('--space tree: use one of', '--data', 'iris', '--trials', '1', '--space', 'tree', '--out', o('sp'));
  fit('--task ranking: use one of', '--data', 'iris', '--trials', '1', '--task', 'ranking', '--out', o('ta'));
  fit('--backend gpu9: use auto, wasm or cpu', '--data', 'iris', '--trials', '1', '--backend', 'gpu9', '--out', o('b'));
  for (const v of ['soon', '0', '-5', '10x']) fit(`--time-budget ${v}`, '--data', 'iris', '--time-budget', v, '--out', o('tb'));
  fit('below the minimum', '--data', 'iris', '--time-budget', '2s', '--out', o('tb2'));
  fit('--strategy magic: unknown', '--data', 'iris', '--trials', '1', '--strategy', 'magic', '--out', o('st'));
  fit('a multi-fidelity scheduler', '--data', 'iris', '--trials', '1', '--strategy', 'hyperband', '--out', o('st2'));
  fit(f('nosuch.csv'), '--data', f('nosuch.csv'), '--trials', '1', '--out', o('d1'));
  fit('--target', '--data', f('data.csv'), '--trials', '1', '--out', o('d2'));
  fit('price', '--data', f('data.csv'), '--target', 'price', '--trials', '1', '--out', o('d3'));
  fit('has a single class', '--data', f('oneclass.csv'), '--target', 'y', '--trials', '1', '--out', o('d4'));
  fit('2 rows with a label value (of 40) are too few', '--data', f('fewlabels.csv'), '--target', 'label', '--trials', '1', '--out', o('d5'));
  fit('has a header but no data rows', '--data', f('header.csv'), '--target', 'label', '--trials', '1', '--out', o('d6'));
  fit('is empty', '--data', f('emptyfolder'), '--trials', '1', '--out', o('d7'));
  fit('--image-size', '--data', f('mixed'), '--trials', '1', '--out', o('d8'));
  fit('over the limit of 40 megapixels', '--data', f('bomb'), '--trials', '1', '--out', o('d9'));

  // --- predict ---
  const p = (expect: string | RegExp, model: string, ...more: string[]) => out.push(c(expect, 'predict', '--model', f(model), ...more));
  const dataOut = (name: string) => ['--data', f('data.csv'), '--out', f(`pred-${name}.csv`)];
  p('--backend nosuch: use auto, wasm or cpu', 'model', ...dataOut('b'), '--backend', 'nosuch');
  p('--out: empty path', 'model', '--data', f('data.csv'), '--out', '');
  p('is a folder', 'model', '--data', f('data.csv'), '--out', f('folder.db'));
  p('does not exist', 'model', '--data', f('data.csv'), '--out', f('nodir/p.csv'));
  p('is a file of the model folder', 'model', '--data', f('data.csv'), '--out', f('model/model.json'));
  p('is a file of the model folder', 'model', '--data', f('data.csv'), '--out', f('model/weights.bin'));
  p('is a file of the model folder', 'model', '--data', f('data.csv'), '--out', f('model/preprocessing.json'));
  p('is the file this command reads', 'model', '--data', f('data.csv'), '--out', f('data.csv'));
  p('is a SQLite database', 'model', '--data', f('data.csv'), '--out', f('good.db'));
  p('no such folder', 'nosuch-model', ...dataOut('m1'));
  p('no such folder', 'notes.txt', ...dataOut('m2'));
  p('no preprocessing.json', 'emptyfolder', ...dataOut('m3'));
  p('no preprocessing.json', 'm-nopre', ...dataOut('m4'));
  p('not a tsnas fit preprocessing record', 'm-badpre', ...dataOut('m5'));
  p('model.json is not valid JSON', 'm-badjson', ...dataOut('m6'));
  p('not a TensorFlow.js layers model', 'm-notlayers', ...dataOut('m7'));
  p('names weights outside the model folder (../outside.bin)', 'm-escape', ...dataOut('m8'));
  p('names weights outside the model folder (/dev/zero)', 'm-abs', ...dataOut('m9'));
  p('names weights outside the model folder (zero.bin)', 'm-link', ...dataOut('m10'));
  p('is missing', 'm-missing', ...dataOut('m11'));
  p('(truncated)', 'm-trunc', ...dataOut('m12'));
  p('hold 0 bytes', 'm-empty', ...dataOut('m13'));
  p('padded, or from another model', 'm-padded', ...dataOut('m14'));
  p('(not finite)', 'm-nan', ...dataOut('m15'));
  p('invalid dtype or shape', 'm-badshape', ...dataOut('m16'));
  p(f('nosuch.csv'), 'model', '--data', f('nosuch.csv'), '--out', f('pred-d1.csv'));
  p("missing column(s) 'b'", 'model', '--data', f('missingcol.csv'), '--out', f('pred-d2.csv'));

  // --- worker ---
  for (const opt of ['--concurrency', '--max-old-space-size', '--lock-ms', '--redis-timeout']) {
    for (const v of ['0', 'abc', '-1', '1.5']) out.push(c(`${opt} ${v}: give a positive integer`, 'worker', '--redis', 'redis://127.0.0.1:1', opt, v));
  }
  out.push(c('--runner thread: use pool or inprocess', 'worker', '--redis', 'redis://127.0.0.1:1', '--runner', 'thread'));
  return out;
}
