import { type Delivery, isDeliveryDue, type JobEvent, type JobRecord } from '../job.ts';
import type { DestinationThrottle } from '../notify/delivery/destination-throttle.ts';
import { deliveryLeaseMs, scheduleAfterFailure } from '../notify/delivery/retry-schedule.ts';
import { type MessageResult, sendMessage, wantsDigest } from '../notify/delivery/send-message.ts';
import type { Destination, PlatformRegistry } from '../notify/platforms/registry.ts';
import type { RenderContext } from '../notify/render/job-facts.ts';
import { type CycleRun, duePages, stopRequested, writeRecord } from './cycle-run.ts';
import { countError, type DeliveryCounts, emptyDeliveryCounts } from './summary.ts';

export interface DeliveryPhaseDependencies {
  destinations: readonly Destination[];
  platforms: PlatformRegistry;
  /** Per destination URL rate limits and pauses, shared across cycles. */
  throttle: DestinationThrottle;
  render: Omit<RenderContext, 'now'>;
  random: () => number;
  /** Per-attempt timeout of a chat or webhook request. */
  sendTimeoutMs: number;
}

/** A delivery this cycle holds (leased), with the record and event it belongs to. */
interface HeldDelivery {
  record: JobRecord;
  event: JobEvent;
  delivery: Delivery;
}

/** Per job: the record as we hold it and, per destination, what its delivery became (`null`: delivered). */
type Results = Map<string, { record: JobRecord; next: Map<string, Delivery | null> }>;

/**
 * Sends what is due — new and retried deliveries alike — a page of jobs at a time, and decides what becomes of
 * each delivery: claim the due ones by writing a lease, group them by destination (a destination owed more events
 * than its digest threshold gets one digest), send each destination's messages one after another with
 * destinations side by side, schedule what failed (retry later or dead-letter), and record the results.
 */
export async function deliveryPhase(run: CycleRun, deps: DeliveryPhaseDependencies): Promise<DeliveryCounts> {
  const counts = emptyDeliveryCounts();
  const destinationsByName = new Map(deps.destinations.map((destination) => [destination.name, destination]));
  const onStoreError = () => countError(counts.errors_by_kind, 'store');
  const outOfTime = () => stopRequested(run) || run.clock.now() >= run.deadline;

  /** Takes the due deliveries of a record nobody else holds, by writing our lease on them. */
  async function claimDue(record: JobRecord, lease: number): Promise<HeldDelivery[]> {
    const now = run.clock.now();
    const { event } = record;
    if (!event || !record.deliveries.some((delivery) => isDeliveryDue(delivery, now))) return [];
    // Seen due even if another cycle wins the claim: the metric is about how far behind sending is.
    for (const delivery of record.deliveries) {
      if (!isDeliveryDue(delivery, now)) continue;
      const age = now - delivery.createdAt;
      counts.oldest_due_delivery_age_ms = Math.max(counts.oldest_due_delivery_age_ms ?? age, age);
    }
    const deliveries = record.deliveries.map((delivery) =>
      isDeliveryDue(delivery, now) ? { ...delivery, leaseUntil: lease } : delivery,
    );
    const stored = await writeRecord(run, { ...record, deliveries }, record.version, onStoreError);
    if (!stored) return [];
    return stored.deliveries
      .filter((delivery) => delivery.state === 'pending' && delivery.leaseUntil === lease)
      .map((delivery) => ({ record: stored, event, delivery }));
  }

  /** Sends one destination's share of a page: one digest, or one message per event. */
  async function sendTo(name: string, items: HeldDelivery[], results: Results): Promise<void> {
    const setResult = (item: HeldDelivery, next: Delivery | null) => {
      const perJob = results.get(item.record.jobId) ?? { record: item.record, next: new Map() };
      perJob.next.set(item.delivery.destination, next);
      results.set(item.record.jobId, perJob);
    };
    const destination = destinationsByName.get(name);
    if (!destination) {
      // Kept pending rather than dropped: a destination renamed or removed by mistake gets its messages back.
      run.log.warn('deliveries wait for a destination that is not configured', { destination: name });
      const outcome = { kind: 'retry', reason: 'destination is not in the configuration' } as const;
      for (const item of items)
        setResult(item, scheduleAfterFailure(item.delivery, outcome, run.clock.now(), deps.random));
      return;
    }
    const digest = wantsDigest(destination, deps.platforms, items.length);
    const messages = digest ? [items] : items.map((item) => [item]);
    for (const batch of messages) {
      if (outOfTime()) {
        // Out of time: handed back unattempted, for the next cycle.
        for (const item of batch) setResult(item, { ...item.delivery, leaseUntil: null });
        counts.deferred = true;
        continue;
      }
      const result = await sendMessage(
        { destination, events: batch.map((item) => item.event), digest },
        {
          platforms: deps.platforms,
          throttle: deps.throttle,
          clock: run.clock,
          log: run.log,
          render: deps.render,
          sendTimeoutMs: deps.sendTimeoutMs,
          deadline: run.deadline,
          ...(run.signal ? { signal: run.signal } : {}),
        },
      );
      for (const item of batch) setResult(item, schedule(item.delivery, result));
      if (result.kind === 'attempted' && result.outcome.kind === 'delivered') {
        counts.notified += batch.length;
        if (digest) counts.digests += 1;
      }
    }
  }

  /** The delivery as it must be stored after this cycle's message (`null`: delivered, so it is gone). */
  function schedule(delivery: Delivery, result: MessageResult): Delivery | null {
    if (result.kind === 'deferred') return { ...delivery, leaseUntil: null, nextAttemptAt: result.until };
    const { outcome, attempts } = result;
    counts.delivery_failures += attempts - (outcome.kind === 'delivered' ? 1 : 0);
    if (outcome.kind === 'delivered') return null;
    const next = scheduleAfterFailure(
      { ...delivery, attempts: delivery.attempts + attempts },
      outcome,
      run.clock.now(),
      deps.random,
    );
    if (next.state === 'dead') {
      counts.dead_lettered += 1;
      run.log.error('delivery dead-lettered', { destination: delivery.destination, reason: outcome.reason });
    }
    return next;
  }

  /** Writes delivery results; on a version clash re-reads and re-applies them, since the sends really happened. */
  async function record(held: JobRecord, perDestination: Map<string, Delivery | null>): Promise<void> {
    let current: JobRecord | null = held;
    for (let tries = 0; current && tries < 5; tries += 1) {
      const deliveries = current.deliveries.flatMap((delivery) => {
        if (!perDestination.has(delivery.destination)) return [delivery];
        const next = perDestination.get(delivery.destination);
        return next ? [next] : [];
      });
      if (await writeRecord(run, { ...current, deliveries }, current.version, onStoreError)) return;
      current = await run.store.get(held.jobId).catch(() => null);
    }
    if (current) {
      countError(counts.errors_by_kind, 'store');
      run.log.error('could not record delivery results; they will be retried after the lease', {
        job_id: held.jobId,
      });
    }
  }

  for await (const page of duePages(run, 'deliveries')) {
    if (outOfTime()) {
      counts.deferred = true;
      break;
    }
    const lease = run.deadline + deliveryLeaseMs(deps.sendTimeoutMs);
    const held = (await Promise.all(page.map((job) => claimDue(job, lease)))).flat();
    const results: Results = new Map();
    await Promise.all(
      [...Map.groupBy(held, (item) => item.delivery.destination)].map(([name, items]) =>
        sendTo(name, items, results),
      ),
    );
    await Promise.all([...results.values()].map(({ record: job, next }) => record(job, next)));
  }
  return counts;
}
