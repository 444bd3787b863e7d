/**
 * CSV files -> tabular datasets. `readCsv` parses (csv-parse) with clear errors; `loadCsv` splits
 * the rows, fits the preprocessing spec on the training rows only, and encodes every part with it.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { assertValidDataset, type Dataset, splitIndices } from './dataset.js';
import {
  cellValue,
  type ColumnType,
  type CsvRecord,
  DEFAULT_MISSING_TOKENS,
  detectColumnType,
  applyPreprocessing,
  encodeTargets,
  fitPreprocessing,
  inferTargetTask,
  parseNumber,
  type PreprocessingSpec,
  sortClassLabels,
  type TaskOption,
} from './preprocess.js';

export interface CsvTable {
  /** File path or another description of where the text came from. */
  source: string;
  columns: string[];
  records: CsvRecord[];
  /** 1-based line number in the source of each record. */
  lines: number[];
}

/** Parse CSV text with a header row. Errors name the source and, for ragged rows, the line. */
export function parseCsvText(text: string, source = '<csv>'): CsvTable {
  if (text.replace(/^\uFEFF/, '').trim() === '') throw new Error(`CSV file ${source} is empty`);
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      info: true,
      relax_quotes: true,
      relax_column_count: true, // checked below, to report the line and both field counts
    }) as unknown as typeof parsed;
  } catch (e) {
    throw new Error(`CSV file ${source}: ${(e as Error).message}`);
  }
  const [header, ...rows] = parsed;
  if (!header) throw new Error(`CSV file ${source} is empty`);
  for (const row of rows) {
    if (row.record.length !== header.record.length) {
      throw new Error(
        `CSV file ${source}: line ${row.info.lines} has ${row.record.length} fields but the header has ${header.record.length} (ragged row)`,
      );
    }
  }
  const columns = header.record.map((c, i) => c || `column${i + 1}`);
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c)) throw new Error(`CSV file ${source}: duplicate column name '${c}' in the header`);
    seen.add(c);
  }
  if (rows.length === 0) throw new Error(`CSV file ${source} has a header but no data rows`);
  const records = rows.map(({ record }) => {
    const r: CsvRecord = {};
    columns.forEach((c, i) => (r[c] = record[i]));
    return r;
  });
  return { source, columns, records, lines: rows.map((r) => r.info.lines) };
}

