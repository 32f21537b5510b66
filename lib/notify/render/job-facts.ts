import type { EventType, JobEvent } from '../../job.ts';
import { calendarDateText, wallTimeAt } from '../../util/zoned-time.ts';
import { type Mentions, NO_MENTIONS } from '../destination.ts';
import type { Catalogue, Language } from './catalogue.ts';
import { catalogueFor } from './catalogues.ts';
import { stripTrailingZero } from './duration-text.ts';
import { truncateText } from './text-fit.ts';

/**
 * Where the console link points when the configuration gives no template: DLI has no documented deep link to one
 * SQL job (docs/dli-api.md §6), so the default is the region's SQL jobs page.
 */
export const DEFAULT_CONSOLE_URL_TEMPLATE =
  'https://console.huaweicloud.com/dli/?region={region}#/main/jobs/sql';

/** What rendering needs beyond the event: the moment, the region, and the links and title to use. */
export interface RenderContext {
  /** Epoch ms, for signatures and timestamps. */
  now: number;
  region: string;
  /** Console link template with `{region}`, `{project_id}`, `{job_id}`, `{queue_name}`. */
  consoleUrlTemplate: string;
  /** The destination's own title template (placeholders in `fillTitle`, job-facts.ts); default title when absent. */
  titleTemplate?: string | null;
  /** The language of every word the message adds to DLI's (default `en`). */
  language?: Language;
  /**
   * The IANA zone whose calendar dates the message shows (the day a streak began); UTC when absent. A daily summary
   * sets its own, so that its days and the days it names agree.
   */
  timeZone?: string;
}

/** One labelled fact, already formatted for a person. */
export interface JobFact {
  label: string;
  value: string;
}

/**
 * Platform-neutral facts about one job event (an end, a long-running warning, a recovery), formatted for people. Every optional property is absent
 * (not `undefined`, not empty) when DLI did not report it, so renderers can show what is there and nothing else.
 * Values are raw user text: each renderer escapes them for its own markup.
 */
export interface JobFacts {
  /** "DLI job FAILED", "DLI job running long", "DLI job RECOVERED". */
  title: string;
  /** What the event is: what colours a card, and what decides mentions. */
  type: EventType;
  /** The job's status when it was raised: RUNNING for a warning, FINISHED for a recovery. */
  status: string;
  /** ✅ FINISHED, ❌ FAILED, 🚫 CANCELLED, ⏳ LONG_RUNNING, 🟢 RECOVERED. */
  statusEmoji: string;
  jobId: string;
  /** The first 8 characters of the job id, with "…" when there are more: enough to tell jobs apart in a list. */
  shortJobId: string;
  /** The one line a person reads in a notification: "❌ DLI job 208b08d4… FAILED on queue default after 3 min 12 s". */
  headline: string;
  projectId: string;
  region: string;
  queue?: string;
  jobType?: string;
  owner?: string;
  /** Start time, ISO-8601 UTC. */
  startTime?: string;
  /** Start time, epoch ms: for platforms that show dates in the reader's own time zone. */
  startTimeMs?: number;
  /** "2.5 s", "3 min 12 s", "1 h 4 min". */
  duration?: string;
  /** "1,204 input, 3 bad" (INSERT jobs only). */
  rows?: string;
  /** Rows returned or inserted. */
  resultCount?: string;
  /** "22 B", "1.4 MiB". */
  inputSize?: string;
  /** `database.table` (IMPORT, EXPORT and QUERY jobs only). */
  table?: string;
  /** DLI job tags as `key=value`. */
  tags: string[];
  /** dli-watch tracking labels as `key=value`. */
  labels: string[];
  /** "3rd failure in a row since 2026-11-28" (FAILED), "after 3 failures in a row since 2026-11-28" (RECOVERED). */
  streak?: string;
  /** The run key the streak counts: `tag:pipeline=daily`, `sql:3f2a…`. */
  runKey?: string;
  /** LONG_RUNNING: how long the job had run when the warning was raised, and the threshold it passed. */
  runningFor?: string;
  warnAfter?: string;
  /** Why the job failed: only for FAILED, only when DLI said something. */
  failureMessage?: string;
  /** The SQL text, untruncated: each platform cuts it to its own limit. */
  statement?: string;
  /** Link to the DLI console, absent when the template does not make an http(s) URL. */
  consoleUrl?: string;
  /** The short facts in display order, only those present: what a card shows as label/value pairs. */
  fields: JobFact[];
  /** The words of the message's language, for what a platform adds (section headings, the console link). */
  text: Catalogue;
}

