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

/** A destination owed a summary now, and which. */
interface Owed {
  destination: Destination;
  due: DueSummary;
  id: string;
}

/**
 * Raises the daily summaries owed now that no cycle has raised yet: for each destination with a `summary` whose
 * hour has passed today, one summary of yesterday, frozen into a record of its own and created only where that
 * record is absent, so two racing cycles or a restart raise it once. The delivery phase then sends it like any
 * other message. Costs one read per such destination and cycle; the cycle that raises a summary also reads every
 * stored job once (a page at a time), and gives up for this cycle if it runs out of time or is asked to stop.
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
  let missing: Owed[];
  let entries: SummaryEntry[];
  try {
    const raised = new Set<string>();
    for (let start = 0; start < owed.length; start += MAX_GET_MANY) {
      const ids = owed.slice(start, start + MAX_GET_MANY).map((item) => item.id);
      for (const record of await run.store.getMany(ids)) raised.add(record.jobId);
    }
    missing = owed.filter((item) => !raised.has(item.id));
    if (missing.length === 0) return 0;
    const gathered = await gatherEntries(run, now, deps.warnAfterMs);
    if (gathered === null) {
      run.log.warn('daily summaries wait for the next cycle: this one ran out of time reading the jobs', {
        destinations: missing.map((item) => item.destination.name),
      });
      return 0;
    }
    entries = gathered;
  } catch (error) {
    countError(errors, 'store');
    run.log.error('could not read the jobs for the daily summaries; the next cycle tries again', {
      error: (error as Error).message,
    });
    return 0;
  }
  let raised = 0;
  for (const { destination, due, id } of missing) {
    const summary = summarizeDay(entries, {
      id,
      destination,
      due,
      occurredAt: now,
      projectId: deps.projectId,
    });
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

/** Every stored job a summary may list, as entries; `null` when the cycle ran out of time or was stopped. */
async function gatherEntries(
  run: CycleRun,
  now: number,
  warnAfterMs: number | null,
): Promise<SummaryEntry[] | null> {
  const entries: SummaryEntry[] = [];
  let cursor: string | null = null;
  do {
    if (stopRequested(run) || run.clock.now() >= run.deadline) return null;
    const page = await run.store.list({ limit: run.pageSize, cursor });
    for (const record of page.items) {
      const entry = summaryEntryOf(record, now, warnAfterMs);
      if (entry) entries.push(entry);
    }
    cursor = page.cursor;
  } while (cursor);
  return entries;
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

/**
 * One destination's summary of one day, from every job's entry: the runs that ended in the day and pass its route,
 * counted by status and by queue, the failures in the order they ended, the longest runs, and the jobs still
 * running past their threshold. Lists are cut to their caps; the counts stay exact.
 */
export function summarizeDay(
  entries: readonly SummaryEntry[],
  facts: { id: string; destination: Destination; due: DueSummary; occurredAt: number; projectId: string },
): DailySummary {
  const { destination, due } = facts;
  const wanted = entries.filter((entry) => routeMatches(destination.route, entry.routable, entry.labels));
  const ended = wanted
    .filter((entry) => entry.ended !== undefined && entry.ended.at >= due.from && entry.ended.at < due.to)
    .sort((a, b) => (a.ended?.at ?? 0) - (b.ended?.at ?? 0) || a.jobId.localeCompare(b.jobId));
  const counts: Record<TerminalStatus, number> = { FINISHED: 0, FAILED: 0, CANCELLED: 0 };
  const queues = new Map<string, QueueCounts>();
  for (const entry of ended) {
    const status = entry.ended?.status ?? 'FINISHED';
    counts[status] += 1;
    const name = entry.run.queue ?? '';
    const queue = queues.get(name) ?? { queue: name, FINISHED: 0, FAILED: 0, CANCELLED: 0 };
    queue[status] += 1;
    queues.set(name, queue);
  }
  const total = (queue: QueueCounts) => queue.FINISHED + queue.FAILED + queue.CANCELLED;
  const byRuns = [...queues.values()].sort((a, b) => total(b) - total(a) || a.queue.localeCompare(b.queue));
  const runningLong = wanted
    .filter((entry) => entry.runningLong)
    .sort((a, b) => (b.run.runningForMs ?? 0) - (a.run.runningForMs ?? 0));
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
    counts,
    queues: byRuns.slice(0, SUMMARY_MAX_QUEUES),
    otherQueues: Math.max(0, byRuns.length - SUMMARY_MAX_QUEUES),
    failures: ended
      .filter((entry) => entry.ended?.status === 'FAILED')
      .slice(0, SUMMARY_MAX_LISTED)
      .map((entry) => entry.run),
    longest: ended
      .filter((entry) => entry.run.durationMs !== undefined)
      .sort((a, b) => (b.run.durationMs ?? 0) - (a.run.durationMs ?? 0))
      .slice(0, SUMMARY_LONGEST_RUNS)
      .map((entry) => entry.run),
    runningLong: runningLong.slice(0, SUMMARY_MAX_LISTED).map((entry) => entry.run),
    runningLongCount: runningLong.length,
  };
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
