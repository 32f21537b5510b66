import { createHash } from 'node:crypto';
import {
  type Delivery,
  type DliJob,
  type EventType,
  isKnownStatus,
  isTerminalStatus,
  type JobEvent,
  type JobRecord,
  type WarningFacts,
} from '../job.ts';
import { type RoutingDestination, routeEvent } from '../notify/routing.ts';
import { type StreakPlace, streakFacts } from '../streak.ts';

/** After this many "no such job" answers in a row, a job is marked lost and no longer polled. */
export const LOST_AFTER_NOT_FOUND = 3;

/** What one poll of DLI told us about a job. */
export type PollOutcome = { kind: 'status'; job: DliJob } | { kind: 'not-found' };

export interface TransitionContext {
  now: number;
  projectId: string;
  destinations: readonly RoutingDestination[];
  /** The long-running threshold (ms) of jobs that have none of their own; `null`: no warnings for them. */
  warnAfterMs: number | null;
  /** Where the run this poll saw end sits in its key's streak (`streak-state.ts`); absent for a job with no key. */
  streak?: StreakPlace | null;
}

export interface Transition {
  record: JobRecord;
  /** The terminal event, when this poll produced one. */
  event: JobEvent | null;
  /** The notices this poll raised: a long-running warning, a recovery. */
  notices: JobEvent[];
  /** Warnings still unsent when the job ended: dropped, because a warning after the end tells nobody anything. */
  droppedWarnings: number;
  /** The status is none DLI documents: counted as in progress, worth a log line. */
  unknownStatus: boolean;
  /** This poll made the job lost. */
  becameLost: boolean;
  /**
   * The record must be written: something stored changed (status, phase, the not-found count, the start time,
   * an event). A poll that finds nothing new costs no write, so its `lastPolledAt` is not kept either.
   */
  changed: boolean;
}

/**
 * The transition rules, with no I/O: the previous record and one poll's outcome in, the next record out.
 *
 * - a change into FINISHED, FAILED or CANCELLED (including a job already terminal at its first poll: the user
 *   asked how it ends) produces one event, and the deliveries it owes to the destinations it is routed to, in the
 *   same record; a FINISHED run after failed runs of its key also produces a RECOVERED notice, which replaces the
 *   FINISHED message for the destinations that ask for recoveries; a warning still unsent is dropped;
 * - a job in progress for longer than its threshold (since DLI's start time) produces one LONG_RUNNING notice per
 *   threshold;
 * - an unknown status counts as in progress;
 * - three "no such job" answers in a row make the job lost.
 *
 * Terminal and lost jobs are never polled again, so calling this for them is a bug; the record comes back
 * unchanged.
 */
