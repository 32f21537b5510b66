import type { DliClient } from '../dli/client.ts';
import { DliAuthError, DliError, type DliErrorKind, DliJobNotFoundError } from '../dli/errors.ts';
import { type Delivery, isDeliveryDue, type JobEvent, type JobRecord } from '../job.ts';
import type { DestinationThrottle } from '../notify/delivery/destination-throttle.ts';
import {
  DEFAULT_SEND_TIMEOUT_MS,
  deliveryLeaseMs,
  scheduleAfterFailure,
} from '../notify/delivery/retry-schedule.ts';
import { type MessageResult, sendMessage, wantsDigest } from '../notify/delivery/send-message.ts';
import type { Destination, PlatformRegistry } from '../notify/platforms/registry.ts';
import type { RenderContext } from '../notify/render/job-facts.ts';
import type { JobStore } from '../store/job-store.ts';
import { type Clock, systemClock } from '../util/clock.ts';
import type { Log } from '../util/log.ts';
import { applyPoll, type PollOutcome } from './transitions.ts';

export interface CycleDependencies {
  store: JobStore;
  dli: DliClient;
  projectId: string;
  destinations: readonly Destination[];
  platforms: PlatformRegistry;
  /** Per destination URL rate limits and pauses; share one across cycles (the watcher does). */
  throttle: DestinationThrottle;
  render: Omit<RenderContext, 'now'>;
  log: Log;
  /** Jobs polled at once (each worker makes at most one DLI request at a time). */
  concurrency: number;
  clock?: Clock;
  random?: () => number;
  /** Jobs read from the store at a time: what bounds the cycle's memory (and the largest digest). */
  pageSize?: number;
  /** Per-attempt timeout of a chat or webhook request. */
  sendTimeoutMs?: number;
}

export interface CycleOptions {
  /** No job is started once this much time has passed; work under way finishes. */
  budgetMs: number;
  /** Stops starting new work (a clean shutdown); work under way finishes and records what it did. */
  signal?: AbortSignal;
}

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
  /** Jobs marked lost in this cycle. */
  lost: number;
  /** Jobs whose DLI request or store write failed; their state is unchanged. */
  errors: number;
  errors_by_kind: Partial<Record<DliErrorKind | 'store', number>>;
  /** The budget ran out or a stop was asked for with work left: it waits for the next cycle. */
  deferred: boolean;
  duration_ms: number;
  /** How long the oldest delivery found due in this cycle had been waiting (ms since created); null when none was. */
  oldest_due_delivery_age_ms: number | null;
}

/** A delivery this cycle holds (leased), with the record and event it belongs to. */
interface HeldDelivery {
  record: JobRecord;
  event: JobEvent;
  delivery: Delivery;
}

/**
 * One tick, in two phases. First it polls every active job that is due and writes each change together with the
 * deliveries it owes (the outbox). Then it sends what is due — new and retried deliveries alike — a page of jobs
 * at a time, grouped by destination: a destination owed more events than its digest threshold gets one digest.
 * One job's failure never stops the others; rejected DLI credentials stop the whole cycle (after the work under
 * way) by rejecting with the {@link DliAuthError}.
 */
