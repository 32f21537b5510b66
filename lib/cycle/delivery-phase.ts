import {
  type DailySummary,
  type Delivery,
  deliveryKey,
  isDeliveryDue,
  type JobEvent,
  type JobRecord,
  messageOfDelivery,
} from '../job.ts';
import type { DestinationThrottle } from '../notify/delivery/destination-throttle.ts';
import { scheduleAfterFailure } from '../notify/delivery/retry-schedule.ts';
import {
  type MessageResult,
  type OutgoingMessage,
  sendMessage,
  wantsDigest,
} from '../notify/delivery/send-message.ts';
import type { Destination, PlatformRegistry } from '../notify/platforms/registry.ts';
import { holdsBack } from '../notify/quiet-hours.ts';
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

/** A delivery this cycle holds (leased), with the record it belongs to and what it carries. */
interface HeldDelivery {
  record: JobRecord;
  message: JobEvent | DailySummary;
  delivery: Delivery;
}

/**
 * Writes what became of one job's deliveries, as each message is judged. Writes to one job go one after another
 * (each on the version the last one stored, so they never clash with each other), and results that arrive while
 * a write is under way go out together in the next one.
 */
interface JobRecorder {
  /**
   * Records `next` (`null`: delivered) for the delivery `key` names ({@link deliveryKey}); resolves once it is
   * stored, or failed to be.
   */
  record(key: string, next: Delivery | null): Promise<void>;
  /** Resolves once everything recorded so far is written. */
  settled(): Promise<void>;
}

/**
 * Sends what is due and decides what becomes of each delivery: the jobs that ended in this cycle first (their
 * deliveries were leased with the status change), then every job owing a due delivery, a page at a time, each
 * claimed by writing this cycle's lease on it. A page's deliveries are grouped by destination (a destination owed
 * more events than its digest threshold gets one digest); each destination's messages go one after another,
 * destinations side by side. Each message's outcome (delivered, retry later, dead-lettered) is recorded as soon as
 * its platform's success test has judged it, before that destination's next message: a crash repeats at most the
 * messages in flight, one per destination.
 */
