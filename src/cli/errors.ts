/** Errors the CLI reports as one line (no stack): bad input the user can fix. */
import { SpaceError } from '../space/params.js';
import { StorageError } from '../store/errors.js';
import { DataDirError } from '../estimate/nb201.js';
import { UnknownStrategyError } from '../strategy/index.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

const USER_ERRORS = [UsageError, SpaceError, StorageError, DataDirError, UnknownStrategyError];

/** User errors are named for what to fix; anything else is a bug and keeps its stack for a report. */
export function isUserError(e: unknown): e is Error {
  return USER_ERRORS.some((C) => e instanceof C) || (e instanceof Error && (e as { userError?: boolean }).userError === true);
}
