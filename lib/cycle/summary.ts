import type { DliErrorKind } from '../dli/errors.ts';

/** What went wrong with a job's DLI request (by error kind) or its store write (`store`). */
export type ErrorKind = DliErrorKind | 'store';

export interface CycleSummary {
  /** Jobs DLI answered for (a status or "no such job"). */
  polled: number;
  /** Jobs whose status changed. */
  changed: number;
  /** Jobs the watches found and tracked. */
  discovered: number;
  /** Long-running warnings and recoveries raised. */
  notices: number;
  /** How statuses were read: a status call per job, or list windows (100 a request) and calls for the rest. */
  status_plan: 'per-job' | 'window';
  /** Job-list requests (window scans, discovery, sizing), and status calls: the cycle's DLI requests but retries. */
  list_calls: number;
  status_calls: number;
  /** Deliveries that passed their platform's success test (each event of a digest counts). */
  notified: number;
  /** Digest messages delivered, each standing for several events. */
  digests: number;
  /** Daily summaries raised (one per destination and day, by whichever cycle got there first). */
  summaries_raised: number;
  /** Daily summaries delivered. */
  daily_summaries: number;
  /** Delivery attempts that failed (each is retried or dead-lettered). */
  delivery_failures: number;
  dead_lettered: number;
  /** Deliveries held back by their destination's quiet hours, to go out when they end. */
  held_for_quiet_hours: number;
  /**
   * Attempts that got no answer within the send timeout. The platform may have posted such a message all the
   * same, and its retry then posts it again: the one way besides a crash that a message goes out twice.
   */
  send_timeouts: number;
  /** Jobs marked lost in this cycle. */
  lost: number;
  /** Jobs whose DLI request or store write failed; their state is unchanged. */
  errors: number;
  /** DLI requests a stop (SIGINT, SIGTERM) cut short: not errors, the jobs are polled next cycle. */
  cancelled_polls: number;
  errors_by_kind: Partial<Record<ErrorKind, number>>;
  /** The budget ran out or a stop was asked for with work left: it waits for the next cycle. */
  deferred: boolean;
  duration_ms: number;
  /** How long the oldest delivery found due in this cycle had been waiting (ms since created); null when none was. */
  oldest_due_delivery_age_ms: number | null;
  /**
   * How long the least recently polled active job had gone unpolled when the cycle began (ms); null when no job
   * was due. Over a few cycle intervals, polling is falling behind.
   */
  poll_lag_ms: number | null;
}

/** What the poll phase counts. */
export interface PollCounts {
  polled: number;
  changed: number;
  discovered: number;
  notices: number;
  plan: 'per-job' | 'window';
  listCalls: number;
  statusCalls: number;
  lost: number;
  cancelled: number;
  /**
   * How long the least recently polled active job had waited since its last poll (or since it was tracked) when
   * the cycle began: how far behind polling is. `null` when no job was due.
   */
  pollLagMs: number | null;
  errors_by_kind: Partial<Record<ErrorKind, number>>;
  deferred: boolean;
}

/** What the delivery phase counts. */
export interface DeliveryCounts {
  notified: number;
  digests: number;
  daily_summaries: number;
  delivery_failures: number;
  dead_lettered: number;
  held_for_quiet_hours: number;
  send_timeouts: number;
  errors_by_kind: Partial<Record<ErrorKind, number>>;
  deferred: boolean;
  oldest_due_delivery_age_ms: number | null;
}

export function emptyPollCounts(): PollCounts {
  return {
    polled: 0,
    changed: 0,
    discovered: 0,
    notices: 0,
    plan: 'per-job',
    listCalls: 0,
    statusCalls: 0,
    lost: 0,
    cancelled: 0,
    pollLagMs: null,
    errors_by_kind: {},
    deferred: false,
  };
}

export function emptyDeliveryCounts(): DeliveryCounts {
  return {
    notified: 0,
    digests: 0,
    daily_summaries: 0,
    delivery_failures: 0,
    dead_lettered: 0,
    held_for_quiet_hours: 0,
    send_timeouts: 0,
    errors_by_kind: {},
    deferred: false,
    oldest_due_delivery_age_ms: null,
  };
}

/** Counts one failed job request or write under its kind. */
export function countError(errors: Partial<Record<ErrorKind, number>>, kind: ErrorKind): void {
  errors[kind] = (errors[kind] ?? 0) + 1;
}

/** The cycle's summary from what each phase counted. */
export function summarize(
  poll: PollCounts,
  summariesRaised: number,
  delivery: DeliveryCounts,
  durationMs: number,
): CycleSummary {
  const errorsByKind: Partial<Record<ErrorKind, number>> = { ...poll.errors_by_kind };
  for (const [kind, count] of Object.entries(delivery.errors_by_kind) as [ErrorKind, number][]) {
    errorsByKind[kind] = (errorsByKind[kind] ?? 0) + count;
  }
  return {
    polled: poll.polled,
    changed: poll.changed,
    discovered: poll.discovered,
    notices: poll.notices,
    status_plan: poll.plan,
    list_calls: poll.listCalls,
    status_calls: poll.statusCalls,
    notified: delivery.notified,
    digests: delivery.digests,
    summaries_raised: summariesRaised,
    daily_summaries: delivery.daily_summaries,
    delivery_failures: delivery.delivery_failures,
    dead_lettered: delivery.dead_lettered,
    held_for_quiet_hours: delivery.held_for_quiet_hours,
    send_timeouts: delivery.send_timeouts,
    lost: poll.lost,
    errors: Object.values(errorsByKind).reduce((sum, count) => sum + count, 0),
    errors_by_kind: errorsByKind,
    cancelled_polls: poll.cancelled,
    deferred: poll.deferred || delivery.deferred,
    duration_ms: durationMs,
    oldest_due_delivery_age_ms: delivery.oldest_due_delivery_age_ms,
    poll_lag_ms: poll.pollLagMs,
  };
}

/**
 * A cycle that could not do its job: DLI answered none of its polls. Its deliveries were still sent, and `summary`
 * says what it did; the caller fails loudly (a non-zero exit, the `CycleFailed` metric) instead of carrying on.
 */
export class CycleFailedError extends Error {
  override name = 'CycleFailedError';
  readonly summary: CycleSummary;

  constructor(message: string, summary: CycleSummary) {
    super(message);
    this.summary = summary;
  }
}

/** Why the cycle failed, or `null` when it did its job: every DLI request failed, none answered. */
export function cycleFailure(summary: CycleSummary): string | null {
  const dliErrors = Object.entries(summary.errors_by_kind)
    .filter(([kind]) => kind !== 'store')
    .map(([kind, count]) => `${count} ${kind}`);
  if (summary.polled > 0 || dliErrors.length === 0) return null;
  return `every DLI request of the cycle failed (${dliErrors.join(', ')}); no job was polled`;
}
