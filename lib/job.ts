/**
 * The job model every layer shares: what a tracked job is, what its end produces (the event), and what it owes
 * (deliveries). No I/O here, and nothing from the layers above.
 */

/** Statuses after which a DLI SQL job never changes again. */
export const TERMINAL_STATUSES = ['FINISHED', 'FAILED', 'CANCELLED'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

/** Statuses DLI documents as "still going". Anything else that is not terminal is unknown (and still in progress). */
export const KNOWN_ACTIVE_STATUSES = ['LAUNCHING', 'RUNNING', 'SCALING'] as const;

/**
 * Every kind of message a job can cause, and what a destination's `events` list names: its end (the three terminal
 * statuses), a warning that it has run longer than its threshold, and its recovery (a run of a key that FINISHED
 * after failed runs).
 */
export const EVENT_TYPES = [...TERMINAL_STATUSES, 'LONG_RUNNING', 'RECOVERED'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Every kind of message the outbox sends: a job's events, and a destination's daily summary. */
export type MessageType = EventType | 'SUMMARY';

/** What a destination hears about when it names no `events`: every end, and long-running warnings. */
export const DEFAULT_EVENT_TYPES: readonly EventType[] = [...TERMINAL_STATUSES, 'LONG_RUNNING'];

export function isTerminalStatus(status: string | null | undefined): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status ?? '');
}

export function isKnownStatus(status: string): boolean {
  return isTerminalStatus(status) || (KNOWN_ACTIVE_STATUSES as readonly string[]).includes(status);
}

/**
 * A job as DLI reports it: the fields dli-watch reads, each optional but the id and the status, and every other
 * field DLI sends kept as it came. The status call's answer is one (`dli/schemas.ts` validates it); so is a row of
 * the job list.
 */
export interface DliJob {
  job_id: string;
  status: string;
  is_success?: boolean;
  message?: string;
  job_type?: string;
  job_mode?: string;
  queue_name?: string;
  owner?: string;
  /** Epoch ms. */
  start_time?: number;
  /** Milliseconds. */
  duration?: number;
  input_row_count?: number;
  bad_row_count?: number;
  input_size?: number;
  result_count?: number;
  database_name?: string;
  table_name?: string;
  detail?: string;
  statement?: string;
  /** Kept as DLI sent them, unknown fields included. */
  tags?: { key: string; value: string; [field: string]: unknown }[];
  [field: string]: unknown;
}

/**
 * What a job is to dli-watch:
 * - `active`: still polled (never polled yet, or last seen in progress or in an unknown status);
 * - `terminal`: reached FINISHED, FAILED or CANCELLED; never polled again;
 * - `lost`: DLI said "no such job" on three polls in a row; never polled again.
 */
export type JobPhase = 'active' | 'terminal' | 'lost';

/**
 * Where the key that ties the runs of one logical job together comes from: a DLI job tag, a dli-watch label, or the
 * fingerprint of the SQL statement (`util/sql-fingerprint.ts`).
 */
export type KeySource = { from: 'tag'; name: string } | { from: 'label'; name: string } | { from: 'sql' };

/** How a run sits in its key's streak, frozen into the events of its end. */
export interface StreakFacts {
  /** The run key (`tag:pipeline=daily`, `sql:3f2a…`). */
  key: string;
  /**
   * FAILED: which failure in a row this one is (1 for the first). RECOVERED: how many failed runs in a row came
   * before this one.
   */
  failures: number;
  /** Epoch ms when the first failure of the streak ended. */
  since: number;
}

/** What a long-running warning says about the run. */
export interface WarningFacts {
  /** The threshold the job passed, in milliseconds. */
  thresholdMs: number;
  /** How long the job had run (since DLI's `start_time`) when the warning was raised. */
  runningForMs: number;
}

/**
 * One message-worthy moment of one job, frozen when it was seen: what every destination it is routed to is told.
 * A job's end is its `event`; its warning and its recovery are its `notices`.
 */
export interface JobEvent {
  /** Stable across every retry and every destination: Standard Webhooks' `webhook-id`. */
  id: string;
  type: EventType;
  /**
   * The job's status when the event was raised: the terminal status for an end, FINISHED for a recovery, the
   * running status for a warning.
   */
  status: string;
  /** `null` when the job was already terminal at its first poll. */
  previousStatus: string | null;
  /** Epoch ms when dli-watch saw the transition. */
  occurredAt: number;
  projectId: string;
  labels: Record<string, string>;
  /** The full status response, unknown fields included. */
  job: DliJob;
  /** The destinations that wanted it when it happened (by `events` and routing); empty: nobody is told. */
  routedTo: string[];
  /** FAILED and RECOVERED of a job with a run key. */
  streak?: StreakFacts;
  /** LONG_RUNNING only. */
  warning?: WarningFacts;
}

