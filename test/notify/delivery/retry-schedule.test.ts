import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../../lib/job.ts';
import {
  ATTEMPTS_PER_CYCLE,
  FIRST_RETRY_DELAY_MS,
  GIVE_UP_AFTER_MS,
  inCyclePause,
  MAX_RETRY_DELAY_MS,
  scheduleAfterFailure,
} from '../../../lib/notify/delivery/retry-schedule.ts';

const delivery: Delivery = {
  destination: 'alerts',
  state: 'pending',
  attempts: 3,
  createdAt: 0,
  nextAttemptAt: 0,
  leaseUntil: 5_000,
  lastError: null,
};
const retry = { kind: 'retry', reason: '503 Service Unavailable' } as const;
const top = () => 0.999_999;
const bottom = () => 0;

describe('inCyclePause', () => {
  it('retries twice within the cycle after a short pause, then leaves it to a later cycle', () => {
    expect(inCyclePause(retry, 1)).toBeGreaterThan(0);
    expect(inCyclePause(retry, ATTEMPTS_PER_CYCLE - 1)).toBeGreaterThan(0);
    expect(inCyclePause(retry, ATTEMPTS_PER_CYCLE)).toBeNull();
  });

  it('waits exactly a short Retry-After, and defers a long one to a later cycle', () => {
    expect(inCyclePause({ ...retry, retryAfterMs: 1_500 }, 1)).toBe(1_500);
    expect(inCyclePause({ ...retry, retryAfterMs: 30_000 }, 1)).toBeNull();
  });

  it('never retries a permanent rejection', () => {
    expect(inCyclePause({ kind: 'reject', reason: '404 channel_not_found' }, 1)).toBeNull();
  });
});

describe('scheduleAfterFailure', () => {
  it('waits about 10 s after the first failed cycle, releases the lease and keeps the reason', () => {
    const next = scheduleAfterFailure(delivery, retry, 0, top);
    expect(next.nextAttemptAt).toBeGreaterThan(FIRST_RETRY_DELAY_MS * 0.99);
    expect(next.nextAttemptAt).toBeLessThanOrEqual(FIRST_RETRY_DELAY_MS);
    expect(next).toMatchObject({ state: 'pending', leaseUntil: null, lastError: '503 Service Unavailable' });
  });

  it('doubles the wait as the delivery ages, up to one hour', () => {
    const waits = [10_000, 20_000, 40_000, 80_000].map(
      (age) => scheduleAfterFailure(delivery, retry, age, top).nextAttemptAt - age,
    );
    for (let index = 1; index < waits.length; index += 1) {
      expect((waits[index] ?? 0) / (waits[index - 1] ?? 1)).toBeCloseTo(2, 1);
    }
    const old = 10 * 60 * 60_000;
    expect(scheduleAfterFailure(delivery, retry, old, top).nextAttemptAt - old).toBeLessThanOrEqual(
      MAX_RETRY_DELAY_MS,
    );
  });

  it('jitters the wait down to three quarters, never below', () => {
    const wait = scheduleAfterFailure(delivery, retry, 40_000, bottom).nextAttemptAt - 40_000;
    expect(wait).toBe(30_000);
  });

  it('never retries sooner than the platform asked', () => {
    const next = scheduleAfterFailure(delivery, { ...retry, retryAfterMs: 120_000 }, 0, top);
    expect(next.nextAttemptAt).toBe(120_000);
  });

  it('dead-letters a permanent rejection at once', () => {
    const next = scheduleAfterFailure(
      delivery,
      { kind: 'reject', reason: '410 channel_is_archived' },
      1_000,
      top,
    );
    expect(next).toMatchObject({ state: 'dead', lastError: '410 channel_is_archived' });
  });

  it('dead-letters a delivery still failing after 24 hours', () => {
    expect(scheduleAfterFailure(delivery, retry, GIVE_UP_AFTER_MS - 1, top).state).toBe('pending');
    expect(scheduleAfterFailure(delivery, retry, GIVE_UP_AFTER_MS, top).state).toBe('dead');
  });
});
