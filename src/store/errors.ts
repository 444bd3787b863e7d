/** A storage location that cannot be used; the message names the location and the fix. */
export class StorageError extends Error {
  override name = 'StorageError';
}

/** createTrial with `expectNumber`: another trial took that number first (decide again from the new history). */
export class TrialNumberTaken extends Error {
  override name = 'TrialNumberTaken';
  constructor(expected: number, next: number) {
    super(`trial number ${expected} was taken (next is ${next}); decide again from the current history`);
  }
}