/**
 * A stored event as this version reads it: events written before there were several types carry only their
 * terminal status, which is their type.
 */
export function readStoredEvent(stored: JobEvent): JobEvent {
  return stored.type === undefined ? { ...stored, type: stored.status as TerminalStatus } : stored;
}

/** The event a delivery carries: the one it names, or the job's end for deliveries written before they named one. */
export function eventOfDelivery(
  record: Pick<JobRecord, 'event' | 'notices'>,
  delivery: Delivery,
): JobEvent | null {
  if (delivery.eventId === undefined) return record.event;
  if (record.event?.id === delivery.eventId) return record.event;
  return record.notices.find((notice) => notice.id === delivery.eventId) ?? null;
}

/** What a delivery carries: one of its job's events, or the daily summary of a summary record. */
export function messageOfDelivery(
  record: Pick<JobRecord, 'event' | 'notices' | 'summary'>,
  delivery: Delivery,
): JobEvent | DailySummary | null {
  if (record.summary !== undefined) return record.summary.id === delivery.eventId ? record.summary : null;
  return eventOfDelivery(record, delivery);
}

/** Tells one delivery of a record from the others: a destination can be owed a warning and an end. */
export function deliveryKey(delivery: Pick<Delivery, 'destination' | 'eventId'>): string {
  return `${delivery.eventId ?? ''}\n${delivery.destination}`;
}

/**
 * One message owed to one destination. Lives inside its job's record, so the status change and the
 * deliveries it owes are written in one compare-and-set update (the outbox).
 */
export interface Delivery {
  /** Destination name from the configuration. */
  destination: string;
  /** The event it carries; absent in deliveries stored before a job could owe more than its end. */
  eventId?: string;
  state: 'pending' | 'dead';
  /** Attempts made so far (each HTTP request counts). */
  attempts: number;
  /**
   * Epoch ms from which the delivery is owed: when it was created, or when the quiet hours that held it back end
   * (the 24 h give-up clock, and the backoff, start here: waiting for quiet hours to end is no failure).
   */
  createdAt: number;
  /** Epoch ms before which nobody may try again. */
  nextAttemptAt: number;
  /**
   * Epoch ms until which one cycle holds the delivery while it sends. Another cycle that reads the record
   * meanwhile leaves it alone; after a crash the lease runs out and a later cycle sends it.
   */
  leaseUntil: number | null;
  /** Last failure, already scrubbed of secrets (no URL, only what the platform answered). */
  lastError: string | null;
  /**
   * Epoch ms when the destination's quiet hours held it back last; set while it waits for them to end, so that what
   * waited goes out together as one digest.
   */
  heldForQuietAt?: number;
}

/**
 * The earliest moment any pending delivery may be attempted: for each, the later of its next attempt and the end of
 * its lease. `null` when nothing is pending (dead deliveries are never attempted again). Stores index on it; the
 * cycle takes what is due by it.
 */
export function earliestDeliveryAttemptAt(deliveries: readonly Delivery[]): number | null {
  let earliest: number | null = null;
  for (const delivery of deliveries) {
    if (delivery.state !== 'pending') continue;
    const attemptAt = Math.max(delivery.nextAttemptAt, delivery.leaseUntil ?? Number.NEGATIVE_INFINITY);
    if (earliest === null || attemptAt < earliest) earliest = attemptAt;
  }
  return earliest;
}

/** The record of a job just tracked: active, never polled, owing nothing. Every store creates it the same way. */
export function newJobRecord(job: TrackRequest, now: number): JobRecord {
  return {
    jobId: job.jobId,
    version: 1,
    phase: 'active',
    status: null,
    labels: { ...(job.labels ?? {}) },
    notFoundCount: 0,
    trackedAt: now,
    startTime: job.startTime ?? null,
    lastPolledAt: null,
    statusChangedAt: null,
    warnAfterMs: job.warnAfterMs ?? null,
    keyFrom: job.keyFrom ?? null,
    event: null,
    notices: [],
    deliveries: [],
  };
}