/** The emoji that stands for each kind of event, wherever one is shown. */
export const STATUS_EMOJI: Record<EventType, string> = {
  FINISHED: '✅',
  FAILED: '❌',
  CANCELLED: '🚫',
  LONG_RUNNING: '⏳',
  RECOVERED: '🟢',
};

const SHORT_JOB_ID_LENGTH = 8;

/**
 * Gathers what a person wants to know about a job that ended, for any chat platform to lay out.
 */
export function describeJobEvent(event: JobEvent, context: RenderContext): JobFacts {
  const job = event.job;
  const { type, status } = event;
  const text = catalogueFor(context.language);
  const statusEmoji = STATUS_EMOJI[type];
  const jobId = job.job_id;
  const shortJobId = truncateText(jobId, SHORT_JOB_ID_LENGTH + 1);

  const queue = nonEmpty(job.queue_name);
  const jobType = nonEmpty(job.job_type);
  const owner = nonEmpty(job.owner);
  const startTimeMs = isValidEpochMs(job.start_time) ? job.start_time : undefined;
  const startTime = startTimeMs === undefined ? undefined : new Date(startTimeMs).toISOString();
  const duration = isCount(job.duration) ? text.duration(job.duration) : undefined;
  const rows = formatRows(text, job.input_row_count, job.bad_row_count);
  const resultCount = isCount(job.result_count) ? text.count(job.result_count) : undefined;
  const inputSize = isCount(job.input_size) ? formatBytes(job.input_size) : undefined;
  const table = formatTable(job.database_name, job.table_name);
  const tags = (job.tags ?? []).map((tag) => `${tag.key}=${tag.value}`);
  const labels = Object.entries(event.labels).map(([key, value]) => `${key}=${value}`);
  const failureMessage = type === 'FAILED' ? nonEmpty(job.message?.trim()) : undefined;
  const streak =
    event.streak && text.streak(type, event.streak.failures, dayOf(event.streak.since, context.timeZone));
  const runKey = event.streak?.key;
  const runningFor = event.warning && text.duration(event.warning.runningForMs);
  const warnAfter = event.warning && text.duration(event.warning.thresholdMs);
  const statement = nonEmpty(job.statement?.trim());
  const consoleUrl = httpUrlOrUndefined(
    fillConsoleUrl(context.consoleUrlTemplate, {
      region: context.region,
      project_id: event.projectId,
      job_id: jobId,
      queue_name: queue ?? '',
    }),
  );

  // A destination's own title replaces the default in the notification line too: that is what people read.
  const title = context.titleTemplate
    ? fillTitle(context.titleTemplate, {
        status: type,
        job_id: jobId,
        short_job_id: shortJobId,
        queue_name: queue ?? '',
        owner: owner ?? '',
        job_type: jobType ?? '',
      })
    : text.titles[type];
  const headline = context.titleTemplate
    ? `${statusEmoji} ${title}`
    : text.headline({
        emoji: statusEmoji,
        shortJobId,
        type,
        status,
        queue,
        duration,
        streak,
        runningFor,
        warnAfter,
      });

  // In display order; a fact DLI did not report is left out.
  const shown: [keyof Catalogue['fields'], string | undefined][] = [
    ['jobId', jobId],
    ['runningFor', runningFor],
    ['warnAfter', warnAfter],
    ['streak', streak],
    ['runKey', runKey],
    ['queue', queue],
    ['type', jobType],
    ['owner', owner],
    ['started', startTime],
    ['duration', duration],
    ['rows', rows],
    ['resultRows', resultCount],
    ['inputSize', inputSize],
    ['table', table],
    ['tags', tags.join(', ')],
    ['labels', labels.join(', ')],
  ];
  const fields: JobFact[] = shown.flatMap(([name, value]) =>
    value === undefined || value === '' ? [] : [{ label: text.fields[name], value }],
  );

  return {
    title,
    type,
    status,
    statusEmoji,
    jobId,
    shortJobId,
    headline,
    projectId: event.projectId,
    region: context.region,
    ...(queue !== undefined && { queue }),
    ...(jobType !== undefined && { jobType }),
    ...(owner !== undefined && { owner }),
    ...(startTime !== undefined && { startTime, startTimeMs }),
    ...(duration !== undefined && { duration }),
    ...(rows !== undefined && { rows }),
    ...(resultCount !== undefined && { resultCount }),
    ...(inputSize !== undefined && { inputSize }),
    ...(table !== undefined && { table }),
    tags,
    labels,
    ...(streak !== undefined && { streak }),
    ...(runKey !== undefined && { runKey }),
    ...(runningFor !== undefined && { runningFor }),
    ...(warnAfter !== undefined && { warnAfter }),
    ...(failureMessage !== undefined && { failureMessage }),
    ...(statement !== undefined && { statement }),
    ...(consoleUrl !== undefined && { consoleUrl }),
    fields,
    text,
  };
}

