import type { Clock } from '../../util/clock.ts';
import { createRateLimiter, type RateLimiter } from '../../util/rate-limiter.ts';
import type { RateLimit } from '../platforms/platform.ts';

/**
 * What every cycle of one watcher shares about each destination URL: its token bucket (the platform's published
 * limit, so a burst of jobs ending together cannot get a robot throttled) and any pause the platform imposed
 * (DingTalk freezes a robot for ten minutes after 130101). Kept by URL, not by name: two destinations that post
 * to the same webhook share its limit.
 */
export interface DestinationThrottle {
  /**
   * Waits up to `maxWaitMs` for the destination's next slot and resolves to 0 once it may send; otherwise takes
   * nothing and resolves to how long the destination is still closed (paused or out of tokens).
   */
  reserve(url: string, limit: RateLimit | null, maxWaitMs: number, signal?: AbortSignal): Promise<number>;
  /** Closes the destination until `until` (epoch ms). */
  pause(url: string, until: number): void;
}

export function createDestinationThrottle(clock: Clock): DestinationThrottle {
  const limiters = new Map<string, RateLimiter>();
  const pausedUntil = new Map<string, number>();
  return {
    async reserve(url, limit, maxWaitMs, signal) {
      const paused = (pausedUntil.get(url) ?? 0) - clock.now();
      if (paused > 0) return paused;
      if (!limit) return 0;
      let limiter = limiters.get(url);
      if (!limiter) {
        limiter = createRateLimiter({ ...bucketFor(limit), clock });
        limiters.set(url, limiter);
      }
      return limiter.acquireWithin(maxWaitMs, signal);
    },
    pause(url, until) {
      pausedUntil.set(url, Math.max(until, pausedUntil.get(url) ?? 0));
    },
  };
}

/**
 * A token bucket that never exceeds either published limit: a bucket of rate r and burst b lets through at most
 * b + r·T in any window T, so over a minute the rate is (perMinute − b) / 60 and the burst stays below the
 * per-second limit.
 */
export function bucketFor(limit: RateLimit): { ratePerSecond: number; burst: number } {
  const perMinuteRate = limit.perMinute / 60;
  const burst = limit.perSecond ? Math.max(1, Math.floor(limit.perSecond - perMinuteRate)) : 1;
  return { ratePerSecond: Math.max(limit.perMinute - burst, 1) / 60, burst };
}
