import type { Delivery, JobRecord } from '../job.ts';
import type { JobStore } from './job-store.ts';
import { updateRecord } from './update-record.ts';

/** What {@link redeliverDeadLettered} did to one job. */
export type RedeliverOutcome =
  /** `destinations`: the deliveries put back to pending, by destination; empty when none was dead-lettered. */
  | { kind: 'redelivered'; destinations: string[]; record: JobRecord }
  | { kind: 'not-tracked' }
  | { kind: 'contended' };

/**
 * A dead-lettered delivery given another run: pending and due at once, unleased. It keeps its event (which lives
 * on the record), so the message carries the same event id (Standard Webhooks' `webhook-id`) and a receiver that
 * saw an earlier attempt can de-duplicate. Its attempts are kept: they count requests really made, and nothing
 * schedules by them. Its creation instant moves to now, because that is the clock of the 24-hour retry window and
 * of the backoff: kept, an old delivery would be dead-lettered again after one failed cycle, and would show as
 * overdue since its job ended in the cycle's oldest-due-delivery figure. Its last error stays until an attempt
 * replaces it.
 */
export function redelivered(delivery: Delivery, now: number): Delivery {
  return { ...delivery, state: 'pending', createdAt: now, nextAttemptAt: now, leaseUntil: null };
}

/**
 * Puts the dead-lettered deliveries of `jobId` (only the one to `destination`, when given) back to pending, by
 * compare-and-set: a cycle recording other deliveries of the same job meanwhile keeps its results. Shared by the
 * CLI's `redeliver` and the tracking API.
 */
export async function redeliverDeadLettered(
  store: JobStore,
  jobId: string,
  options: { now: number; destination?: string },
): Promise<RedeliverOutcome> {
  const wanted = (delivery: Delivery) =>
    delivery.state === 'dead' &&
    (options.destination === undefined || delivery.destination === options.destination);
  // Set by the application of the change that was stored (each retry applies it afresh).
  let destinations: string[] = [];
  const result = await updateRecord(store, jobId, (current) => {
    destinations = current.deliveries.filter(wanted).map((delivery) => delivery.destination);
    if (destinations.length === 0) return null;
    return {
      ...current,
      deliveries: current.deliveries.map((delivery) =>
        wanted(delivery) ? redelivered(delivery, options.now) : delivery,
      ),
    };
  });
  switch (result.kind) {
    case 'not-found':
      return { kind: 'not-tracked' };
    case 'contended':
      return result;
    case 'unchanged':
      return { kind: 'redelivered', destinations: [], record: result.record };
    case 'updated':
      return { kind: 'redelivered', destinations, record: result.record };
  }
}
