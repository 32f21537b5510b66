import type { DliClient } from '../dli/client.ts';
import {
  DliAuthError,
  DliCancelledError,
  DliError,
  DliJobNotFoundError,
  DliProjectError,
} from '../dli/errors.ts';
import type { JobRecord } from '../job.ts';
import type { DestinationBase } from '../notify/destination.ts';
import { type CycleRun, duePages, stopRequested, writeRecord } from './cycle-run.ts';
import { countError, emptyPollCounts, type PollCounts } from './summary.ts';
import { applyPoll, type PollOutcome } from './transitions.ts';

export interface PollPhaseDependencies {
  dli: DliClient;
  projectId: string;
  /** What a job's end is routed by. */
  destinations: readonly Pick<DestinationBase, 'name' | 'events' | 'route'>[];
  /** Jobs polled at once (each worker makes at most one DLI request at a time). */
  concurrency: number;
  /** Epoch ms after which no job is started: the rest of the budget belongs to sending. */
  pollDeadline: number;
  /**
   * How many jobs that ended in this phase may come out already holding their deliveries (see
   * {@link PollPhaseResult.ended}); past it, the delivery phase claims them from the store like any other.
   */
  maxEnded: number;
}

export interface PollPhaseResult {
  counts: PollCounts;
  /**
   * Set when DLI rejected the credentials or does not know the project: every other request would fail alike, so
   * the cycle stops after the work under way.
   */
  fatal: DliAuthError | DliProjectError | null;
  /**
   * Jobs that ended in this phase, as stored, with the deliveries they owe already leased to this cycle: written
   * with the status change, the lease costs no write of its own, and the delivery phase sends them first.
   */
  ended: JobRecord[];
}

/**
 * Polls every active job that is due, least recently polled first, `concurrency` at a time, and writes each
 * change together with the deliveries it owes (the outbox) in one compare-and-set update. One page of jobs is in
 * memory at a time, shared by every worker. One job's failure never stops the others; rejected credentials stop
 * the phase.
 */
export async function pollPhase(run: CycleRun, deps: PollPhaseDependencies): Promise<PollPhaseResult> {
  const counts = emptyPollCounts();
  let fatal: DliAuthError | DliProjectError | null = null;
  const ended: JobRecord[] = [];
  const onStoreError = () => countError(counts.errors_by_kind, 'store');

  async function poll(record: JobRecord): Promise<void> {
    let outcome: PollOutcome;
    try {
      outcome = { kind: 'status', job: await deps.dli.getJobStatus(record.jobId, { signal: run.signal }) };
    } catch (error) {
      if (error instanceof DliJobNotFoundError) {
        outcome = { kind: 'not-found' };
      } else if (error instanceof DliAuthError) {
        fatal ??= error;
        run.log.error('DLI rejected the credentials; stopping the cycle', { ...error.toLogAttributes() });
        return;
      } else if (error instanceof DliProjectError) {
        fatal ??= error;
        run.log.error('DLI does not know the project; stopping the cycle', { ...error.toLogAttributes() });
        return;
      } else if (error instanceof DliCancelledError) {
        // A stop cut the request short: the job is simply polled next cycle.
        counts.cancelled += 1;
        run.log.info('poll cancelled by a stop', { job_id: record.jobId });
        return;
      } else if (error instanceof DliError) {
        countError(counts.errors_by_kind, error.kind);
        run.log.warn(`could not poll job: ${error.message}`, { ...error.toLogAttributes() });
        return;
      } else {
        throw error;
      }
    }
    counts.polled += 1;
    const transition = applyPoll(record, outcome, {
      now: run.clock.now(),
      projectId: deps.projectId,
      destinations: deps.destinations,
    });
    if (transition.unknownStatus) {
      run.log.warn('job has a status DLI does not document; treating it as in progress', {
        job_id: record.jobId,
        status: transition.record.status,
      });
    }
    // Kept to a bound, so that a cycle in which thousands of jobs end keeps a bounded number of them in memory.
    const holdsDeliveries = transition.event !== null && ended.length < deps.maxEnded;
    const next = holdsDeliveries
      ? leaseNewDeliveries(transition.record, record, run.lease)
      : transition.record;
    const stored = await writeRecord(run, next, record.version, onStoreError);
    if (!stored) return;
    if (holdsDeliveries) ended.push(stored);
    if (stored.status !== record.status) counts.changed += 1;
    if (transition.becameLost) {
      counts.lost += 1;
      run.log.warn('DLI has not known this job for several polls; marking it lost', { job_id: record.jobId });
    }
    const { event } = transition;
    if (event) {
      const fields = { job_id: record.jobId, status: event.status, previous_status: event.previousStatus };
      if (event.routedTo.length === 0) run.log.debug('job ended; no destination wants it', fields);
      else run.log.info('job ended', { ...fields, routed_to: event.routedTo });
    }
  }

  const jobs = (async function* () {
    for await (const page of duePages(run, 'polls')) {
      // The store hands out the least recently polled first: the first job of the first page is the furthest behind.
      const [first] = page;
      if (counts.pollLagMs === null && first) {
        counts.pollLagMs = Math.max(0, run.startedAt - (first.lastPolledAt ?? first.trackedAt));
      }
      yield* page;
    }
  })();
  async function worker(): Promise<void> {
    for (;;) {
      const next = await jobs.next();
      if (next.done) return;
      // A job taken but not started is simply left in the store: the next cycle finds it first.
      if (fatal !== null || stopRequested(run) || run.clock.now() >= deps.pollDeadline) {
        counts.deferred = fatal === null;
        return;
      }
      await poll(next.value);
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.max(1, deps.concurrency) }, worker));
  } finally {
    await jobs.return(undefined);
  }
  return { counts, fatal, ended };
}

/** `next` with the deliveries it adds to `previous` leased until `lease`. */
function leaseNewDeliveries(next: JobRecord, previous: JobRecord, lease: number): JobRecord {
  const owed = new Set(previous.deliveries);
  return {
    ...next,
    deliveries: next.deliveries.map((delivery) =>
      owed.has(delivery) ? delivery : { ...delivery, leaseUntil: lease },
    ),
  };
}
