import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCsv, loadCsvForPrediction, parseCsvText, readCsv } from '../../src/data/csv.js';
import { classCounts } from '../../src/data/dataset.js';
import {
  applyPreprocessing,
  decodeClassProbabilities,
  decodePredictions,
  encodeTargets,
  fitPreprocessing,
  inferTargetTask,
  parsePreprocessingSpec,
} from '../../src/data/preprocess.js';

const dir = mkdtempSync(join(tmpdir(), 'tsnas-csv-'));
function csvFile(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const PEOPLE = `age,city,income,label
30,paris,1000,yes
40,berlin,NA,no
,paris,3000,yes
50,?,4000,no
100,rome,5000,yes
`;

describe('CSV reading errors', () => {
  it('empty file, header only, ragged row (line number), missing file', () => {
    expect(() => readCsv(csvFile('empty.csv', ''))).toThrow(/CSV file .*empty\.csv is empty/);
    expect(() => readCsv(csvFile('blank.csv', '\n  \n'))).toThrow(/is empty/);
    expect(() => readCsv(csvFile('header.csv', 'a,b\n'))).toThrow(/header\.csv has a header but no data rows/);
    expect(() => readCsv(csvFile('ragged.csv', 'a,b\n1,2\n3,4\n5\n'))).toThrow(/ragged\.csv: line 4 has 1 fields but the header has 2 \(ragged row\)/);
    expect(() => readCsv(csvFile('ragged2.csv', 'a,b\n1,2,3\n'))).toThrow(/line 2 has 3 fields but the header has 2/);
    expect(() => readCsv(join(dir, 'nope.csv'))).toThrow(/cannot read CSV file .*nope\.csv/);
    expect(() => parseCsvText('a,a\n1,2\n', 'dup')).toThrow(/duplicate column name 'a'/);
  });

  it('missing target names the available columns; single class is rejected', () => {
    const p = csvFile('people.csv', PEOPLE);
    expect(() => loadCsv(p, { target: 'Label' })).toThrow("target column 'Label' not found in " + p + '; available columns: age, city, income, label');
    const single = csvFile('single.csv', 'x,y\n1,a\n2,a\n3,a\n');
    expect(() => loadCsv(single, { target: 'y' })).toThrow(/target column 'y' in .*single\.csv has a single class \('a'\)/);
    expect(() => loadCsv(single, { target: 'y', task: 'regression' })).toThrow(/regression target 'y' has the non-numeric value 'a' on line 2/);
  });
});

describe('CSV parsing', () => {
  it('handles a BOM, quoted commas, blank lines and whitespace', () => {
    const t = parseCsvText('\uFEFFname, score\n"New York, NY", 3\n\n"Paris",4\n', 'q');
    expect(t.columns).toEqual(['name', 'score']);
    expect(t.records).toEqual([
      { name: 'New York, NY', score: '3' },
      { name: 'Paris', score: '4' },
    ]);
    expect(t.lines).toEqual([2, 4]);
  });
});

describe('type detection and the target rule', () => {
  it('detects numeric and categorical columns with missing values', () => {
    const { spec } = loadCsv(csvFile('people2.csv', PEOPLE), { target: 'label', valFraction: 0 });
    expect(spec.columns.map((c) => [c.name, c.type])).toEqual([
      ['age', 'numeric'],
      ['city', 'categorical'],
      ['income', 'numeric'],
    ]);
    expect(spec.featureNames).toEqual(['age', 'age__missing', 'city=paris', 'city=berlin', 'city=rome', 'city=<missing>', 'income', 'income__missing']);
    const age = spec.columns[0]!;
    if (age.type !== 'numeric') throw new Error('age');
    expect(age.impute).toBe(45); // median of 30, 40, 50, 100 (the mean is 55)
    expect(age.mean).toBe(55);
    expect(age.std).toBeCloseTo(Math.sqrt(725), 10);
    expect(spec.target).toEqual({ name: 'label', task: 'classification', classes: ['no', 'yes'] });
  });

  it('auto task: strings or few distinct integers -> classification, else regression', () => {
    expect(inferTargetTask(['a', 'b'])).toBe('classification');
    expect(inferTargetTask(['0', '1', '1', '2'])).toBe('classification');
    expect(inferTargetTask(['1', '2.5'])).toBe('regression');
    expect(inferTargetTask(Array.from({ length: 21 }, (_, i) => String(i)))).toBe('regression');
    expect(inferTargetTask(Array.from({ length: 20 }, (_, i) => String(i)))).toBe('classification');
    expect(inferTargetTask(['1', '2', 'x'])).toBe('classification');
  });

  it('numeric class labels sort numerically and decode to the source strings', () => {
    const rows = Array.from({ length: 30 }, (_, i) => `${i},${[10, 9, 2][i % 3]}`).join('\n');
    const { train, spec } = loadCsv(csvFile('numlabels.csv', `x,y\n${rows}\n`), { target: 'y', valFraction: 0 });
    expect(train.classNames).toEqual(['2', '9', '10']);
    expect(decodePredictions(spec, [2, 0, 1])).toEqual(['10', '2', '9']);
  });
});

describe('loadCsv', () => {
  it('splits stratified, fits on train only, drops rows without a target', () => {
    const lines = ['f,g,t'];
    for (let i = 0; i < 100; i++) lines.push(`${i},${i % 2 ? 'odd' : 'even'},${i < 80 ? 'a' : 'b'}`);
    lines.push('5,odd,NA');
    const r = loadCsv(csvFile('big.csv', lines.join('\n')), { target: 't', valFraction: 0.25, testFraction: 0.1, seed: 3 });
    expect([r.train.y.length, r.val.y.length, r.test.y.length]).toEqual([65, 25, 10]);
    expect(classCounts(r.val)).toEqual([20, 5]);
    expect(classCounts(r.test)).toEqual([8, 2]);
    expect(r.droppedLines).toEqual([102]);
    expect(r.train.shape).toEqual([3]);
    // the spec's mean of f is the mean over training rows only
    const f = r.spec.columns[0]!;
    if (f.type !== 'numeric') throw new Error('f');
    let s = 0;
    for (let i = 0; i < r.train.y.length; i++) s += r.train.x[i * 3]! * f.std + f.mean;
    expect(s / r.train.y.length).toBeCloseTo(f.mean, 3);
    expect(f.mean).not.toBeCloseTo(49.5, 3);
    // the same seed gives the same split
    const again = loadCsv(join(dir, 'big.csv'), { target: 't', valFraction: 0.25, testFraction: 0.1, seed: 3 });
    expect([...again.val.x]).toEqual([...r.val.x]);
  });

  it('regression targets are standardised and decoded back', () => {
    const rows = Array.from({ length: 50 }, (_, i) => `${i},${(i * 1.5 + 2).toFixed(2)}`).join('\n');
    const r = loadCsv(csvFile('reg.csv', `x,price\n${rows}\n`), { target: 'price', valFraction: 0.2, seed: 1 });
    expect(r.train.task).toBe('regression');
    expect(r.train.y).toBeInstanceOf(Float32Array);
    expect(r.train.numClasses).toBe(0);
    const decoded = decodePredictions(r.spec, r.val.y) as number[];
    const xs = Array.from({ length: r.val.y.length }, (_, i) => {
      const c = r.spec.columns[0]!;
      if (c.type !== 'numeric') throw new Error('x');
      return r.val.x[i]! * c.std + c.mean;
    });
    xs.forEach((x, i) => expect(decoded[i]!).toBeCloseTo(x * 1.5 + 2, 3));
    expect(loadCsv(join(dir, 'reg.csv'), { target: 'price', task: 'classification', valFraction: 0 }).train.numClasses).toBe(50);
  });
});

describe('preprocessing spec', () => {
  const train = parseCsvText(PEOPLE, 'people').records;

  it('survives JSON and gives identical features on new rows without the target', () => {
    const spec = fitPreprocessing(train, { target: 'label' });
    const restored = parsePreprocessingSpec(JSON.parse(JSON.stringify(spec)));
    expect(restored).toEqual(spec);
    const fresh = parseCsvText('city,income,age,extra\nrome,2500,33,z\nberlin,,?,z\n', 'new').records;
    const a = applyPreprocessing(spec, fresh);
    const b = applyPreprocessing(restored, fresh);
    expect([...b]).toEqual([...a]);
    expect(a.length).toBe(2 * spec.featureNames.length);
    const age = spec.columns[0]!;
    if (age.type !== 'numeric') throw new Error('age');
    expect(a[0]).toBeCloseTo((33 - age.mean) / age.std, 6);
    expect(a[1]).toBe(0);
    // row 2: age missing -> median, indicator 1; city berlin; income missing
    expect(a[8]).toBeCloseTo((45 - age.mean) / age.std, 6);
    expect([...a.subarray(9, 14)]).toEqual([1, 0, 1, 0, 0]);
    expect(a[15]).toBe(1);
  });

  it('unseen categories encode as all zeros; missing columns and bad numbers are errors', () => {
    const spec = fitPreprocessing(train, { target: 'label' });
    const x = applyPreprocessing(spec, [{ age: '1', city: 'tokyo', income: '1' }]);
    expect([...x.subarray(2, 6)]).toEqual([0, 0, 0, 0]);
    expect(() => applyPreprocessing(spec, [{ age: '1', income: '1' }])).toThrow(/missing column\(s\) 'city' required by the model; columns present: age, income/);
    expect(() => applyPreprocessing(spec, [{ age: 'old', city: 'rome', income: '1' }])).toThrow(/row 0: column 'age' expects a number, got 'old'/);
  });

  it('rejects a corrupted spec and decodes targets and probabilities', () => {
    const spec = fitPreprocessing(train, { target: 'label' });
    expect(() => parsePreprocessingSpec({ ...spec, featureNames: ['x'] })).toThrow(/featureNames do not match/);
    expect(() => parsePreprocessingSpec({ ...spec, version: 2 })).toThrow(/invalid preprocessing spec: version/);
    expect([...encodeTargets(spec, train)]).toEqual([1, 0, 1, 0, 1]);
    expect(decodePredictions(spec, [1, 0])).toEqual(['yes', 'no']);
    expect(() => decodePredictions(spec, [2])).toThrow(/class index 2 outside \[0, 2\)/);
    const p = decodeClassProbabilities(spec, [0.2, 0.8, 0.9, 0.1]);
    expect(p.labels).toEqual(['yes', 'no']);
    expect(p.confidence[1]).toBeCloseTo(0.9, 6);
  });

  it('caps one-hot vocabularies at maxCategories (most frequent kept)', () => {
    const rows = ['a', 'b', 'b', 'c', 'c', 'c'].map((v, i) => ({ v, t: String(i % 2) }));
    const spec = fitPreprocessing(rows, { target: 't', maxCategories: 2 });
    expect(spec.featureNames).toEqual(['v=c', 'v=b']);
  });

  it('loadCsvForPrediction encodes a CSV without the target like the training rows, errors name the line', () => {
    const { train, spec } = loadCsv(csvFile('fitme.csv', PEOPLE), { target: 'label', valFraction: 0 });
    const noTarget = PEOPLE.split('\n')
      .map((l) => l.split(',').slice(0, 3).join(','))
      .join('\n');
    const { x, table } = loadCsvForPrediction(csvFile('predict.csv', noTarget), spec);
    expect(table.columns).toEqual(['age', 'city', 'income']);
    // the training part is the whole file here, in split order: compare as sets of rows
    const rows = (a: Float32Array) => Array.from({ length: 5 }, (_, i) => [...a.subarray(i * 8, i * 8 + 8)].join(',')).sort();
    expect(rows(x)).toEqual(rows(train.x));
    const bad = csvFile('bad.csv', 'age,city,income\n1,rome,2\n3,rome,lots\n');
    expect(() => loadCsvForPrediction(bad, spec)).toThrow(/bad\.csv: line 3: column 'income' expects a number, got 'lots'/);
  });
});
