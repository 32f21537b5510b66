import { type Clock, systemClock } from './clock.ts';
import type { DliClient } from './dli/client.ts';
import { DliAuthError, DliError, type DliErrorKind, DliJobNotFoundError } from './dli/errors.ts';
import type { Log } from './log.ts';
import type { Destination } from './notify/destination.ts';
import { attemptDelivery, type DeliveryResult, type PlatformRegistry } from './notify/outbox.ts';
import type { RenderContext } from './notify/platform.ts';
import { deliveryLeaseMs } from './notify/retry-schedule.ts';
import type { Delivery, JobRecord, JobStore } from './store/store.ts';
import { applyPoll, type PollOutcome } from './transitions.ts';

export interface CycleDependencies {
  store: JobStore;
  dli: DliClient;
  projectId: string;
  destinations: readonly Destination[];
  platforms: PlatformRegistry;
  render: Omit<RenderContext, 'now'>;
  log: Log;
  /** Jobs worked on at once (each worker makes at most one DLI request at a time). */
  concurrency: number;
  clock?: Clock;
  random?: () => number;
  /** Jobs read from the store at a time: what bounds the cycle's memory. */
  pageSize?: number;
  /** Per-attempt timeout of a chat or webhook request. */
  sendTimeoutMs?: number;
}

export interface CycleOptions {
  /** No job is started once this much time has passed; jobs under way finish. */
  budgetMs: number;
  /** Stops starting new jobs (a clean shutdown); jobs under way finish and record what they did. */
  signal?: AbortSignal;
}

export interface CycleSummary {
  /** Jobs DLI answered for (a status or "no such job"). */
  polled: number;
  /** Jobs whose status changed. */
  changed: number;
  /** Deliveries that passed their platform's success test. */
  notified: number;
  /** Delivery attempts that failed (each is retried or dead-lettered). */
  delivery_failures: number;
  dead_lettered: number;
  /** Jobs marked lost in this cycle. */
  lost: number;
  /** Jobs whose DLI request or store write failed; their state is unchanged. */
  errors: number;
  errors_by_kind: Partial<Record<DliErrorKind | 'store', number>>;
  /** The budget ran out or a stop was asked for with work left: it waits for the next cycle. */
  deferred: boolean;
  duration_ms: number;
}

/**
 * One tick: polls every active job that is due, applies the transition rules, writes each change together with
 * the deliveries it owes (the outbox), then sends what is due. One job's failure never stops the others;
 * rejected DLI credentials stop the whole cycle (after the jobs under way) by rejecting with the
 * {@link DliAuthError}.
 */
