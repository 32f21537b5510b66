import { type Clock, systemClock } from './clock.ts';

/** Hands out permission to make a request at no more than a fixed rate. */
export interface RateLimiter {
  /** Resolves when one more request may start. */
  acquire(signal?: AbortSignal): Promise<void>;
  /**
   * Takes the next slot if it comes within `maxWaitMs` (waiting for it) and resolves to 0; otherwise takes
   * nothing and resolves to how long until a slot is free, so the caller can come back later instead of blocking.
   */
  acquireWithin(maxWaitMs: number, signal?: AbortSignal): Promise<number>;
}

/**
 * A token bucket as a "generic cell rate" schedule: each request books the next free slot, so concurrent callers
 * are spaced `1000 / ratePerSecond` ms apart with no polling, and an idle period banks at most `burst` slots.
 * `burst` defaults to a tenth of a second of requests (at least 1).
 *
 * @throws RangeError when `ratePerSecond` is not a finite number above 0 or `burst` is not a finite number of at
 * least 1: either would make the schedule NaN or infinite, which silently stops limiting anything.
 */
export function createRateLimiter(options: {
  ratePerSecond: number;
  burst?: number;
  clock?: Clock;
}): RateLimiter {
  const { ratePerSecond } = options;
  if (!Number.isFinite(ratePerSecond) || ratePerSecond <= 0) {
    throw new RangeError(
      `The rate limit must be a finite number of requests per second above 0: ${ratePerSecond}`,
    );
  }
  const burst = options.burst ?? Math.max(1, Math.ceil(ratePerSecond / 10));
  if (!Number.isFinite(burst) || burst < 1) {
    throw new RangeError(`The rate limiter's burst must be a finite number of at least 1: ${burst}`);
  }
  const clock = options.clock ?? systemClock;
  const interval = 1000 / ratePerSecond;
  let nextFreeAt = Number.NEGATIVE_INFINITY;
  /** When the next request may start; an idle bucket refills up to `burst` slots, never more. */
  function nextSlot(now: number): number {
    nextFreeAt = Math.max(nextFreeAt, now - (burst - 1) * interval);
    return nextFreeAt;
  }
  return {
    async acquire(signal) {
      const now = clock.now();
      const startAt = nextSlot(now);
      nextFreeAt += interval;
      if (startAt > now) await clock.sleep(startAt - now, signal);
    },
    async acquireWithin(maxWaitMs, signal) {
      const now = clock.now();
      const wait = nextSlot(now) - now;
      if (wait > maxWaitMs) return wait;
      nextFreeAt += interval;
      if (wait > 0) await clock.sleep(wait, signal);
      // A stop ends the sleep early: the slot is not here yet, so say how far off it is rather than hand it out.
      // The booked slot stays booked: a slot wasted is safe, one spent early could break the platform's limit.
      if (wait > 0 && signal?.aborted) return Math.max(1, now + wait - clock.now());
      return 0;
    },
  };
}
