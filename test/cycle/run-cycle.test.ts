import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CycleSummary, cycleBudgetMs, RECORD_RESERVE_MS } from '../../lib/cycle/run-cycle.ts';
import { applyPoll } from '../../lib/cycle/transitions.ts';
import { DliAuthError } from '../../lib/dli/errors.ts';
import { deliveryLeaseMs, GIVE_UP_AFTER_MS } from '../../lib/notify/delivery/retry-schedule.ts';
import { SqliteStore } from '../../lib/store/sqlite-store.ts';
import { startDynalite } from '../support/dynalite.ts';
import { statusResponse } from '../support/records.ts';
import {
  SECRET_KEY,
  SLACK_PATH,
  startWatchHarness,
  type WatchHarness,
  WEBHOOK_SECRET,
} from '../support/watch-harness.ts';

const BUDGET = { budgetMs: 60_000 };
let harness: WatchHarness;

beforeEach(async () => {
  harness = await startWatchHarness();
});
afterEach(async () => {
  await harness?.close();
});

async function track(...jobIds: string[]) {
  await harness.store.track(
    jobIds.map((jobId) => ({ jobId, labels: { team: 'bi' } })),
    harness.clock.now(),
  );
}

/** Runs cycles a minute apart, as the schedule would, and returns their summaries. */
async function cycles(count: number, watcher = harness.newWatcher()): Promise<CycleSummary[]> {
  const summaries: CycleSummary[] = [];
  for (let index = 0; index < count; index += 1) {
    summaries.push(await watcher.tick(BUDGET));
    harness.clock.advance(60_000);
  }
  return summaries;
}

function webhookIds(): string[] {
  return harness.webhook.requests.map((request) => request.headers['webhook-id'] ?? '');
}

