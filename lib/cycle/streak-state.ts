/**
 * Each run key's streak history, kept beside the jobs under `streak:<hash of the key>` and changed only by
 * compare-and-set, like a job record: two cycles that see runs of one key end at once both get their runs counted.
 */
import { createHash } from 'node:crypto';
import type { JobStore } from '../store/job-store.ts';
import { addRun, readStreakHistory, type StreakPlace, type StreakRun } from '../streak.ts';

export const STREAK_STATE_PREFIX = 'streak:';

/** How often a cycle re-reads a key's history that another cycle changed meanwhile before giving up. */
const SAVE_TRIES = 5;

/** The state key of a run key: hashed, because a tag value or a label may hold any text, and state keys may not. */
export function streakStateKey(key: string): string {
  return `${STREAK_STATE_PREFIX}${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

/** The key's history could not be updated: other writers kept winning, or the store failed. */
export class StreakStateError extends Error {
  constructor(key: string, options?: ErrorOptions) {
    super(`could not update the streak of run key ${key}`, options);
    this.name = 'StreakStateError';
  }
}

/**
 * Counts one run of `key` and returns its place in the streak. Stored before the run's end is written, so a crash
 * in between repeats the poll, and counting the same run again finds it already there: every run counts once.
 * Throws {@link StreakStateError} when the history could not be stored; the caller leaves the job for the next
 * cycle rather than send a message that says the wrong count.
 */
export async function placeRun(
  store: JobStore,
  key: string,
  run: Pick<StreakRun, 'jobId' | 'status' | 'endedAt'>,
): Promise<StreakPlace> {
  const stateKey = streakStateKey(key);
  try {
    for (let attempt = 0; attempt < SAVE_TRIES; attempt++) {
      const stored = await store.getState(stateKey);
      const before = readStreakHistory(stored?.value ?? null);
      const { history, place } = addRun(before, key, run);
      if (history === before) return place;
      if ((await store.putState(stateKey, { key, ...history }, stored?.version ?? 0)) !== null) return place;
    }
  } catch (error) {
    throw new StreakStateError(key, { cause: error });
  }
  throw new StreakStateError(key);
}
