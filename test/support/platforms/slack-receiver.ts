/**
 * A Slack incoming webhook on 127.0.0.1: checks requests the way `hooks.slack.com/services/T…/B…/…` does (the
 * token in the path, the JSON shape, Block Kit limits, about one message a second) and answers like it: 200 `ok`
 * on success, Slack's plain-text error names otherwise, 429 `rate_limited` with `Retry-After`.
 */
import type { ReceivedWebhookRequest, WebhookResponse } from '../../../lib/simulator/webhook-receiver.ts';
import {
  createFixedWindow,
  createPlatformReceiver,
  type PlatformReceiver,
  parseJsonObject,
} from './platform-receiver.ts';

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

/** A Slack-like incoming webhook; `posted` holds what Slack would have shown in the channel. */
export type SlackReceiver = PlatformReceiver<SlackPostedMessage>;

const TEAM = 'T0DLIWATCH';
const BOT = 'B0DLIWATCH';

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

    const message = parseJsonObject(request.body);
    if (message === undefined) return slackError(400, 'invalid_payload');
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

  return createPlatformReceiver({
    respond,
    now,
    webhookUrl: (base) => `${base}/services/${TEAM}/${BOT}/${options.token}`,
    posted,
  });
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
