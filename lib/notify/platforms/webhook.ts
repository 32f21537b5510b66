import type { DailySummary, EventType, JobEvent, StreakFacts, SummaryRun } from '../../job.ts';
import type { WebhookDestination } from '../destination.ts';
import type { RenderContext } from '../render/job-facts.ts';
import { countJsonStringBytes, truncateText, truncateToFit } from '../render/text-fit.ts';
import { describeAnswer, judgeCommonAnswer } from './common-answers.ts';
import { jsonBodyBytes } from './json-body.ts';
import type { DeliveryOutcome, PlatformResponse, WebhookPlatform } from './platform.ts';
import { hmacSha256Base64 } from './signing.ts';

/**
 * Standard Webhooks asks bodies to stay under 20 KB: every body is strictly smaller than this many bytes, which
 * is under 20 KB whichever KB is meant.
 */
export const WEBHOOK_BODY_LIMIT_BYTES = 20_000;
const WEBHOOK_BODY_MAX_BYTES = WEBHOOK_BODY_LIMIT_BYTES - 1;

/** Appended to a text field that was cut to keep the body under the limit. */
export const WEBHOOK_TRUNCATION_MARKER = '… [truncated]';

/**
 * Cut in this order: the SQL is the biggest and the least needed to act on, the result-column schema comes next,
 * and the error text, what a receiver acts on, goes last.
 */
const TRUNCATABLE_FIELDS = ['statement', 'detail', 'message'] as const;

/** Text fields shorter than this are left alone until cutting the long ones was not enough. */
const WORTH_CUTTING_BYTES = 1024;

/** What identifies the job and the event is never cut. */
const NEVER_CUT_FIELDS = new Set(['job_id', 'status', 'previous_status', 'project_id']);

const EVENT_TYPES = {
  FINISHED: 'dli.job.finished',
  FAILED: 'dli.job.failed',
  CANCELLED: 'dli.job.cancelled',
  LONG_RUNNING: 'dli.job.long_running',
  RECOVERED: 'dli.job.recovered',
} as const satisfies Record<EventType, string>;

/** The type of a destination's daily summary. */
export const SUMMARY_EVENT_TYPE = 'dli.summary.daily';

export type WebhookEventType = (typeof EVENT_TYPES)[EventType] | typeof SUMMARY_EVENT_TYPE;

/** Which failure in a row (or how many before a recovery), of which run key, since when (ISO-8601). */
export interface WebhookStreak {
  key: string;
  failures: number;
  since: string;
}

/** The Standard Webhooks envelope: `data` is DLI's status response as it was, plus what dli-watch knows. */
export interface WebhookBody {
  type: (typeof EVENT_TYPES)[EventType];
  /** ISO-8601 instant dli-watch saw the job end. */
  timestamp: string;
  data: Record<string, unknown> & {
    previous_status: string | null;
    labels: Record<string, string>;
    project_id: string;
    /** FAILED and RECOVERED of a job with a run key: which failure in a row (or how many came before a recovery). */
    streak?: WebhookStreak;
    /** LONG_RUNNING: the threshold the job passed and how long it had run, in milliseconds. */
    warning?: { threshold_ms: number; running_for_ms: number };
    /** Present (and true) only when a text field was cut to fit the size limit. */
    truncated?: true;
  };
}

/** A streak as a webhook carries it: its start as an ISO-8601 instant. */
function webhookStreak(streak: StreakFacts): WebhookStreak {
  return { key: streak.key, failures: streak.failures, since: new Date(streak.since).toISOString() };
}

/** The secret is not `whsec_` + Base64. Says so without ever repeating the secret. */
export class WebhookSecretError extends Error {
  constructor() {
    super('webhook secret must be "whsec_" followed by Base64');
    this.name = 'WebhookSecretError';
  }
}

/**
 * The body for one event: every field of the status response (unknown ones included) plus `previous_status`,
 * `labels` and `project_id`. When the JSON would reach {@link WEBHOOK_BODY_LIMIT_BYTES}, `statement`, then
 * `detail`, then `message` (then any other text field, longest first) are cut with a marker and `truncated: true` is
 * set, so the serialized body is valid JSON under the limit. Only non-text fields (labels, tags) can still exceed it,
 * and they are small unless the configuration is absurd.
 */
