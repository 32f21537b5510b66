import type { Clock } from '../clock.ts';
import type { Log } from '../log.ts';
import type { Delivery, JobEvent } from '../store/store.ts';
import type { ChatDestination, ChatPlatformType, Destination, WebhookDestination } from './destination.ts';
import type { DeliveryOutcome, Platform, RenderContext } from './platform.ts';
import { inCyclePause, scheduleAfterFailure } from './retry-schedule.ts';
import { isPlatformResponse, sendOutgoing } from './send.ts';

/** Every destination type's platform: chat platforms share the chat destination shape. */
export type PlatformRegistry = Record<ChatPlatformType, Platform<ChatDestination>> & {
  webhook: Platform<WebhookDestination>;
};

export interface OutboxOptions {
  destinations: ReadonlyMap<string, Destination>;
  platforms: PlatformRegistry;
  clock: Clock;
  random: () => number;
  log: Log;
  render: Omit<RenderContext, 'now'>;
  sendTimeoutMs: number;
  /** Epoch ms after which no in-cycle retry is started. */
  deadline: number;
  signal?: AbortSignal;
}

/** What happened to one delivery in this cycle. */
export interface DeliveryResult {
  destination: string;
  /** The delivery to store, or `null` once it was delivered (nothing owed any more). */
  next: Delivery | null;
  attempts: number;
  outcome: DeliveryOutcome;
}

/**
 * Sends one owed delivery, retrying up to twice in this cycle after a short pause, and returns the delivery
 * as it must be stored: gone when the platform's own success test passed, otherwise rescheduled or
 * dead-lettered by {@link scheduleAfterFailure}.
 */
export async function attemptDelivery(
  event: JobEvent,
  delivery: Delivery,
  options: OutboxOptions,
): Promise<DeliveryResult> {
  const { clock, log } = options;
  const destination = options.destinations.get(delivery.destination);
  const base = { destination: delivery.destination };
  if (!destination) {
    // Kept pending rather than dropped: a destination renamed or removed by mistake comes back with its messages.
    const outcome = { kind: 'retry', reason: 'destination is not in the configuration' } as const;
    log.warn('delivery waits for a destination that is not configured', {
      ...base,
      job_id: event.job.job_id,
    });
    return {
      ...base,
      attempts: 0,
      outcome,
      next: scheduleAfterFailure(delivery, outcome, clock.now(), options.random),
    };
  }
  const platform = options.platforms[destination.type] as Platform<Destination>;
  const host = new URL(destination.url).host;
  let attempts = 0;
  for (;;) {
    const now = clock.now();
    const request = platform.render(event, destination, { ...options.render, now });
    // Not cancelled by a stop request: a send cut off mid-flight may have arrived, and recording it as failed
    // would send it again. The stop only skips the in-cycle retries below.
    const answer = await sendOutgoing(request, { timeoutMs: options.sendTimeoutMs });
    attempts += 1;
    const outcome = isPlatformResponse(answer) ? platform.judge(answer) : answer;
    const attemptLog = {
      ...base,
      host,
      job_id: event.job.job_id,
      event_id: event.id,
      attempt: delivery.attempts + attempts,
    };
    if (outcome.kind === 'delivered') {
      log.info('delivered', { ...attemptLog, status: event.status });
      return { ...base, attempts, outcome, next: null };
    }
    log.warn('delivery attempt failed', { ...attemptLog, outcome: outcome.kind, reason: outcome.reason });
    const pause = inCyclePause(outcome, attempts);
    const later = clock.now();
    if (
      pause === null ||
      options.signal?.aborted ||
      later + pause + options.sendTimeoutMs > options.deadline
    ) {
      const next = scheduleAfterFailure(
        { ...delivery, attempts: delivery.attempts + attempts },
        outcome,
        later,
        options.random,
      );
      if (next.state === 'dead')
        log.error('delivery dead-lettered', { ...attemptLog, reason: outcome.reason });
      return { ...base, attempts, outcome, next };
    }
    await clock.sleep(pause, options.signal);
  }
}
