import type { JobRecord } from '../job.ts';
import type { JobStore } from '../store/job-store.ts';
import type { Clock } from '../util/clock.ts';
import type { Log } from '../util/log.ts';

/** One cycle's fixed facts, which both phases read: its store, its clock, its time limit and its stop signal. */
export interface CycleRun {
  store: JobStore;
  log: Log;
  clock: Clock;
  /** Epoch ms: jobs polled at or after it were handled in this cycle already. */
  startedAt: number;
  /** Epoch ms after which nothing new is started. */
  deadline: number;
  /** Jobs read from the store at a time: what bounds the cycle's memory (and the largest digest). */
  pageSize: number;
  /**
   * Epoch ms until which this cycle holds the deliveries it takes: its deadline plus the longest a message started
   * at the deadline can take. Unique to the cycle, so a delivery leased until exactly this moment is this cycle's.
   */
  lease: number;
  /** Stops starting new work (a clean shutdown); work under way finishes and records what it did. */
  signal?: AbortSignal;
}

/** Whether a stop was asked for. */
export function stopRequested(run: CycleRun): boolean {
  return run.signal?.aborted === true;
}

/** The store's due jobs (only those to poll, or only those owing a due delivery), a page at a time. */
export async function* duePages(
  run: CycleRun,
  only: 'polls' | 'deliveries',
): AsyncGenerator<JobRecord[], void, undefined> {
  let cursor: string | null = null;
  do {
    const page = await run.store.listDue({
      cycleStartedAt: run.startedAt,
      now: run.clock.now(),
      limit: run.pageSize,
      cursor,
      only,
    });
    if (page.items.length > 0) yield page.items;
    cursor = page.cursor;
  } while (cursor);
}

/**
 * Compare-and-set write; `null` means another cycle got there first, or the store failed (then `onStoreError` is
 * called and the failure logged): either way the caller backs off.
 */
export async function writeRecord(
  run: CycleRun,
  next: JobRecord,
  expectedVersion: number,
  onStoreError: () => void,
): Promise<JobRecord | null> {
  try {
    const stored = await run.store.update(next, expectedVersion);
    if (!stored)
      run.log.debug('job changed under us; leaving it to the other writer', { job_id: next.jobId });
    return stored;
  } catch (error) {
    onStoreError();
    run.log.error('could not write job state', { job_id: next.jobId, error: (error as Error).message });
    return null;
  }
}
