/**
 * Tabular preprocessing as a plain-JSON spec, fitted on training rows and applied identically at
 * prediction time (the spec travels inside an exported model).
 *
 * Feature layout, in column order (the target column excluded):
 * - numeric column c: one feature `c` = (value - mean) / std, missing values replaced by the
 *   training median first; plus `c__missing` (1 if missing, else 0) when the training rows had
 *   missing values in c.
 * - categorical column c: one-hot `c=<category>` per training category (most frequent first,
 *   at most `maxCategories`), plus `c=<missing>` when the training rows had missing values in c.
 *   Unseen categories (and missing values when the training rows had none) encode as all zeros.
 * Targets: classification -> class index into `target.classes`; regression -> (y - mean) / std.
 */
import { z } from 'zod';

/** Cell values treated as missing (after trimming whitespace). */
export const DEFAULT_MISSING_TOKENS = ['', 'NA', 'N/A', 'na', 'n/a', 'NaN', 'nan', '?', 'null', 'NULL', 'None'];

/** Auto task rule: a numeric target with integer values only and at most this many distinct values is a class label. */
export const AUTO_CLASSIFICATION_MAX_DISTINCT = 20;

/** One CSV row keyed by column name. Numbers are accepted too (e.g. rows built in code). */
export type CsvRecord = Record<string, string | number | null | undefined>;

export type ColumnType = 'numeric' | 'categorical';
export type TaskOption = 'classification' | 'regression' | 'auto';

const numericColumnSchema = z.object({
  name: z.string(),
  type: z.literal('numeric'),
  mean: z.number(),
  std: z.number().positive(),
  /** Median of the observed training values, used for missing values. */
  impute: z.number(),
  missingIndicator: z.boolean(),
});
const categoricalColumnSchema = z.object({
  name: z.string(),
  type: z.literal('categorical'),
  categories: z.array(z.string()),
  missingCategory: z.boolean(),
});
const targetSchema = z.discriminatedUnion('task', [
  z.object({ name: z.string(), task: z.literal('classification'), classes: z.array(z.string()).min(2) }),
  z.object({ name: z.string(), task: z.literal('regression'), mean: z.number(), std: z.number().positive() }),
]);
export const preprocessingSpecSchema = z.object({
  version: z.literal(1),
  missingTokens: z.array(z.string()),
  columns: z.array(z.discriminatedUnion('type', [numericColumnSchema, categoricalColumnSchema])),
  featureNames: z.array(z.string()),
  target: targetSchema,
});

export type NumericColumnSpec = z.infer<typeof numericColumnSchema>;
export type CategoricalColumnSpec = z.infer<typeof categoricalColumnSchema>;
export type ColumnSpec = NumericColumnSpec | CategoricalColumnSpec;
export type TargetSpec = z.infer<typeof targetSchema>;
export type PreprocessingSpec = z.infer<typeof preprocessingSpecSchema>;

