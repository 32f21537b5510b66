/**
 * What every platform-like receiver shares: a webhook receiver on 127.0.0.1 that answers through the platform's
 * own checks, the messages the platform posted, and the small pieces those checks are made of (JSON answers,
 * rate windows, signature windows).
 */
import { timingSafeEqual } from 'node:crypto';
import { afterEach } from 'vitest';
import {
  createWebhookReceiver,
  type ReceivedWebhookRequest,
  type WebhookReceiver,
  type WebhookResponse,
} from '../../../lib/simulator/webhook-receiver.ts';
import { createManualClock, type ManualClock } from '../manual-clock.ts';

/** A platform's webhook on 127.0.0.1, with the messages the platform accepted. */
export interface PlatformReceiver<Message> {
  /** Listens on a free port; resolves to the webhook URL as the platform shows it, credentials included. */
  start(): Promise<string>;
  close(): Promise<void>;
  /** The underlying receiver: every request as sent, and `respondNext` to script server trouble. */
  readonly http: WebhookReceiver;
  /** Messages the platform accepted and would show, oldest first. */
  readonly posted: readonly Message[];
}

/** What a platform-like receiver brings to {@link createPlatformReceiver}. */
export interface PlatformReceiverParts<Message> {
  /** Answers one request the way the platform does; scripted answers come first. */
  respond(request: ReceivedWebhookRequest): WebhookResponse;
  /** The platform's clock, for `receivedAt`. */
  now: () => number;
  /** The webhook URL on the receiver's base URL, `http://127.0.0.1:<port>`. */
  webhookUrl(base: string): string;
  /** The list `respond` records accepted messages in. */
  posted: readonly Message[];
}

/** Puts a platform's checks behind a webhook receiver; call `start()` to listen. */
export function createPlatformReceiver<Message>(
  parts: PlatformReceiverParts<Message>,
): PlatformReceiver<Message> {
  const http = createWebhookReceiver({ respond: parts.respond, now: parts.now });
  return {
    start: async () => parts.webhookUrl(await http.start()),
    close: () => http.close(),
    http,
    posted: parts.posted,
  };
}

/** A JSON answer with the status and headers given (`content-type: application/json` unless they say). */
export function jsonAnswer(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): WebhookResponse {
  return { status, body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } };
}

/** The body as a JSON object, or `undefined` when it is not JSON or not an object. */
export function parseJsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `value` is a plain JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `value` is an array of strings. */
export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/**
 * A fixed-window request counter: at most `limit` requests per `windowMs`, windows starting at the first request
 * after the previous one ended. `take` says whether this request is allowed and, if not, how long until it is.
 */
export function createFixedWindow(limit: number, windowMs: number) {
  let windowStart = Number.NEGATIVE_INFINITY;
  let count = 0;
  return {
    take(
      at: number,
    ): { allowed: true; remaining: number; resetAfterMs: number } | { allowed: false; retryAfterMs: number } {
      if (at >= windowStart + windowMs) {
        windowStart = at;
        count = 0;
      }
      if (count >= limit) return { allowed: false, retryAfterMs: windowStart + windowMs - at };
      count++;
      return { allowed: true, remaining: limit - count, resetAfterMs: windowStart + windowMs - at };
    },
  };
}

/** A sliding-window request counter: room for another request while fewer than `limit` came in the last `windowMs`. */
export function createSlidingWindow(limit: number, windowMs: number) {
  const times: number[] = [];
  return {
    hasRoom: (at: number) => times.filter((time) => time > at - windowMs).length < limit,
    record: (at: number) => {
      times.push(at);
    },
  };
}

/** Whether a signed `timestamp` (digits only) lies within `windowLength` of `now`, both in the same unit. */
export function isTimestampWithin(timestamp: unknown, now: number, windowLength: number): boolean {
  return (
    typeof timestamp === 'string' &&
    /^\d+$/.test(timestamp) &&
    Math.abs(now - Number(timestamp)) <= windowLength
  );
}

/** Whether the Base64 `signature` is the `expected` digest, compared in constant time. */
export function isSignature(signature: string, expected: Buffer): boolean {
  const given = Buffer.from(signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The JSON body of the last request `receiver` got. */
export function lastSentJson<T>(receiver: PlatformReceiver<unknown>): T {
  const request = receiver.http.requests.at(-1);
  if (!request) throw new Error('nothing was sent');
  return JSON.parse(request.body) as T;
}

/**
 * Returns a function that creates and starts a receiver with `create`, on a manual clock of its own set to
 * `startAt`. Call it in a `describe`: every receiver it started is closed after each test there.
 */
export function receiverStarter<
  Create extends (options: { now?: () => number }) => PlatformReceiver<unknown>,
>(
  create: Create,
  startAt: number,
): (
  options?: Parameters<Create>[0],
) => Promise<{ receiver: ReturnType<Create>; clock: ManualClock; url: string }> {
  const started: PlatformReceiver<unknown>[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((receiver) => receiver.close()));
  });
  return async (options) => {
    const clock = createManualClock(startAt);
    const receiver = create({ now: clock.now, ...options }) as ReturnType<Create>;
    started.push(receiver);
    return { receiver, clock, url: await receiver.start() };
  };
}
