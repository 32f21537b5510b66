/**
 * What the store keeps for each watch: its cursor and what it has found. Kept beside the jobs under
 * `watch:<name>`, changed only by compare-and-set, and only ever moved forward.
 */
import type { JobStore, StoredState } from '../store/job-store.ts';
import { isRecord } from '../util/is-record.ts';

export const WATCH_STATE_PREFIX = 'watch:';

export interface WatchState {
  /**
   * Epoch ms: every job of the watch that DLI lists with a start time at or before it has been found and stored.
   * The next scan starts a little before it (the overlap), for the jobs DLI's clock put behind ours.
   */
  cursor: number;
  /** Jobs the watch has tracked, in all. */
  found: number;
  /** Epoch ms of the last cycle that scanned for it. */
  lastRunAt: number;
  /** Epoch ms of the last cycle that found a job for it; `null` before the first. */
  lastFoundAt: number | null;
}

/** How often a cycle re-reads a watch's state that another cycle changed meanwhile before giving up. */
const SAVE_TRIES = 5;

export function watchStateKey(name: string): string {
  return `${WATCH_STATE_PREFIX}${name}`;
}

function parseWatchState(stored: StoredState | null): WatchState | null {
  const value = stored?.value;
  if (!isRecord(value)) return null;
  const { cursor, found, lastRunAt, lastFoundAt } = value;
  if (typeof cursor !== 'number' || typeof found !== 'number' || typeof lastRunAt !== 'number') return null;
  return { cursor, found, lastRunAt, lastFoundAt: typeof lastFoundAt === 'number' ? lastFoundAt : null };
}

/**
 * The stored state of each watch named, by name (absent: none stored yet). One read per watch: cheap on both
 * stores however many jobs they hold, which a cycle needs.
 */
export async function readWatchStatesOf(
  store: JobStore,
  names: readonly string[],
): Promise<Map<string, WatchState>> {
  const states = new Map<string, WatchState>();
  const stored = await Promise.all(names.map((name) => store.getState(watchStateKey(name))));
  names.forEach((name, index) => {
    const state = parseWatchState(stored[index] ?? null);
    if (state !== null) states.set(name, state);
  });
  return states;
}

/**
 * Every watch's stored state, by watch name, names no longer configured included. On DynamoDB this reads the
 * whole table: for `dli-watch watches`, not for a cycle.
 */
export async function readWatchStates(store: JobStore): Promise<Map<string, WatchState>> {
  const states = new Map<string, WatchState>();
  for (const stored of await store.listStates(WATCH_STATE_PREFIX)) {
    const state = parseWatchState(stored);
    if (state !== null) states.set(stored.key.slice(WATCH_STATE_PREFIX.length), state);
  }
  return states;
}

/**
 * Records one cycle's scan for a watch: the cursor moves to `coveredUpTo` if that is further, `found` is added.
 * A cycle racing this one may have moved the cursor further meanwhile: the larger wins, and both cycles' finds
 * count. Returns `false` when other writers kept winning (the cursor then stays behind, which only means the next
 * scan reads a little more again).
 */
export async function saveWatchRun(
  store: JobStore,
  name: string,
  run: { coveredUpTo: number; found: number; ranAt: number },
): Promise<boolean> {
  const key = watchStateKey(name);
  for (let attempt = 0; attempt < SAVE_TRIES; attempt++) {
    const stored = await store.getState(key);
    const previous = parseWatchState(stored);
    const next: WatchState = {
      cursor: Math.max(previous?.cursor ?? Number.NEGATIVE_INFINITY, run.coveredUpTo),
      found: (previous?.found ?? 0) + run.found,
      lastRunAt: Math.max(previous?.lastRunAt ?? 0, run.ranAt),
      lastFoundAt: run.found > 0 ? run.ranAt : (previous?.lastFoundAt ?? null),
    };
    if ((await store.putState(key, next, stored?.version ?? 0)) !== null) return true;
  }
  return false;
}
