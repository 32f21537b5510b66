import type { JobEvent, TerminalStatus } from '../../job.ts';
import { type Mentions, NO_MENTIONS } from '../destination.ts';
import type { RenderContext } from '../platforms/platform.ts';

/**
 * Where the console link points when the configuration gives no template: DLI has no documented deep link to one
 * SQL job (dli-api.md §6), so the default is the region's SQL jobs page.
 */
export const DEFAULT_CONSOLE_URL_TEMPLATE =
  'https://console.huaweicloud.com/dli/?region={region}#/main/jobs/sql';

/** One labelled fact, already formatted for a person. */
export interface JobFact {
  label: string;
  value: string;
}

/**
 * Platform-neutral facts about one terminal job event, formatted for people. Every optional property is absent
 * (not `undefined`, not empty) when DLI did not report it, so renderers can show what is there and nothing else.
 * Values are raw user text: each renderer escapes them for its own markup.
 */
export interface JobFacts {
  /** "DLI job FAILED". */
  title: string;
  status: TerminalStatus;
  /** ✅ FINISHED, ❌ FAILED, 🚫 CANCELLED. */
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
  /** Why the job failed: only for FAILED, only when DLI said something. */
  failureMessage?: string;
  /** The SQL text, untruncated: each platform cuts it to its own limit. */
  statement?: string;
  /** Link to the DLI console, absent when the template does not make an http(s) URL. */
  consoleUrl?: string;
  /** The short facts in display order, only those present: what a card shows as label/value pairs. */
  fields: JobFact[];
}

/** The emoji that stands for each terminal status, wherever a status is shown. */
export const STATUS_EMOJI: Record<TerminalStatus, string> = { FINISHED: '✅', FAILED: '❌', CANCELLED: '🚫' };

const SHORT_JOB_ID_LENGTH = 8;

// The Intl objects are built on first use: building the first one loads ICU data, about 25 ms of every cold start,
// and most cycles render no message at all.
let countFormat: Intl.NumberFormat | undefined;
let graphemeSegmenter: Intl.Segmenter | undefined;

/** `1234567` → `1,234,567`. */
function formatCount(count: number): string {
  countFormat ??= new Intl.NumberFormat('en-US');
  return countFormat.format(count);
}

/** The grapheme clusters of `text`, each with its index: the only places text may be cut. */
function graphemes(text: string): Intl.Segments {
  graphemeSegmenter ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  return graphemeSegmenter.segment(text);
}

/**
 * Gathers what a person wants to know about a job that ended, for any chat platform to lay out.
 */
export function describeJobEvent(event: JobEvent, context: RenderContext): JobFacts {
  const job = event.job;
  const status = event.status;
  const statusEmoji = STATUS_EMOJI[status];
  const jobId = job.job_id;
  const shortJobId = truncateText(jobId, SHORT_JOB_ID_LENGTH + 1);

  const queue = nonEmpty(job.queue_name);
  const jobType = nonEmpty(job.job_type);
  const owner = nonEmpty(job.owner);
  const startTimeMs = isValidEpochMs(job.start_time) ? job.start_time : undefined;
  const startTime = startTimeMs === undefined ? undefined : new Date(startTimeMs).toISOString();
  const duration = isCount(job.duration) ? formatDuration(job.duration) : undefined;
  const rows = formatRows(job.input_row_count, job.bad_row_count);
  const resultCount = isCount(job.result_count) ? formatCount(job.result_count) : undefined;
  const inputSize = isCount(job.input_size) ? formatBytes(job.input_size) : undefined;
  const table = formatTable(job.database_name, job.table_name);
  const tags = (job.tags ?? []).map((tag) => `${tag.key}=${tag.value}`);
  const labels = Object.entries(event.labels).map(([key, value]) => `${key}=${value}`);
  const failureMessage = status === 'FAILED' ? nonEmpty(job.message?.trim()) : undefined;
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
        status,
        job_id: jobId,
        short_job_id: shortJobId,
        queue_name: queue ?? '',
        owner: owner ?? '',
        job_type: jobType ?? '',
      })
    : `DLI job ${status}`;
  const headline = context.titleTemplate
    ? `${statusEmoji} ${title}`
    : [
        `${statusEmoji} DLI job ${shortJobId} ${status}`,
        queue !== undefined ? ` on queue ${queue}` : '',
        duration !== undefined ? ` after ${duration}` : '',
      ].join('');

  const fields: JobFact[] = [{ label: 'Job ID', value: jobId }];
  const addField = (label: string, value: string | undefined) => {
    if (value !== undefined && value !== '') fields.push({ label, value });
  };
  addField('Queue', queue);
  addField('Type', jobType);
  addField('Owner', owner);
  addField('Started', startTime);
  addField('Duration', duration);
  addField('Rows', rows);
  addField('Result rows', resultCount);
  addField('Input size', inputSize);
  addField('Table', table);
  addField('Tags', tags.join(', '));
  addField('Labels', labels.join(', '));

  return {
    title,
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
    ...(failureMessage !== undefined && { failureMessage }),
    ...(statement !== undefined && { statement }),
    ...(consoleUrl !== undefined && { consoleUrl }),
    fields,
  };
}

