/**
 * Job events as the platform tests render them: the finished fixture job, a render context, failed, cancelled
 * and huge failed variants, and lists of many events for digests. Each builder takes overrides, so a test that
 * relies on a particular value says so where it is used.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { type JobStatusResponse, jobStatusResponseSchema } from '../../lib/dli/schemas.ts';
import {
  type DailySummary,
  type JobEvent,
  SUMMARY_MAX_LISTED,
  SUMMARY_MAX_QUEUES,
  type SummaryRun,
  type TerminalStatus,
} from '../../lib/job.ts';
import type { Mentions } from '../../lib/notify/destination.ts';
import { DEFAULT_CONSOLE_URL_TEMPLATE, type RenderContext } from '../../lib/notify/render/job-facts.ts';

/** `test/fixtures/dli/status-finished.json` as DLI sends it, unknown fields and all. */
export const finishedFixture: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../fixtures/dli/status-finished.json', import.meta.url), 'utf8'),
);

/** The finished fixture job, parsed as dli-watch reads a status response. */
export const finishedJob: JobStatusResponse = jobStatusResponseSchema.parse(finishedFixture);

/** The fixture job FAILED with a short DLI error. */
export const failedJob: JobStatusResponse = {
  ...finishedJob,
  status: 'FAILED',
  message: 'DLI.0005: Table not found: tbtest',
};

/** The fixture job CANCELLED by its user. */
export const cancelledJob: JobStatusResponse = {
  ...finishedJob,
  status: 'CANCELLED',
  message: 'cancelled by user',
};

/** When rendering happens, unless a test says otherwise: 2024-01-02T03:04:05Z. */
export const RENDER_TIME = Date.UTC(2024, 0, 2, 3, 4, 5);

/** When dli-watch saw a job end, unless a test says otherwise: five seconds before {@link RENDER_TIME}. */
export const EVENT_TIME = Date.UTC(2024, 0, 2, 3, 4, 0);

/** The project every event belongs to. */
export const PROJECT_ID = '0123456789abcdef0123456789abcdef';

/** Nobody to mention. */
export const NO_MENTIONS: Mentions = { users: [], groups: [], all: false };

/** A render context in cn-north-4 with the default console link, at `now`. */
export function contextAt(now: number, overrides: Partial<RenderContext> = {}): RenderContext {
  return { now, region: 'cn-north-4', consoleUrlTemplate: DEFAULT_CONSOLE_URL_TEMPLATE, ...overrides };
}

/** The render context at {@link RENDER_TIME}. */
export const RENDER_CONTEXT: RenderContext = contextAt(RENDER_TIME);

/** The event of `job` ending after RUNNING at {@link EVENT_TIME}, without labels, routed nowhere. */
export function jobEvent(job: JobStatusResponse, overrides: Partial<JobEvent> = {}): JobEvent {
  return {
    id: `evt_${job.job_id}`,
    type: job.status as TerminalStatus,
    status: job.status,
    previousStatus: 'RUNNING',
    occurredAt: EVENT_TIME,
    projectId: PROJECT_ID,
    labels: {},
    job,
    routedTo: [],
    ...overrides,
  };
}

/** `head`, then an SQL comment of `filler` (by default 50 KiB of "x"): a statement over 50 KB. */
export function hugeStatement(head: string, filler = 'x'.repeat(50 * 1024)): string {
  return `${head} -- ${filler}`;
}

/** `headline`, then 280 lines of `frame` (a Spark stack frame by default): an error text over 10 KB. */
export function hugeErrorText(headline: string, frame = 'at org.apache.spark.Foo(Foo.scala:1)\n'): string {
  return `${headline}\n${frame.repeat(280)}`;
}

/** The fixture job FAILED with `statement` and `message`, checked to be over 50 KB and 10 KB; `overrides` last. */
export function hugeFailedJob(
  statement: string,
  message: string,
  overrides: Partial<JobStatusResponse> = {},
): JobStatusResponse {
  expect(Buffer.byteLength(statement)).toBeGreaterThan(50 * 1024);
  expect(message.length).toBeGreaterThan(10 * 1024);
  return { ...finishedJob, status: 'FAILED', statement, message, ...overrides };
}

/** `count` DLI tags `tag0=value`, `tag1=value`, …. */
export function manyTags(count: number, value: string): { key: string; value: string }[] {
  return Array.from({ length: count }, (_, i) => ({ key: `tag${i}`, value }));
}

/** Facts far over every platform's field limits: a 5,000-character queue name and 200 tags of 50 "v"s. */
export const OVERSIZED_FACTS: Partial<JobStatusResponse> = {
  queue_name: 'q'.repeat(5000),
  tags: manyTags(200, 'v'.repeat(50)),
};

/** `count` events of the fixture job, the i-th job changed by `jobAt(i)` and its event by `eventAt(i)`. */
function manyEvents(
  count: number,
  jobAt: (i: number) => Partial<JobStatusResponse>,
  eventAt: (i: number) => Partial<JobEvent> = () => ({}),
): JobEvent[] {
  return Array.from({ length: count }, (_, i) => jobEvent({ ...finishedJob, ...jobAt(i) }, eventAt(i)));
}

/** The i-th digest job's id, `0000000i-0dc2-4dd7-8879-ddd4c020d7aa`: shown shortened as `0000000i…`. */
function digestJobId(i: number): string {
  return `${String(i).padStart(8, '0')}-0dc2-4dd7-8879-ddd4c020d7aa`;
}

/**
 * `count` events for a digest: in every ten jobs the 4th FAILED and the 8th was CANCELLED, the rest FINISHED;
 * even jobs ran on `default`, odd ones on `oddQueue`; they ended a second apart from 03:00:00.
 */
