import { describe, expect, it } from 'vitest';
import type { Clock } from '../../lib/util/clock.ts';
import { createRateLimiter } from '../../lib/util/rate-limiter.ts';

/**
 * A clock that moves only when someone sleeps on it (or the test says so). A sleeper wakes the clock at its own
 * wake-up time, so concurrent sleepers do not add up; an aborted signal ends the sleep at once, as the real
 * clock's contract says.
 */
function createTestClock(start = 1_000_000) {
  let time = start;
  const sleeps: number[] = [];
  const clock: Clock & { advance(ms: number): void; readonly elapsed: number; readonly sleeps: number[] } = {
    now: () => time,
    sleep: async (ms, signal) => {
      if (signal?.aborted || ms <= 0) return;
      sleeps.push(ms);
      const wakeAt = time + ms;
      // Wake after the callers that were already running, as a timer would.
      await Promise.resolve();
      time = Math.max(time, wakeAt);
    },
    advance: (ms) => {
      time += ms;
    },
    get elapsed() {
      return time - start;
    },
    sleeps,
  };
  return clock;
}

describe('createRateLimiter', () => {
  it('spaces a burst of 20 requests 100 ms apart at 10/s with burst 1 (≈ 1.9 s)', async () => {
    const clock = createTestClock();
    const limiter = createRateLimiter({ ratePerSecond: 10, burst: 1, clock });
    const startedAt: number[] = [];
    for (let index = 0; index < 20; index++) {
      await limiter.acquire();
      startedAt.push(clock.elapsed);
    }
    expect(clock.elapsed).toBe(1900);
    expect(startedAt).toEqual(Array.from({ length: 20 }, (_, index) => index * 100));
  });

  it('spaces concurrent callers too, each booking its own slot', async () => {
    const clock = createTestClock();
    const limiter = createRateLimiter({ ratePerSecond: 10, burst: 1, clock });
    await Promise.all(Array.from({ length: 5 }, () => limiter.acquire()));
    expect(clock.sleeps).toEqual([100, 200, 300, 400]);
    expect(clock.elapsed).toBe(400);
  });

  it('lets an idle period bank at most `burst` requests, however long it was', async () => {
    const clock = createTestClock();
    const limiter = createRateLimiter({ ratePerSecond: 10, burst: 3, clock });
    await limiter.acquire();
    clock.advance(60_000);
    const before = clock.elapsed;
    for (let index = 0; index < 5; index++) await limiter.acquire();
    // Three go at once from the bank, then the 4th and 5th wait one interval each.
    expect(clock.sleeps).toEqual([100, 100]);
    expect(clock.elapsed - before).toBe(200);
  });

  it('banks only what the idle time earned: 150 ms idle at 10/s frees one slot, not the whole burst', async () => {
    const clock = createTestClock();
    const limiter = createRateLimiter({ ratePerSecond: 10, burst: 5, clock });
    // Drain the bank: five at once.
    for (let index = 0; index < 5; index++) await limiter.acquire();
    expect(clock.elapsed).toBe(0);
    clock.advance(150);
    await limiter.acquire();
    expect(clock.elapsed).toBe(150);
    await limiter.acquire();
    expect(clock.elapsed).toBe(200);
    await limiter.acquire();
    expect(clock.elapsed).toBe(300);
  });

  it('defaults the burst to a tenth of a second of requests', async () => {
    const clock = createTestClock();
    const limiter = createRateLimiter({ ratePerSecond: 50, clock });
    for (let index = 0; index < 6; index++) await limiter.acquire();
    // Five banked (50/s × 0.1 s), the sixth waits one 20 ms interval.
    expect(clock.sleeps).toEqual([20]);
  });

  it('does not hold a caller whose signal is already aborted', async () => {
    const clock = createTestClock();
    const limiter = createRateLimiter({ ratePerSecond: 1, burst: 1, clock });
    await limiter.acquire();
    const controller = new AbortController();
    controller.abort();
    await limiter.acquire(controller.signal);
    expect(clock.elapsed).toBe(0);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses a rate of %s instead of silently not limiting',
    (ratePerSecond) => {
      expect(() => createRateLimiter({ ratePerSecond, burst: 1 })).toThrow(RangeError);
    },
  );

  it.each([0, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses a burst of %s rather than limiting otherwise than asked (or not at all)',
    (burst) => {
      expect(() => createRateLimiter({ ratePerSecond: 10, burst })).toThrow(RangeError);
    },
  );
});

describe('acquireWithin', () => {
  it('takes a slot that comes soon enough and reports the wait for one that does not, without taking it', async () => {
    const clock = createTestClock();
    const limiter = createRateLimiter({ ratePerSecond: 1, burst: 1, clock });
    expect(await limiter.acquireWithin(0)).toBe(0);
    // The next slot is a second away: too far for 500 ms, and asking does not book it.
    expect(await limiter.acquireWithin(500)).toBe(1000);
    expect(await limiter.acquireWithin(500)).toBe(1000);
    expect(clock.elapsed).toBe(0);
    expect(await limiter.acquireWithin(1000)).toBe(0);
    expect(clock.elapsed).toBe(1000);
  });

  it('does not hand out a slot whose wait a stop cut short: it reports how far off the slot still is', async () => {
    const stop = new AbortController();
    let now = 0;
    // A wait that ends only when the stop comes, 300 ms in.
    const clock: Clock = {
      now: () => now,
      sleep: (_ms, signal) =>
        new Promise((resolve) => {
          signal?.addEventListener('abort', () => resolve(), { once: true });
          now += 300;
          stop.abort();
        }),
    };
    const limiter = createRateLimiter({ ratePerSecond: 1, burst: 1, clock });
    expect(await limiter.acquireWithin(0)).toBe(0);
    expect(await limiter.acquireWithin(5_000, stop.signal)).toBe(700);
  });
});
