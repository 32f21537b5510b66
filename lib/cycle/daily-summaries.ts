import {
  type DueSummary,
  dueSummary,
  isSummaryRecord,
  summaryRecord,
  summaryRecordId,
} from '../daily-summary.ts';
import {
  type DailySummary,
  type JobRecord,
  type QueueCounts,
  type StreakFacts,
  SUMMARY_LONGEST_RUNS,
  SUMMARY_MAX_LISTED,
  SUMMARY_MAX_QUEUES,
  type SummaryRun,
  type TerminalStatus,
} from '../job.ts';
import type { Destination } from '../notify/platforms/registry.ts';
import { truncateText } from '../notify/render/text-fit.ts';
import { type RoutableJob, routeMatches } from '../notify/routing.ts';
import { MAX_GET_MANY } from '../store/job-store.ts';
import { runEndedAt } from '../streak.ts';
import { type CycleRun, stopRequested } from './cycle-run.ts';
import { countError, type ErrorKind } from './summary.ts';

/** Longest queue name, owner or run key a summary keeps: DLI's own names are shorter, and the record stays small. */
const SUMMARY_TEXT_MAX = 200;

/** What a summary needs of one stored job: a few fields, not its record (which can hold 100 KB of SQL). */
export interface SummaryEntry {
  jobId: string;
  /** What the destination's route looks at. */
  routable: RoutableJob;
  labels: Record<string, string>;
  run: SummaryRun;
  /** Ended runs: their end status and when they ended (DLI's start plus duration where it told both). */
  ended?: { status: TerminalStatus; at: number };
  /** Runs still going past their threshold. */
  runningLong?: true;
}

export interface DailySummaryDependencies {
  destinations: readonly Destination[];
  projectId: string;
  /** The long-running threshold (ms) of jobs with none of their own; none by default. */
  warnAfterMs: number | null;
}

/**
 * Raises the daily summaries owed now that no cycle has raised yet: for each destination with a `summary` whose
 * hour has passed today, one summary of yesterday, frozen into a record of its own and created only where that
 * record is absent, so two racing cycles or a restart raise it once. The delivery phase then sends it like any
 * other message. Costs one read per such destination and cycle; the cycle that raises a summary also reads every
 * stored job once, a page at a time, summing up as it reads (its memory is a page and the summaries' lists), and
 * gives up for this cycle if it runs out of time or is asked to stop.
 * Returns how many it raised; a store failure is counted in `errors` and logged, and the next cycle tries again.
 */
export async function raiseDailySummaries(
  run: CycleRun,
  deps: DailySummaryDependencies,
  errors: Partial<Record<ErrorKind, number>>,
): Promise<number> {
  const now = run.clock.now();
  const owed: Owed[] = deps.destinations.flatMap((destination) => {
    const due = destination.summary && dueSummary(destination.summary, now);
    return due ? [{ destination, due, id: summaryRecordId(destination.name, due.day) }] : [];
  });
  if (owed.length === 0) return 0;
  let summaries: { item: Owed; summary: DailySummary }[];
  try {
    const alreadyRaised = new Set<string>();
    for (let start = 0; start < owed.length; start += MAX_GET_MANY) {
      const ids = owed.slice(start, start + MAX_GET_MANY).map((item) => item.id);
      for (const record of await run.store.getMany(ids)) alreadyRaised.add(record.jobId);
    }
    const missing = owed.filter((item) => !alreadyRaised.has(item.id));
    if (missing.length === 0) return 0;
    const summarizers = missing.map((item) => ({
      item,
      summarizer: daySummarizer({ ...item, occurredAt: now, projectId: deps.projectId }),
    }));
    const complete = await readEveryJob(run, (record) => {
      const entry = summaryEntryOf(record, now, deps.warnAfterMs);
      if (entry) for (const { summarizer } of summarizers) summarizer.add(entry);
    });
    if (!complete) {
      run.log.warn('daily summaries wait for the next cycle: this one ran out of time reading the jobs', {
        destinations: missing.map((item) => item.destination.name),
      });
      return 0;
    }
    summaries = summarizers.map(({ item, summarizer }) => ({ item, summary: summarizer.summary() }));
  } catch (error) {
    countError(errors, 'store');
    run.log.error('could not read the jobs for the daily summaries; the next cycle tries again', {
      error: (error as Error).message,
    });
    return 0;
  }
  let raised = 0;
  for (const { item, summary } of summaries) {
    const { destination, due } = item;
    try {
      if (await run.store.create(summaryRecord(summary, due.dueUntil))) {
        raised += 1;
        run.log.info('daily summary raised', { destination: destination.name, day: due.day });
      }
    } catch (error) {
      countError(errors, 'store');
      run.log.error('could not store the daily summary; the next cycle tries again', {
        destination: destination.name,
        day: due.day,
        error: (error as Error).message,
      });
    }
  }
  return raised;
}

