import type { EventType, JobEvent } from '../../job.ts';
import type { WebhookDestination } from '../destination.ts';
import type { RenderContext } from '../render/job-facts.ts';
import { countJsonStringBytes, truncateToFit } from '../render/text-fit.ts';
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

export type WebhookEventType = (typeof EVENT_TYPES)[EventType];

/** The Standard Webhooks envelope: `data` is DLI's status response as it was, plus what dli-watch knows. */
export interface WebhookBody {
  type: WebhookEventType;
  /** ISO-8601 instant dli-watch saw the job end. */
  timestamp: string;
  data: Record<string, unknown> & {
    previous_status: string | null;
    labels: Record<string, string>;
    project_id: string;
    /** FAILED and RECOVERED of a job with a run key: which failure in a row (or how many came before a recovery). */
    streak?: { key: string; failures: number; since: string };
    /** LONG_RUNNING: the threshold the job passed and how long it had run, in milliseconds. */
    warning?: { threshold_ms: number; running_for_ms: number };
    /** Present (and true) only when a text field was cut to fit the size limit. */
    truncated?: true;
  };
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
      ...(event.streak && {
        streak: {
          key: event.streak.key,
          failures: event.streak.failures,
          since: new Date(event.streak.since).toISOString(),
        },
      }),
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
    const body = JSON.stringify(renderWebhookBody(event));
    const timestampSeconds = Math.floor(context.now / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'webhook-id': event.id,
      'webhook-timestamp': String(timestampSeconds),
    };
    if (destination.secret) {
      headers['webhook-signature'] = signWebhook(destination.secret, event.id, timestampSeconds, body);
    }
    return { url: destination.url, method: 'POST', headers, body };
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
