/** Errors the CLI reports as one line (no stack): bad input the user can fix, and a full or read-only disk. */
import { SpaceError } from '../space/params.js';
import { StorageError } from '../core/errors.js';
import { describeSqliteError } from '../store/sqlite-read.js';
import { DataDirError } from '../estimate/nb201.js';
import { UnknownStrategyError } from '../strategy/index.js';
import { writeError } from '../util/output.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

const USER_ERRORS = [UsageError, SpaceError, StorageError, DataDirError, UnknownStrategyError];

/** User errors are named for what to fix; anything else is a bug and keeps its stack for a report. */
export function isUserError(e: unknown): e is Error {
  return USER_ERRORS.some((C) => e instanceof C) || (e instanceof Error && (e as { userError?: boolean }).userError === true);
}

/**
 * The one line the CLI prints for an error, or null for a bug (which keeps its stack). Besides user
 * errors: SQLite failures (a damaged file, a full disk) and failed writes (ENOSPC, EROFS, EACCES).
 */
export function userMessage(e: unknown): string | null {
  if (isUserError(e)) return e.message;
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'string') return null;
  if (code.startsWith('SQLITE_')) {
    const d = describeSqliteError(e, 'storage');
    return d instanceof StorageError ? d.message : null;
  }
  const file = (e as NodeJS.ErrnoException).path;
  if (file && ['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EISDIR'].includes(code)) {
    const w = writeError(file, e);
    return isUserError(w) ? w.message : null;
  }
  if (code === 'ENOSPC') return 'the disk is full; free some space and run the command again';
  return null;
}