/**
 * Hands every stored record to `visit`, a page at a time; `false` when the cycle ran out of time or was asked to
 * stop before the last page.
 */
async function readEveryJob(run: CycleRun, visit: (record: JobRecord) => void): Promise<boolean> {
  let cursor: string | null = null;
  do {
    if (stopRequested(run) || run.clock.now() >= run.deadline) return false;
    const page = await run.store.list({ limit: run.pageSize, cursor });
    for (const record of page.items) visit(record);
    cursor = page.cursor;
  } while (cursor);
  return true;
}

/**
 * What a summary may say about one stored job at `now`: its end (its terminal event), or that it is still running
 * past its threshold (its own, else `warnAfterMs`), counted from DLI's start time. `null` for anything else: jobs
 * running within their threshold, lost jobs, summary records.
 */
export function summaryEntryOf(
  record: JobRecord,
  now: number,
  warnAfterMs: number | null,
): SummaryEntry | null {
  if (isSummaryRecord(record)) return null;
  if (record.phase === 'terminal' && record.event !== null) {
    const { event } = record;
    const job = event.job;
    const status = event.status as TerminalStatus;
    return {
      jobId: record.jobId,
      routable: routableOf(job),
      labels: event.labels,
      run: runOf(record.jobId, status, job, {
        ...(typeof job.duration === 'number' ? { durationMs: job.duration } : {}),
        ...(status === 'FAILED' && event.streak ? { streak: cappedStreak(event.streak) } : {}),
      }),
      ended: { status, at: runEndedAt(job, event.occurredAt) },
    };
  }
  const threshold = record.warnAfterMs ?? warnAfterMs;
  if (record.phase !== 'active' || threshold === null || record.startTime === null) return null;
  const runningForMs = now - record.startTime;
  if (runningForMs < threshold) return null;
  // The warning, if one was raised, holds what DLI said about the job; the record alone has no queue or owner.
  const warning = record.notices.find((notice) => notice.type === 'LONG_RUNNING');
  const job = warning?.job ?? { job_id: record.jobId, status: record.status ?? 'RUNNING' };
  return {
    jobId: record.jobId,
    routable: routableOf(job),
    labels: record.labels,
    run: runOf(record.jobId, record.status ?? job.status, job, { runningForMs, thresholdMs: threshold }),
    runningLong: true,
  };
}

/** A destination owed a summary now: which day, under which record id. */
interface Owed {
  id: string;
  destination: Destination;
  due: DueSummary;
}

/** What a summary is of: its record id, its destination, the day, when it is raised. */
export interface SummaryFacts extends Owed {
  occurredAt: number;
  projectId: string;
}

/**
 * Sums up one destination's day as the entries of every stored job arrive: the runs that ended in the day and pass
 * its route, counted by status and by queue, the failures in the order they ended, the longest runs, and the jobs
 * still running past their threshold. It holds only what the summary lists (the lists at their caps, a count per
 * queue), so reading a store of any size takes no more memory than a page of it; the counts stay exact.
 */