export function readCsv(path: string): CsvTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read CSV file ${path}: ${(e as Error).message}`);
  }
  return parseCsvText(text, path);
}

/** Column type of each column, detected over all given rows. */
export function detectColumnTypes(records: readonly CsvRecord[], columns: readonly string[], missingTokens = DEFAULT_MISSING_TOKENS): Record<string, ColumnType> {
  const missing = new Set(missingTokens);
  return Object.fromEntries(columns.map((c) => [c, detectColumnType(records.map((r) => cellValue(r[c], missing)))]));
}

export interface LoadCsvOptions {
  /** Target column name (required). */
  target: string;
  /** Default 'auto': classification for non-numeric targets or integer targets with <= 20 distinct values. */
  task?: TaskOption;
  /** Validation fraction (default 0.2). */
  valFraction?: number;
  /** Test fraction (default 0). */
  testFraction?: number;
  /** Split seed (default 0). */
  seed?: number;
  /** Feature columns to use (default all but the target). */
  columns?: string[];
  maxCategories?: number;
}

export interface CsvDatasets {
  train: Dataset;
  val: Dataset;
  test: Dataset;
  /** Fitted on the training rows only; save it with the model. */
  spec: PreprocessingSpec;
  /** Rows skipped because the target was missing, as 1-based source line numbers. */
  droppedLines: number[];
}

/**
 * Load a CSV as train/val/test datasets of shape [numFeatures]. Rows with a missing target are
 * dropped. Classification splits are stratified. For regression, y is standardised with
 * spec.target.mean/std (`decodePredictions` undoes it).
 */
export function loadCsv(path: string, opts: LoadCsvOptions): CsvDatasets {
  return datasetsFromTable(readCsv(path), opts);
}

export function datasetsFromTable(table: CsvTable, opts: LoadCsvOptions): CsvDatasets {
  const { source, columns } = table;
  if (!columns.includes(opts.target)) {
    throw new Error(`target column '${opts.target}' not found in ${source}; available columns: ${columns.join(', ')}`);
  }
  const featureColumns = opts.columns ?? columns.filter((c) => c !== opts.target);
  const unknown = featureColumns.filter((c) => !columns.includes(c));
  if (unknown.length) throw new Error(`column(s) ${unknown.join(', ')} not found in ${source}; available columns: ${columns.join(', ')}`);
  if (featureColumns.length === 0) throw new Error(`CSV file ${source} has no feature columns besides the target '${opts.target}'`);

  const missing = new Set(DEFAULT_MISSING_TOKENS);
  const records: CsvRecord[] = [];
  const droppedLines: number[] = [];
  const targets: string[] = [];
  table.records.forEach((r, i) => {
    const v = cellValue(r[opts.target], missing);
    if (v === undefined) droppedLines.push(table.lines[i]!);
    else {
      records.push(r);
      targets.push(v);
    }
  });
  if (records.length === 0) throw new Error(`CSV file ${source}: every row is missing the target '${opts.target}'`);

  const task = !opts.task || opts.task === 'auto' ? inferTargetTask(targets) : opts.task;
  if (task === 'regression') {
    const bad = targets.findIndex((t) => parseNumber(t) === undefined);
    if (bad >= 0) {
      const line = table.lines[table.records.indexOf(records[bad]!)];
      throw new Error(`CSV file ${source}: regression target '${opts.target}' has the non-numeric value '${targets[bad]}' on line ${line}`);
    }
  }
  let classes: string[] | undefined;
  let labels: Int32Array | undefined;
  if (task === 'classification') {
    classes = sortClassLabels(targets);
    if (classes.length < 2) {
      throw new Error(`target column '${opts.target}' in ${source} has a single class ('${classes[0]}'); classification needs at least 2 classes`);
    }
    const index = new Map(classes.map((c, k) => [c, k]));
    labels = Int32Array.from(targets, (t) => index.get(t)!);
  }
  const idx = splitIndices(records.length, labels, { valFraction: opts.valFraction, testFraction: opts.testFraction, seed: opts.seed });
  const trainRows = idx.train.map((i) => records[i]!);
  if (trainRows.length === 0) throw new Error(`CSV file ${source}: no training rows left after the split`);
  const spec = fitPreprocessing(trainRows, {
    target: opts.target,
    task,
    columns: featureColumns,
    types: detectColumnTypes(records, featureColumns),
    classes,
    maxCategories: opts.maxCategories,
  });
  const make = (part: 'train' | 'val' | 'test'): Dataset => {
    const rows = idx[part].map((i) => records[i]!);
    const ds: Dataset = {
      name: `${source}/${part}`,
      task,
      x: applyPreprocessing(spec, rows),
      shape: [spec.featureNames.length],
      y: encodeTargets(spec, rows),
      numClasses: classes?.length ?? 0,
      classNames: classes ? [...classes] : [],
    };
    assertValidDataset(ds);
    return ds;
  };
  return { train: make('train'), val: make('val'), test: make('test'), spec, droppedLines };
}

/**
 * Features of a CSV for prediction with a saved spec (`tsnas predict`): the target column may be
 * absent, extra columns are ignored, unseen categories encode as zeros. Errors name the file and line.
 */
export function loadCsvForPrediction(path: string, spec: PreprocessingSpec): { x: Float32Array; table: CsvTable } {
  const table = readCsv(path);
  try {
    return { x: applyPreprocessing(spec, table.records, { lines: table.lines }), table };
  } catch (e) {
    throw new Error(`CSV file ${path}: ${(e as Error).message}`);
  }
}
