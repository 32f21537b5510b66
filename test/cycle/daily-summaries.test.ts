import { afterEach, describe, expect, it } from 'vitest';
import { summarizeDay, summaryEntryOf } from '../../lib/cycle/daily-summaries.ts';
import { type SummarySchedule, summaryRecord } from '../../lib/daily-summary.ts';
import type { JobRecord, KeySource, TerminalStatus } from '../../lib/job.ts';
import { ANY_ROUTE, createChatDestination, createWebhookDestination } from '../../lib/notify/destination.ts';
import type { Destination } from '../../lib/notify/platforms/registry.ts';
import type { SimulatedJobFields } from '../../lib/simulator/dli-simulator.ts';
import type { JobStore } from '../../lib/store/job-store.ts';
import { SqliteStore } from '../../lib/store/sqlite-store.ts';
import { startDynalite } from '../support/dynalite.ts';
import { hugeDailySummary } from '../support/events.ts';
import { statusResponse, trackedRecord } from '../support/records.ts';
import { startWatchHarness, type WatchHarness, WEBHOOK_SECRET } from '../support/watch-harness.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const BUDGET = { budgetMs: 60_000 };
/** Shanghai's wall clock is UTC+8 all year: its 2026-12-03 runs from 2026-12-02T16:00Z to 2026-12-03T16:00Z. */
const shanghai = (day: number, hour: number, minute = 0) => Date.UTC(2026, 11, day, hour - 8, minute);
const NINE_AM: SummarySchedule = { atMinute: 9 * 60, timeZone: 'Asia/Shanghai' };

let harness: WatchHarness;
afterEach(async () => {
  await harness?.close();
});

function destinations() {
  return [
    createChatDestination({
      name: 'team',
      type: 'slack',
      url: harness.destinations[0]?.url as string,
      summary: NINE_AM,
    }),
    createWebhookDestination({
      name: 'audit',
      url: harness.destinations[1]?.url as string,
      secret: WEBHOOK_SECRET,
      summary: NINE_AM,
    }),
  ];
}

/** The text of each summary Slack received (of `day` only, when given), in the order received. */
function summaryTexts(day?: string): string[] {
  return harness.slack.requests
    .map((request) => JSON.parse(request.body))
    .filter((body) => String(body.text).startsWith(`DLI daily summary · ${day ?? ''}`))
    .map((body) =>
      body.blocks.map((block: { text?: { text: string } }) => block.text?.text ?? '').join('\n'),
    );
}

function summaryBodies(day?: string): { type: string; data: Record<string, unknown> }[] {
  return harness.webhook.requests
    .map((request) => JSON.parse(request.body))
    .filter((body) => body.type === 'dli.summary.daily' && (day === undefined || body.data.day === day));
}

/** The days summed up in what each receiver got, in order. */
function summaryDays(): { slack: string[]; webhook: string[] } {
  return {
    slack: summaryTexts().map((text) =>
      text.slice('DLI daily summary · '.length, 'DLI daily summary · '.length + 10),
    ),
    webhook: summaryBodies().map((body) => String(body.data.day)),
  };
}

const byPipeline: KeySource = { from: 'tag', name: 'pipeline' };

/**
 * A day of jobs in Shanghai: on 2026-12-02 a run of the nightly pipeline fails; on 2026-12-03 it fails again, an
 * ETL job finishes after 90 minutes, an ad-hoc query is cancelled, and a backfill starts at 20:00 and is still
 * running the next morning, past its two-hour threshold. Returns when each job is submitted.
 */