export function daySummarizer(facts: SummaryFacts): {
  add(entry: SummaryEntry): void;
  summary(): DailySummary;
} {
  const { destination, due } = facts;
  const counts: Record<TerminalStatus, number> = { FINISHED: 0, FAILED: 0, CANCELLED: 0 };
  const queues = new Map<string, QueueCounts>();
  const failures: SummaryEntry[] = [];
  const longest: SummaryEntry[] = [];
  const runningLong: SummaryEntry[] = [];
  let runningLongCount = 0;
  const endedFirst = (a: SummaryEntry, b: SummaryEntry) =>
    (a.ended?.at ?? 0) - (b.ended?.at ?? 0) || a.jobId.localeCompare(b.jobId);
  const longestFirst = (a: SummaryEntry, b: SummaryEntry) =>
    (b.run.durationMs ?? 0) - (a.run.durationMs ?? 0) || endedFirst(a, b);
  const runningLongestFirst = (a: SummaryEntry, b: SummaryEntry) =>
    (b.run.runningForMs ?? 0) - (a.run.runningForMs ?? 0) || a.jobId.localeCompare(b.jobId);
  return {
    add(entry) {
      if (!routeMatches(destination.route, entry.routable, entry.labels)) return;
      if (entry.runningLong) {
        runningLongCount += 1;
        keepFirst(runningLong, entry, SUMMARY_MAX_LISTED, runningLongestFirst);
        return;
      }
      const ended = entry.ended;
      if (ended === undefined || ended.at < due.from || ended.at >= due.to) return;
      counts[ended.status] += 1;
      const name = entry.run.queue ?? '';
      const queue = queues.get(name) ?? { queue: name, FINISHED: 0, FAILED: 0, CANCELLED: 0 };
      queue[ended.status] += 1;
      queues.set(name, queue);
      if (ended.status === 'FAILED') keepFirst(failures, entry, SUMMARY_MAX_LISTED, endedFirst);
      if (entry.run.durationMs !== undefined) keepFirst(longest, entry, SUMMARY_LONGEST_RUNS, longestFirst);
    },
    summary() {
      const total = (queue: QueueCounts) => queue.FINISHED + queue.FAILED + queue.CANCELLED;
      const byRuns = [...queues.values()].sort(
        (a, b) => total(b) - total(a) || a.queue.localeCompare(b.queue),
      );
      const runs = (entries: readonly SummaryEntry[]) => entries.map((entry) => entry.run);
      return {
        id: facts.id,
        type: 'SUMMARY',
        destination: destination.name,
        day: due.day,
        timeZone: destination.summary?.timeZone ?? 'UTC',
        from: due.from,
        to: due.to,
        occurredAt: facts.occurredAt,
        projectId: facts.projectId,
        counts: { ...counts },
        queues: byRuns.slice(0, SUMMARY_MAX_QUEUES),
        otherQueues: Math.max(0, byRuns.length - SUMMARY_MAX_QUEUES),
        failures: runs(failures),
        longest: runs(longest),
        runningLong: runs(runningLong),
        runningLongCount,
      };
    },
  };
}

/** {@link daySummarizer} over entries at hand. */
export function summarizeDay(entries: readonly SummaryEntry[], facts: SummaryFacts): DailySummary {
  const summarizer = daySummarizer(facts);
  for (const entry of entries) summarizer.add(entry);
  return summarizer.summary();
}

/** Puts `item` into `list`, kept in `order` and at most `max` long: the first `max` of everything offered. */
function keepFirst<T>(list: T[], item: T, max: number, order: (a: T, b: T) => number): void {
  const last = list.at(-1);
  if (list.length >= max && last !== undefined && order(item, last) >= 0) return;
  let at = list.length;
  while (at > 0 && order(item, list[at - 1] as T) < 0) at -= 1;
  list.splice(at, 0, item);
  if (list.length > max) list.pop();
}

function routableOf(
  job: RoutableJob & { tags?: readonly { key: string; value: string }[] | undefined },
): RoutableJob {
  return {
    queue_name: job.queue_name,
    owner: job.owner,
    job_type: job.job_type,
    tags: job.tags?.map(({ key, value }) => ({ key, value })),
  };
}

function runOf(
  jobId: string,
  status: string,
  job: { queue_name?: string | undefined; owner?: string | undefined },
  more: Partial<SummaryRun>,
): SummaryRun {
  return {
    jobId,
    status,
    ...(job.queue_name ? { queue: truncateText(job.queue_name, SUMMARY_TEXT_MAX) } : {}),
    ...(job.owner ? { owner: truncateText(job.owner, SUMMARY_TEXT_MAX) } : {}),
    ...more,
  };
}

function cappedStreak(streak: StreakFacts): StreakFacts {
  return { ...streak, key: truncateText(streak.key, SUMMARY_TEXT_MAX) };
}
