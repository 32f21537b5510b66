import type { Config } from '../config/config.ts';
import { type CycleOptions, type CycleSummary, runCycle } from '../cycle/run-cycle.ts';
import { createDliClient, type DliClient } from '../dli/client.ts';
import { createDestinationThrottle } from '../notify/delivery/destination-throttle.ts';
import { platforms } from '../notify/platforms/registry.ts';
import type { JobStore } from '../store/job-store.ts';
import { type Clock, systemClock } from '../util/clock.ts';
import type { Log } from '../util/log.ts';
import { createRateLimiter } from '../util/rate-limiter.ts';

export interface Watcher {
  readonly store: JobStore;
  readonly dli: DliClient;
  /** One cycle with this watcher's store, DLI client, destinations and rate limit. */
  tick(options: CycleOptions): Promise<CycleSummary>;
}

/**
 * Wires a validated configuration into one watcher: the composition root shared by the CLI, the Lambda
 * handler and the demo. Build it once and call `tick` per cycle, so the rate limiter spans cycles.
 */
export function createWatcher(
  config: Pick<Config, 'dli' | 'destinations' | 'consoleUrlTemplate'>,
  dependencies: { store: JobStore; log: Log; clock?: Clock; random?: () => number },
): Watcher {
  const { dli, destinations } = config;
  const { store, log } = dependencies;
  const rateLimiter = createRateLimiter({
    ratePerSecond: dli.maxRequestsPerSecond,
    ...(dependencies.clock ? { clock: dependencies.clock } : {}),
  });
  const client = createDliClient({
    endpoint: dli.endpoint,
    projectId: dli.projectId,
    auth: dli.auth,
    timeoutMs: dli.timeoutMs,
    rateLimiter,
    log,
  });
  // Shared by every cycle of this watcher: a platform's limits and pauses outlast one cycle.
  const throttle = createDestinationThrottle(dependencies.clock ?? systemClock);
  return {
    store,
    dli: client,
    tick: (options) =>
      runCycle(
        {
          store,
          dli: client,
          projectId: dli.projectId,
          destinations,
          platforms,
          throttle,
          render: { region: dli.region, consoleUrlTemplate: config.consoleUrlTemplate },
          log,
          concurrency: dli.concurrency,
          ...(dependencies.clock ? { clock: dependencies.clock } : {}),
          ...(dependencies.random ? { random: dependencies.random } : {}),
        },
        options,
      ),
  };
}
