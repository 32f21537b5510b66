import { truncateText } from '../render/text-fit.ts';
import type { DeliveryOutcome, PlatformResponse } from './platform.ts';

// RFC 9110 §5.6.7 HTTP-date: IMF-fixdate, and the obsolete RFC 850 and asctime forms senders must still accept.
// Matched before Date.parse because Date.parse also accepts garbage such as "1" (the year 2001).
const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC850_DATE =
  /^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/**
 * How long (ms) a `Retry-After` header asks us to wait, measured from `now` (epoch ms): delta-seconds
 * (`120`) or an HTTP-date. Returns `undefined` when there is no header, when it is garbage, when it is
 * negative, or when the date is already past: the caller then falls back to its own backoff.
 */
export function parseRetryAfter(headers: Headers, now: number): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value)) {
    const seconds = Number(value);
    return Number.isSafeInteger(seconds * 1000) ? seconds * 1000 : undefined;
  }
  const at = parseHttpDate(value);
  if (at === undefined || !Number.isFinite(now)) return undefined;
  const delay = at - now;
  return delay >= 0 ? delay : undefined;
}

/**
 * `Retry-After` from a response, with an HTTP-date measured against the response's own `Date` header. Using
 * the server's clock as the reference keeps clock skew out of the delay and keeps judging pure; without a
 * `Date` header only the delta-seconds form can be read.
 */
export function retryAfterFromResponse(response: PlatformResponse): number | undefined {
  const serverDate = response.headers.get('date');
  const serverNow = serverDate === null ? Number.NaN : (parseHttpDate(serverDate.trim()) ?? Number.NaN);
  return parseRetryAfter(response.headers, serverNow);
}

/** The longest piece of a platform's answer body put into a delivery's reason. */
export const ANSWER_SNIPPET_MAX_CHARS = 200;

/**
 * A short, one-line account of a platform's answer for a delivery's `lastError`: the status, then the start of
 * the body with whitespace collapsed ("404 channel_not_found"). The body is the platform's, never our request,
 * so it holds no URL or secret of ours.
 */
export function describeAnswer(response: PlatformResponse): string {
  const snippet = truncateText(response.body.replace(/\s+/g, ' ').trim(), ANSWER_SNIPPET_MAX_CHARS);
  return snippet === '' ? `${response.status}` : `${response.status} ${snippet}`;
}

/**
 * The verdict every platform shares for answers that say nothing about the message itself: throttled (429,
 * honouring `Retry-After`), server trouble or a timeout on the way (5xx, 408) — retry later; a redirect — the URL
 * is wrong, reject. `undefined` for anything else, which the platform's own success test decides.
 */
export function judgeCommonAnswer(response: PlatformResponse): DeliveryOutcome | undefined {
  const { status } = response;
  if (status === 429) {
    const retryAfterMs = retryAfterFromResponse(response);
    return {
      kind: 'retry',
      reason: `${describeAnswer(response)} (rate limited)`,
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    };
  }
  if (status >= 500 || status === 408) return { kind: 'retry', reason: describeAnswer(response) };
  if (status >= 300 && status < 400) {
    return { kind: 'reject', reason: `${describeAnswer(response)} (redirect: check the webhook URL)` };
  }
  return undefined;
}

function parseHttpDate(value: string): number | undefined {
  if (!IMF_FIXDATE.test(value) && !RFC850_DATE.test(value) && !ASCTIME_DATE.test(value)) return undefined;
  // asctime carries no zone; HTTP-dates are always UTC.
  const at = Date.parse(ASCTIME_DATE.test(value) ? `${value} GMT` : value);
  return Number.isNaN(at) ? undefined : at;
}
