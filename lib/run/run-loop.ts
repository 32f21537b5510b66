import { CycleFailedError } from '../cycle/summary.ts';
import { StoreError } from '../store/store-error.ts';
import { type Clock, systemClock } from '../util/clock.ts';
import type { Log } from '../util/log.ts';
import type { Watcher } from './watcher.ts';

/**
 * Runs a cycle every `intervalMs` until `signal` aborts. A stop request lets the cycle under way finish the
 * jobs it started — their writes included — so a delivery is never lost or sent twice by stopping. A cycle that
 * failed (DLI answered none of its polls) is logged as an error and the loop goes on: DLI may be back next
 * minute. A store that cannot be reached just now (connection refused, throttled) is retried after a wait that
 * doubles with each failure in a row, up to {@link MAX_STORE_BACKOFF_MS}. Rejected credentials, a project DLI does
 * not know and a store that cannot be used at all (corrupt, newer) end the loop (by rejecting): retrying them
 * every minute only locks the key or repeats the same failure.
 */
/** The longest wait between two tries of a store that cannot be reached. */
export const MAX_STORE_BACKOFF_MS = 5 * 60_000;

export async function runLoop(
  watcher: Watcher,
  options: {
    intervalMs: number;
    log: Log;
    signal?: AbortSignal;
    clock?: Clock;
    /** Called after every cycle that did its job (not after a failed one): the health signal. */
    onCycle?: () => void | Promise<void>;
  },
): Promise<void> {
  const clock = options.clock ?? systemClock;
  // A cycle starts no new job after 80 % of the interval, so cycles do not pile up behind each other.
  const budgetMs = Math.max(1_000, Math.floor(options.intervalMs * 0.8));
  let storeFailures = 0;
  while (!options.signal?.aborted) {
    const startedAt = clock.now();
    let waitMs = options.intervalMs;
    try {
      const summary = await watcher.tick({ budgetMs, ...(options.signal ? { signal: options.signal } : {}) });
      storeFailures = 0;
      options.log.info('cycle finished', { ...summary });
      await options.onCycle?.();
    } catch (error) {
      if (error instanceof CycleFailedError) {
        options.log.error(`cycle failed: ${error.message}`, { ...error.summary });
      } else if (error instanceof StoreError && error.transient) {
        storeFailures += 1;
        waitMs = Math.min(options.intervalMs * 2 ** (storeFailures - 1), MAX_STORE_BACKOFF_MS);
        options.log.error(`the store could not be reached; trying again in ${Math.round(waitMs / 1000)} s`, {
          error: error.message,
          failures_in_a_row: storeFailures,
        });
      } else {
        throw error;
      }
    }
    await clock.sleep(startedAt + waitMs - clock.now(), options.signal);
  }
  options.log.info('stopped');
}
