import { isRecord } from '../util/is-record.ts';
import { InvalidCursorError } from './store-error.ts';

/** Where the previous page of `listDue` ended: the sort key of the last job handed out. */
export interface DueCursor {
  kind: 'due';
  lastPolledAt: number | null;
  jobId: string;
}

/** Where the previous page of `list` ended. */
export interface ListCursor {
  kind: 'all';
  jobId: string;
}

/**
 * Cursors are the sort key of the last item handed out, not a backend's offset or key: items the caller changes
 * or removes between pages drop out without shifting the ones still to come, on every backend alike.
 */
export function encodeCursor(cursor: DueCursor | ListCursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

export function decodeDueCursor(encoded: string): DueCursor {
  const value = decodeCursor(encoded);
  if (
    isRecord(value) &&
    value.kind === 'due' &&
    typeof value.jobId === 'string' &&
    (value.lastPolledAt === null ||
      (Number.isSafeInteger(value.lastPolledAt) && (value.lastPolledAt as number) >= 0))
  ) {
    return { kind: 'due', lastPolledAt: value.lastPolledAt as number | null, jobId: value.jobId };
  }
  throw new InvalidCursorError('Page cursor is not one listDue handed out');
}

export function decodeListCursor(encoded: string): ListCursor {
  const value = decodeCursor(encoded);
  if (isRecord(value) && value.kind === 'all' && typeof value.jobId === 'string') {
    return { kind: 'all', jobId: value.jobId };
  }
  throw new InvalidCursorError('Page cursor is not one list handed out');
}

export function assertPageLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`Page limit must be a positive integer, got ${limit}`);
  }
}

function decodeCursor(encoded: string): unknown {
  try {
    return JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch (error) {
    throw new InvalidCursorError('Page cursor is not one this store handed out', { cause: error });
  }
}
