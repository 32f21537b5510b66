import type { JobRecord } from './job.ts';

/** How a user sees one tracked job, in snake_case: a row of `dli-watch list --json` and the tracking API's job. */
export type JobView = ReturnType<typeof describeRecord>;

/**
 * One tracked job as users see it: its status (`LOST` once DLI stopped knowing it, `NOT_POLLED` before the first
 * poll), its labels, and the deliveries it still owes or gave up on. Shared by the CLI and the tracking API so both
 * show the same thing.
 */
export function describeRecord(record: JobRecord) {
  return {
    job_id: record.jobId,
    status: record.phase === 'lost' ? 'LOST' : (record.status ?? 'NOT_POLLED'),
    last_seen_status: record.status,
    phase: record.phase,
    labels: record.labels,
    tracked_at: iso(record.trackedAt),
    last_polled_at: iso(record.lastPolledAt),
    /** Destinations the job's end was routed to; `null` until it ends (routing needs its queue, owner, type…). */
    routed_to: record.event?.routedTo ?? null,
    pending_deliveries: record.deliveries
      .filter((delivery) => delivery.state === 'pending')
      .map((delivery) => ({
        destination: delivery.destination,
        attempts: delivery.attempts,
        next_attempt_at: iso(delivery.nextAttemptAt),
        last_error: delivery.lastError,
      })),
    dead_lettered_deliveries: record.deliveries
      .filter((delivery) => delivery.state === 'dead')
      .map((delivery) => ({
        destination: delivery.destination,
        attempts: delivery.attempts,
        last_error: delivery.lastError,
      })),
  };
}

function iso(epochMs: number | null): string | null {
  return epochMs === null ? null : new Date(epochMs).toISOString();
}
