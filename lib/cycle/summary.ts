import type { DliErrorKind } from '../dli/errors.ts';

/** What went wrong with a job's DLI request (by error kind) or its store write (`store`). */
export type ErrorKind = DliErrorKind | 'store';

export interface CycleSummary {
  /** Jobs DLI answered for (a status or "no such job"). */
  polled: number;
  /** Jobs whose status changed. */
  changed: number;
  /** Deliveries that passed their platform's success test (each event of a digest counts). */
  notified: number;
  /** Digest messages delivered, each standing for several events. */
  digests: number;
  /** Delivery attempts that failed (each is retried or dead-lettered). */
  delivery_failures: number;
  dead_lettered: number;
  /**
   * Attempts that got no answer within the send timeout. The platform may have posted such a message all the
   * same, and its retry then posts it again: the one way besides a crash that a message goes out twice.
   */
  send_timeouts: number;
  /** Jobs marked lost in this cycle. */
  lost: number;
  /** Jobs whose DLI request or store write failed; their state is unchanged. */
  errors: number;
  errors_by_kind: Partial<Record<ErrorKind, number>>;
  /** The budget ran out or a stop was asked for with work left: it waits for the next cycle. */
  deferred: boolean;
  duration_ms: number;
  /** How long the oldest delivery found due in this cycle had been waiting (ms since created); null when none was. */
  oldest_due_delivery_age_ms: number | null;
}

/** What the poll phase counts. */
export interface PollCounts {
  polled: number;
  changed: number;
  lost: number;
  errors_by_kind: Partial<Record<ErrorKind, number>>;
  deferred: boolean;
}

/** What the delivery phase counts. */
export interface DeliveryCounts {
  notified: number;
  digests: number;
  delivery_failures: number;
  dead_lettered: number;
  send_timeouts: number;
  errors_by_kind: Partial<Record<ErrorKind, number>>;
  deferred: boolean;
  oldest_due_delivery_age_ms: number | null;
}

export function emptyPollCounts(): PollCounts {
  return { polled: 0, changed: 0, lost: 0, errors_by_kind: {}, deferred: false };
}

export function emptyDeliveryCounts(): DeliveryCounts {
  return {
    notified: 0,
    digests: 0,
    delivery_failures: 0,
    dead_lettered: 0,
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
export function summarize(poll: PollCounts, delivery: DeliveryCounts, durationMs: number): CycleSummary {
  const errorsByKind: Partial<Record<ErrorKind, number>> = { ...poll.errors_by_kind };
  for (const [kind, count] of Object.entries(delivery.errors_by_kind) as [ErrorKind, number][]) {
    errorsByKind[kind] = (errorsByKind[kind] ?? 0) + count;
  }
  return {
    polled: poll.polled,
    changed: poll.changed,
    notified: delivery.notified,
    digests: delivery.digests,
    delivery_failures: delivery.delivery_failures,
    dead_lettered: delivery.dead_lettered,
    send_timeouts: delivery.send_timeouts,
    lost: poll.lost,
    errors: Object.values(errorsByKind).reduce((sum, count) => sum + count, 0),
    errors_by_kind: errorsByKind,
    deferred: poll.deferred || delivery.deferred,
    duration_ms: durationMs,
    oldest_due_delivery_age_ms: delivery.oldest_due_delivery_age_ms,
  };
}