describe('a cycle', () => {
  it('notifies Slack and the signed webhook once when jobs end FINISHED, FAILED and CANCELLED', async () => {
    harness.simulator.addJob('job-finished', { lifecycle: ['RUNNING', 'FINISHED'] });
    harness.simulator.addJob('job-failed', {
      lifecycle: ['RUNNING', 'FAILED'],
      fields: { message: 'DLI.0005: Table or view not found: sales.orders_2024' },
    });
    harness.simulator.addJob('job-cancelled', { lifecycle: ['LAUNCHING', 'RUNNING', 'CANCELLED'] });
    await track('job-finished', 'job-failed', 'job-cancelled');

    const [first, second, third, fourth] = await cycles(4);
    expect(first).toMatchObject({ polled: 3, changed: 3, notified: 0, errors: 0 });
    expect(second).toMatchObject({ polled: 3, changed: 3, notified: 4 });
    expect(third).toMatchObject({ polled: 1, changed: 1, notified: 2 });
    // Terminal jobs are neither polled nor notified again.
    expect(fourth).toMatchObject({ polled: 0, changed: 0, notified: 0 });
    expect(harness.simulator.pollCount('job-finished')).toBe(2);

    expect(harness.slack.requests).toHaveLength(3);
    const texts = harness.slack.requests.map((request) => JSON.parse(request.body).text as string);
    expect(texts.some((text) => text.includes('job-fail') && text.includes('FAILED'))).toBe(true);
    expect(texts.some((text) => text.includes('FINISHED'))).toBe(true);
    expect(texts.some((text) => text.includes('CANCELLED'))).toBe(true);
    expect(harness.slack.requests[0]?.path).toBe(SLACK_PATH);

    const verifier = new Webhook(WEBHOOK_SECRET);
    const bodies = harness.webhook.requests.map(
      (request) =>
        verifier.verify(request.body, request.headers) as { type: string; data: Record<string, unknown> },
    );
    expect(bodies.map((body) => body.type).sort()).toEqual([
      'dli.job.cancelled',
      'dli.job.failed',
      'dli.job.finished',
    ]);
    const failed = bodies.find((body) => body.type === 'dli.job.failed');
    expect(failed?.data).toMatchObject({
      job_id: 'job-failed',
      status: 'FAILED',
      previous_status: 'RUNNING',
      labels: { team: 'bi' },
      project_id: harness.config.dli.projectId,
      message: 'DLI.0005: Table or view not found: sales.orders_2024',
    });
    expect(new Set(webhookIds()).size).toBe(3);

    for (const jobId of ['job-finished', 'job-failed', 'job-cancelled']) {
      expect(await harness.store.get(jobId)).toMatchObject({ phase: 'terminal', deliveries: [] });
    }
  });

  it('sends each destination only the statuses its events filter names', async () => {
    const slack = harness.destinations[0];
    if (slack?.type !== 'slack') throw new Error('the harness lists Slack first');
    harness.destinations[0] = { ...slack, events: ['FAILED'] };
    harness.simulator.addJob('ok', { lifecycle: ['FINISHED'] });
    harness.simulator.addJob('bad', { lifecycle: ['FAILED'] });
    await track('ok', 'bad');
    await cycles(1);
    expect(harness.slack.requests.map((request) => JSON.parse(request.body).text)).toEqual([
      expect.stringContaining('FAILED'),
    ]);
    expect(harness.webhook.requests).toHaveLength(2);
  });

  it('routes each job to the destinations whose filters match it, and logs a job nobody wants', async () => {
    const [slack, audit] = harness.destinations;
    if (slack?.type !== 'slack' || audit?.type !== 'webhook')
      throw new Error('the harness lists Slack, then a webhook');
    harness.destinations[0] = {
      ...slack,
      route: { ...slack.route, queues: ['etl_*'], owners: ['alice', 'bob'] },
    };
    harness.destinations[1] = { ...audit, route: { ...audit.route, labels: ['team=bi'] } };
    harness.simulator.addJob('etl-by-alice', {
      lifecycle: ['FINISHED'],
      fields: { queue_name: 'etl_nightly', owner: 'alice' },
    });
    harness.simulator.addJob('etl-by-carol', {
      lifecycle: ['FINISHED'],
      fields: { queue_name: 'etl_nightly', owner: 'carol' },
    });
    harness.simulator.addJob('adhoc', {
      lifecycle: ['FINISHED'],
      fields: { queue_name: 'default', owner: 'alice' },
    });
    await track('etl-by-alice', 'etl-by-carol');
    await harness.store.track([{ jobId: 'adhoc', labels: { team: 'ops' } }], harness.clock.now());

    await cycles(1);
    expect(harness.slack.requests.map((request) => JSON.parse(request.body).text)).toEqual([
      expect.stringContaining('etl-by-'),
    ]);
    expect(harness.webhook.requests.map((request) => JSON.parse(request.body).data.job_id).sort()).toEqual([
      'etl-by-alice',
      'etl-by-carol',
    ]);
    expect((await harness.store.get('etl-by-alice'))?.event?.routedTo).toEqual(['alerts', 'audit']);
    expect((await harness.store.get('etl-by-carol'))?.event?.routedTo).toEqual(['audit']);
    expect((await harness.store.get('adhoc'))?.event?.routedTo).toEqual([]);
    expect(
      harness.logLines.some((line) => line.includes('no destination wants it') && line.includes('adhoc')),
    ).toBe(true);
  });

  it('sends one digest instead of a flood when more jobs end at once than the threshold, but webhooks get each', async () => {
    const jobIds = Array.from({ length: 8 }, (_, index) => `burst-${index}`);
    for (const [index, jobId] of jobIds.entries()) {
      harness.simulator.addJob(jobId, { lifecycle: [index < 3 ? 'FAILED' : 'FINISHED'] });
    }
    await track(...jobIds);
    const [summary] = await cycles(1);
    expect(summary).toMatchObject({ notified: 16, digests: 1, delivery_failures: 0 });
    expect(harness.slack.requests).toHaveLength(1);
    const digest = harness.slack.requests[0]?.body ?? '';
    for (const jobId of jobIds) expect(digest).toContain(jobId.slice(0, 8));
    expect(digest).toMatch(/8 DLI jobs/);
    expect(harness.webhook.requests).toHaveLength(8);
    for (const jobId of jobIds) expect(await harness.store.get(jobId)).toMatchObject({ deliveries: [] });
  });

  it('sends each event on its own up to the threshold', async () => {
    const jobIds = Array.from({ length: 5 }, (_, index) => `few-${index}`);
    for (const jobId of jobIds) harness.simulator.addJob(jobId, { lifecycle: ['FINISHED'] });
    await track(...jobIds);
    expect((await cycles(1))[0]).toMatchObject({ notified: 10, digests: 0 });
    expect(harness.slack.requests).toHaveLength(5);
  });

  it('delivers on the next cycle what a crashed cycle wrote but never sent', async () => {
    harness.simulator.addJob('job-1', { lifecycle: ['FINISHED'] });
    await track('job-1');
    // What a cycle writes before it sends — the status change with the deliveries it owes — and then the
    // process dies.
    const before = await harness.store.get('job-1');
    if (!before) throw new Error('job-1 is tracked');
    const crashed = applyPoll(
      before,
      { kind: 'status', job: statusResponse('job-1', 'FINISHED') },
      {
        now: harness.clock.now(),
        projectId: harness.config.dli.projectId,
        destinations: harness.destinations,
        warnAfterMs: null,
      },
    );
    expect(await harness.store.update(crashed.record, before.version)).not.toBeNull();

    harness.clock.advance(60_000);
    expect(await harness.newWatcher().tick(BUDGET)).toMatchObject({ notified: 2, polled: 0 });
    expect(harness.slack.requests).toHaveLength(1);
    expect(harness.webhook.requests).toHaveLength(1);
    expect(harness.simulator.pollCount('job-1')).toBe(0);
    expect(await harness.store.get('job-1')).toMatchObject({ deliveries: [] });
  });

  it('takes over, once its lease ends, what a cycle that crashed while sending still held', async () => {
    harness.simulator.addJob('job-1', { lifecycle: ['FINISHED'] });
    await track('job-1');
    const before = await harness.store.get('job-1');
    if (!before) throw new Error('job-1 is tracked');
    const { record } = applyPoll(
      before,
      { kind: 'status', job: statusResponse('job-1', 'FINISHED') },
      {
        now: harness.clock.now(),
        projectId: harness.config.dli.projectId,
        destinations: harness.destinations,
        warnAfterMs: null,
      },
    );
    // Claimed by a cycle (a 50 s budget plus the send lease), which then died mid-send.
    const leaseUntil = harness.clock.now() + 50_000 + deliveryLeaseMs(10_000);
    const claimed = {
      ...record,
      deliveries: record.deliveries.map((delivery) => ({ ...delivery, leaseUntil })),
    };
    expect(await harness.store.update(claimed, before.version)).not.toBeNull();

    harness.clock.advance(60_000);
    expect(await harness.newWatcher().tick(BUDGET)).toMatchObject({
      notified: 0,
      oldest_due_delivery_age_ms: null,
    });
    harness.clock.advance(60_000);
    // Created two minutes ago, when the job ended: that is how late the message goes out.
    expect(await harness.newWatcher().tick(BUDGET)).toMatchObject({
      notified: 2,
      oldest_due_delivery_age_ms: 120_000,
    });
    expect(harness.slack.requests).toHaveLength(1);
  });

  it('retries a receiver that fails twice within the cycle and delivers exactly once, with one webhook-id', async () => {
    harness.simulator.addJob('job-1', { lifecycle: ['FAILED'] });
    await track('job-1');
    harness.slack.respondNext({ status: 500, body: 'oops' }, { status: 503, body: 'busy' });
    harness.webhook.respondNext({ status: 502 }, { status: 429, headers: { 'retry-after': '1' } });

    const [summary] = await cycles(1);
    expect(summary).toMatchObject({ notified: 2, delivery_failures: 4, dead_lettered: 0 });
    expect(harness.slack.requests).toHaveLength(3);
    expect(harness.webhook.requests).toHaveLength(3);
    expect(new Set(webhookIds()).size).toBe(1);
    // Each destination was told once: the third attempts were the only ones accepted.
    expect(await harness.store.get('job-1')).toMatchObject({ deliveries: [] });
    await cycles(2);
    expect(harness.slack.requests).toHaveLength(3);
    expect(harness.webhook.requests).toHaveLength(3);
  });

  it('retries on later cycles with a growing wait, then delivers', async () => {
    harness.simulator.addJob('job-1', { lifecycle: ['FINISHED'] });
    await track('job-1');
    harness.slack.respondNext(...Array.from({ length: 6 }, () => ({ status: 503 })));
    const watcher = harness.newWatcher();

    await watcher.tick(BUDGET);
    expect(harness.slack.requests).toHaveLength(3);
    const pending = (await harness.store.get('job-1'))?.deliveries.find(
      (delivery) => delivery.destination === 'alerts',
    );
    expect(pending).toMatchObject({
      state: 'pending',
      attempts: 3,
      lastError: expect.stringContaining('503'),
    });
    const firstWait = (pending?.nextAttemptAt ?? 0) - harness.clock.now();
    expect(firstWait).toBeGreaterThanOrEqual(7_000);
    expect(firstWait).toBeLessThanOrEqual(12_000);

    harness.clock.advance(firstWait - 1);
    await watcher.tick(BUDGET);
    expect(harness.slack.requests).toHaveLength(3);
    harness.clock.advance(1);
    await watcher.tick(BUDGET);
    expect(harness.slack.requests).toHaveLength(6);
    const again = (await harness.store.get('job-1'))?.deliveries[0];
    expect((again?.nextAttemptAt ?? 0) - harness.clock.now()).toBeGreaterThan(firstWait);

    harness.clock.advance(60 * 60_000);
    expect(await watcher.tick(BUDGET)).toMatchObject({ notified: 1 });
    expect(harness.slack.requests).toHaveLength(7);
    expect(await harness.store.get('job-1')).toMatchObject({ deliveries: [] });
  });

  it('dead-letters at once on a permanent rejection and keeps it visible', async () => {
    harness.simulator.addJob('job-1', { lifecycle: ['FAILED'] });
    await track('job-1');
    harness.slack.respondNext({ status: 404, body: 'channel_not_found' });
    const [summary] = await cycles(3);
    expect(summary).toMatchObject({ notified: 1, dead_lettered: 1, delivery_failures: 1 });
    expect(harness.slack.requests).toHaveLength(1);
    const record = await harness.store.get('job-1');
    expect(record?.deliveries).toEqual([
      expect.objectContaining({
        destination: 'alerts',
        state: 'dead',
        lastError: expect.stringContaining('404'),
      }),
    ]);
  });

  it('dead-letters a delivery that keeps failing for 24 hours', async () => {
    harness.simulator.addJob('job-1', { lifecycle: ['FINISHED'] });
    await track('job-1');
    harness.slack.respondNext(...Array.from({ length: 200 }, () => ({ status: 500 })));
    const watcher = harness.newWatcher();
    let dead = 0;
    for (let hour = 0; hour <= 25 && dead === 0; hour += 1) {
      dead += (await watcher.tick(BUDGET)).dead_lettered;
      harness.clock.advance(60 * 60_000);
    }
    expect(dead).toBe(1);
    const delivery = (await harness.store.get('job-1'))?.deliveries[0];
    expect(delivery?.state).toBe('dead');
    expect((delivery?.attempts ?? 0) * 1).toBeGreaterThan(20);
    expect(harness.clock.now() - (delivery?.createdAt ?? 0)).toBeGreaterThanOrEqual(GIVE_UP_AFTER_MS);
  });

  it('never delivers a transition twice when two cycles run at once on one store', async () => {
    const slack = harness.destinations[0];
    if (slack?.type !== 'slack') throw new Error('the harness lists Slack first');
    // One message per event, to count them (a digest would stand for all twelve).
    harness.destinations[0] = { ...slack, digestThreshold: 100 };
    const jobIds = Array.from({ length: 12 }, (_, index) => `race-${index}`);
    for (const jobId of jobIds) harness.simulator.addJob(jobId, { lifecycle: ['RUNNING', 'FINISHED'] });
    await track(...jobIds);
    const other = SqliteStore.open(harness.storePath);
    try {
      const a = harness.newWatcher();
      const b = harness.newWatcher({ store: other });
      for (let round = 0; round < 3; round += 1) {
        await Promise.all([a.tick(BUDGET), b.tick(BUDGET)]);
        harness.clock.advance(60_000);
      }
    } finally {
      await other.close();
    }
    expect(harness.slack.requests).toHaveLength(12);
    expect(harness.webhook.requests).toHaveLength(12);
    expect(new Set(webhookIds()).size).toBe(12);
  });

  it('never delivers a transition twice when two cycles race on one DynamoDB table', async () => {
    const dynamo = await startDynalite();
    try {
      const [a, b] = await dynamo.racingStores(harness.clock);
      const slack = harness.destinations[0];
      if (slack?.type !== 'slack') throw new Error('the harness lists Slack first');
      harness.destinations[0] = { ...slack, digestThreshold: 100 };
      const jobIds = Array.from({ length: 12 }, (_, index) => `dyn-race-${index}`);
      for (const jobId of jobIds) harness.simulator.addJob(jobId, { lifecycle: ['RUNNING', 'FINISHED'] });
      await a.track(
        jobIds.map((jobId) => ({ jobId })),
        harness.clock.now(),
      );
      const first = harness.newWatcher({ store: a });
      const second = harness.newWatcher({ store: b });
      for (let round = 0; round < 3; round += 1) {
        await Promise.all([first.tick(BUDGET), second.tick(BUDGET)]);
        harness.clock.advance(60_000);
      }
      expect(harness.slack.requests).toHaveLength(12);
      expect(new Set(webhookIds()).size).toBe(12);
      expect(harness.webhook.requests).toHaveLength(12);
      for (const jobId of jobIds)
        expect(await a.get(jobId)).toMatchObject({ phase: 'terminal', deliveries: [] });
    } finally {
      await dynamo.close();
    }
  });

  it('keeps going when DLI throttles, fails, times out or answers garbage, and leaves those jobs as they were', async () => {
    const faulty = ['throttled', 'server', 'dli-400', 'timeout', 'malformed', 'shape'];
    for (const jobId of [...faulty, 'healthy'])
      harness.simulator.addJob(jobId, { lifecycle: ['RUNNING', 'FINISHED'] });
    await track(...faulty, 'healthy');
    // Status calls, one per job, are what these faults hit (list faults: test/cycle/discovery.test.ts).
    const watcher = harness.newWatcher({ timeoutMs: 300, statusPlan: 'per-job' });
    await watcher.tick(BUDGET);
    harness.clock.advance(60_000);
    const before = new Map(
      await Promise.all(faulty.map(async (id) => [id, await harness.store.get(id)] as const)),
    );

    // Retried faults on every attempt (the first and the client's two retries); garbage is not retried.
    const times = 3;
    harness.simulator.injectFault({ kind: 'throttle', retryAfterSeconds: 0 }, { jobId: 'throttled', times });
    harness.simulator.injectFault({ kind: 'server-error', status: 503 }, { jobId: 'server', times });
    harness.simulator.injectFault({ kind: 'dli-server-error-400' }, { jobId: 'dli-400', times });
    harness.simulator.injectFault({ kind: 'timeout' }, { jobId: 'timeout', times });
    harness.simulator.injectFault({ kind: 'malformed' }, { jobId: 'malformed' });
    harness.simulator.injectFault({ kind: 'wrong-shape' }, { jobId: 'shape' });

    const summary = await watcher.tick(BUDGET);
    expect(summary).toMatchObject({ polled: 1, changed: 1, notified: 2, errors: 6 });
    expect(summary.errors_by_kind).toEqual({ throttled: 1, server: 2, network: 1, malformed: 2 });
    expect(await harness.store.get('healthy')).toMatchObject({ phase: 'terminal', status: 'FINISHED' });
    for (const jobId of faulty) expect(await harness.store.get(jobId)).toEqual(before.get(jobId));
    const warnings = harness.logLines.filter((line) => line.includes('could not poll job'));
    expect(warnings).toHaveLength(6);
    expect(
      warnings.every((line) => /"request_id":"[^"]+"/.test(line) || line.includes('"error_kind":"network"')),
    ).toBe(true);

    // The faults are spent: the next cycle finishes the jobs.
    harness.clock.advance(60_000);
    expect(await watcher.tick(BUDGET)).toMatchObject({ polled: 6, errors: 0, notified: 12 });
  });

  it('stops the whole cycle when DLI rejects the credentials, without touching job state', async () => {
    for (const jobId of ['a', 'b', 'c']) harness.simulator.addJob(jobId, { lifecycle: ['FINISHED'] });
    await track('a', 'b', 'c');
    harness.simulator.injectFault({ kind: 'auth' }, { times: 100 });
    await expect(harness.newWatcher({ concurrency: 1 }).tick(BUDGET)).rejects.toBeInstanceOf(DliAuthError);
    // One rejected request stops the cycle: no hammering a key the gateway may lock.
    expect(harness.simulator.requestCount).toBe(1);
    for (const jobId of ['a', 'b', 'c'])
      expect(await harness.store.get(jobId)).toMatchObject({ status: null, version: 1 });
  });

  it('marks a job lost after DLI does not know it three polls in a row', async () => {
    await track('ghost');
    const summaries = await cycles(4);
    expect(summaries.map((summary) => summary.lost)).toEqual([0, 0, 1, 0]);
    expect(summaries[3]?.polled).toBe(0);
    expect(await harness.store.get('ghost')).toMatchObject({ phase: 'lost', notFoundCount: 3 });
    expect(harness.slack.requests).toHaveLength(0);
  });

  it('keeps at most `concurrency` DLI requests in flight', async () => {
    await harness.close();
    harness = await startWatchHarness({ simulator: { latencyMs: 20 } });
    const jobIds = Array.from({ length: 40 }, (_, index) => `par-${index}`);
    for (const jobId of jobIds) harness.simulator.addJob(jobId, { lifecycle: ['RUNNING'] });
    await track(...jobIds);
    expect(await harness.newWatcher({ concurrency: 5 }).tick(BUDGET)).toMatchObject({ polled: 40 });
    expect(harness.simulator.maxInFlight).toBe(5);
  });

  it('starts no new job once the budget is spent, and serves the jobs it left first next time', async () => {
    await harness.close();
    // Every DLI answer costs a second of the cycle's clock.
    harness = await startWatchHarness({ dliRequestCostMs: 1_000 });
    const jobIds = Array.from({ length: 10 }, (_, index) => `budget-${index}`);
    for (const jobId of jobIds) harness.simulator.addJob(jobId, { lifecycle: ['RUNNING'] });
    await track(...jobIds);
    // One status call per job, so that each request is one job's share of the budget.
    const watcher = harness.newWatcher({ concurrency: 1, statusPlan: 'per-job' });

    const first = await watcher.tick({ budgetMs: 5_500 });
    expect(first.deferred).toBe(true);
    expect(first.polled).toBeGreaterThanOrEqual(5);
    expect(first.polled).toBeLessThan(10);
    const leftOver = [];
    for (const jobId of jobIds)
      if ((await harness.store.get(jobId))?.lastPolledAt === null) leftOver.push(jobId);
    expect(leftOver).toHaveLength(10 - first.polled);

    harness.clock.advance(60_000);
    const second = await watcher.tick({ budgetMs: 5_500 });
    expect(second.polled).toBeGreaterThanOrEqual(leftOver.length);
    for (const jobId of leftOver) expect((await harness.store.get(jobId))?.lastPolledAt).not.toBeNull();
  });

  it('keeps a Lambda cycle inside the time the function has left', () => {
    // 150 s left: 76 s are reserved for a job started at the last moment (its DLI request, its deliveries, and
    // writing their results); the rest is capped at 50 s.
    expect(cycleBudgetMs(150_000, { dliTimeoutMs: 10_000 })).toBe(50_000);
    expect(cycleBudgetMs(100_000, { dliTimeoutMs: 10_000 })).toBe(
      100_000 - 36_000 - deliveryLeaseMs(10_000) - RECORD_RESERVE_MS,
    );
    expect(cycleBudgetMs(65_000, { dliTimeoutMs: 10_000 })).toBe(0);
  });

  it('never writes a secret into a log line', async () => {
    harness.simulator.addJob('job-1', { lifecycle: ['FAILED'] });
    harness.simulator.addJob('job-2', { lifecycle: ['FINISHED'] });
    await track('job-1', 'job-2', 'ghost');
    harness.slack.respondNext({ status: 500 }, { status: 404, body: 'channel_not_found' });
    harness.webhook.respondNext({ status: 500 });
    harness.simulator.injectFault({ kind: 'timeout' }, { jobId: 'job-2', times: 10 });
    await cycles(2, harness.newWatcher({ timeoutMs: 200 }));
    harness.simulator.injectFault({ kind: 'auth' }, { times: 10 });
    await expect(harness.newWatcher().tick(BUDGET)).rejects.toBeInstanceOf(DliAuthError);

    expect(harness.logLines.length).toBeGreaterThan(5);
    const everything = harness.logLines.join('\n');
    for (const secret of [
      SECRET_KEY,
      WEBHOOK_SECRET,
      SLACK_PATH,
      SLACK_PATH.split('/').at(-1) ?? SLACK_PATH,
    ]) {
      expect(everything).not.toContain(secret);
    }
  });
});