export function renderWebhookBody(event: JobEvent): WebhookBody {
  const body: WebhookBody = {
    type: EVENT_TYPES[event.type],
    timestamp: new Date(event.occurredAt).toISOString(),
    data: {
      ...event.job,
      previous_status: event.previousStatus,
      labels: event.labels,
      project_id: event.projectId,
      ...(event.streak && { streak: webhookStreak(event.streak) }),
      ...(event.warning && {
        warning: { threshold_ms: event.warning.thresholdMs, running_for_ms: event.warning.runningForMs },
      }),
    },
  };
  if (jsonBodyBytes(body) <= WEBHOOK_BODY_MAX_BYTES) return body;

  body.data.truncated = true;
  const otherTextFields = Object.keys(body.data)
    .filter((key) => typeof body.data[key] === 'string' && !NEVER_CUT_FIELDS.has(key))
    .filter((key) => !(TRUNCATABLE_FIELDS as readonly string[]).includes(key))
    .sort((a, b) => String(body.data[b]).length - String(body.data[a]).length);
  const cutOrder = [...TRUNCATABLE_FIELDS, ...otherTextFields];
  // First pass spares short fields: cutting a 16-byte statement to the marker gains nothing and loses the SQL.
  for (const minimumBytes of [WORTH_CUTTING_BYTES, 0]) {
    for (const field of cutOrder) {
      const overflow = jsonBodyBytes(body) - WEBHOOK_BODY_MAX_BYTES;
      if (overflow <= 0) return body;
      const value = body.data[field];
      if (typeof value !== 'string') continue;
      // Measure in JSON-encoded bytes: quotes, backslashes and control characters grow when serialized.
      const encodedSize = countJsonStringBytes(value);
      if (encodedSize < minimumBytes) continue;
      // A field that must go entirely keeps the marker, so a receiver can tell "cut" from "empty".
      const target = Math.max(countJsonStringBytes(WEBHOOK_TRUNCATION_MARKER), encodedSize - overflow);
      if (target >= encodedSize) continue;
      body.data[field] = truncateToFit(value, target, countJsonStringBytes, WEBHOOK_TRUNCATION_MARKER);
    }
  }
  return body;
}

/** A daily summary's envelope: the same frozen facts every time it is sent, in no language. */
export interface WebhookSummaryBody {
  type: typeof SUMMARY_EVENT_TYPE;
  /** ISO-8601 instant the summary was raised. */
  timestamp: string;
  data: {
    destination: string;
    /** The day summed up, `YYYY-MM-DD` in `time_zone`; `from` and `to` are its bounds, ISO-8601. */
    day: string;
    time_zone: string;
    from: string;
    to: string;
    project_id: string;
    /** Jobs that ended in the day, by status. */
    counts: Record<'FINISHED' | 'FAILED' | 'CANCELLED', number>;
    /** Per queue, most runs first; `other_queues` more were not listed. */
    queues: { queue: string; FINISHED: number; FAILED: number; CANCELLED: number }[];
    other_queues: number;
    /** The day's failures in the order they ended (`counts.FAILED` says how many there were). */
    failures: WebhookSummaryRun[];
    /** The day's longest runs, longest first. */
    longest: WebhookSummaryRun[];
    /** Jobs still running past their threshold (`running_long_count` says how many there were). */
    running_long: WebhookSummaryRun[];
    running_long_count: number;
    /** Present (and true) only when lists were shortened to fit the size limit; the counts stay exact. */
    truncated?: true;
  };
}

/** One job in a summary's lists; each field only when known. */
export interface WebhookSummaryRun {
  job_id: string;
  status: string;
  queue?: string;
  owner?: string;
  duration_ms?: number;
  streak?: WebhookStreak;
  running_for_ms?: number;
  threshold_ms?: number;
}

/** Longest queue name a summary body carries: 25 queues of DLI's longest names still leave room for the jobs. */
const SUMMARY_QUEUE_NAME_MAX = 128;

/**
 * The body of a daily summary. Queue names are cut to {@link SUMMARY_QUEUE_NAME_MAX} characters; when the JSON
 * would still reach {@link WEBHOOK_BODY_LIMIT_BYTES}, the lists lose entries from their ends (jobs running long
 * first, then failures, then queues) and `truncated: true` is set.
 */
