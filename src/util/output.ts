/**
 * The one guard for every file a command writes (report --out, predict --out, fit --out and its
 * files): never an empty path, never a folder, never over a SQLite database (a storage), never over
 * a model folder's own files, never the file a command reads; written to a temporary file and
 * renamed, so a full disk or a kill leaves the old file or nothing, never a truncated one. A fit
 * folder is locked for the whole fit, so two fits cannot share one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processAlive } from './process.js';

export class OutputError extends Error {
  override name = 'OutputError';
  readonly userError = true;
}

/** The files of a fit folder (src/fit/export.ts); none is ever overwritten without `force`. */
export const FIT_FILES = ['model.json', 'weights.bin', 'genotype.json', 'preprocessing.json', 'fit.json', 'report.html', 'experiment.db'] as const;
const LOCK = '.tsnas-fit.lock';

function sameFile(a: string, b: string): boolean {
  try {
    const x = fs.statSync(a);
    const y = fs.statSync(b);
    return x.ino === y.ino && x.dev === y.dev;
  } catch {
    return path.resolve(a) === path.resolve(b);
  }
}

function isSqlite(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const b = Buffer.alloc(16);
      fs.readSync(fd, b, 0, 16, 0);
      return b.toString('latin1') === 'SQLite format 3\0';
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/**
 * Checks that `file` may be written by the option `flag`: refuses (one line naming the flag and the
 * fix) an empty path, a folder, a missing parent folder, a SQLite database (or its -wal/-shm), a file
 * of a tsnas model folder, and any of `inputs` (the files the command reads).
 */
export function checkOutFile(flag: string, file: string, inputs: readonly string[] = []): void {
  if (!file || !file.trim()) throw new OutputError(`${flag}: empty path; give a file name, e.g. ${flag} out.csv`);
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  if (!fs.existsSync(dir)) throw new OutputError(`${flag} ${file}: folder ${dir} does not exist; create it first`);
  if (!fs.statSync(dir).isDirectory()) throw new OutputError(`${flag} ${file}: ${dir} is not a folder`);
  for (const input of inputs) {
    if (input && sameFile(abs, input)) throw new OutputError(`${flag} ${file}: is the file this command reads; give another file name`);
  }
  if (!fs.existsSync(abs)) return;
  const st = fs.statSync(abs);
  if (st.isDirectory()) throw new OutputError(`${flag} ${file}: is a folder; give a file name inside it`);
  if (!st.isFile()) throw new OutputError(`${flag} ${file}: not a regular file; give a file name`);
  const base = abs.replace(/-(wal|shm|journal)$/, '');
  if (isSqlite(base)) throw new OutputError(`${flag} ${file}: is a SQLite database (a tsnas storage?); tsnas never overwrites one: give another file name`);
  if ((FIT_FILES as readonly string[]).includes(path.basename(abs)) && fs.existsSync(path.join(dir, 'model.json'))) {
    throw new OutputError(`${flag} ${file}: is a file of the model folder ${dir}; give a file outside it`);
  }
}

/** Writes `data` to `file` through a temporary file in the same folder and a rename. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw writeError(file, e);
  }
}

/** A failed write as one line: disk full, read-only, no permission. */
export function writeError(file: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new OutputError(`cannot write ${file}: the disk is full; free some space and run the command again (nothing was left half-written)`);
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return new OutputError(`cannot write ${file}: ${code === 'EROFS' ? 'read-only file system' : 'permission denied'}; choose another location`);
  if (code === 'EISDIR') return new OutputError(`cannot write ${file}: is a folder; give a file name`);
  return e as Error;
}

export interface OutLock {
  dir: string;
  /** Whether the folder holds a killed fit's search (experiment.db without model.json) to resume. */
  resumable: boolean;
  release(): void;
}

/**
 * Creates and locks a fit's output folder before anything is loaded. Refuses a folder that holds a
 * finished fit's files (unless `force`, which removes them), one another live fit holds, and a
 * path that is a file. A lock left by a killed fit is taken over; its search can then be resumed.
 */
export function lockOutDir(dir: string, opts: { force?: boolean } = {}): OutLock {
  if (!dir || !dir.trim()) throw new OutputError('--out: empty path; give a folder, e.g. --out model');
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new OutputError(`--out ${dir}: is a file; give a folder`);
  const created = !fs.existsSync(dir);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw writeError(dir, e);
  }
  const lockFile = path.join(dir, LOCK);
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(lockFile, `${process.pid}@${os.hostname()}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError(lockFile, e);
      const [pidText, host] = fs.readFileSync(lockFile, 'utf8').trim().split('@');
      const pid = Number(pidText);
      if (attempt < 3 && (host !== os.hostname() || (Number.isInteger(pid) && processAlive(pid)))) {
        throw new OutputError(`--out ${dir}: another fit (pid ${pidText} on ${host}) is writing this folder; wait for it or give another folder`);
      }
      if (attempt >= 3) throw new OutputError(`--out ${dir}: cannot take the lock ${lockFile}; remove it if no fit is running`);
      fs.rmSync(lockFile, { force: true }); // left by a killed fit
    }
  }
  const release = () => {
    fs.rmSync(lockFile, { force: true });
    // A fit refused before it wrote anything leaves no folder behind.
    if (created && fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
  };
  try {
    const present = FIT_FILES.filter((f) => fs.existsSync(path.join(dir, f)));
    const finished = present.filter((f) => f !== 'experiment.db');
    if (opts.force) {
      for (const f of present) fs.rmSync(path.join(dir, f), { force: true });
      for (const f of ['experiment.db-wal', 'experiment.db-shm']) fs.rmSync(path.join(dir, f), { force: true });
    } else if (finished.length > 0) {
      throw new OutputError(
        `--out ${dir}: already holds a fit (${finished.join(', ')}); give another folder, or --force to replace it`,
      );
    }
    return { dir, resumable: !opts.force && present.includes('experiment.db'), release };
  } catch (e) {
    release();
    throw e;
  }
}
