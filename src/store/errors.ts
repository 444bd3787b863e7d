/** A storage location that cannot be used; the message names the location and the fix. */
export class StorageError extends Error {
  override name = 'StorageError';
}
