import { type Clock, systemClock } from './clock.ts';

/** Hands out permission to make a request at no more than a fixed rate. */
export interface RateLimiter {
  /** Resolves when one more request may start. */
  acquire(signal?: AbortSignal): Promise<void>;
}

/**
 * A token bucket as a "generic cell rate" schedule: each request books the next free slot, so concurrent callers
 * are spaced `1000 / ratePerSecond` ms apart with no polling, and an idle period banks at most `burst` slots.
 */
export function createRateLimiter(options: {
  ratePerSecond: number;
  burst?: number;
  clock?: Clock;
}): RateLimiter {
  const clock = options.clock ?? systemClock;
  const interval = 1000 / options.ratePerSecond;
  const burst = Math.max(1, options.burst ?? Math.ceil(options.ratePerSecond / 10));
  let nextFreeAt = Number.NEGATIVE_INFINITY;
  return {
    async acquire(signal) {
      const now = clock.now();
      // An idle bucket refills up to `burst` slots, never more.
      nextFreeAt = Math.max(nextFreeAt, now - (burst - 1) * interval);
      const startAt = nextFreeAt;
      nextFreeAt += interval;
      if (startAt > now) await clock.sleep(startAt - now, signal);
    },
  };
}
