import type { JobRecord } from '../job.ts';
import type { JobStore } from './job-store.ts';

/** How often {@link updateRecord} re-reads a record that changed under it before it gives up. */
export const UPDATE_RECORD_TRIES = 8;

/** What {@link updateRecord} did. */
export type RecordUpdate =
  | { kind: 'updated'; record: JobRecord }
  /** `change` had nothing to do on the record as stored; `record` is how it was read. */
  | { kind: 'unchanged'; record: JobRecord }
  | { kind: 'not-found' }
  /** Other writers changed the record on every try; nothing was written. Worth retrying later. */
  | { kind: 'contended' };

/**
 * Applies `change` to the stored record of `jobId` by compare-and-set, re-reading and re-applying it when
 * somebody else (a cycle recording a delivery, another operator) wrote in between, so their change is never
 * overwritten. `change` returns the next record, or `null` when the record as read needs no change; it may run
 * more than once and must depend only on the record it is given. The one read-modify-write loop for operator
 * changes, on every backend: it needs nothing but `get` and `update`.
 */
export async function updateRecord(
  store: JobStore,
  jobId: string,
  change: (current: JobRecord) => JobRecord | null,
  tries = UPDATE_RECORD_TRIES,
): Promise<RecordUpdate> {
  for (let attempt = 0; attempt < tries; attempt++) {
    const current = await store.get(jobId);
    if (current === null) return { kind: 'not-found' };
    const next = change(current);
    if (next === null) return { kind: 'unchanged', record: current };
    const stored = await store.update({ ...next, jobId, version: current.version }, current.version);
    if (stored !== null) return { kind: 'updated', record: stored };
  }
  return { kind: 'contended' };
}
