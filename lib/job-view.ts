import { type Delivery, type JobRecord, messageOfDelivery } from './job.ts';
import { describeKeySource } from './track-request.ts';

/** How a user sees one tracked job, in snake_case: a row of `dli-watch list --json` and the tracking API's job. */
export type JobView = ReturnType<typeof describeRecord>;

/**
 * One tracked job as users see it: its status (DLI's, or `LOST`, `NOT_FOUND`, `NOT_POLLED`: see `shownStatus`), its
 * labels, and the deliveries it still owes or gave up on. Shared by the CLI and the tracking API so both
 * show the same thing.
 */
export function describeRecord(record: JobRecord) {
  return {
    job_id: record.jobId,
    status: shownStatus(record),
    last_seen_status: record.status,
    phase: record.phase,
    labels: record.labels,
    tracked_at: iso(record.trackedAt),
    /** DLI's start time of the job; `null` until a poll or the job list told it. */
    start_time: iso(record.startTime),
    /** When a poll last changed the record: a poll that finds nothing new writes nothing. */
    last_polled_at: iso(record.lastPolledAt),
    /** Destinations the job's end was routed to; `null` until it ends (routing needs its queue, owner, type…). */
    routed_to: record.event?.routedTo ?? null,
    /** Its own long-running threshold, in ms; `null`: the configured default applies. */
    warn_after_ms: record.warnAfterMs,
    /** Where its run key comes from (`tag:<name>`, `label:<name>`, `sql`); `null`: its runs are not tied together. */
    key_from: describeKeySource(record.keyFrom),
    pending_deliveries: record.deliveries
      .filter((delivery) => delivery.state === 'pending')
      .map((delivery) => ({
        destination: delivery.destination,
        event: eventTypeOf(record, delivery),
        attempts: delivery.attempts,
        next_attempt_at: iso(delivery.nextAttemptAt),
        last_error: delivery.lastError,
      })),
    dead_lettered_deliveries: record.deliveries
      .filter((delivery) => delivery.state === 'dead')
      .map((delivery) => ({
        destination: delivery.destination,
        event: eventTypeOf(record, delivery),
        attempts: delivery.attempts,
        last_error: delivery.lastError,
      })),
  };
}

/** The type of the message a delivery carries: FAILED, LONG_RUNNING…, SUMMARY. */
function eventTypeOf(record: JobRecord, delivery: Delivery): string | null {
  return messageOfDelivery(record, delivery)?.type ?? null;
}

function iso(epochMs: number | null): string | null {
  return epochMs === null ? null : new Date(epochMs).toISOString();
}

/** One job in full, as `dli-watch show --json` prints it. */
export type JobDetailView = ReturnType<typeof describeRecordInDetail>;

/**
 * Everything {@link describeRecord} shows, and what an operator needs to decide what to do about a job: how many
 * polls in a row DLI did not know it, when its status last changed, its event id (the `webhook-id` every delivery
 * of its end carries), and every delivery in one list, with its state, attempts, next attempt and last error.
 */
export function describeRecordInDetail(record: JobRecord) {
  return {
    ...describeRecord(record),
    not_found_count: record.notFoundCount,
    status_changed_at: iso(record.statusChangedAt),
    event_id: record.event?.id ?? null,
    /** The job's other events: its long-running warning, its recovery, with the streak they counted. */
    notices: record.notices.map((notice) => ({
      event: notice.type,
      event_id: notice.id,
      occurred_at: iso(notice.occurredAt),
      routed_to: notice.routedTo,
      ...(notice.warning && {
        warn_after_ms: notice.warning.thresholdMs,
        running_for_ms: notice.warning.runningForMs,
      }),
      ...(notice.streak && { run_key: notice.streak.key, failures_before: notice.streak.failures }),
    })),
    /** In a summary record only: the destination's day it sums up, and how many jobs it counted. */
    ...(record.summary && {
      summary: {
        destination: record.summary.destination,
        day: record.summary.day,
        time_zone: record.summary.timeZone,
        counts: record.summary.counts,
        running_long: record.summary.runningLongCount,
      },
    }),
    /** The failure streak its end counted, when its runs have a key. */
    streak: record.event?.streak
      ? {
          run_key: record.event.streak.key,
          failures_in_a_row: record.event.streak.failures,
          since: iso(record.event.streak.since),
        }
      : null,
    deliveries: record.deliveries.map((delivery) => {
      const event = messageOfDelivery(record, delivery);
      return {
        destination: delivery.destination,
        event: event?.type ?? null,
        event_id: event?.id ?? null,
        state: delivery.state === 'dead' ? ('dead_lettered' as const) : ('pending' as const),
        attempts: delivery.attempts,
        created_at: iso(delivery.createdAt),
        // A dead-lettered delivery is never attempted again (until redelivered): it has no next attempt.
        next_attempt_at: delivery.state === 'pending' ? iso(delivery.nextAttemptAt) : null,
        leased_until: iso(delivery.leaseUntil),
        /** When the destination's quiet hours last held it back. */
        held_for_quiet_hours_at: iso(delivery.heldForQuietAt ?? null),
        last_error: delivery.lastError,
      };
    }),
  };
}

/**
 * The status as a user reads it: DLI's last answer, `LOST` once DLI stopped knowing the job for good, `NOT_FOUND`
 * while DLI does not know it yet (it becomes `LOST` after three such polls in a row), `NOT_POLLED` before the first
 * poll.
 */
function shownStatus(record: JobRecord): string {
  if (record.phase === 'lost') return 'LOST';
  if (record.status !== null) return record.status;
  return record.notFoundCount > 0 ? 'NOT_FOUND' : 'NOT_POLLED';
}