/** One job as a summary lists it. */
export interface SummaryRun {
  jobId: string;
  /** DLI's status: the end for ended runs, the running status for runs past their threshold. */
  status: string;
  queue?: string;
  owner?: string;
  /** Ended runs: how long they ran. */
  durationMs?: number;
  /** Failures of a job with a run key: which failure in a row it was. */
  streak?: StreakFacts;
  /** Runs past their threshold: how long they had run when the summary was raised, and the threshold. */
  runningForMs?: number;
  thresholdMs?: number;
}

/** Runs of one queue that ended in the day. */
export interface QueueCounts {
  queue: string;
  FINISHED: number;
  FAILED: number;
  CANCELLED: number;
}

/** Most queues a summary lists one by one; the others are counted together. */
export const SUMMARY_MAX_QUEUES = 20;
/** Most failures, and runs past their threshold, listed; the others are counted (the record stays small). */
export const SUMMARY_MAX_LISTED = 50;
/** How many of the longest runs are listed. */
export const SUMMARY_LONGEST_RUNS = 5;

/** What one destination's summary of one day says, frozen when it was raised. */
export interface DailySummary {
  /** Stable across every retry: Standard Webhooks' `webhook-id`, and the delivery's `eventId`. */
  id: string;
  type: Extract<MessageType, 'SUMMARY'>;
  destination: string;
  /** The day summed up, `YYYY-MM-DD` in `timeZone`. */
  day: string;
  timeZone: string;
  /** Epoch ms of the day's first instant, and of the next day's. */
  from: number;
  to: number;
  /** Epoch ms when it was raised. */
  occurredAt: number;
  projectId: string;
  /** Runs that ended in the day, by status. */
  counts: Record<TerminalStatus, number>;
  /** Per queue, most runs first (at most {@link SUMMARY_MAX_QUEUES}); runs with no queue under `""`. */
  queues: QueueCounts[];
  /** How many more queues had runs. */
  otherQueues: number;
  /** The day's failures in the order they ended (at most {@link SUMMARY_MAX_LISTED}; `counts.FAILED` says how many). */
  failures: SummaryRun[];
  /** The day's longest runs, longest first. */
  longest: SummaryRun[];
  /** Jobs still running past their threshold when it was raised, longest running first (at most the cap). */
  runningLong: SummaryRun[];
  /** How many jobs were running past their threshold. */
  runningLongCount: number;
}

/** One tracked job: one record in the store. */
export interface JobRecord {
  jobId: string;
  /** Incremented by every successful update; updates are compare-and-set on it. */
  version: number;
  phase: JobPhase;
  /** Last status DLI reported, `null` before the first successful poll. */
  status: string | null;
  labels: Record<string, string>;
  /** Consecutive "job does not exist" answers. */
  notFoundCount: number;
  trackedAt: number;
  /**
   * DLI's `start_time` of the job (epoch ms, its submission): where it sits in the job list, which is ordered and
   * bounded by it. `null` until a poll or the job list has told it.
   */
  startTime: number | null;
  /**
   * Epoch ms of the last poll that changed the record: a poll that finds nothing new writes nothing, so this is
   * when the job was last seen to change (or to be missing), not when it was last asked about.
   */
  lastPolledAt: number | null;
  /** Epoch ms when `status` last changed. */
  statusChangedAt: number | null;
  /** Its own long-running threshold (ms); `null`: the configured default, if any. */
  warnAfterMs: number | null;
  /** Where its run key comes from; `null`: runs are not tied together (no streaks, no recovery). */
  keyFrom: KeySource | null;
  /** The terminal event, once there is one. */
  event: JobEvent | null;
  /** Its other events: the long-running warning, the recovery. */
  notices: JobEvent[];
  /**
   * Present only in a record that stands for no job but owes a destination its daily summary
   * (`daily-summary.ts`); such a record has no event and no notices.
   */
  summary?: DailySummary;
  deliveries: Delivery[];
}

export interface TrackRequest {
  jobId: string;
  labels?: Record<string, string>;
  /** DLI's `start_time`, when the job list already told it (a job a watch found). */
  startTime?: number;
  warnAfterMs?: number;
  keyFrom?: KeySource;
}

/** Whether a delivery may be attempted at `now`: pending, due, and not held by a cycle's lease. */
export function isDeliveryDue(delivery: Delivery, now: number): boolean {
  return (earliestDeliveryAttemptAt([delivery]) ?? Number.POSITIVE_INFINITY) <= now;
}