/**
 * Who a message about an event of `type` mentions: the destination's `mentions` when the job FAILED, nobody
 * otherwise, because mentions are for failures only (a warning or a recovery needs nobody woken). For a digest,
 * pass its worst type (FAILED when any job failed). Every platform renders an empty mention list as no mention at
 * all.
 */
export function mentionsFor(type: EventType, mentions: Mentions): Mentions {
  return type === 'FAILED' ? mentions : NO_MENTIONS;
}

/** `YYYY-MM-DD` of an instant, in `timeZone` (UTC when absent). */
function dayOf(epochMs: number, timeZone: string | undefined): string {
  if (!isValidEpochMs(epochMs)) return '????-??-??';
  if (timeZone === undefined) return new Date(epochMs).toISOString().slice(0, 10);
  return calendarDateText(wallTimeAt(epochMs, timeZone));
}

const BYTE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/**
 * A byte count for people, in binary units: "22 B", "1.4 MiB", "350 GiB". One decimal below 10 of a unit,
 * whole numbers above. Negative or non-finite input counts as 0.
 */
export function formatBytes(n: number): string {
  const bytes = Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unitIndex = 0;
  // Round first, then move up a unit if rounding reached 1024 ("1024 KiB" reads worse than "1 MiB").
  let shown = roundForDisplay(value);
  while (shown >= 1024 && unitIndex < BYTE_UNITS.length - 1) {
    value /= 1024;
    unitIndex++;
    shown = roundForDisplay(value);
  }
  return `${stripTrailingZero(value < 9.95 ? shown.toFixed(1) : String(shown))} ${BYTE_UNITS[unitIndex]}`;
}

/** The values a console URL template can refer to. */
export interface ConsoleUrlValues {
  region: string;
  project_id: string;
  job_id: string;
  queue_name: string;
}

/**
 * Fills `{region}`, `{project_id}`, `{job_id}` and `{queue_name}` in a console URL template, URL-encoding each
 * value so a queue name cannot change the link's shape. Unknown placeholders are left as written.
 */
export function fillConsoleUrl(template: string, values: ConsoleUrlValues): string {
  return template.replace(
    /\{(region|project_id|job_id|queue_name)\}/g,
    (_match, name: keyof ConsoleUrlValues) => encodeURIComponent(values[name]),
  );
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function isCount(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value) && value >= 0;
}

function isValidEpochMs(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value) && !Number.isNaN(new Date(value).getTime());
}

function formatRows(
  text: Catalogue,
  inputRows: number | undefined,
  badRows: number | undefined,
): string | undefined {
  if (!isCount(inputRows) && !isCount(badRows)) return undefined;
  return text.rows(
    isCount(inputRows) ? text.count(inputRows) : undefined,
    isCount(badRows) ? text.count(badRows) : undefined,
  );
}

function formatTable(database: string | undefined, table: string | undefined): string | undefined {
  const parts = [nonEmpty(database), nonEmpty(table)].filter((part) => part !== undefined);
  return parts.length > 0 ? parts.join('.') : undefined;
}

function httpUrlOrUndefined(candidate: string): string | undefined {
  const url = URL.parse(candidate);
  return url !== null && (url.protocol === 'https:' || url.protocol === 'http:') ? candidate : undefined;
}

function roundForDisplay(value: number): number {
  return value < 9.95 ? Math.round(value * 10) / 10 : Math.round(value);
}

/** The placeholders a destination's `title` template may use. */
export const TITLE_PLACEHOLDERS = [
  'status',
  'job_id',
  'short_job_id',
  'queue_name',
  'owner',
  'job_type',
] as const;

/** Fills a title template; unknown placeholders are left as written (the configuration refuses them anyway). */
export function fillTitle(
  template: string,
  values: Record<(typeof TITLE_PLACEHOLDERS)[number], string>,
): string {
  return template.replace(/\{([a-z_]+)\}/g, (whole, name: string) =>
    name in values ? values[name as keyof typeof values] : whole,
  );
}
