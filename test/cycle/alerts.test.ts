import { afterEach, describe, expect, it } from 'vitest';
import type { CycleSummary } from '../../lib/cycle/run-cycle.ts';
import type { EventType, KeySource } from '../../lib/job.ts';
import { createChatDestination, createWebhookDestination } from '../../lib/notify/destination.ts';
import type { QuietHours } from '../../lib/notify/quiet-hours.ts';
import { SqliteStore } from '../../lib/store/sqlite-store.ts';
import { startDynalite } from '../support/dynalite.ts';
import { startWatchHarness, type WatchHarness, WEBHOOK_SECRET } from '../support/watch-harness.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const BUDGET = { budgetMs: 60_000 };
/** 2026-12-01T08:00:00Z. */
const T0 = Date.UTC(2026, 11, 1, 8, 0);

let harness: WatchHarness;
afterEach(async () => {
  await harness?.close();
});

/** DLI's clock is the harness clock, so a job's start time and its status follow the injected time. */
async function start(clockStart = T0): Promise<WatchHarness> {
  harness = await startWatchHarness({ sharedClock: true, clockStart });
  return harness;
}

function slackTexts(): string[] {
  return harness.slack.requests.map((request) => JSON.parse(request.body).text as string);
}

/** The webhook bodies received (their signatures are checked against the real time elsewhere: run-cycle.test.ts). */
function webhookBodies(): { type: string; data: Record<string, unknown> }[] {
  return harness.webhook.requests.map((request) => JSON.parse(request.body));
}

/** The harness's Slack receiver as a destination of its own kind. */
function slack(options: { events?: EventType[]; onlyAfterFailures?: number; quietHours?: QuietHours } = {}) {
  const url = harness.destinations[0]?.url as string;
  return createChatDestination({
    name: 'oncall',
    type: 'slack',
    url,
    ...(options.events && { events: options.events }),
    ...(options.onlyAfterFailures && { onlyAfterFailures: options.onlyAfterFailures }),
    ...(options.quietHours && { quietHours: options.quietHours }),
  });
}

/** The harness's signed webhook receiver with the default events. */
function audit() {
  return createWebhookDestination({
    name: 'audit',
    url: harness.destinations[1]?.url as string,
    secret: WEBHOOK_SECRET,
  });
}

/** Cycles `every` apart until the clock reaches `until`, returning their summaries. */
async function cyclesUntil(
  until: number,
  every: number,
  watcher: ReturnType<WatchHarness['newWatcher']>,
): Promise<CycleSummary[]> {
  const summaries: CycleSummary[] = [];
  while (harness.clock.now() <= until) {
    summaries.push(await watcher.tick(BUDGET));
    harness.clock.advance(every);
  }
  return summaries;
}

