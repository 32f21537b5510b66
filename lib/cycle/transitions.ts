import { createHash } from 'node:crypto';
import {
  type Delivery,
  type DliJob,
  isKnownStatus,
  isTerminalStatus,
  type JobEvent,
  type JobRecord,
} from '../job.ts';
import type { DestinationBase } from '../notify/destination.ts';
import { routeEvent } from '../notify/routing.ts';

/** After this many "no such job" answers in a row, a job is marked lost and no longer polled. */
export const LOST_AFTER_NOT_FOUND = 3;

/** What one poll of DLI told us about a job. */
export type PollOutcome = { kind: 'status'; job: DliJob } | { kind: 'not-found' };

export interface TransitionContext {
  now: number;
  projectId: string;
  destinations: readonly Pick<DestinationBase, 'name' | 'events' | 'route'>[];
}

export interface Transition {
  record: JobRecord;
  /** The terminal event, when this poll produced one. */
  event: JobEvent | null;
  /** The status is none DLI documents: counted as in progress, worth a log line. */
  unknownStatus: boolean;
  /** This poll made the job lost. */
  becameLost: boolean;
  /**
   * The record must be written: something stored changed (status, phase, the not-found count, the start time,
   * the event). A poll that finds nothing new costs no write, so its `lastPolledAt` is not kept either.
   */
  changed: boolean;
}

/**
 * The transition rules, with no I/O: the previous record and one poll's outcome in, the next record out.
 *
 * - a change into FINISHED, FAILED or CANCELLED (including a job already terminal at its first poll: the user
 *   asked how it ends) produces one event, and the deliveries it owes to the destinations it is routed to, in the
 *   same record;
 * - an unknown status counts as in progress;
 * - three "no such job" answers in a row make the job lost.
 *
 * Terminal and lost jobs are never polled again, so calling this for them is a bug; the record comes back
 * unchanged.
 */
export function applyPoll(previous: JobRecord, outcome: PollOutcome, context: TransitionContext): Transition {
  const unchanged = {
    record: previous,
    event: null,
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
  if (!isTerminalStatus(job.status)) {
    return {
      ...unchanged,
      record: changed ? record : previous,
      unknownStatus: !isKnownStatus(job.status),
      changed,
    };
  }

  const unrouted = {
    id: eventId(context.projectId, previous.jobId, job.status, job.start_time),
    status: job.status,
    previousStatus: previous.status,
    occurredAt: now,
    projectId: context.projectId,
    labels: previous.labels,
    job,
  };
  const event: JobEvent = { ...unrouted, routedTo: routeEvent(context.destinations, unrouted) };
  return {
    ...unchanged,
    record: {
      ...record,
      lastPolledAt: now,
      phase: 'terminal',
      event,
      deliveries: [...previous.deliveries, ...planDeliveries(event, now)],
    },
    event,
    changed: true,
  };
}

/** One pending delivery, due at once, per destination the event is routed to. */
export function planDeliveries(event: JobEvent, now: number): Delivery[] {
  return event.routedTo.map((destination) => ({
    destination,
    state: 'pending',
    attempts: 0,
    createdAt: now,
    nextAttemptAt: now,
    leaseUntil: null,
    lastError: null,
  }));
}

/**
 * Derived from what the transition is, not from when it was seen: even if two writers raced past every other
 * guard, they would send the same `webhook-id` and the receiver would keep one.
 */
function eventId(projectId: string, jobId: string, status: string, startTime: number | undefined): string {
  const digest = createHash('sha256')
    .update(`${projectId}\n${jobId}\n${status}\n${startTime ?? ''}`)
    .digest('hex');
  return `msg_${digest.slice(0, 32)}`;
}