/**
 * Who a message about a job with `status` mentions: the destination's `mentions` when the job FAILED, nobody
 * otherwise, because mentions are for failures only. For a digest, pass its worst status (FAILED when any job
 * failed). Every platform renders an empty mention list as no mention at all.
 */
export function mentionsFor(status: TerminalStatus, mentions: Mentions): Mentions {
  return status === 'FAILED' ? mentions : NO_MENTIONS;
}

/**
 * A duration for people: "850 ms", "2.5 s", "3 min 12 s", "1 h 4 min", "2 d 3 h". Precision drops as the
 * duration grows because nobody cares about the seconds of a job that ran for hours. Negative or non-finite
 * input counts as 0.
 */
export function formatDuration(ms: number): string {
  const safeMs = Number.isFinite(ms) && ms > 0 ? ms : 0;
  if (Math.round(safeMs) < 1000) return `${Math.round(safeMs)} ms`;
  const tenthsOfSecond = Math.round(safeMs / 100);
  if (tenthsOfSecond < 600) return `${stripTrailingZero((tenthsOfSecond / 10).toFixed(1))} s`;
  const seconds = Math.round(safeMs / 1000);
  if (seconds < 3600) return joinUnits(Math.floor(seconds / 60), 'min', seconds % 60, 's');
  const minutes = Math.round(seconds / 60);
  if (minutes < 24 * 60) return joinUnits(Math.floor(minutes / 60), 'h', minutes % 60, 'min');
  const hours = Math.round(minutes / 60);
  return joinUnits(Math.floor(hours / 24), 'd', hours % 24, 'h');
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

/** Measures a piece of text in the unit a limit is expressed in. Must be additive over concatenation. */
export type TextMeasure = (text: string) => number;

/** Counts Unicode code points (a surrogate pair is one). */
export const countCodePoints: TextMeasure = (text) => {
  let count = 0;
  for (const _ of text) count++;
  return count;
};

/** Counts UTF-16 code units (JavaScript's `length`): the stricter count when a platform says "characters". */
export const countUtf16Units: TextMeasure = (text) => text.length;

/** Counts UTF-8 bytes. */
export const countUtf8Bytes: TextMeasure = (text) => Buffer.byteLength(text, 'utf8');

/**
 * Counts the UTF-8 bytes `text` takes inside a JSON string, quotes excluded: what a body-size limit counts, since
 * quotes, backslashes and control characters grow when serialized. Additive over concatenation (JSON escapes one
 * character at a time), so it can measure where to cut.
 */
export const countJsonStringBytes: TextMeasure = (text) =>
  Buffer.byteLength(JSON.stringify(text), 'utf8') - 2;

/**
 * Cuts `text` so that it plus `marker` measures at most `max`, appending the marker only when something was
 * cut. Cuts only between grapheme clusters, so it never splits a surrogate pair, a flag or a ZWJ emoji
 * sequence. If even the marker does not fit, returns as much of the marker as fits.
 */
export function truncateToFit(text: string, max: number, measure: TextMeasure, marker = '…'): string {
  const limit = Math.max(0, Math.floor(max));
  if (measure(text) <= limit) return text;
  const markerSize = measure(marker);
  if (markerSize > limit) return markerSize === 0 ? '' : truncateToFit(marker, limit, measure, '');
  const budget = limit - markerSize;
  let used = 0;
  let end = 0;
  for (const { segment, index } of graphemes(text)) {
    const size = measure(segment);
    if (used + size > budget) break;
    used += size;
    end = index + segment.length;
  }
  return text.slice(0, end) + marker;
}

/**
 * Cuts `text` to at most `maxChars` code points including the marker, which is appended only when something
 * was cut. Never splits a surrogate pair (nor any grapheme cluster).
 */
export function truncateText(text: string, maxChars: number, marker = '…'): string {
  return truncateToFit(text, maxChars, countCodePoints, marker);
}

/**
 * Cuts `text` so its UTF-8 encoding, marker included, is at most `maxBytes` bytes (WeCom counts bytes).
 * Never splits a character.
 */
export function truncateUtf8(text: string, maxBytes: number, marker = '…'): string {
  return truncateToFit(text, maxBytes, countUtf8Bytes, marker);
}

/**
 * Cuts raw user text so that, once escaped by `escapeText`, it measures at most `max` (counting `marker`, which is
 * appended only when something was cut), and returns it escaped; an empty string when not even the marker fits.
 * Measuring the escaped text means a cut never lands inside an escape. The cut is found by bisection over whole
 * grapheme clusters on the escaped size, so escapes that depend on context (a `-` only at the start of a line) are
 * measured exactly; `escapeText` must never get shorter when text is appended.
 */
export function fitEscaped(
  raw: string,
  max: number,
  measure: TextMeasure,
  escapeText: (text: string) => string,
  marker = '…',
): string {
  const limit = Math.floor(max);
  const size = (text: string) => measure(escapeText(text));
  if (size(raw) <= limit) return escapeText(raw);
  const ends = [0];
  for (const { index, segment } of graphemes(raw)) ends.push(index + segment.length);
  // Largest number of graphemes whose escaped text plus the marker fits; none may fit at all.
  let low = -1;
  let high = ends.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (size(raw.slice(0, ends[middle]) + marker) <= limit) low = middle;
    else high = middle - 1;
  }
  return low < 0 ? '' : escapeText(raw.slice(0, ends[low]) + marker);
}