describe('long-running warnings', () => {
  it('warns once when a job has run past its threshold since DLI started it, not again after a restart', async () => {
    await start();
    harness.simulator.addJob('job-long', {
      timeline: [
        { at: T0, status: 'RUNNING' },
        { at: T0 + 3 * HOUR, status: 'FINISHED' },
      ],
      fields: { queue_name: 'etl', owner: 'alice' },
    });
    // Tracked an hour after it started: the threshold counts from DLI's start time, not from tracking.
    harness.clock.set(T0 + HOUR);
    await harness.store.track([{ jobId: 'job-long' }], harness.clock.now());
    const watcher = harness.newWatcher({ warnAfterMs: 2 * HOUR });

    expect(await watcher.tick(BUDGET)).toMatchObject({ notices: 0, notified: 0 });
    harness.clock.set(T0 + 2 * HOUR - 1);
    expect(await watcher.tick(BUDGET)).toMatchObject({ notices: 0, notified: 0 });
    harness.clock.set(T0 + 2 * HOUR);
    expect(await watcher.tick(BUDGET)).toMatchObject({ notices: 1, notified: 2 });
    expect(slackTexts()).toEqual([
      '⏳ DLI job job-long still RUNNING after 2 h on queue etl (warn after 2 h)',
    ]);
    const [warning] = webhookBodies();
    expect(warning?.type).toBe('dli.job.long_running');
    expect(warning?.data).toMatchObject({
      job_id: 'job-long',
      status: 'RUNNING',
      owner: 'alice',
      warning: { threshold_ms: 2 * HOUR, running_for_ms: 2 * HOUR },
    });

    harness.clock.advance(30 * MINUTE);
    expect(await watcher.tick(BUDGET)).toMatchObject({ notices: 0, notified: 0 });
    // A restart: a new process with its own store connection and watcher.
    const restarted = SqliteStore.open(harness.storePath);
    try {
      harness.clock.advance(10 * MINUTE);
      expect(
        await harness.newWatcher({ store: restarted, warnAfterMs: 2 * HOUR }).tick(BUDGET),
      ).toMatchObject({
        notices: 0,
        notified: 0,
      });
    } finally {
      await restarted.close();
    }

    // Its end is notified as usual.
    harness.clock.set(T0 + 3 * HOUR + MINUTE);
    expect(await watcher.tick(BUDGET)).toMatchObject({ notified: 2 });
    expect(webhookBodies().map((body) => body.type)).toEqual(['dli.job.long_running', 'dli.job.finished']);
    const ids = harness.webhook.requests.map((request) => request.headers['webhook-id']);
    expect(new Set(ids).size).toBe(2);
    expect(slackTexts()).toHaveLength(2);
  });

  it('lets a job’s own threshold win over the default, and says nothing for a job that ended first', async () => {
    await start();
    harness.simulator.addJob('job-own', {
      timeline: [
        { at: T0, status: 'RUNNING' },
        { at: T0 + 4 * HOUR, status: 'FINISHED' },
      ],
    });
    harness.simulator.addJob('job-quick', {
      timeline: [
        { at: T0, status: 'RUNNING' },
        { at: T0 + HOUR, status: 'FINISHED' },
      ],
    });
    await harness.store.track(
      [{ jobId: 'job-own', warnAfterMs: 90 * MINUTE }, { jobId: 'job-quick' }],
      harness.clock.now(),
    );
    const watcher = harness.newWatcher({ warnAfterMs: 2 * HOUR });
    await cyclesUntil(T0 + 3 * HOUR, 15 * MINUTE, watcher);

    const types = webhookBodies().map((body) => `${body.data.job_id} ${body.type}`);
    expect(types).toEqual(['job-quick dli.job.finished', 'job-own dli.job.long_running']);
    expect(webhookBodies()[1]?.data).toMatchObject({ warning: { threshold_ms: 90 * MINUTE } });
  });

  it('drops a warning still waiting when the job ends, and sends the end', async () => {
    await start();
    harness.simulator.addJob('job-1', {
      timeline: [
        { at: T0, status: 'RUNNING' },
        { at: T0 + 3 * HOUR, status: 'FINISHED' },
      ],
    });
    await harness.store.track([{ jobId: 'job-1' }], harness.clock.now());
    // Quiet all day, every day, but for ends: the warning waits, the end does not.
    const quietHours: QuietHours = {
      timeZone: 'UTC',
      windows: [{ days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: 0, to: 1440 }],
      except: ['FINISHED', 'FAILED', 'CANCELLED'],
    };
    const watcher = harness.newWatcher({ warnAfterMs: 2 * HOUR, destinations: [slack({ quietHours })] });

    const summaries = await cyclesUntil(T0 + 4 * HOUR, 30 * MINUTE, watcher);
    expect(summaries.map((summary) => summary.notices)).toContain(1);
    expect(summaries.some((summary) => summary.held_for_quiet_hours > 0)).toBe(true);
    expect(slackTexts()).toHaveLength(1);
    expect(slackTexts()[0]).toMatch(/^✅ DLI job job-1 FINISHED/);
    expect(await harness.store.get('job-1')).toMatchObject({ phase: 'terminal', deliveries: [] });
    expect(harness.logLines.some((line) => line.includes('the warning is dropped'))).toBe(true);
  });
});

