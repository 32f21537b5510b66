/**
 * The job store cannot be used: it cannot be opened or created, the file is not a database, its schema
 * comes from a newer dli-watch, or the disk failed underneath it — or, when `transient`, it could not be reached
 * just now (connection refused, throttled, a server error), which a later try may get past. Callers report the
 * lasting kind and exit with code 4; `dli-watch run` backs off and retries the transient one. Messages name the
 * store and the operation, never record contents; the underlying error is kept as `cause`.
 */
export class StoreError extends Error {
  override name = 'StoreError';
  /** The store may answer if asked again later: an outage, not a broken store. */
  readonly transient: boolean;

  constructor(message: string, options?: ErrorOptions & { transient?: boolean }) {
    super(message, options);
    this.transient = options?.transient ?? false;
  }
}

/**
 * The store a command reads or changes does not exist (a SQLite file that is not there). Commands that only make
 * sense on an existing store open it with `mustExist`, so that a wrong path or a wrong working directory is said
 * plainly instead of answered from a new, empty store.
 */
export class MissingStoreError extends StoreError {
  override name = 'MissingStoreError';
  /** Where the store was looked for. */
  readonly location: string;

  constructor(location: string) {
    super(`There is no job store at ${location}`);
    this.location = location;
  }
}

/**
 * A page cursor the store did not hand out for this kind of listing (corrupted, truncated, or taken from
 * another listing). A bug in the caller, not a broken store.
 */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}
