/**
 * A destination's daily summary: one message a day about the jobs of the day before. It is owed like any other
 * message, by a delivery in a record of the store (a record that stands for no DLI job), so it has the outbox's
 * lease, retry, dead letter and exactly-once; its content is frozen when it is raised, so a retry sends the same
 * message. No I/O here.
 */
import type { DailySummary, Delivery, JobRecord } from './job.ts';
import {
  addDays,
  type CalendarDate,
  calendarDateText,
  epochAtWallTime,
  wallTimeAt,
} from './util/zoned-time.ts';

/** When a destination wants its summary: from `atMinute` of each day on its zone's wall clock. */
export interface SummarySchedule {
  /** Minutes of day, 0 to 1439. */
  atMinute: number;
  /** IANA zone whose days are summed up and whose clock `atMinute` reads. */
  timeZone: string;
}

/** The summary a destination is owed at some instant: the day it sums up and when it stops being owed. */
export interface DueSummary {
  /** `YYYY-MM-DD`. */
  day: string;
  from: number;
  to: number;
  /** Epoch ms of the end of the day it is sent on: after that, the next day's summary is the one owed. */
  dueUntil: number;
}

/**
 * Which summary is owed at `now`: yesterday's, once the wall clock of the schedule's zone has passed `atMinute`
 * today; none before. A day on which no cycle ran after the hour has no summary sent late the next morning: the
 * summary owed then is of a newer day. A time a spring-forward change skips is passed as soon as the clock jumps
 * over it. Throws `RangeError` for a zone Intl does not know.
 */
export function dueSummary(schedule: SummarySchedule, now: number): DueSummary | null {
  const wall = wallTimeAt(now, schedule.timeZone);
  if (wall.minutesOfDay < schedule.atMinute) return null;
  const today: CalendarDate = { year: wall.year, month: wall.month, day: wall.day };
  const yesterday = addDays(today, -1);
  return {
    day: calendarDateText(yesterday),
    from: epochAtWallTime(yesterday, 0, schedule.timeZone),
    to: epochAtWallTime(today, 0, schedule.timeZone),
    dueUntil: epochAtWallTime(addDays(today, 1), 0, schedule.timeZone),
  };
}

/**
 * The store key of a destination's summary of a day: one record per destination and day, so that creating it only
 * where it is absent raises it once however many cycles race to.
 */
export function summaryRecordId(destination: string, day: string): string {
  return `summary:${destination}:${day}`;
}

/**
 * The id of a summary record: no DLI job id has a `:`, so none can be taken for one. What `show`, `redeliver` and
 * `untrack` accept beside job ids.
 */
export const SUMMARY_RECORD_ID_PATTERN = /^summary:[A-Za-z0-9_.-]{1,64}:\d{4}-\d{2}-\d{2}$/;

/** A summary record's id in words, for messages. */
export const SUMMARY_RECORD_ID_RULE = 'summary:<destination>:<YYYY-MM-DD> for a daily summary';

export function isSummaryRecordId(text: string): boolean {
  return SUMMARY_RECORD_ID_PATTERN.test(text);
}

/** Whether a record holds a daily summary rather than a tracked DLI job. */
export function isSummaryRecord(record: Pick<JobRecord, 'summary'>): boolean {
  return record.summary !== undefined;
}

/** The status a summary record shows where job statuses are listed (`list`, `show`). */
export const SUMMARY_STATUS = 'SUMMARY';

/**
 * The record that owes `summary` to its destination: finished (never polled), holding one pending delivery. Its
 * `lastPolledAt` is the end of the day it is owed on, not when it was raised: pruning removes finished records by
 * that time, so no prune can remove it while a cycle could still find it missing and raise it again.
 */
export function summaryRecord(summary: DailySummary, dueUntil: number): JobRecord {
  const delivery: Delivery = {
    destination: summary.destination,
    eventId: summary.id,
    state: 'pending',
    attempts: 0,
    createdAt: summary.occurredAt,
    nextAttemptAt: summary.occurredAt,
    leaseUntil: null,
    lastError: null,
  };
  return {
    jobId: summary.id,
    version: 1,
    phase: 'terminal',
    status: SUMMARY_STATUS,
    labels: {},
    notFoundCount: 0,
    trackedAt: summary.occurredAt,
    startTime: null,
    lastPolledAt: Math.max(dueUntil, summary.occurredAt),
    statusChangedAt: summary.occurredAt,
    warnAfterMs: null,
    keyFrom: null,
    event: null,
    notices: [],
    summary,
    deliveries: [delivery],
  };
}