describe('failure streaks and recovery', () => {
  const byPipeline: KeySource = { from: 'tag', name: 'pipeline' };

  /** One run of the nightly pipeline: submitted at `at`, ending with `status` ten minutes later. */
  function run(jobId: string, at: number, status: string) {
    harness.simulator.addJob(jobId, {
      timeline: [
        { at, status: 'RUNNING' },
        { at: at + 10 * MINUTE, status },
      ],
      fields: { tags: [{ key: 'pipeline', value: 'nightly' }] },
    });
  }

  it('counts failures in a row across runs of a key, recovers on success, and holds early failures back', async () => {
    await start();
    const outcomes = ['FAILED', 'FAILED', 'CANCELLED', 'FAILED', 'FINISHED', 'FINISHED'];
    const destinations = [slack({ events: ['FAILED', 'RECOVERED'], onlyAfterFailures: 2 }), audit()];
    const watcher = harness.newWatcher({ destinations });
    // Each run is tracked as it is submitted (DLI does not know a job before), and ends ten minutes later.
    for (const [index, status] of outcomes.entries()) {
      const jobId = `run-${index + 1}`;
      harness.clock.set(T0 + index * HOUR);
      run(jobId, harness.clock.now(), status);
      await harness.store.track([{ jobId, keyFrom: byPipeline }], harness.clock.now());
      await cyclesUntil(harness.clock.now() + 20 * MINUTE, 5 * MINUTE, watcher);
    }

    // On call: no message for the first failure, the cancellation or routine success; the recovery instead.
    expect(slackTexts()).toEqual([
      '❌ DLI job run-2 FAILED on queue default after 10 min: 2nd failure in a row since 2026-12-01',
      '❌ DLI job run-4 FAILED on queue default after 10 min: 3rd failure in a row since 2026-12-01',
      '🟢 DLI job run-5 RECOVERED on queue default after 10 min: after 3 failures in a row since 2026-12-01',
    ]);
    // The audit webhook asked for the default events: every end, each failure with its place in the streak.
    const bodies = webhookBodies();
    expect(bodies.map((body) => `${body.data.job_id} ${body.type}`)).toEqual([
      'run-1 dli.job.failed',
      'run-2 dli.job.failed',
      'run-3 dli.job.cancelled',
      'run-4 dli.job.failed',
      'run-5 dli.job.finished',
      'run-6 dli.job.finished',
    ]);
    expect(bodies.map((body) => (body.data.streak as { failures?: number } | undefined)?.failures)).toEqual([
      1,
      2,
      undefined,
      3,
      undefined,
      undefined,
    ]);
    expect(bodies[3]?.data.streak).toEqual({
      key: 'tag:pipeline=nightly',
      failures: 3,
      since: new Date(T0 + 10 * MINUTE).toISOString(),
    });
  });

  it('orders runs of a key that end in one cycle by end time, and two racing cycles send each message once', async () => {
    await start();
    // Polled in id order, ended in the other: run-b first.
    run('run-a', T0 + 20 * MINUTE, 'FAILED');
    run('run-b', T0, 'FAILED');
    await harness.store.track(
      ['run-a', 'run-b'].map((jobId) => ({ jobId, keyFrom: byPipeline })),
      harness.clock.now(),
    );
    harness.clock.set(T0 + HOUR);
    const second = SqliteStore.open(harness.storePath);
    try {
      await Promise.all([
        harness.newWatcher({ destinations: [audit()] }).tick(BUDGET),
        harness.newWatcher({ store: second, destinations: [audit()] }).tick(BUDGET),
      ]);
    } finally {
      await second.close();
    }
    const bodies = webhookBodies();
    expect(
      bodies
        .map((body) => `${body.data.job_id} ${(body.data.streak as { failures: number }).failures}`)
        .sort(),
    ).toEqual(['run-a 2', 'run-b 1']);
  });
});