function aDayOfJobs(): [string, number][] {
  const jobs: [string, number, number | null, string, SimulatedJobFields][] = [
    ['fail-1202', shanghai(2, 2), shanghai(2, 2, 20), 'FAILED', NIGHTLY],
    ['fail-1203', shanghai(3, 2), shanghai(3, 2, 25), 'FAILED', NIGHTLY],
    ['etl-1203', shanghai(3, 6), shanghai(3, 7, 30), 'FINISHED', { queue_name: 'etl' }],
    ['adhoc-1203', shanghai(3, 11), shanghai(3, 11, 5), 'CANCELLED', { queue_name: 'adhoc' }],
    ['backfill', shanghai(3, 20), null, 'RUNNING', { queue_name: 'etl', owner: 'bob' }],
  ];
  for (const [jobId, start, end, status, fields] of jobs) {
    harness.simulator.addJob(jobId, {
      timeline: [{ at: start, status: 'RUNNING' }, ...(end === null ? [] : [{ at: end, status }])],
      fields,
    });
  }
  return jobs.map(([jobId, start]) => [jobId, start]);
}

const NIGHTLY = { queue_name: 'etl', tags: [{ key: 'pipeline', value: 'nightly' }] };

/**
 * Cycles every 20 minutes through both days, tracking each job as it is submitted (DLI does not know a job
 * before), so each is seen as it ends.
 */
async function watchTheDays(store: JobStore, tick: () => Promise<unknown>): Promise<void> {
  const submitted = aDayOfJobs();
  for (let at = shanghai(2, 1); at <= shanghai(4, 8); at += 20 * MINUTE) {
    harness.clock.set(at);
    const due = submitted.filter(([, start]) => start <= at && start > at - 20 * MINUTE);
    if (due.length > 0)
      await store.track(
        due.map(([jobId]) => ({ jobId, keyFrom: byPipeline })),
        at,
      );
    await tick();
  }
}

