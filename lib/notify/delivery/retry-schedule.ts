import type { Delivery } from '../../job.ts';
import type { DeliveryOutcome } from '../platforms/platform.ts';

/** Attempts in one cycle: the first and up to two quick retries. */
export const ATTEMPTS_PER_CYCLE = 3;
/** Longest pause between attempts inside one cycle; a longer `Retry-After` waits for a later cycle. */
export const MAX_IN_CYCLE_PAUSE_MS = 2_000;
/** Pause between in-cycle attempts when the platform gave no `Retry-After`. */
export const DEFAULT_IN_CYCLE_PAUSE_MS = 1_000;
/** First wait before a later cycle tries again. */
export const FIRST_RETRY_DELAY_MS = 10_000;
/** Longest wait between two attempts. */
export const MAX_RETRY_DELAY_MS = 60 * 60_000;
/** A delivery still failing this long after it was created is dead-lettered. */
export const GIVE_UP_AFTER_MS = 24 * 60 * 60_000;
/** How long one chat or webhook request may take unless a caller says otherwise. */
export const DEFAULT_SEND_TIMEOUT_MS = 10_000;

/**
 * How long a cycle holds a delivery while it sends: enough for every in-cycle attempt and pause, and no longer, so
 * that after a crash the next cycle (a minute later) takes the delivery over. The sender never starts an attempt
 * that could end after its lease.
 */
export function deliveryLeaseMs(sendTimeoutMs: number): number {
  return ATTEMPTS_PER_CYCLE * sendTimeoutMs + (ATTEMPTS_PER_CYCLE - 1) * MAX_IN_CYCLE_PAUSE_MS + 1_000;
}

/**
 * The pause before the next attempt in the same cycle, or `null` when the next attempt belongs to a later cycle
 * (no retry wanted, attempts used up, or a `Retry-After` longer than a short pause).
 */
export function inCyclePause(outcome: DeliveryOutcome, attemptsThisCycle: number): number | null {
  if (outcome.kind !== 'retry' || attemptsThisCycle >= ATTEMPTS_PER_CYCLE) return null;
  const pause = outcome.retryAfterMs ?? DEFAULT_IN_CYCLE_PAUSE_MS;
  return pause <= MAX_IN_CYCLE_PAUSE_MS ? pause : null;
}

/**
 * The delivery after a failed cycle's last attempt: dead-lettered at once on a permanent rejection or once it is
 * older than {@link GIVE_UP_AFTER_MS}; otherwise due again after a wait as long as the delivery's age, clamped to
 * [10 s, 1 h] — so waits double from about 10 s up to one hour without a stored counter — jittered to 75–100 %
 * so a backlog does not come back in one burst, and never sooner than the platform's `Retry-After`.
 */
export function scheduleAfterFailure(
  delivery: Delivery,
  outcome: Exclude<DeliveryOutcome, { kind: 'delivered' }>,
  now: number,
  random: () => number,
): Delivery {
  const failed = { ...delivery, leaseUntil: null, lastError: outcome.reason };
  const age = now - delivery.createdAt;
  if (outcome.kind === 'reject' || age >= GIVE_UP_AFTER_MS) return { ...failed, state: 'dead' };
  const backoff =
    Math.min(Math.max(age, FIRST_RETRY_DELAY_MS), MAX_RETRY_DELAY_MS) * (0.75 + 0.25 * random());
  const wait = Math.max(backoff, outcome.retryAfterMs ?? 0);
  return { ...failed, nextAttemptAt: Math.round(now + wait) };
}