/** Validate a parsed JSON value (e.g. from a saved model) as a preprocessing spec. */
export function parsePreprocessingSpec(json: unknown): PreprocessingSpec {
  const r = preprocessingSpecSchema.safeParse(json);
  if (!r.success) throw new Error(`invalid preprocessing spec: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const spec = r.data;
  const expected = featureNamesOf(spec.columns);
  if (expected.join('\u0000') !== spec.featureNames.join('\u0000')) throw new Error('invalid preprocessing spec: featureNames do not match the columns');
  return spec;
}

/** The cell as a trimmed string, or undefined when missing. */
export function cellValue(v: string | number | null | undefined, missing: ReadonlySet<string>): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'number') return Number.isNaN(v) ? undefined : String(v);
  const s = v.trim();
  return missing.has(s) ? undefined : s;
}

/** Finite number or undefined ("1e3" and " 2.5 " are numbers; "0x1", "Infinity", "abc" are not). */
export function parseNumber(s: string): number | undefined {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

/** numeric if every non-missing value is a number (and there is at least one), else categorical. */
export function detectColumnType(values: Iterable<string | undefined>): ColumnType {
  let seen = 0;
  for (const v of values) {
    if (v === undefined) continue;
    seen++;
    if (parseNumber(v) === undefined) return 'categorical';
  }
  return seen > 0 ? 'numeric' : 'categorical';
}

/**
 * Task of a target column under 'auto': classification if any value is non-numeric, or if all
 * values are integers with at most AUTO_CLASSIFICATION_MAX_DISTINCT (20) distinct values;
 * otherwise regression.
 */
export function inferTargetTask(values: readonly string[]): 'classification' | 'regression' {
  const distinct = new Set<number>();
  for (const v of values) {
    const n = parseNumber(v);
    if (n === undefined) return 'classification';
    if (!Number.isInteger(n)) return 'regression';
    distinct.add(n);
  }
  return distinct.size <= AUTO_CLASSIFICATION_MAX_DISTINCT ? 'classification' : 'regression';
}

/** Class labels sorted numerically when all are numbers, else by string order. */
export function sortClassLabels(labels: Iterable<string>): string[] {
  const list = [...new Set(labels)];
  if (list.every((l) => parseNumber(l) !== undefined)) return list.sort((a, b) => parseNumber(a)! - parseNumber(b)! || (a < b ? -1 : 1));
  return list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function featureNamesOf(columns: readonly ColumnSpec[]): string[] {
  const names: string[] = [];
  for (const c of columns) {
    if (c.type === 'numeric') {
      names.push(c.name);
      if (c.missingIndicator) names.push(`${c.name}__missing`);
    } else {
      for (const cat of c.categories) names.push(`${c.name}=${cat}`);
      if (c.missingCategory) names.push(`${c.name}=<missing>`);
    }
  }
  return names;
}

export interface FitPreprocessingOptions {
  /** Name of the target column. */
  target: string;
  /** Default 'auto' (see inferTargetTask). */
  task?: TaskOption;
  /** Feature columns in order (default: the keys of the first row, minus the target). */
  columns?: string[];
  /** Column types decided elsewhere (e.g. on all rows, so that validation rows parse); default detected on `rows`. */
  types?: Record<string, ColumnType>;
  /** Class labels (default: those in `rows`); pass all labels of the file so that a class missing from the training part still gets an index. */
  classes?: string[];
  /** Most one-hot categories per column (default 100); rarer categories encode like unseen ones. */
  maxCategories?: number;
  missingTokens?: string[];
}

function median(sorted: Float64Array): number {
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/** Fit a preprocessing spec on (training) rows. */
export function fitPreprocessing(rows: readonly CsvRecord[], opts: FitPreprocessingOptions): PreprocessingSpec {
  if (rows.length === 0) throw new Error('fitPreprocessing: no rows to fit on');
  const missingTokens = opts.missingTokens ?? DEFAULT_MISSING_TOKENS;
  const missing = new Set(missingTokens);
  const columnNames = opts.columns ?? Object.keys(rows[0]!).filter((c) => c !== opts.target);
  if (!(opts.target in rows[0]!)) {
    throw new Error(`target column '${opts.target}' not found; available columns: ${Object.keys(rows[0]!).join(', ')}`);
  }
  const maxCategories = opts.maxCategories ?? 100;

  const columns: ColumnSpec[] = columnNames.map((name) => {
    const values = rows.map((r) => cellValue(r[name], missing));
    const type = opts.types?.[name] ?? detectColumnType(values);
    const nMissing = values.filter((v) => v === undefined).length;
    if (type === 'numeric') {
      const observed = Float64Array.from(
        values.filter((v): v is string => v !== undefined).map((v) => {
          const n = parseNumber(v);
          if (n === undefined) throw new Error(`column '${name}' is numeric but has the value '${v}'`);
          return n;
        }),
      ).sort();
      let mean = 0;
      for (const v of observed) mean += v;
      mean = observed.length ? mean / observed.length : 0;
      let sq = 0;
      for (const v of observed) sq += (v - mean) * (v - mean);
      const sd = observed.length ? Math.sqrt(sq / observed.length) : 0;
      return {
        name,
        type: 'numeric',
        mean,
        std: sd > 1e-12 ? sd : 1,
        impute: observed.length ? median(observed) : 0,
        missingIndicator: nMissing > 0,
      } satisfies NumericColumnSpec;
    }
    const counts = new Map<string, number>();
    for (const v of values) if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
    const categories = [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, maxCategories)
      .map(([c]) => c);
    return { name, type: 'categorical', categories, missingCategory: nMissing > 0 } satisfies CategoricalColumnSpec;
  });

  const targetValues: string[] = [];
  rows.forEach((r, i) => {
    const v = cellValue(r[opts.target], missing);
    if (v === undefined) throw new Error(`fitPreprocessing: row ${i} has no value in the target column '${opts.target}'`);
    targetValues.push(v);
  });
  const taskOpt = opts.task ?? 'auto';
  const task = taskOpt === 'auto' ? inferTargetTask(opts.classes ?? targetValues) : taskOpt;
  let target: TargetSpec;
  if (task === 'classification') {
    const classes = opts.classes ? [...opts.classes] : sortClassLabels(targetValues);
    if (classes.length < 2) {
      throw new Error(`target column '${opts.target}' has a single class ('${classes[0]}'); classification needs at least 2 classes`);
    }
    target = { name: opts.target, task, classes };
  } else {
    const ys = targetValues.map((v, i) => {
      const n = parseNumber(v);
      if (n === undefined) throw new Error(`regression target '${opts.target}' has the non-numeric value '${v}' (row ${i})`);
      return n;
    });
    const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
    const sd = Math.sqrt(ys.reduce((a, b) => a + (b - mean) * (b - mean), 0) / ys.length);
    target = { name: opts.target, task, mean, std: sd > 1e-12 ? sd : 1 };
  }
  return { version: 1, missingTokens: [...missingTokens], columns, featureNames: featureNamesOf(columns), target };
}

/** Number of features `applyPreprocessing` produces per row. */
export function numFeatures(spec: PreprocessingSpec): number {
  return spec.featureNames.length;
}

/**
 * Encode rows (the target column may be absent; extra columns are ignored) into an
 * N x numFeatures row-major Float32Array. A feature column absent from all rows is an error.
 * `lines` (source line of each row) makes errors name lines instead of row indices.
 */
export function applyPreprocessing(spec: PreprocessingSpec, rows: readonly CsvRecord[], opts: { lines?: readonly number[] } = {}): Float32Array {
  const where = (i: number) => (opts.lines?.[i] !== undefined ? `line ${opts.lines[i]}` : `row ${i}`);
  const missing = new Set(spec.missingTokens);
  const width = spec.featureNames.length;
  if (rows.length > 0) {
    const present = new Set(rows.flatMap((r) => Object.keys(r)));
    const absent = spec.columns.filter((c) => !present.has(c.name)).map((c) => c.name);
    if (absent.length) {
      throw new Error(`input is missing column(s) ${absent.map((c) => `'${c}'`).join(', ')} required by the model; columns present: ${[...present].join(', ')}`);
    }
  }
  const out = new Float32Array(rows.length * width);
  const lookups = spec.columns.map((c) => (c.type === 'categorical' ? new Map(c.categories.map((cat, k) => [cat, k])) : undefined));
  rows.forEach((row, i) => {
    let o = i * width;
    spec.columns.forEach((c, ci) => {
      const v = cellValue(row[c.name], missing);
      if (c.type === 'numeric') {
        let n = c.impute;
        if (v !== undefined) {
          const parsed = parseNumber(v);
          if (parsed === undefined) throw new Error(`${where(i)}: column '${c.name}' expects a number, got '${v}'`);
          n = parsed;
        }
        out[o++] = (n - c.mean) / c.std;
        if (c.missingIndicator) out[o++] = v === undefined ? 1 : 0;
      } else {
        const k = v === undefined ? undefined : lookups[ci]!.get(v);
        if (k !== undefined) out[o + k] = 1;
        o += c.categories.length;
        if (c.missingCategory) out[o++] = v === undefined ? 1 : 0;
      }
    });
  });
  return out;
}

/** Encode the target column: class indices (Int32Array) or standardised values (Float32Array). */
export function encodeTargets(spec: PreprocessingSpec, rows: readonly CsvRecord[]): Int32Array | Float32Array {
  const missing = new Set(spec.missingTokens);
  const t = spec.target;
  const value = (r: CsvRecord, i: number): string => {
    const v = cellValue(r[t.name], missing);
    if (v === undefined) throw new Error(`row ${i} has no value in the target column '${t.name}'`);
    return v;
  };
  if (t.task === 'classification') {
    const index = new Map(t.classes.map((c, k) => [c, k]));
    return Int32Array.from(rows, (r, i) => {
      const v = value(r, i);
      const k = index.get(v);
      if (k === undefined) throw new Error(`row ${i}: target '${v}' is not one of the classes ${t.classes.join(', ')}`);
      return k;
    });
  }
  return Float32Array.from(rows, (r, i) => {
    const v = value(r, i);
    const n = parseNumber(v);
    if (n === undefined) throw new Error(`row ${i}: regression target '${t.name}' has the non-numeric value '${v}'`);
    return (n - t.mean) / t.std;
  });
}

/**
 * Model outputs back to target values: class indices -> original labels (classification);
 * standardised predictions -> original units (regression).
 */
export function decodePredictions(spec: PreprocessingSpec, outputs: ArrayLike<number>): string[] | number[] {
  const t = spec.target;
  if (t.task === 'regression') return Array.from(outputs, (v) => v * t.std + t.mean);
  return Array.from(outputs, (k, i) => {
    const label = Number.isInteger(k) ? t.classes[k] : undefined;
    if (label === undefined) throw new Error(`prediction ${i}: class index ${k} outside [0, ${t.classes.length})`);
    return label;
  });
}

/** Row-major N x numClasses probabilities -> argmax labels and their probabilities. */
export function decodeClassProbabilities(spec: PreprocessingSpec, probs: ArrayLike<number>): { labels: string[]; confidence: Float32Array } {
  const t = spec.target;
  if (t.task !== 'classification') throw new Error('decodeClassProbabilities: the spec is for regression');
  const c = t.classes.length;
  if (probs.length % c !== 0) throw new Error(`decodeClassProbabilities: ${probs.length} values is not a multiple of ${c} classes`);
  const n = probs.length / c;
  const labels: string[] = [];
  const confidence = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (probs[i * c + k]! > probs[i * c + best]!) best = k;
    labels.push(t.classes[best]!);
    confidence[i] = probs[i * c + best]!;
  }
  return { labels, confidence };
}
