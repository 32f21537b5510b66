import {
  type DailySummary,
  type EventType,
  isTerminalStatus,
  type JobEvent,
  type SummaryRun,
  TERMINAL_STATUSES,
} from '../../job.ts';
import { catalogueFor } from './catalogues.ts';
import { type DigestLine, type DigestSummary, distinctPrefixes, jobLine, linksEachJob } from './digest.ts';
import { describeJobEvent, type JobFacts, type RenderContext, STATUS_EMOJI } from './job-facts.ts';
import { oneLine, truncateText } from './text-fit.ts';

/** Longest queue name a queue line shows: the counts after it must show. */
const QUEUE_NAME_MAX = 80;

/** The emoji of a longest-run line. */
const LONGEST_EMOJI = '⏱';

/**
 * Lays a daily summary out as the lists a chat platform renders like a digest's (`digest.ts`): a title naming
 * the day, the day's counts by status (and of jobs still running past their threshold), then four lists — per
 * queue, the failures with their keys' streaks, the longest runs, the jobs still running past their threshold.
 * Coloured by its worst news, and mentioning nobody: it tells of what was already told.
 */
export function describeDailySummary(summary: DailySummary, context: RenderContext): DigestSummary {
  const text = catalogueFor(context.language);
  // The days it names (when a streak began) are days of the zone it sums up, as its own day is.
  const jobContext: RenderContext = { ...context, titleTemplate: null, timeZone: summary.timeZone };
  const linksToJobs = linksEachJob(jobContext);
  const facts = (run: SummaryRun, type: EventType) =>
    describeJobEvent(runAsEvent(run, type, summary), jobContext);
  const failures = summary.failures.map((run) => facts(run, 'FAILED'));
  const longest = summary.longest.map((run) =>
    facts(run, isTerminalStatus(run.status) ? run.status : 'FINISHED'),
  );
  const runningLong = summary.runningLong.map((run) => facts(run, 'LONG_RUNNING'));
  // One job may be both a failure and one of the longest runs: the same prefix in both lists.
  const prefixes = distinctPrefixes([...failures, ...longest, ...runningLong].map((job) => job.jobId));
  const shortId = (job: JobFacts) => prefixes.get(job.jobId) ?? job.shortJobId;
  const url = (job: JobFacts) => (linksToJobs ? job.consoleUrl : undefined);

  const countsByStatus = (['FAILED', 'FINISHED', 'CANCELLED'] as const).flatMap((type) => {
    const count = summary.counts[type];
    return count === 0 ? [] : [{ type, count, text: text.digest.count(STATUS_EMOJI[type], count, type) }];
  });
  const ended = TERMINAL_STATUSES.reduce((sum, status) => sum + summary.counts[status], 0);
  const countParts = [
    ...(ended === 0 ? [text.summary.nothingEnded] : countsByStatus.map((count) => count.text)),
    ...(summary.runningLongCount === 0
      ? []
      : [text.summary.runningLong(STATUS_EMOJI.LONG_RUNNING, summary.runningLongCount)]),
  ];
  const type: EventType =
    summary.counts.FAILED > 0 ? 'FAILED' : summary.runningLongCount > 0 ? 'LONG_RUNNING' : 'FINISHED';

  const queueLines: DigestLine[] = summary.queues.map((queue) => ({
    before: '',
    id: '',
    after: `${queue.queue === '' ? text.summary.noQueue : truncateText(oneLine(queue.queue), QUEUE_NAME_MAX)}: ${TERMINAL_STATUSES.filter(
      (status) => queue[status] > 0,
    )
      .map((status) => text.digest.count(STATUS_EMOJI[status], queue[status], status))
      .join(' · ')}`,
  }));
  return {
    title: text.summary.title(summary.day),
    type,
    anyFailed: type === 'FAILED',
    mentionsPeople: false,
    counts: countParts.join(' · '),
    countsByStatus,
    sections: [
      { heading: text.summary.headings.queues, lines: queueLines, unlisted: summary.otherQueues },
      {
        heading: text.summary.headings.failures,
        lines: failures.map((job) =>
          jobLine(
            job.statusEmoji,
            shortId(job),
            [job.text.digest.what('FAILED', job.status), job.queue, job.duration, job.streak],
            url(job),
          ),
        ),
        unlisted: Math.max(0, summary.counts.FAILED - failures.length),
      },
      {
        heading: text.summary.headings.longest,
        lines: longest.map((job) =>
          jobLine(
            LONGEST_EMOJI,
            shortId(job),
            [job.text.digest.what(job.type, job.status), job.queue, job.duration],
            url(job),
          ),
        ),
        unlisted: 0,
      },
      {
        heading: text.summary.headings.runningLong,
        lines: runningLong.map((job) =>
          jobLine(
            job.statusEmoji,
            shortId(job),
            [
              job.text.digest.what('LONG_RUNNING', job.status),
              job.queue,
              job.runningFor,
              job.warnAfter === undefined ? undefined : text.summary.threshold(job.warnAfter),
            ],
            url(job),
          ),
        ),
        unlisted: Math.max(0, summary.runningLongCount - runningLong.length),
      },
    ],
    text,
  };
}

/** A listed run as the event a single message about it would carry, so it is described the one way jobs are. */
function runAsEvent(run: SummaryRun, type: EventType, summary: DailySummary): JobEvent {
  return {
    id: summary.id,
    type,
    status: run.status,
    previousStatus: null,
    occurredAt: summary.occurredAt,
    projectId: summary.projectId,
    labels: {},
    job: {
      job_id: run.jobId,
      status: run.status,
      ...(run.queue === undefined ? {} : { queue_name: run.queue }),
      ...(run.owner === undefined ? {} : { owner: run.owner }),
      ...(run.durationMs === undefined ? {} : { duration: run.durationMs }),
    },
    routedTo: [summary.destination],
    ...(run.streak === undefined ? {} : { streak: run.streak }),
    ...(run.runningForMs === undefined || run.thresholdMs === undefined
      ? {}
      : { warning: { runningForMs: run.runningForMs, thresholdMs: run.thresholdMs } }),
  };
}
