/**
 * What a watch does in a cycle, apart from scanning (poll-phase.ts reads the rows): where its scan starts, the
 * tracking of what it found, and the cursor it leaves for the next cycle.
 */
import type { JobStatusResponse } from '../dli/schemas.ts';
import { type JobRecord, newJobRecord, type TrackRequest } from '../job.ts';
import { type JobStore, MAX_GET_MANY } from '../store/job-store.ts';
import { type Watch, watchLabels, watchStartsAt } from '../watch.ts';
import type { CycleRun } from './cycle-run.ts';
import { readWatchStatesOf, saveWatchRun } from './watch-state.ts';

/** How far before its cursor a watch's scan starts by default: room for DLI's clock to be behind ours. */
export const DEFAULT_SCAN_OVERLAP_MS = 2 * 60_000;

/** A watch in this cycle: where its scan starts, and how far it got. */
export interface WatchRun {
  watch: Watch;
  /** Epoch ms: jobs that started before it were looked at by an earlier cycle. */
  windowStart: number;
  /** Epoch ms up to which this cycle has stored every job the watch finds; below `windowStart`: no progress. */
  coveredUpTo: number;
  found: number;
}

/** A job a watch found and this cycle tracked: the record as the store created it, and the row that found it. */
export interface TrackedByWatch {
  record: JobRecord;
  row: JobStatusResponse;
  watch: WatchRun;
}

/**
 * Each watch's run for this cycle, from its stored cursor (less the overlap), or, for a watch with none, from
 * where it starts (`since`, else this cycle). A new watch that starts now reads nothing: it only leaves its
 * cursor. Throws the store's error: without its cursor a watch must not start afresh.
 */
export async function openWatchRuns(
  store: JobStore,
  watches: readonly Watch[],
  times: { cycleStartedAt: number; scanEnd: number; overlapMs: number },
): Promise<WatchRun[]> {
  if (watches.length === 0) return [];
  const states = await readWatchStatesOf(
    store,
    watches.map((watch) => watch.name),
  );
  return watches.map((watch) => {
    const state = states.get(watch.name);
    const windowStart =
      state === undefined ? watchStartsAt(watch, times.cycleStartedAt) : state.cursor - times.overlapMs;
    const isNew = windowStart >= times.scanEnd;
    return { watch, windowStart, coveredUpTo: isNew ? times.scanEnd : Number.NEGATIVE_INFINITY, found: 0 };
  });
}

/**
 * Tracks the jobs of `found` nobody tracked yet, each with the labels of the watch that wants it, and hands each
 * one this call added to `onAdded` (which reads its row as its first poll). A job another cycle added at the same
 * moment is that cycle's. Rejects when the store fails: the scan then stops, so no cursor passes a job not stored.
 */
export async function trackFound(
  run: CycleRun,
  found: readonly { row: JobStatusResponse; watch: WatchRun }[],
  onAdded: (added: TrackedByWatch) => Promise<void>,
): Promise<void> {
  const known = new Set<string>();
  for (let at = 0; at < found.length; at += MAX_GET_MANY) {
    const ids = found.slice(at, at + MAX_GET_MANY).map(({ row }) => row.job_id);
    for (const record of await run.store.getMany(ids)) known.add(record.jobId);
  }
  const fresh = found.filter(({ row }) => !known.has(row.job_id));
  if (fresh.length === 0) return;
  const now = run.clock.now();
  const requests = new Map<string, { request: TrackRequest; row: JobStatusResponse; watch: WatchRun }>();
  for (const { row, watch } of fresh) {
    const request: TrackRequest = {
      jobId: row.job_id,
      labels: watchLabels(watch.watch),
      ...(row.start_time === undefined ? {} : { startTime: row.start_time }),
      ...(watch.watch.warnAfterMs !== null && { warnAfterMs: watch.watch.warnAfterMs }),
      ...(watch.watch.keyFrom !== null && { keyFrom: watch.watch.keyFrom }),
    };
    requests.set(row.job_id, { request, row, watch });
  }
  const { addedIds } = await run.store.track(
    [...requests.values()].map(({ request }) => request),
    now,
  );
  const reads: Promise<void>[] = [];
  for (const jobId of addedIds) {
    const added = requests.get(jobId);
    if (!added) continue;
    added.watch.found += 1;
    // The record as the store created it; its first write is then a compare-and-set on version 1.
    reads.push(onAdded({ record: newJobRecord(added.request, now), row: added.row, watch: added.watch }));
  }
  await Promise.all(reads);
}

/** Leaves each watch's cursor where this cycle got to, and what it found; a failure only means a longer scan next. */
export async function saveWatchRuns(
  run: CycleRun,
  watchRuns: readonly WatchRun[],
  onStoreError: () => void,
): Promise<void> {
  for (const watch of watchRuns) {
    const progressed = watch.coveredUpTo >= watch.windowStart;
    if (!progressed && watch.found === 0) continue;
    try {
      const saved = await saveWatchRun(run.store, watch.watch.name, {
        coveredUpTo: progressed ? watch.coveredUpTo : Number.NEGATIVE_INFINITY,
        found: watch.found,
        ranAt: run.startedAt,
      });
      if (!saved)
        run.log.warn('other cycles kept changing a watch; its cursor waits', { watch: watch.watch.name });
    } catch (error) {
      onStoreError();
      run.log.error('could not record how far a watch got; it looks again next cycle', {
        watch: watch.watch.name,
        error: (error as Error).message,
      });
    }
  }
}