describe('daily summary', () => {
  it('sends yesterday once at 09:00 across two racing cycles and a restart, then the next day again', async () => {
    harness = await startWatchHarness({ sharedClock: true, clockStart: shanghai(2, 1) });
    const watcher = harness.newWatcher({ destinations: destinations(), warnAfterMs: 2 * HOUR });
    await watchTheDays(harness.store, () => watcher.tick(BUDGET));
    // The days watched so far got theirs, each once, at the first cycle after 09:00.
    const before = ['2026-12-01', '2026-12-02'];
    expect(summaryDays()).toEqual({ slack: before, webhook: before });
    harness.clock.set(shanghai(4, 8, 59));
    expect(await watcher.tick(BUDGET)).toMatchObject({ summaries_raised: 0, daily_summaries: 0 });
    expect(summaryDays()).toEqual({ slack: before, webhook: before });

    // 09:00: two processes, each on its own connection, run a cycle at the same moment.
    harness.clock.set(shanghai(4, 9));
    const second = SqliteStore.open(harness.storePath);
    try {
      const results = await Promise.all([
        watcher.tick(BUDGET),
        harness
          .newWatcher({ store: second, destinations: destinations(), warnAfterMs: 2 * HOUR })
          .tick(BUDGET),
      ]);
      expect(results.reduce((sum, result) => sum + result.summaries_raised, 0)).toBe(2);
      expect(results.reduce((sum, result) => sum + result.daily_summaries, 0)).toBe(2);
    } finally {
      await second.close();
    }
    const [text] = summaryTexts('2026-12-03');
    expect(summaryTexts('2026-12-03')).toHaveLength(1);
    expect(text).toContain('DLI daily summary · 2026-12-03');
    expect(text).toContain(
      '❌ 1 failed · ✅ 1 finished · 🚫 1 cancelled · ⏳ 1 still running past their threshold',
    );
    expect(text).toContain('etl: ✅ 1 finished · ❌ 1 failed');
    expect(text).toContain('adhoc: 🚫 1 cancelled');
    expect(text).toContain('❌ fail-1203 FAILED · etl · 25 min · 2nd failure in a row since 2026-12-02');
    expect(text).toContain('⏱ etl-1203 FINISHED · etl · 1 h 30 min');
    expect(text).toContain('⏳ backfill still RUNNING · etl · 13 h · warn after 2 h');
    expect(text).not.toContain('fail-1202');

    const [body] = summaryBodies('2026-12-03');
    expect(summaryBodies('2026-12-03')).toHaveLength(1);
    expect(harness.webhook.requests.at(-1)?.headers['webhook-id']).toBe('summary:audit:2026-12-03');
    expect(body?.data).toMatchObject({
      destination: 'audit',
      day: '2026-12-03',
      time_zone: 'Asia/Shanghai',
      from: '2026-12-02T16:00:00.000Z',
      to: '2026-12-03T16:00:00.000Z',
      counts: { FINISHED: 1, FAILED: 1, CANCELLED: 1 },
      running_long_count: 1,
    });
    expect(body?.data.failures).toEqual([
      expect.objectContaining({ job_id: 'fail-1203', streak: expect.objectContaining({ failures: 2 }) }),
    ]);

    // Later that morning, after a restart on a new connection: nothing more.
    harness.clock.set(shanghai(4, 9, 30));
    const restarted = SqliteStore.open(harness.storePath);
    try {
      expect(
        await harness.newWatcher({ store: restarted, destinations: destinations() }).tick(BUDGET),
      ).toMatchObject({ summaries_raised: 0, daily_summaries: 0 });
    } finally {
      await restarted.close();
    }
    const sent = [...before, '2026-12-03'];
    expect(summaryDays()).toEqual({ slack: sent, webhook: sent });

    // The next morning, the first cycle after the hour sends the day before it.
    harness.clock.set(shanghai(5, 9, 7));
    expect(await watcher.tick(BUDGET)).toMatchObject({ summaries_raised: 2, daily_summaries: 2 });
    expect(summaryDays()).toEqual({ slack: [...sent, '2026-12-04'], webhook: [...sent, '2026-12-04'] });
    expect(summaryTexts('2026-12-04')[0]).toContain(
      'No DLI job ended · ⏳ 1 still running past their threshold',
    );
    expect(summaryBodies('2026-12-04')[0]?.data).toMatchObject({
      day: '2026-12-04',
      counts: { FINISHED: 0, FAILED: 0, CANCELLED: 0 },
    });
  });

  it('retries a summary the platform refused for now, and sends it once', async () => {
    harness = await startWatchHarness({ sharedClock: true, clockStart: shanghai(3, 1) });
    harness.clock.set(shanghai(4, 9));
    const refusal = { status: 500, body: 'internal_error' };
    harness.slack.respondNext(refusal, refusal, refusal);
    const watcher = harness.newWatcher({ destinations: destinations() });
    expect(await watcher.tick(BUDGET)).toMatchObject({ summaries_raised: 2, daily_summaries: 1 });
    expect(await harness.store.get('summary:team:2026-12-03')).toMatchObject({
      deliveries: [expect.objectContaining({ state: 'pending', attempts: 3 })],
    });
    harness.clock.advance(10 * MINUTE);
    expect(await watcher.tick(BUDGET)).toMatchObject({ summaries_raised: 0, daily_summaries: 1 });
    // Three refused attempts and the one taken, all of the same message.
    expect(summaryTexts()).toHaveLength(4);
    expect(new Set(summaryTexts()).size).toBe(1);
    expect(await harness.store.get('summary:team:2026-12-03')).toMatchObject({ deliveries: [] });
  });
});

describe('daily summary in quiet hours', () => {
  it('waits for the end of the quiet hours like any message, then goes out once', async () => {
    // Berlin, quiet from 22:00 to 07:30 every day; the summary is due at 06:00 (05:00Z in winter).
    const berlin = (hour: number, minute = 0) => Date.UTC(2026, 11, 4, hour - 1, minute);
    harness = await startWatchHarness({ sharedClock: true, clockStart: berlin(5) });
    const quiet = createChatDestination({
      name: 'team',
      type: 'slack',
      url: harness.destinations[0]?.url as string,
      summary: { atMinute: 6 * 60, timeZone: 'Europe/Berlin' },
      quietHours: {
        timeZone: 'Europe/Berlin',
        windows: [
          { days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: 22 * 60, to: 7 * 60 + 30 },
        ],
        except: ['FAILED'],
      },
    });
    const watcher = harness.newWatcher({ destinations: [quiet] });
    harness.clock.set(berlin(6));
    expect(await watcher.tick(BUDGET)).toMatchObject({
      summaries_raised: 1,
      held_for_quiet_hours: 1,
      daily_summaries: 0,
    });
    harness.clock.set(berlin(7, 29));
    expect(await watcher.tick(BUDGET)).toMatchObject({ summaries_raised: 0, daily_summaries: 0 });
    expect(summaryTexts()).toEqual([]);
    harness.clock.set(berlin(7, 30));
    expect(await watcher.tick(BUDGET)).toMatchObject({ daily_summaries: 1 });
    harness.clock.set(berlin(8));
    expect(await watcher.tick(BUDGET)).toMatchObject({ daily_summaries: 0 });
    expect(summaryDays().slack).toEqual(['2026-12-03']);
  });
});

