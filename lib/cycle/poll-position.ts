/**
 * Where polling one job at a time stands between cycles. A poll that finds nothing new writes nothing, so the
 * store's records no longer say who was polled last; this one small value does instead, and jobs polled one by
 * one go round in job-id order, each cycle taking up after the last job the previous one polled. Pure but for
 * the two store calls.
 */
import type { JobRecord } from '../job.ts';
import type { JobStore } from '../store/job-store.ts';
import { isRecord } from '../util/is-record.ts';

export const POLL_POSITION_KEY = 'poll-position';

export interface PollPosition {
  /** The last job polled one by one in the round under way; `null`: the next round begins at the first id. */
  after: string | null;
  /** Epoch ms when the round under way began: every job polled one by one was polled at or after it. */
  roundStartedAt: number;
}

/** Never-polled jobs first (oldest tracked first), then the rest by id, taking up after `position.after`. */
export function orderOneByOne(records: readonly JobRecord[], position: PollPosition | null): JobRecord[] {
  const fresh = records
    .filter(isNeverPolled)
    .sort((a, b) => a.trackedAt - b.trackedAt || compareIds(a.jobId, b.jobId));
  const polled = records
    .filter((record) => !isNeverPolled(record))
    .sort((a, b) => compareIds(a.jobId, b.jobId));
  const after = position?.after ?? null;
  const resumeAt = after === null ? 0 : polled.findIndex((record) => record.jobId > after);
  const rotated = resumeAt <= 0 ? polled : [...polled.slice(resumeAt), ...polled.slice(0, resumeAt)];
  return [...fresh, ...rotated];
}

/** Never answered for: tracked and not yet polled successfully. */
export function isNeverPolled(record: JobRecord): boolean {
  return record.status === null && record.lastPolledAt === null;
}

/**
 * The position after a cycle that polled `done` of the jobs `orderOneByOne` gave it (in that order): a round that
 * reached its end closes, and the next cycle begins a new one.
 */
export function nextPollPosition(
  ordered: readonly JobRecord[],
  done: number,
  previous: PollPosition | null,
  cycleStartedAt: number,
): PollPosition {
  if (done >= ordered.length) return { after: null, roundStartedAt: cycleStartedAt };
  const lastDone = ordered
    .slice(0, done)
    .filter((record) => !isNeverPolled(record))
    .at(-1);
  return {
    after: lastDone?.jobId ?? previous?.after ?? null,
    roundStartedAt: previous?.roundStartedAt ?? cycleStartedAt,
  };
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The stored position, or `null` when there is none (or it is not one dli-watch wrote). */
export async function readPollPosition(
  store: JobStore,
): Promise<{ position: PollPosition | null; version: number }> {
  const stored = await store.getState(POLL_POSITION_KEY);
  if (stored === null) return { position: null, version: 0 };
  const value = stored.value;
  const valid =
    isRecord(value) &&
    (value.after === null || typeof value.after === 'string') &&
    typeof value.roundStartedAt === 'number';
  return { position: valid ? (value as unknown as PollPosition) : null, version: stored.version };
}