export async function runCycle(deps: CycleDependencies, options: CycleOptions): Promise<CycleSummary> {
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? Math.random;
  const sendTimeoutMs = deps.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  const pageSize = deps.pageSize ?? 100;
  const startedAt = clock.now();
  const deadline = startedAt + options.budgetMs;
  // Polling leaves a quarter of the budget (up to 15 s) to sending, so a cycle busy polling thousands of jobs
  // still delivers.
  const pollDeadline = deadline - Math.min(options.budgetMs / 4, 15_000);
  const destinationsByName = new Map(deps.destinations.map((destination) => [destination.name, destination]));
  const summary: CycleSummary = {
    polled: 0,
    changed: 0,
    notified: 0,
    digests: 0,
    delivery_failures: 0,
    dead_lettered: 0,
    lost: 0,
    errors: 0,
    errors_by_kind: {},
    deferred: false,
    duration_ms: 0,
    oldest_due_delivery_age_ms: null,
  };
  let fatal: DliAuthError | null = null;
  const stopped = () => fatal !== null || options.signal?.aborted === true;
  const countError = (kind: DliErrorKind | 'store') => {
    summary.errors += 1;
    summary.errors_by_kind[kind] = (summary.errors_by_kind[kind] ?? 0) + 1;
  };

  /** Polls an active job and stores the outcome with the deliveries it owes. */
  async function poll(record: JobRecord): Promise<void> {
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
        return;
      } else if (error instanceof DliError) {
        countError(error.kind);
        deps.log.warn(`could not poll job: ${error.message}`, { ...error.toLogAttributes() });
        return;
      } else {
        throw error;
      }
    }
    summary.polled += 1;
    const transition = applyPoll(record, outcome, {
      now: clock.now(),
      projectId: deps.projectId,
      destinations: deps.destinations,
    });
    if (transition.unknownStatus) {
      deps.log.warn('job has a status DLI does not document; treating it as in progress', {
        job_id: record.jobId,
        status: transition.record.status,
      });
    }
    const stored = await write(transition.record, record.version);
    if (!stored) return;
    if (stored.status !== record.status) summary.changed += 1;
    if (transition.becameLost) {
      summary.lost += 1;
      deps.log.warn('DLI has not known this job for several polls; marking it lost', {
        job_id: record.jobId,
      });
    }
    const { event } = transition;
    if (event) {
      const fields = { job_id: record.jobId, status: event.status, previous_status: event.previousStatus };
      if (event.routedTo.length === 0) deps.log.debug('job ended; no destination wants it', fields);
      else deps.log.info('job ended', { ...fields, routed_to: event.routedTo });
    }
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
  async function claimDue(record: JobRecord, lease: number): Promise<HeldDelivery[]> {
    const now = clock.now();
    const { event } = record;
    if (!event || !record.deliveries.some((delivery) => isDeliveryDue(delivery, now))) return [];
    // Seen due even if another cycle wins the claim: the metric is about how far behind sending is.
    for (const delivery of record.deliveries) {
      if (!isDeliveryDue(delivery, now)) continue;
      const age = now - delivery.createdAt;
      summary.oldest_due_delivery_age_ms = Math.max(summary.oldest_due_delivery_age_ms ?? age, age);
    }
    const deliveries = record.deliveries.map((delivery) =>
      isDeliveryDue(delivery, now) ? { ...delivery, leaseUntil: lease } : delivery,
    );
    const stored = await write({ ...record, deliveries }, record.version);
    if (!stored) return [];
    return stored.deliveries
      .filter((delivery) => delivery.state === 'pending' && delivery.leaseUntil === lease)
      .map((delivery) => ({ record: stored, event, delivery }));
  }

  /** Sends what one page of jobs owes, one destination at a time each, destinations side by side. */
  async function deliverPage(records: JobRecord[]): Promise<void> {
    const lease = deadline + deliveryLeaseMs(sendTimeoutMs);
    const held = (await Promise.all(records.map((record) => claimDue(record, lease)))).flat();
    const byDestination = Map.groupBy(held, (item) => item.delivery.destination);
    // Per job: the record as we hold it and, per destination, what its delivery became (null: delivered).
    const results = new Map<string, { record: JobRecord; next: Map<string, Delivery | null> }>();
    const setResult = (item: HeldDelivery, next: Delivery | null) => {
      const perJob = results.get(item.record.jobId) ?? { record: item.record, next: new Map() };
      perJob.next.set(item.delivery.destination, next);
      results.set(item.record.jobId, perJob);
    };
    await Promise.all(
      [...byDestination].map(async ([name, items]) => {
        const destination = destinationsByName.get(name);
        if (!destination) {
          // Kept pending rather than dropped: a destination renamed or removed by mistake gets its messages back.
          deps.log.warn('deliveries wait for a destination that is not configured', { destination: name });
          const outcome = { kind: 'retry', reason: 'destination is not in the configuration' } as const;
          for (const item of items)
            setResult(item, scheduleAfterFailure(item.delivery, outcome, clock.now(), random));
          return;
        }
        const digest = wantsDigest(destination, deps.platforms, items.length);
        const messages = digest ? [items] : items.map((item) => [item]);
        for (const batch of messages) {
          if (stopped() || clock.now() >= deadline) {
            // Out of time: handed back unattempted, for the next cycle.
            for (const item of batch) setResult(item, { ...item.delivery, leaseUntil: null });
            summary.deferred = true;
            continue;
          }
          const result = await sendMessage(
            { destination, events: batch.map((item) => item.event), digest },
            {
              platforms: deps.platforms,
              throttle: deps.throttle,
              clock,
              log: deps.log,
              render: deps.render,
              sendTimeoutMs,
              deadline,
              ...(options.signal ? { signal: options.signal } : {}),
            },
          );
          for (const item of batch) setResult(item, nextDelivery(item.delivery, result));
          if (result.kind === 'attempted' && result.outcome.kind === 'delivered') {
            summary.notified += batch.length;
            if (digest) summary.digests += 1;
          }
        }
      }),
    );
    await Promise.all([...results.values()].map(({ record, next }) => recordResults(record, next)));
  }

  /** The delivery as it must be stored after this cycle's message. */
  function nextDelivery(delivery: Delivery, result: MessageResult): Delivery | null {
    if (result.kind === 'deferred') return { ...delivery, leaseUntil: null, nextAttemptAt: result.until };
    const { outcome, attempts } = result;
    summary.delivery_failures += attempts - (outcome.kind === 'delivered' ? 1 : 0);
    if (outcome.kind === 'delivered') return null;
    const next = scheduleAfterFailure(
      { ...delivery, attempts: delivery.attempts + attempts },
      outcome,
      clock.now(),
      random,
    );
    if (next.state === 'dead') {
      summary.dead_lettered += 1;
      deps.log.error('delivery dead-lettered', { destination: delivery.destination, reason: outcome.reason });
    }
    return next;
  }

  /** Writes delivery results; on a version clash re-reads and re-applies them, since the sends really happened. */
  async function recordResults(
    record: JobRecord,
    perDestination: Map<string, Delivery | null>,
  ): Promise<void> {
    let current: JobRecord | null = record;
    for (let tries = 0; current && tries < 5; tries += 1) {
      const deliveries = current.deliveries.flatMap((delivery) => {
        if (!perDestination.has(delivery.destination)) return [delivery];
        const next = perDestination.get(delivery.destination);
        return next ? [next] : [];
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

  // Phase 1: poll, one page in memory at a time, shared by every worker.
  const due = pages(deps.store, { cycleStartedAt: startedAt, pageSize, clock, only: 'polls' });
  const jobs = (async function* () {
    for await (const page of due) yield* page;
  })();
  async function worker(): Promise<void> {
    for (;;) {
      const next = await jobs.next();
      if (next.done) return;
      // A job taken but not started is simply left in the store: the next cycle finds it first.
      if (stopped() || clock.now() >= pollDeadline) {
        summary.deferred = fatal === null;
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

  // Phase 2: send what is due, a page of jobs at a time.
  if (!fatal) {
    for await (const page of pages(deps.store, {
      cycleStartedAt: startedAt,
      pageSize,
      clock,
      only: 'deliveries',
    })) {
      if (stopped() || clock.now() >= deadline) {
        summary.deferred = true;
        break;
      }
      await deliverPage(page);
    }
  }
  summary.duration_ms = clock.now() - startedAt;
  if (fatal) throw fatal;
  return summary;
}

/** The store's due jobs, a page at a time. */
async function* pages(
  store: JobStore,
  options: { cycleStartedAt: number; pageSize: number; clock: Clock; only: 'polls' | 'deliveries' },
): AsyncGenerator<JobRecord[], void, undefined> {
  let cursor: string | null = null;
  do {
    const page = await store.listDue({
      cycleStartedAt: options.cycleStartedAt,
      now: options.clock.now(),
      limit: options.pageSize,
      cursor,
      only: options.only,
    });
    if (page.items.length > 0) yield page.items;
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
  const reserve = dliWorstCase + deliveryLeaseMs(limits.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS);
  return Math.max(0, Math.min(remainingMs - reserve, limits.capMs ?? 50_000));
}