export function applyPoll(previous: JobRecord, outcome: PollOutcome, context: TransitionContext): Transition {
  const unchanged: Transition = {
    record: previous,
    event: null,
    notices: [],
    droppedWarnings: 0,
    unknownStatus: false,
    becameLost: false,
    changed: false,
  };
  if (previous.phase !== 'active') return unchanged;
  const { now } = context;

  if (outcome.kind === 'not-found') {
    const notFoundCount = previous.notFoundCount + 1;
    const becameLost = notFoundCount >= LOST_AFTER_NOT_FOUND;
    return {
      ...unchanged,
      record: { ...previous, notFoundCount, lastPolledAt: now, phase: becameLost ? 'lost' : 'active' },
      becameLost,
      changed: true,
    };
  }

  const { job } = outcome;
  const statusChanged = job.status !== previous.status;
  const startTime = typeof job.start_time === 'number' ? job.start_time : previous.startTime;
  const changed = statusChanged || previous.notFoundCount !== 0 || startTime !== previous.startTime;
  const record: JobRecord = {
    ...previous,
    status: job.status,
    notFoundCount: 0,
    startTime,
    lastPolledAt: changed ? now : previous.lastPolledAt,
    statusChangedAt: statusChanged ? now : previous.statusChangedAt,
  };
  const raise = (type: EventType, facts: Pick<JobEvent, 'streak' | 'warning'>, idPart: string = type) => {
    const unrouted = {
      id: eventId(context.projectId, previous.jobId, idPart, job.start_time),
      type,
      status: job.status,
      previousStatus: previous.status,
      occurredAt: now,
      projectId: context.projectId,
      labels: previous.labels,
      job,
      ...facts,
    };
    return { ...unrouted, routedTo: routeEvent(context.destinations, unrouted) };
  };

  if (!isTerminalStatus(job.status)) {
    const warning = dueWarning(record, context);
    if (warning === null) {
      return {
        ...unchanged,
        record: changed ? record : previous,
        unknownStatus: !isKnownStatus(job.status),
        changed,
      };
    }
    const notice = raise('LONG_RUNNING', { warning }, `LONG_RUNNING:${warning.thresholdMs}`);
    return {
      ...unchanged,
      record: {
        ...record,
        lastPolledAt: now,
        notices: [...previous.notices, notice],
        deliveries: [...previous.deliveries, ...planDeliveries(notice, now)],
      },
      notices: [notice],
      unknownStatus: !isKnownStatus(job.status),
      changed: true,
    };
  }

  const { failed, recovered } = context.streak ? streakFacts(context.streak) : {};
  let event: JobEvent = raise(job.status, failed ? { streak: failed } : {});
  const notices: JobEvent[] = [];
  if (recovered) {
    const recovery = raise('RECOVERED', { streak: recovered });
    // One message per destination for one run: those that ask for recoveries hear of this one as that.
    event = { ...event, routedTo: event.routedTo.filter((name) => !recovery.routedTo.includes(name)) };
    notices.push(recovery);
  }
  const { kept, dropped } = dropUnsentWarnings(previous);
  return {
    ...unchanged,
    record: {
      ...record,
      lastPolledAt: now,
      phase: 'terminal',
      event,
      notices: [...previous.notices, ...notices],
      deliveries: [...kept, ...[event, ...notices].flatMap((raised) => planDeliveries(raised, now))],
    },
    event,
    notices,
    droppedWarnings: dropped,
    changed: true,
  };
}

/**
 * The warning a job in progress is owed now: it has run for at least its threshold (its own, or the default) since
 * DLI's start time, and has not been warned about at that threshold. `null` otherwise.
 */
function dueWarning(record: JobRecord, context: TransitionContext): WarningFacts | null {
  const thresholdMs = record.warnAfterMs ?? context.warnAfterMs;
  if (thresholdMs === null || record.startTime === null) return null;
  const runningForMs = context.now - record.startTime;
  if (runningForMs < thresholdMs) return null;
  const warned = record.notices.some(
    (notice) => notice.type === 'LONG_RUNNING' && notice.warning?.thresholdMs === thresholdMs,
  );
  return warned ? null : { thresholdMs, runningForMs };
}

/** The deliveries left once the warnings still pending are dropped (dead-lettered ones stay, as the record). */
function dropUnsentWarnings(record: JobRecord): { kept: Delivery[]; dropped: number } {
  const warningIds = new Set(
    record.notices.filter((notice) => notice.type === 'LONG_RUNNING').map((notice) => notice.id),
  );
  const kept = record.deliveries.filter(
    (delivery) =>
      delivery.state !== 'pending' || delivery.eventId === undefined || !warningIds.has(delivery.eventId),
  );
  return { kept, dropped: record.deliveries.length - kept.length };
}

/** One pending delivery of `event`, due at once, per destination it is routed to. */
export function planDeliveries(event: JobEvent, now: number): Delivery[] {
  return event.routedTo.map((destination) => ({
    destination,
    eventId: event.id,
    state: 'pending',
    attempts: 0,
    createdAt: now,
    nextAttemptAt: now,
    leaseUntil: null,
    lastError: null,
  }));
}

/**
 * Derived from what the event is, not from when it was seen: even if two writers raced past every other guard,
 * they would send the same `webhook-id` and the receiver would keep one. A terminal event's id is what it was
 * before jobs had other events.
 */
function eventId(projectId: string, jobId: string, what: string, startTime: number | undefined): string {
  const digest = createHash('sha256')
    .update(`${projectId}\n${jobId}\n${what}\n${startTime ?? ''}`)
    .digest('hex');
  return `msg_${digest.slice(0, 32)}`;
}