export async function runCycle(deps: CycleDependencies, options: CycleOptions): Promise<CycleSummary> {
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? Math.random;
  const sendTimeoutMs = deps.sendTimeoutMs ?? 10_000;
  const leaseMs = deliveryLeaseMs(sendTimeoutMs);
  const startedAt = clock.now();
  const deadline = startedAt + options.budgetMs;
  const destinationsByName = new Map(deps.destinations.map((destination) => [destination.name, destination]));
  const summary: CycleSummary = {
    polled: 0,
    changed: 0,
    notified: 0,
    delivery_failures: 0,
    dead_lettered: 0,
    lost: 0,
    errors: 0,
    errors_by_kind: {},
    deferred: false,
    duration_ms: 0,
  };
  let fatal: DliAuthError | null = null;
  const stopped = () => fatal !== null || options.signal?.aborted === true;
  const countError = (kind: DliErrorKind | 'store') => {
    summary.errors += 1;
    summary.errors_by_kind[kind] = (summary.errors_by_kind[kind] ?? 0) + 1;
  };

  /**
   * Polls an active job and stores the outcome, with any deliveries it owes already leased to us. Returns the
   * record as stored and that lease, or null when there is nothing more to do here.
   */
  async function poll(record: JobRecord): Promise<{ record: JobRecord; lease: number } | null> {
    let outcome: PollOutcome;
    try {
      outcome = {
        kind: 'status',
        job: await deps.dli.getJobStatus(record.jobId, { signal: options.signal }),
      };
    } catch (error) {
      if (error instanceof DliJobNotFoundError) {
        outcome = { kind: 'not-found' };
      } else if (error instanceof DliAuthError) {
        fatal ??= error;
        deps.log.error('DLI rejected the credentials; stopping the cycle', { ...error.toLogAttributes() });
        return null;
      } else if (error instanceof DliError) {
        countError(error.kind);
        deps.log.warn(`could not poll job: ${error.message}`, { ...error.toLogAttributes() });
        return null;
      } else {
        throw error;
      }
    }
    summary.polled += 1;
    const now = clock.now();
    const lease = now + leaseMs;
    const transition = applyPoll(record, outcome, {
      now,
      projectId: deps.projectId,
      destinations: deps.destinations,
      leaseUntil: lease,
    });
    if (transition.unknownStatus) {
      deps.log.warn('job has a status DLI does not document; treating it as in progress', {
        job_id: record.jobId,
        status: transition.record.status,
      });
    }
    const stored = await write(transition.record, record.version);
    if (!stored) return null;
    if (stored.status !== record.status) summary.changed += 1;
    if (transition.becameLost) {
      summary.lost += 1;
      deps.log.warn('DLI has not known this job for several polls; marking it lost', {
        job_id: record.jobId,
      });
    }
    if (transition.event) {
      deps.log.info('job ended', {
        job_id: record.jobId,
        status: transition.event.status,
        previous_status: transition.event.previousStatus,
        deliveries: transition.record.deliveries.length,
      });
    }
    return { record: stored, lease };
  }

  /** Compare-and-set write; `null` means another cycle got there first (or the store failed) and we back off. */
  async function write(next: JobRecord, expectedVersion: number): Promise<JobRecord | null> {
    try {
      const stored = await deps.store.update(next, expectedVersion);
      if (!stored)
        deps.log.debug('job changed under us; leaving it to the other writer', { job_id: next.jobId });
      return stored;
    } catch (error) {
      countError('store');
      deps.log.error('could not write job state', { job_id: next.jobId, error: (error as Error).message });
      return null;
    }
  }

  /** Takes the due deliveries of a record nobody else holds, by writing our lease on them. */
  async function claimDue(record: JobRecord): Promise<{ record: JobRecord; lease: number } | null> {
    const now = clock.now();
    if (!record.deliveries.some((delivery) => isDue(delivery, now))) return null;
    const lease = now + leaseMs;
    const deliveries = record.deliveries.map((delivery) =>
      isDue(delivery, now) ? { ...delivery, leaseUntil: lease } : delivery,
    );
    const stored = await write({ ...record, deliveries }, record.version);
    return stored && { record: stored, lease };
  }

  /** Sends the deliveries of `record` that carry our `lease`, then records what happened. */
  async function deliver(record: JobRecord, lease: number): Promise<void> {
    const { event } = record;
    const mine = record.deliveries.filter(
      (delivery) => delivery.state === 'pending' && delivery.leaseUntil === lease,
    );
    if (!event || mine.length === 0) return;
    const results = await Promise.all(
      mine.map((delivery) =>
        attemptDelivery(event, delivery, {
          destinations: destinationsByName,
          platforms: deps.platforms,
          clock,
          random,
          log: deps.log,
          render: deps.render,
          sendTimeoutMs,
          deadline: Math.min(deadline, lease),
          ...(options.signal ? { signal: options.signal } : {}),
        }),
      ),
    );
    for (const result of results) {
      const delivered = result.next === null;
      if (delivered) summary.notified += 1;
      summary.delivery_failures += result.attempts - (delivered ? 1 : 0);
      if (result.next?.state === 'dead') summary.dead_lettered += 1;
    }
    await recordResults(record, results);
  }

  /** Writes delivery results; on a version clash re-reads and re-applies them, since the sends really happened. */
  async function recordResults(record: JobRecord, results: DeliveryResult[]): Promise<void> {
    let current: JobRecord | null = record;
    for (let tries = 0; current && tries < 5; tries += 1) {
      const byDestination = new Map(results.map((result) => [result.destination, result]));
      const deliveries = current.deliveries.flatMap((delivery) => {
        const result = byDestination.get(delivery.destination);
        if (!result) return [delivery];
        return result.next ? [result.next] : [];
      });
      if (await write({ ...current, deliveries }, current.version)) return;
      current = await deps.store.get(record.jobId).catch(() => null);
    }
    if (current) {
      countError('store');
      deps.log.error('could not record delivery results; they will be retried after the lease', {
        job_id: record.jobId,
      });
    }
  }

  async function processJob(record: JobRecord): Promise<void> {
    const held = record.phase === 'active' ? await poll(record) : await claimDue(record);
    if (held) await deliver(held.record, held.lease);
  }

  const due = dueJobs(deps.store, { cycleStartedAt: startedAt, pageSize: deps.pageSize ?? 100, clock });
  async function worker(): Promise<void> {
    for (;;) {
      const next = await due.next();
      if (next.done) return;
      // A job taken but not started is simply left in the store: the next cycle finds it first.
      if (stopped() || clock.now() >= deadline) {
        summary.deferred = fatal === null;
        return;
      }
      await processJob(next.value);
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.max(1, deps.concurrency) }, worker));
  } finally {
    await due.return(undefined);
  }
  summary.duration_ms = clock.now() - startedAt;
  if (fatal) throw fatal;
  return summary;
}

function isDue(delivery: Delivery, now: number): boolean {
  return delivery.state === 'pending' && delivery.nextAttemptAt <= now && (delivery.leaseUntil ?? 0) <= now;
}

/** The store's due jobs, one page in memory at a time, shared by every worker. */
async function* dueJobs(
  store: JobStore,
  options: { cycleStartedAt: number; pageSize: number; clock: Clock },
): AsyncGenerator<JobRecord, void, undefined> {
  let cursor: string | null = null;
  do {
    const page = await store.listDue({
      cycleStartedAt: options.cycleStartedAt,
      now: options.clock.now(),
      limit: options.pageSize,
      cursor,
    });
    yield* page.items;
    cursor = page.cursor;
  } while (cursor);
}

/**
 * The budget to give a cycle that must be completely done within `remainingMs`: what is left after reserving
 * the longest a job started at the last moment can take (a DLI request with its retries, then its deliveries
 * under their lease) — and never more than `capMs`, so that on a one-minute schedule one cycle ends before
 * the next begins.
 */
export function cycleBudgetMs(
  remainingMs: number,
  limits: { dliTimeoutMs: number; sendTimeoutMs?: number; dliAttempts?: number; capMs?: number },
): number {
  const dliWorstCase = limits.dliTimeoutMs * (limits.dliAttempts ?? 3) + 6_000;
  const reserve = dliWorstCase + deliveryLeaseMs(limits.sendTimeoutMs ?? 10_000);
  return Math.max(0, Math.min(remainingMs - reserve, limits.capMs ?? 50_000));
}