export function digestEvents(count: number, oddQueue: string): JobEvent[] {
  return manyEvents(
    count,
    (i) => ({
      job_id: digestJobId(i),
      status: i % 10 === 3 ? 'FAILED' : i % 10 === 7 ? 'CANCELLED' : 'FINISHED',
      queue_name: i % 2 ? oddQueue : 'default',
    }),
    (i) => ({ occurredAt: Date.UTC(2024, 0, 2, 3, 0, 0) + i * 1000 }),
  );
}

const FIVE_STATUSES: TerminalStatus[] = ['FINISHED', 'FAILED', 'FINISHED', 'CANCELLED', 'FINISHED'];

/**
 * `count` events for a digest whose jobs take FINISHED, FAILED, FINISHED, CANCELLED, FINISHED in turn, the i-th
 * running i + 1 seconds on `queueAt(i)` (`default` unless given).
 */
export function timedDigestEvents(
  count: number,
  queueAt: (i: number) => string = () => 'default',
): JobEvent[] {
  return manyEvents(count, (i) => ({
    job_id: digestJobId(i),
    status: FIVE_STATUSES[i % FIVE_STATUSES.length] ?? 'FINISHED',
    queue_name: queueAt(i),
    duration: 1000 * (i + 1),
  }));
}

/** `count` events whose jobs `job-000i-0dc2-4dd7` take `statuses` in turn, on `queue_i` (or all on `queue`). */
export function numberedEvents(
  count: number,
  statuses: readonly TerminalStatus[],
  queue?: string,
): JobEvent[] {
  return manyEvents(count, (i) => ({
    job_id: `job-${String(i).padStart(4, '0')}-0dc2-4dd7`,
    status: statuses[i % statuses.length] ?? 'FINISHED',
    queue_name: queue ?? `queue_${i}`,
  }));
}

/** `count` events of jobs `job-i`, every seventh FAILED (the first included), the rest FINISHED. */
export function everySeventhFailed(count: number): JobEvent[] {
  return manyEvents(count, (i) => ({ job_id: `job-${i}`, status: i % 7 === 0 ? 'FAILED' : 'FINISHED' }));
}

/**
 * A daily summary at its largest: every list at its cap, with more counted than listed (120 failures, 60 jobs
 * past their threshold, 25 queues), queue names of 5,000 characters carrying every platform's markup, streaks on
 * the failures. `overrides` replace whole fields.
 */
export function hugeDailySummary(overrides: Partial<DailySummary> = {}): DailySummary {
  const oddQueue = `etl <&> *_[x](y)* @everyone ${'q'.repeat(5000)}`;
  const run = (i: number, status: string): SummaryRun => ({
    jobId: digestJobId(i),
    status,
    queue: i % 2 ? oddQueue : 'default',
    owner: 'ops',
    durationMs: (i + 1) * 61_000,
  });
  return {
    id: 'summary:ops:2026-12-03',
    type: 'SUMMARY',
    destination: 'ops',
    day: '2026-12-03',
    timeZone: 'Asia/Shanghai',
    from: Date.UTC(2026, 11, 2, 16),
    to: Date.UTC(2026, 11, 3, 16),
    occurredAt: Date.UTC(2026, 11, 4, 1),
    projectId: PROJECT_ID,
    counts: { FINISHED: 3000, FAILED: 120, CANCELLED: 7 },
    queues: Array.from({ length: SUMMARY_MAX_QUEUES }, (_, i) => ({
      queue: i === 0 ? '' : `${i % 2 ? oddQueue : 'queue'}-${i}`,
      FINISHED: 150 - i,
      FAILED: i % 3,
      CANCELLED: i % 2,
    })),
    otherQueues: 5,
    failures: Array.from({ length: SUMMARY_MAX_LISTED }, (_, i) => ({
      ...run(i, 'FAILED'),
      streak: { key: `tag:pipeline=p${i}`, failures: (i % 4) + 1, since: Date.UTC(2026, 10, 28) },
    })),
    longest: Array.from({ length: 5 }, (_, i) => ({
      ...run(1000 + i, 'FINISHED'),
      durationMs: (9 - i) * 3_600_000,
    })),
    runningLong: Array.from({ length: SUMMARY_MAX_LISTED }, (_, i) => ({
      jobId: digestJobId(2000 + i),
      status: 'RUNNING',
      queue: oddQueue,
      runningForMs: 3 * 3_600_000 + i * 60_000,
      thresholdMs: 2 * 3_600_000,
    })),
    runningLongCount: 60,
    ...overrides,
  };
}

/**
 * A summary of a quiet day: `finished` jobs and 3 failures on `queue`, two of the failures listed (on
 * `failureQueue`, with their streaks; the third is counted in "… and 1 more"), no longest runs, and one job still
 * running past its threshold on `etl`.
 */
export function smallDailySummary(
  options: { finished?: number; queue?: string; failureQueue?: string } = {},
): DailySummary {
  const { finished = 10, queue = 'etl', failureQueue = 'etl' } = options;
  const full = hugeDailySummary();
  return hugeDailySummary({
    counts: { FINISHED: finished, FAILED: 3, CANCELLED: 0 },
    queues: [{ queue, FINISHED: finished, FAILED: 3, CANCELLED: 0 }],
    otherQueues: 0,
    failures: full.failures.slice(0, 2).map((run) => ({ ...run, queue: failureQueue })),
    longest: [],
    runningLongCount: 1,
    runningLong: full.runningLong.slice(0, 1).map((run) => ({ ...run, queue: 'etl' })),
  });
}
