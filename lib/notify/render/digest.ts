import type { JobEvent, TerminalStatus } from '../../job.ts';
import { describeJobEvent, type JobFacts, type RenderContext, STATUS_EMOJI } from './job-facts.ts';
import { countCodePoints, oneLine, type TextMeasure, truncateText, truncateToFit } from './text-fit.ts';

/** How a digest orders statuses, in its counts and its list: failures first, so a list cut short still shows them. */
const STATUS_ORDER: readonly TerminalStatus[] = ['FAILED', 'FINISHED', 'CANCELLED'];
const STATUS_WORD: Record<TerminalStatus, string> = {
  FAILED: 'failed',
  FINISHED: 'finished',
  CANCELLED: 'cancelled',
};

/** Longest digest line, in code points: a line must stay one line however long a queue name is. */
export const DIGEST_LINE_MAX = 160;

/** One status's share of a digest. */
export interface DigestCount {
  status: TerminalStatus;
  count: number;
  /** "❌ 3 failed". */
  text: string;
}

/** Platform-neutral facts for a digest: many ended jobs in one message. Raw text: each renderer escapes it. */
export interface DigestSummary {
  /** "12 DLI jobs ended" ("1 DLI job ended"). */
  title: string;
  /**
   * The worst status present (FAILED, then FINISHED, then CANCELLED; FINISHED for no jobs): what colours the
   * whole digest and, through `mentionsFor` (job-facts.ts), whether it mentions people.
   */
  status: TerminalStatus;
  /** Whether any job FAILED (the same as `status === 'FAILED'`). */
  anyFailed: boolean;
  /** "❌ 3 failed · ✅ 8 finished · 🚫 1 cancelled": only the statuses present, in that order. */
  counts: string;
  /** The same counts one by one, for platforms that colour each. */
  countsByStatus: DigestCount[];
  /** One entry per event: FAILED, then FINISHED, then CANCELLED, each in the order the jobs ended. */
  jobs: JobFacts[];
}

/** Counts and orders the events of one digest, for any chat platform to lay out. */
export function summarizeDigest(events: readonly JobEvent[], context: RenderContext): DigestSummary {
  // A digest has no single job to put in a title: the destination's title template is for single events.
  const jobContext: RenderContext = { ...context, titleTemplate: null };
  // Array sorting is stable: jobs that ended at the same time keep the order of `events`.
  const jobs = events
    .map((event) => ({ facts: describeJobEvent(event, jobContext), occurredAt: event.occurredAt }))
    .sort(
      (a, b) =>
        STATUS_ORDER.indexOf(a.facts.status) - STATUS_ORDER.indexOf(b.facts.status) ||
        a.occurredAt - b.occurredAt,
    )
    .map(({ facts }) => facts);
  const countsByStatus = STATUS_ORDER.flatMap((status) => {
    const count = jobs.filter((job) => job.status === status).length;
    return count === 0
      ? []
      : [{ status, count, text: `${STATUS_EMOJI[status]} ${count} ${STATUS_WORD[status]}` }];
  });
  const status = countsByStatus[0]?.status ?? 'FINISHED';
  return {
    title: `${events.length} DLI ${events.length === 1 ? 'job' : 'jobs'} ended`,
    status,
    anyFailed: status === 'FAILED',
    counts: countsByStatus.map((count) => count.text).join(' · '),
    countsByStatus,
    jobs,
  };
}

/**
 * What a digest says about one job, on one line: "❌ 208b08d4… FAILED · default · 3 min 12 s". The job id and the
 * queue, the only user text in it, go through `escapeText` (for platforms with markup). A queue name too long for
 * {@link DIGEST_LINE_MAX} is what gets cut, before escaping (so no cut lands inside an escape): the status and the
 * duration always show.
 */
export function formatDigestLine(
  job: JobFacts,
  escapeText: (text: string) => string = (text) => text,
): string {
  const shortJobId = oneLine(job.shortJobId);
  const head = `${job.statusEmoji} ${shortJobId} ${job.status}`;
  const tail = job.duration === undefined ? '' : ` · ${job.duration}`;
  // The queue gets the room the rest of the line leaves.
  const queueRoom = DIGEST_LINE_MAX - countCodePoints(`${head} · ${tail}`);
  const queue = job.queue === undefined ? '' : truncateText(oneLine(job.queue), queueRoom);
  const queuePart = queue === '' ? '' : ` · ${escapeText(queue)}`;
  return `${job.statusEmoji} ${escapeText(shortJobId)} ${job.status}${queuePart}${tail}`;
}

/** The line that ends a list cut short: "… and 37 more". */
export function moreLine(hidden: number): string {
  return `… and ${hidden} more`;
}

/**
 * How many of the items, taken in order, fit in `budget`, given each one's size; when not all fit, room is kept
 * for the closing "… and N more" (whose size `moreSize(n)` gives). Never fewer than 0.
 */
export function countThatFit(
  sizes: readonly number[],
  budget: number,
  moreSize: (hidden: number) => number,
): number {
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (total <= budget) return sizes.length;
  let used = 0;
  let shown = 0;
  for (const size of sizes) {
    if (used + size + moreSize(sizes.length - shown - 1) > budget) break;
    used += size;
    shown++;
  }
  return shown;
}

/**
 * Joins already-escaped `lines` with `separator`, keeping whole lines only, so the result measures at most `max`;
 * when lines had to go, the last line says how many (`more(hidden)`, "… and 37 more" by default), its own size and
 * separator included. A budget too small for even that line gets as much of it as fits, cut with "…".
 */
export function fitLines(
  lines: readonly string[],
  max: number,
  measure: TextMeasure,
  separator = '\n',
  more: (hidden: number) => string = moreLine,
): string {
  const separatorSize = measure(separator);
  // Each line but the first pays for the separator before it, and so does the "more" line after a kept one.
  const sizes = lines.map((line, index) => measure(line) + (index === 0 ? 0 : separatorSize));
  const shown = countThatFit(sizes, max, (hidden) => separatorSize + measure(more(hidden)));
  const kept = lines.slice(0, shown);
  if (shown < lines.length) kept.push(more(lines.length - shown));
  return truncateToFit(kept.join(separator), max, measure);
}