export function renderWebhookSummaryBody(summary: DailySummary): WebhookSummaryBody {
  const queue = (name: string | undefined) =>
    name === undefined ? {} : { queue: truncateText(name, SUMMARY_QUEUE_NAME_MAX) };
  const run = (entry: SummaryRun): WebhookSummaryRun => ({
    job_id: entry.jobId,
    status: entry.status,
    ...queue(entry.queue),
    ...(entry.owner === undefined ? {} : { owner: entry.owner }),
    ...(entry.durationMs === undefined ? {} : { duration_ms: entry.durationMs }),
    ...(entry.streak && { streak: webhookStreak(entry.streak) }),
    ...(entry.runningForMs === undefined ? {} : { running_for_ms: entry.runningForMs }),
    ...(entry.thresholdMs === undefined ? {} : { threshold_ms: entry.thresholdMs }),
  });
  const body: WebhookSummaryBody = {
    type: SUMMARY_EVENT_TYPE,
    timestamp: new Date(summary.occurredAt).toISOString(),
    data: {
      destination: summary.destination,
      day: summary.day,
      time_zone: summary.timeZone,
      from: new Date(summary.from).toISOString(),
      to: new Date(summary.to).toISOString(),
      project_id: summary.projectId,
      counts: { ...summary.counts },
      queues: summary.queues.map((counts) => ({
        ...counts,
        queue: truncateText(counts.queue, SUMMARY_QUEUE_NAME_MAX),
      })),
      other_queues: summary.otherQueues,
      failures: summary.failures.map(run),
      longest: summary.longest.map(run),
      running_long: summary.runningLong.map(run),
      running_long_count: summary.runningLongCount,
    },
  };
  for (const list of [body.data.running_long, body.data.failures, body.data.queues] as unknown[][]) {
    while (list.length > 0 && jsonBodyBytes(body) > WEBHOOK_BODY_MAX_BYTES) {
      body.data.truncated = true;
      list.pop();
    }
  }
  return body;
}

/** A JSON body as Standard Webhooks posts it: with its id and timestamp, signed when the destination has a secret. */
function standardWebhookRequest(destination: WebhookDestination, id: string, body: string, now: number) {
  const timestampSeconds = Math.floor(now / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
  };
  if (destination.secret) {
    headers['webhook-signature'] = signWebhook(destination.secret, id, timestampSeconds, body);
  }
  return { url: destination.url, method: 'POST' as const, headers, body };
}

/**
 * Standard Webhooks signature: `v1,` + Base64 HMAC-SHA256 of `id.timestamp.body`, keyed by the Base64-decoded
 * part of `whsec_<base64>` (a secret without the prefix is accepted too, as the reference library does).
 * Throws {@link WebhookSecretError} for a secret that is not Base64.
 */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new WebhookSecretError();
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0) throw new WebhookSecretError();
  return `v1,${hmacSha256Base64(key, `${id}.${timestampSeconds}.${body}`)}`;
}

/** Standard Webhooks signing secret: `whsec_` + base64 of 24 to 64 random bytes. */
function isWebhookSecret(text: string): boolean {
  const encoded = text.startsWith('whsec_') ? text.slice('whsec_'.length) : '';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return false;
  const bytes = Buffer.from(encoded, 'base64').length;
  return bytes >= 24 && bytes <= 64;
}

/**
 * Generic HTTPS endpoint per Standard Webhooks: `webhook-id` is the event id, identical on every retry and for
 * every destination, so receivers can de-duplicate; signed when the destination has a secret.
 */
export const webhookPlatform: WebhookPlatform = {
  kind: 'webhook',
  signingSecret: {
    accepts: isWebhookSecret,
    rule: 'must be "whsec_" followed by the base64 of 24 to 64 random bytes',
  },
  // The receiver's own limits apply; it says so with 429 and Retry-After.
  rateLimit: null,
  render(event: JobEvent, destination: WebhookDestination, context: RenderContext) {
    return standardWebhookRequest(
      destination,
      event.id,
      JSON.stringify(renderWebhookBody(event)),
      context.now,
    );
  },

  renderSummary(summary: DailySummary, destination: WebhookDestination, context: RenderContext) {
    const body = JSON.stringify(renderWebhookSummaryBody(summary));
    return standardWebhookRequest(destination, summary.id, body, context.now);
  },

  judge(response: PlatformResponse): DeliveryOutcome {
    const { status } = response;
    if (status >= 200 && status < 300) return { kind: 'delivered' };
    const common = judgeCommonAnswer(response);
    if (common) return common;
    // Standard Webhooks: 410 means the receiver wants no more deliveries to this endpoint.
    if (status === 410) return { kind: 'reject', reason: '410 Gone: endpoint disabled' };
    if (status >= 400) return { kind: 'reject', reason: describeAnswer(response) };
    return { kind: 'retry', reason: `${describeAnswer(response)} (unexpected status)` };
  },
};