describe('daily summary on DynamoDB, with two cycles racing on one table', () => {
  it('sends each destination one summary of yesterday', async () => {
    harness = await startWatchHarness({ sharedClock: true, clockStart: shanghai(2, 1) });
    const dynamo = await startDynalite();
    try {
      const [a, b] = await dynamo.racingStores(harness.clock);
      const first = harness.newWatcher({ store: a, destinations: destinations(), warnAfterMs: 2 * HOUR });
      const second = harness.newWatcher({ store: b, destinations: destinations(), warnAfterMs: 2 * HOUR });
      await watchTheDays(a, () => Promise.all([first.tick(BUDGET), second.tick(BUDGET)]));
      for (const at of [shanghai(4, 9), shanghai(4, 9, 1), shanghai(4, 12)]) {
        harness.clock.set(at);
        await Promise.all([first.tick(BUDGET), second.tick(BUDGET)]);
      }
      const days = ['2026-12-01', '2026-12-02', '2026-12-03'];
      expect(summaryDays()).toEqual({ slack: days, webhook: days });
      expect(summaryTexts('2026-12-03')[0]).toContain(
        '❌ fail-1203 FAILED · etl · 25 min · 2nd failure in a row',
      );
      expect(await b.get('summary:team:2026-12-03')).toMatchObject({ phase: 'terminal', deliveries: [] });
    } finally {
      await dynamo.close();
    }
  });
});

