import { type Clock, systemClock } from '../util/clock.ts';
import type { Log } from '../util/log.ts';
import type { Watcher } from './watcher.ts';

/**
 * Runs a cycle every `intervalMs` until `signal` aborts. A stop request lets the cycle under way finish the
 * jobs it started — their writes included — so a delivery is never lost or sent twice by stopping. Rejected
 * credentials and an unusable store end the loop (by rejecting): retrying them every minute only locks the key.
 */
export async function runLoop(
  watcher: Watcher,
  options: { intervalMs: number; log: Log; signal?: AbortSignal; clock?: Clock; onCycle?: () => void },
): Promise<void> {
  const clock = options.clock ?? systemClock;
  // A cycle starts no new job after 80 % of the interval, so cycles do not pile up behind each other.
  const budgetMs = Math.max(1_000, Math.floor(options.intervalMs * 0.8));
  while (!options.signal?.aborted) {
    const startedAt = clock.now();
    const summary = await watcher.tick({ budgetMs, ...(options.signal ? { signal: options.signal } : {}) });
    options.log.info('cycle finished', { ...summary });
    options.onCycle?.();
    await clock.sleep(startedAt + options.intervalMs - clock.now(), options.signal);
  }
  options.log.info('stopped');
}