export async function deliveryPhase(
  run: CycleRun,
  deps: DeliveryPhaseDependencies,
  ended: readonly JobRecord[],
): Promise<DeliveryCounts> {
  const counts = emptyDeliveryCounts();
  const destinationsByName = new Map(deps.destinations.map((destination) => [destination.name, destination]));
  const onStoreError = () => countError(counts.errors_by_kind, 'store');
  const outOfTime = () => stopRequested(run) || run.clock.now() >= run.deadline;

  /** Notes how long the due deliveries of `record` have waited: the metric of how far behind sending is. */
  function noteDue(record: JobRecord, now: number): void {
    for (const delivery of record.deliveries) {
      if (
        delivery.state !== 'pending' ||
        (!isDeliveryDue(delivery, now) && delivery.leaseUntil !== run.lease)
      )
        continue;
      const age = now - delivery.createdAt;
      counts.oldest_due_delivery_age_ms = Math.max(counts.oldest_due_delivery_age_ms ?? age, age);
    }
  }

  /** The deliveries of a stored record that this cycle holds, each with what it carries. */
  function heldIn(record: JobRecord): HeldDelivery[] {
    return record.deliveries.flatMap((delivery) => {
      if (delivery.state !== 'pending' || delivery.leaseUntil !== run.lease) return [];
      const message = messageOfDelivery(record, delivery);
      return message ? [{ record, message, delivery }] : [];
    });
  }

  /** Takes the due deliveries of a record nobody else holds, by writing our lease on them. */
  async function claimDue(record: JobRecord): Promise<HeldDelivery[]> {
    const now = run.clock.now();
    if (!record.deliveries.some((delivery) => isDeliveryDue(delivery, now))) return [];
    // Seen due even if another cycle wins the claim.
    noteDue(record, now);
    const deliveries = record.deliveries.map((delivery) =>
      isDeliveryDue(delivery, now) ? { ...delivery, leaseUntil: run.lease } : delivery,
    );
    const stored = await writeRecord(run, { ...record, deliveries }, record.version, onStoreError);
    return stored ? heldIn(stored) : [];
  }

  function recorderFor(held: JobRecord): JobRecorder {
    let latest = held;
    let pending = new Map<string, Delivery | null>();
    let queued: Promise<void> | null = null;
    let tail: Promise<void> = Promise.resolve();

    /** Writes one batch of results; on a version clash re-reads and re-applies them, since the sends happened. */
    async function write(results: Map<string, Delivery | null>): Promise<void> {
      let current: JobRecord | null = latest;
      for (let tries = 0; current && tries < 5; tries += 1) {
        const deliveries = current.deliveries.flatMap((delivery) => {
          const key = deliveryKey(delivery);
          if (!results.has(key)) return [delivery];
          const next = results.get(key);
          return next ? [next] : [];
        });
        const stored = await writeRecord(run, { ...current, deliveries }, current.version, onStoreError);
        if (stored) {
          latest = stored;
          return;
        }
        current = await run.store.get(held.jobId).catch(() => null);
      }
      if (current) {
        countError(counts.errors_by_kind, 'store');
        run.log.error('could not record delivery results; they will be retried after the lease', {
          job_id: held.jobId,
        });
      }
    }

    return {
      record(key, next) {
        pending.set(key, next);
        if (queued === null) {
          const batch = tail.then(() => {
            queued = null;
            const results = pending;
            pending = new Map();
            return write(results);
          });
          queued = batch;
          tail = batch;
        }
        return queued;
      },
      settled: () => tail,
    };
  }

  /** The delivery as it must be stored after this cycle's message (`null`: delivered, so it is gone). */
  function schedule(delivery: Delivery, result: MessageResult): Delivery | null {
    if (result.kind === 'deferred') return { ...delivery, leaseUntil: null, nextAttemptAt: result.until };
    const { outcome, attempts } = result;
    counts.delivery_failures += attempts - (outcome.kind === 'delivered' ? 1 : 0);
    counts.send_timeouts += result.timeouts;
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

  /** Sends one destination's share of a page: its summaries, then one digest or one message per event, recording each. */
  async function sendTo(
    name: string,
    items: HeldDelivery[],
    recorder: (item: HeldDelivery) => JobRecorder,
  ): Promise<void> {
    const record = (item: HeldDelivery, next: Delivery | null) =>
      recorder(item).record(deliveryKey(item.delivery), next);
    const destination = destinationsByName.get(name);
    if (!destination) {
      // Kept pending rather than dropped: a destination renamed or removed by mistake gets its messages back.
      run.log.warn('deliveries wait for a destination that is not configured', { destination: name });
      const outcome = { kind: 'retry', reason: 'destination is not in the configuration' } as const;
      for (const item of items)
        void record(item, scheduleAfterFailure(item.delivery, outcome, run.clock.now(), deps.random));
      return;
    }
    const now = run.clock.now();
    const due: HeldDelivery[] = [];
    for (const item of items) {
      const until = holdsBack(destination.quietHours, item.message.type, now);
      if (until === null) {
        due.push(item);
        continue;
      }
      // Not a failure and not an attempt: it waits, and its give-up clock starts when the quiet hours end.
      counts.held_for_quiet_hours += 1;
      void record(item, {
        ...item.delivery,
        leaseUntil: null,
        nextAttemptAt: until,
        createdAt: until,
        heldForQuietAt: now,
      });
    }
    if (due.length < items.length) {
      run.log.info('messages wait for the end of quiet hours', {
        destination: name,
        held: items.length - due.length,
      });
    }
    // A summary is a message of its own, never part of a digest.
    const messages: { items: HeldDelivery[]; message: OutgoingMessage }[] = [];
    const events: { item: HeldDelivery; event: JobEvent }[] = [];
    for (const item of due) {
      if (item.message.type === 'SUMMARY') {
        messages.push({
          items: [item],
          message: { destination, events: [], digest: false, summary: item.message },
        });
      } else {
        events.push({ item, event: item.message });
      }
    }
    const waited = events.filter(({ item }) => item.delivery.heldForQuietAt !== undefined).length;
    const digest = wantsDigest(destination, deps.platforms, events.length, waited);
    for (const batch of digest ? [events] : events.map((entry) => [entry])) {
      messages.push({
        items: batch.map(({ item }) => item),
        message: { destination, events: batch.map(({ event }) => event), digest },
      });
    }
    for (const { items: batch, message } of messages) {
      if (outOfTime()) {
        // Out of time: handed back unattempted, for the next cycle.
        for (const item of batch) void record(item, { ...item.delivery, leaseUntil: null });
        counts.deferred = true;
        continue;
      }
      const result = await sendMessage(message, {
        platforms: deps.platforms,
        throttle: deps.throttle,
        clock: run.clock,
        log: run.log,
        render: deps.render,
        sendTimeoutMs: deps.sendTimeoutMs,
        deadline: run.deadline,
        ...(run.signal ? { signal: run.signal } : {}),
      });
      if (result.kind === 'attempted' && result.outcome.kind === 'delivered') {
        counts.notified += batch.length;
        if (message.summary) counts.daily_summaries += 1;
        else if (message.digest) counts.digests += 1;
      }
      // Stored before this destination's next message goes out.
      await Promise.all(batch.map((item) => record(item, schedule(item.delivery, result))));
    }
  }

  /** Sends what a page of held deliveries owes and waits until every result is stored. */
  async function deliver(held: HeldDelivery[]): Promise<void> {
    const recorders = new Map<string, JobRecorder>();
    const recorder = (item: HeldDelivery) => {
      let found = recorders.get(item.record.jobId);
      if (!found) {
        found = recorderFor(item.record);
        recorders.set(item.record.jobId, found);
      }
      return found;
    };
    await Promise.all(
      [...Map.groupBy(held, (item) => item.delivery.destination)].map(([name, items]) =>
        sendTo(name, items, recorder),
      ),
    );
    await Promise.all([...recorders.values()].map((found) => found.settled()));
  }

  for (let start = 0; start < ended.length; start += run.pageSize) {
    const page = ended.slice(start, start + run.pageSize);
    const now = run.clock.now();
    for (const record of page) noteDue(record, now);
    // Out of time, a page is still handed over to `deliver`, which hands its deliveries back unattempted.
    await deliver(page.flatMap(heldIn));
  }
  for await (const page of duePages(run, 'deliveries')) {
    if (outOfTime()) {
      counts.deferred = true;
      break;
    }
    await deliver((await Promise.all(page.map(claimDue))).flat());
  }
  return counts;
}