describe('summarizeDay and summaryEntryOf', () => {
  const day = { day: '2026-12-03', from: shanghai(3, 0), to: shanghai(4, 0), dueUntil: shanghai(5, 0) };
  const now = shanghai(4, 9);
  /** A job that ended `status` at `endedAt` after `durationMs`, on `queue`. */
  function ended(
    jobId: string,
    status: string,
    endedAt: number,
    extra: Partial<JobRecord> & { queue?: string; durationMs?: number } = {},
  ) {
    const { queue = 'etl', durationMs = 10 * MINUTE, ...overrides } = extra;
    const job = statusResponse(jobId, status, {
      queue_name: queue,
      start_time: endedAt - durationMs,
      duration: durationMs,
    });
    return trackedRecord(jobId, {
      phase: 'terminal',
      status,
      event: {
        id: `evt-${jobId}`,
        type: status as TerminalStatus,
        status,
        previousStatus: 'RUNNING',
        occurredAt: endedAt + MINUTE,
        projectId: 'p',
        labels: {},
        job,
        routedTo: [],
      },
      ...overrides,
    });
  }
  const summarize = (
    records: JobRecord[],
    destination: Destination = createWebhookDestination({
      name: 'all',
      url: 'https://example.com/h',
      summary: NINE_AM,
    }),
  ) =>
    summarizeDay(
      records.flatMap((record) => summaryEntryOf(record, now, 2 * HOUR) ?? []),
      { id: 'summary:all:2026-12-03', destination, due: day, occurredAt: now, projectId: 'p' },
    );

  it('counts the runs that ended within the day, by their end on DLI’s clock, and nothing else', () => {
    const summary = summarize([
      ended('first', 'FINISHED', day.from),
      ended('last', 'FAILED', day.to - 1),
      ended('next-day', 'FINISHED', day.to),
      ended('day-before', 'FAILED', day.from - 1),
      trackedRecord('lost', { phase: 'lost', status: 'RUNNING' }),
      summaryRecord(hugeDailySummary(), day.dueUntil),
    ]);
    expect(summary.counts).toEqual({ FINISHED: 1, FAILED: 1, CANCELLED: 0 });
    expect(summary.failures.map((run) => run.jobId)).toEqual(['last']);
  });

  it('keeps to the destination’s route', () => {
    const records = [
      ended('on-etl', 'FAILED', shanghai(3, 5)),
      ended('on-ml', 'FAILED', shanghai(3, 6), { queue: 'ml' }),
    ];
    const ml = createChatDestination({
      name: 'ml',
      type: 'slack',
      url: 'https://hooks.slack.com/services/T/B/x',
      route: { ...ANY_ROUTE, queues: ['ml*'] },
      summary: NINE_AM,
    });
    expect(summarize(records, ml).failures.map((run) => run.jobId)).toEqual(['on-ml']);
    expect(summarize(records, ml).queues).toEqual([{ queue: 'ml', FINISHED: 0, FAILED: 1, CANCELLED: 0 }]);
  });

  it('lists failures in end order and the longest runs longest first, within their caps, counting every one', () => {
    const records = Array.from({ length: 60 }, (_, i) =>
      ended(`job-${String(i).padStart(2, '0')}`, i % 2 ? 'FAILED' : 'FINISHED', shanghai(3, 1) + i * MINUTE, {
        queue: `queue-${i % 25}`,
        durationMs: (i + 1) * MINUTE,
      }),
    );
    const summary = summarize(records.reverse());
    expect(summary.counts).toEqual({ FINISHED: 30, FAILED: 30, CANCELLED: 0 });
    expect(summary.failures.map((run) => run.jobId).slice(0, 3)).toEqual(['job-01', 'job-03', 'job-05']);
    expect(summary.longest.map((run) => run.durationMs)).toEqual([60, 59, 58, 57, 56].map((n) => n * MINUTE));
    expect(summary.queues).toHaveLength(20);
    expect(summary.otherQueues).toBe(5);
    // The ten queues that ran three jobs come first.
    expect(summary.queues.slice(0, 10).every((queue) => queue.FINISHED + queue.FAILED === 3)).toBe(true);
  });

  it('lists the first 50 failures by end time however the store orders them, and counts them all', () => {
    const failures = Array.from({ length: 120 }, (_, i) =>
      ended(`fail-${String(i).padStart(3, '0')}`, 'FAILED', shanghai(3, 1) + i * MINUTE),
    );
    // Stored in no particular order: what a key-ordered scan of ids generated at random gives.
    const shuffled = failures
      .map((record, i) => ({ record, at: (i * 37) % 120 }))
      .sort((a, b) => a.at - b.at);
    const summary = summarize(shuffled.map(({ record }) => record));
    expect(summary.counts.FAILED).toBe(120);
    expect(summary.failures.map((run) => run.jobId)).toEqual(
      failures.slice(0, 50).map((record) => record.jobId),
    );
  });

  it('lists jobs still running past their own threshold, else the default, longest running first', () => {
    const running = (jobId: string, startTime: number, warnAfterMs: number | null = null) =>
      trackedRecord(jobId, { status: 'RUNNING', startTime, warnAfterMs });
    const summary = summarize([
      running('default-past', now - 3 * HOUR),
      running('default-within', now - HOUR),
      running('own-past', now - 5 * HOUR, 4 * HOUR),
      running('own-within', now - 5 * HOUR, 6 * HOUR),
      trackedRecord('never-polled'),
    ]);
    expect(summary.runningLong).toEqual([
      { jobId: 'own-past', status: 'RUNNING', runningForMs: 5 * HOUR, thresholdMs: 4 * HOUR },
      { jobId: 'default-past', status: 'RUNNING', runningForMs: 3 * HOUR, thresholdMs: 2 * HOUR },
    ]);
    expect(summary.runningLongCount).toBe(2);
  });
});
