/**
 * Objective and intermediate values as they are stored and sent between processes. JSON (the trials
 * table, Redis) has no NaN or infinities, so a non-finite number travels as the string "NaN",
 * "Infinity" or "-Infinity" and is read back as that number: a diverged run is recorded faithfully.
 */
export type StoredNumber = number | 'NaN' | 'Infinity' | '-Infinity';

/** `v` may also be what a transport made of a number (a stored string or null). */
export function toStored(v: number | StoredNumber | null): StoredNumber {
  const n = fromStored(v);
  return Number.isFinite(n) ? n : (String(n) as StoredNumber);
}

/** Reads a stored value back; null (what JSON made of NaN in older files and transports) reads as NaN. */
export function fromStored(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return NaN;
}

export function valuesToJson(values: readonly number[] | null): string | null {
  return values === null ? null : JSON.stringify(values.map(toStored));
}

export function valuesFromJson(text: string | null): number[] | null {
  if (text === null) return null;
  const a = JSON.parse(text) as unknown[];
  return Array.isArray(a) ? a.map(fromStored) : null;
}