describe('on DynamoDB, with two cycles racing on one table', () => {
  it('sends each warning, failure and recovery once, with streaks counted once per run', async () => {
    await start();
    const dynamo = await startDynalite();
    try {
      const [a, b] = await dynamo.racingStores(harness.clock);
      const destinations = [slack({ events: ['FAILED', 'RECOVERED', 'LONG_RUNNING'] }), audit()];
      const first = harness.newWatcher({ store: a, destinations, warnAfterMs: 30 * MINUTE });
      const second = harness.newWatcher({ store: b, destinations, warnAfterMs: 30 * MINUTE });
      const byPipeline: KeySource = { from: 'tag', name: 'pipeline' };
      const runs: [string, string, number][] = [
        ['dyn-1', 'FAILED', 0],
        ['dyn-2', 'FAILED', 2 * HOUR],
        ['dyn-3', 'FINISHED', 4 * HOUR],
      ];
      for (const [jobId, status, at] of runs) {
        harness.clock.set(T0 + at);
        // Each run goes on for 40 minutes: past the 30-minute threshold, then it ends.
        harness.simulator.addJob(jobId, {
          timeline: [
            { at: T0 + at, status: 'RUNNING' },
            { at: T0 + at + 40 * MINUTE, status },
          ],
          fields: { tags: [{ key: 'pipeline', value: 'nightly' }] },
        });
        await a.track([{ jobId, keyFrom: byPipeline }], harness.clock.now());
        while (harness.clock.now() <= T0 + at + HOUR) {
          await Promise.all([first.tick(BUDGET), second.tick(BUDGET)]);
          harness.clock.advance(5 * MINUTE);
        }
      }
      const bodies = webhookBodies();
      expect(bodies.map((body) => `${body.data.job_id} ${body.type}`)).toEqual([
        'dyn-1 dli.job.long_running',
        'dyn-1 dli.job.failed',
        'dyn-2 dli.job.long_running',
        'dyn-2 dli.job.failed',
        'dyn-3 dli.job.long_running',
        'dyn-3 dli.job.finished',
      ]);
      expect(bodies.map((body) => (body.data.streak as { failures?: number } | undefined)?.failures)).toEqual(
        [undefined, 1, undefined, 2, undefined, undefined],
      );
      expect(slackTexts().map((text) => text.split(' ')[0])).toEqual(['⏳', '❌', '⏳', '❌', '⏳', '🟢']);
      expect(slackTexts()[5]).toContain('after 2 failures in a row since 2026-12-01');
      for (const [jobId] of runs)
        expect(await b.get(jobId)).toMatchObject({ phase: 'terminal', deliveries: [] });
    } finally {
      await dynamo.close();
    }
  });
});

describe('quiet hours', () => {
  /** Quiet every night from 22:00 to 07:30 Berlin time; failures always pass. */
  const berlinNights: QuietHours = {
    timeZone: 'Europe/Berlin',
    windows: [{ days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: 22 * 60, to: 7 * 60 + 30 }],
    except: ['FAILED'],
  };

  it('holds messages through the night the clocks go forward, lets FAILED through, then sends one digest', async () => {
    // Saturday 2027-03-27 22:30 CET (21:30Z); that night Berlin moves from +01:00 to +02:00.
    const night = Date.UTC(2027, 2, 27, 21, 30);
    await start(night);
    harness.simulator.addJob('job-done', { lifecycle: ['FINISHED'] });
    harness.simulator.addJob('job-stopped', { lifecycle: ['CANCELLED'] });
    harness.simulator.addJob('job-broken', { lifecycle: ['FAILED'] });
    await harness.store.track(
      ['job-done', 'job-stopped', 'job-broken'].map((jobId) => ({ jobId })),
      harness.clock.now(),
    );
    const watcher = harness.newWatcher({ destinations: [slack({ quietHours: berlinNights })] });

    expect(await watcher.tick(BUDGET)).toMatchObject({ notified: 1, held_for_quiet_hours: 2 });
    expect(slackTexts()).toHaveLength(1);
    expect(slackTexts()[0]).toMatch(/^❌ DLI job job-brok… FAILED/);

    // 07:29 CEST is 05:29Z: in winter time the night would have ended at 06:30Z, an hour later.
    harness.clock.set(Date.UTC(2027, 2, 28, 5, 29));
    expect(await watcher.tick(BUDGET)).toMatchObject({ notified: 0 });
    expect(slackTexts()).toHaveLength(1);

    harness.clock.set(Date.UTC(2027, 2, 28, 5, 30));
    expect(await watcher.tick(BUDGET)).toMatchObject({ notified: 2, digests: 1, held_for_quiet_hours: 0 });
    expect(slackTexts()).toHaveLength(2);
    expect(slackTexts()[1]).toContain('2 DLI jobs ended');
    const digest = harness.slack.requests[1]?.body ?? '';
    expect(digest).toContain('job-done');
    expect(digest).toContain('job-stop');

    harness.clock.advance(HOUR);
    expect(await watcher.tick(BUDGET)).toMatchObject({ notified: 0 });
    expect(await harness.store.get('job-done')).toMatchObject({ deliveries: [] });
  });
});
