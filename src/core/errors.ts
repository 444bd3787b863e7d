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

/**
 * Thrown by a strategy's `ask` when it has nothing left to propose (a grid that is fully tried, a
 * fixed list that is used up). The trial loop ends cleanly on it, under every executor.
 */
export class SearchExhausted extends Error {
  override name = 'SearchExhausted';
}
