/**
 * A Slack incoming webhook on 127.0.0.1: checks requests the way `hooks.slack.com/services/T…/B…/…` does (the
 * token in the path, the JSON shape, Block Kit limits, about one message a second) and answers like it: 200 `ok`
 * on success, Slack's plain-text error names otherwise, 429 `rate_limited` with `Retry-After`.
 */
import {
  createWebhookReceiver,
  type ReceivedWebhookRequest,
  type WebhookReceiver,
  type WebhookResponse,
} from '../../../lib/simulator/webhook-receiver.ts';

/** A message Slack accepted, with who it notifies (mentions in `text` and section texts only; each once). */
export interface SlackPostedMessage {
  message: { text?: string; blocks?: unknown[] };
  notified: { users: string[]; groups: string[]; channel: boolean };
  receivedAt: number;
}

export interface SlackReceiverOptions {
  /** The secret last segment of the webhook URL. */
  token: string;
  /** Clock for the rate limit window (and `receivedAt`). Default `Date.now`. */
  now?: () => number;
  /** Messages accepted per second. Default 1, Slack's published rate. */
  messagesPerSecond?: number;
}

export interface SlackReceiver {
  /** Listens; resolves to the webhook URL, token included. */
  start(): Promise<string>;
  close(): Promise<void>;
  /** The underlying receiver: every request as sent, and `respondNext` to script server trouble. */
  readonly http: WebhookReceiver;
  /** Messages Slack would have shown in the channel. */
  readonly posted: readonly SlackPostedMessage[];
}

const TEAM = 'T0DLIWATCH';
const BOT = 'B0DLIWATCH';

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

/** A JSON answer with the status and headers given. */
export function jsonAnswer(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): WebhookResponse {
  return { status, body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } };
}

function slackError(status: number, error: string, headers: Record<string, string> = {}): WebhookResponse {
  return { status, body: error, headers: { 'content-type': 'text/html', ...headers } };
}

/** Creates a Slack-like incoming webhook; call `start()` to listen. */
export function createSlackReceiver(options: SlackReceiverOptions): SlackReceiver {
  const now = options.now ?? Date.now;
  const window = createFixedWindow(options.messagesPerSecond ?? 1, 1000);
  const posted: SlackPostedMessage[] = [];

  function respond(request: ReceivedWebhookRequest): WebhookResponse {
    const path = new URL(request.path, 'http://hooks.invalid').pathname;
    const match = /^\/services\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
    if (request.method !== 'POST' || !match || match[1] !== TEAM || match[2] !== BOT) {
      return slackError(404, 'no_service');
    }
    if (match[3] !== options.token) return slackError(403, 'invalid_token');

    const slot = window.take(request.receivedAt);
    if (!slot.allowed) {
      return slackError(429, 'rate_limited', { 'retry-after': String(Math.ceil(slot.retryAfterMs / 1000)) });
    }

    let message: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(request.body);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      message = parsed as Record<string, unknown>;
    } catch {
      return slackError(400, 'invalid_payload');
    }
    const text = message.text;
    const blocks = message.blocks;
    if ((typeof text !== 'string' || text === '') && !Array.isArray(blocks))
      return slackError(400, 'no_text');
    if (typeof text === 'string' && text.length > 40_000) return slackError(400, 'msg_too_long');
    if (blocks !== undefined && !validBlocks(blocks)) return slackError(400, 'invalid_blocks');

    const notifying = [typeof text === 'string' ? text : '', ...sectionTexts(blocks)].join('\n');
    posted.push({
      message: message as SlackPostedMessage['message'],
      notified: {
        users: [
          ...new Set([...notifying.matchAll(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g)].map((m) => m[1] ?? '')),
        ],
        groups: [
          ...new Set([...notifying.matchAll(/<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>/g)].map((m) => m[1] ?? '')),
        ],
        channel: /<!channel>/.test(notifying),
      },
      receivedAt: request.receivedAt,
    });
    return { status: 200, body: 'ok', headers: { 'content-type': 'text/html' } };
  }

  const http = createWebhookReceiver({ respond, now });
  return {
    async start() {
      const base = await http.start();
      return `${base}/services/${TEAM}/${BOT}/${options.token}`;
    },
    close: () => http.close(),
    http,
    get posted() {
      return posted;
    },
  };
}

interface TextObject {
  type?: unknown;
  text?: unknown;
}

function isText(value: unknown, max: number, type?: string): boolean {
  const text = value as TextObject | undefined;
  return (
    typeof text === 'object' &&
    text !== null &&
    (text.type === 'plain_text' || text.type === 'mrkdwn') &&
    (type === undefined || text.type === type) &&
    typeof text.text === 'string' &&
    text.text.length > 0 &&
    text.text.length <= max
  );
}

/** Block Kit's limits for the block types dli-watch sends; anything else is refused like Slack would. */
function validBlocks(blocks: unknown): boolean {
  if (!Array.isArray(blocks) || blocks.length > 50) return false;
  return blocks.every((block: Record<string, unknown>) => {
    if (typeof block !== 'object' || block === null) return false;
    switch (block.type) {
      case 'header':
        return isText(block.text, 150, 'plain_text');
      case 'section': {
        const fields = block.fields;
        if (block.text === undefined && fields === undefined) return false;
        if (block.text !== undefined && !isText(block.text, 3000)) return false;
        if (fields === undefined) return true;
        return (
          Array.isArray(fields) &&
          fields.length > 0 &&
          fields.length <= 10 &&
          fields.every((field) => isText(field, 2000))
        );
      }
      case 'context': {
        const elements = block.elements;
        return (
          Array.isArray(elements) &&
          elements.length > 0 &&
          elements.length <= 10 &&
          elements.every((element) => isText(element, 3000))
        );
      }
      default:
        return false;
    }
  });
}

function sectionTexts(blocks: unknown): string[] {
  if (!Array.isArray(blocks)) return [];
  return blocks.flatMap((block: { type?: unknown; text?: TextObject }) =>
    block?.type === 'section' && typeof block.text?.text === 'string' ? [block.text.text] : [],
  );
}
