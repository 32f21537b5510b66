/**
 * The job store cannot be used: it cannot be opened or created, the file is not a database, its schema
 * comes from a newer dli-watch, or the disk failed underneath it. Nothing the caller retries will fix it,
 * so callers report it and exit with code 1. Messages name the store and the operation, never record
 * contents; the underlying error is kept as `cause`.
 */
export class StoreError extends Error {
  override name = 'StoreError';
}

/**
 * A page cursor the store did not hand out for this kind of listing (corrupted, truncated, or taken from
 * another listing). A bug in the caller, not a broken store.
 */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}
