/**
 * Terminal text for stored trials (`tsnas trials`, `tsnas best`): every stored string made safe to
 * print, params shown compactly (an NB201 cell as its six ops; any other space as its most varying
 * params), and rows cut to the terminal's width so a table stays readable in 120 columns.
 */
import { isNb201Params } from '../report/arch.js';
import type { Params, ParamValue } from '../space/params.js';
import type { TrialRecord } from '../core/store.js';

// C0/C1 controls, DEL, and the bidirectional overrides/isolates that reorder what a terminal shows.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const hex = (c: string) => c.charCodeAt(0).toString(16).padStart(2, '0');

/** A stored string as printable text: control and bidi characters as visible `\xNN` / `\u{NNNN}` escapes. */
export function safeText(s: string): string {
  return s.replace(UNSAFE, (c) => (c.charCodeAt(0) < 0x100 ? `\\x${hex(c)}` : `\\u{${hex(c)}}`));
}

/** JSON for a terminal: JSON.stringify already escapes C0; DEL, C1 and bidi characters get `\uNNNN` too (still valid JSON). */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Cuts to `width` characters, marking the cut with "…". */
export function clip(s: string, width: number): string {
  return s.length <= width ? s : width <= 1 ? s.slice(0, width) : `${s.slice(0, width - 1)}…`;
}

/** A number in at most 4 significant digits (integers as they are). */
export function num(v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e7) return String(v);
  return String(Number(v.toPrecision(4)));
}

/** Seconds: 3 decimals below 1 s, 1 decimal below 1000 s, whole seconds above. */
export function seconds(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return v === undefined || v === null ? '' : String(v);
  return v < 1 ? v.toFixed(3) : v < 1000 ? v.toFixed(1) : v.toFixed(0);
}

export const NB201_EDGE_KEY = /^edge_\d_\d$/;

const value = (v: ParamValue) => safeText(typeof v === 'number' ? num(v) : String(v));

const NB201_SHORT: Record<string, string> = {
  none: '-', skip_connect: 'skip', nor_conv_1x1: 'c1', nor_conv_3x3: 'c3', avg_pool_3x3: 'avg',
};

/** An NB201 cell as its ops per node, e.g. `c3 | c3 avg | skip c3 skip` (node 1 | node 2 | node 3). */
export function nb201Short(p: Params): string {
  const op = (to: number, from: number) => NB201_SHORT[String(p[`edge_${to}_${from}`])] ?? String(p[`edge_${to}_${from}`]);
  return [1, 2, 3].map((to) => Array.from({ length: to }, (_, from) => op(to, from)).join(' ')).join(' | ');
}

/**
 * The param names of `trials` by how many distinct values they take (counted up to 64), most varying
 * first; names with one value in every trial are returned apart as `fixed`.
 */
export function rankParams(trials: readonly Pick<TrialRecord, 'params'>[]): { varying: string[]; fixed: Params } {
  const seen = new Map<string, { values: Set<ParamValue>; count: number; first: ParamValue }>();
  for (const t of trials) {
    for (const k in t.params) {
      const v = t.params[k]!;
      let s = seen.get(k);
      if (!s) seen.set(k, (s = { values: new Set(), count: 0, first: v }));
      s.count++;
      if (s.values.size < 64) s.values.add(v);
    }
  }
  const varies = (k: string) => seen.get(k)!.values.size > 1 || seen.get(k)!.count < trials.length;
  const names = [...seen.keys()];
  const varying = names.filter(varies).sort((a, b) => seen.get(b)!.values.size - seen.get(a)!.values.size);
  const fixed = Object.fromEntries(names.filter((k) => !varies(k)).map((k) => [k, seen.get(k)!.first]));
  return { varying, fixed };
}

/**
 * `k=v` for the names given (absent ones skipped), with an NB201 cell first in its short form;
 * stops once the parts reach `limit` characters (a table cell is cut there anyway).
 */
export function paramParts(p: Params, names: readonly string[], limit = Infinity): string[] {
  const nb = isNb201Params(p);
  const parts = nb ? [nb201Short(p)] : [];
  let length = parts[0]?.length ?? 0;
  for (const k of names) {
    if (length > limit) break;
    if (!(k in p) || (nb && NB201_EDGE_KEY.test(k))) continue;
    const part = `${safeText(k)}=${value(p[k]!)}`;
    parts.push(part);
    length += part.length + 1;
  }
  return parts;
}

export const paramsText = (p: Params, names: readonly string[], limit?: number): string => paramParts(p, names, limit).join(' ');

export interface Column {
  head: string;
  /** Right-aligned (numbers). */
  right?: boolean;
  /** The most characters it may take; the widest cell up to this. */
  max: number;
}

/**
 * Plain fixed-width columns (two spaces apart), each cut to its width; the column marked `flex`
 * takes what is left of `width` (at least 16). Linear in the rows, so 10,000+ rows print at once.
 */
export function formatColumns(columns: Column[], rows: string[][], width: number, flex: number): string {
  const widths = columns.map((c, i) => Math.min(c.max, Math.max(c.head.length, ...rows.map((r) => r[i]!.length))));
  const others = widths.reduce((s, w, i) => (i === flex ? s : s + w + 2), 0);
  widths[flex] = Math.max(16, Math.min(widths[flex]!, width - others));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => {
        const t = clip(c, widths[i]!);
        return columns[i]!.right ? t.padStart(widths[i]!) : t.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.head)), ...rows.map(line)].join('\n');
}