/** Collapses every run of whitespace (line breaks included) to one space and trims: for text shown on one line. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Joins `tokens` with spaces, keeping only those that fit whole within `max`: half a mention token notifies
 * nobody, so one that does not fit is left out, and later, shorter ones may still fit.
 */
export function joinWhole(tokens: readonly string[], max: number, measure: TextMeasure): string {
  const kept: string[] = [];
  let used = 0;
  for (const token of tokens) {
    const size = measure(token) + (kept.length > 0 ? measure(' ') : 0);
    if (used + size > max) continue;
    kept.push(token);
    used += size;
  }
  return kept.join(' ');
}

/**
 * Inserted where user text would otherwise form markup (a ``` fence, `<@userid>`, `<users/all>`): invisible to
 * readers, but the platform's parser no longer sees the token. Platforms that document no escape character leave
 * no other reliable way to show user text literally.
 */
export const ZERO_WIDTH_SPACE = '\u200b';

/** A ``` inside a Markdown code block would close it early; zero-width spaces between the backticks defuse it. */
export function defuseCodeFences(text: string): string {
  return text.replace(/```/g, `\`${ZERO_WIDTH_SPACE}\`${ZERO_WIDTH_SPACE}\``);
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

function formatRows(inputRows: number | undefined, badRows: number | undefined): string | undefined {
  const parts: string[] = [];
  if (isCount(inputRows)) parts.push(`${formatCount(inputRows)} input`);
  if (isCount(badRows)) parts.push(`${formatCount(badRows)} bad`);
  return parts.length > 0 ? parts.join(', ') : undefined;
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

function stripTrailingZero(decimal: string): string {
  return decimal.endsWith('.0') ? decimal.slice(0, -2) : decimal;
}

function joinUnits(major: number, majorUnit: string, minor: number, minorUnit: string): string {
  return minor === 0 ? `${major} ${majorUnit}` : `${major} ${majorUnit} ${minor} ${minorUnit}`;
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
