import { CycleFailedError } from '../cycle/summary.ts';
import { type Clock, systemClock } from '../util/clock.ts';
import type { Log } from '../util/log.ts';
import type { Watcher } from './watcher.ts';

/**
 * Runs a cycle every `intervalMs` until `signal` aborts. A stop request lets the cycle under way finish the
 * jobs it started — their writes included — so a delivery is never lost or sent twice by stopping. A cycle that
 * failed (DLI answered none of its polls) is logged as an error and the loop goes on: DLI may be back next
 * minute. Rejected credentials, a project DLI does not know and an unusable store end the loop (by rejecting):
 * retrying them every minute only locks the key or repeats the same failure.
 */
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
  while (!options.signal?.aborted) {
    const startedAt = clock.now();
    try {
      const summary = await watcher.tick({ budgetMs, ...(options.signal ? { signal: options.signal } : {}) });
      options.log.info('cycle finished', { ...summary });
      await options.onCycle?.();
    } catch (error) {
      if (!(error instanceof CycleFailedError)) throw error;
      options.log.error(`cycle failed: ${error.message}`, { ...error.summary });
    }
    await clock.sleep(startedAt + options.intervalMs - clock.now(), options.signal);
  }
  options.log.info('stopped');
}
