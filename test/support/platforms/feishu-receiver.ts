/**
 * A Feishu / Lark custom bot on 127.0.0.1: checks each request the way Feishu does (hook token, body size, JSON
 * shape of an interactive card, IP allowlist, signature and its one-hour window, keywords, 5/s and 100/min) and
 * answers with Feishu's own bodies — HTTP 200 with a `code`, also for the messages it rejects.
 */
import { createHmac } from 'node:crypto';
import type { ReceivedWebhookRequest, WebhookResponse } from '../../../lib/simulator/webhook-receiver.ts';
import {
  createPlatformReceiver,
  createSlidingWindow,
  isRecord,
  isSignature,
  isTimestampWithin,
  jsonAnswer,
  type PlatformReceiver,
  parseJsonObject,
} from './platform-receiver.ts';

export const FEISHU_HOOK_PATH = '/open-apis/bot/v2/hook/';
/** Feishu says "20 KB"; the receiver takes the stricter reading. */
export const FEISHU_RECEIVER_MAX_BODY_BYTES = 20_000;
const SIGNATURE_WINDOW_SECONDS = 3600;
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };
const PER_SECOND = 5;
const PER_MINUTE = 100;
const HEADER_TEMPLATES = new Set([
  'blue',
  'wathet',
  'turquoise',
  'green',
  'yellow',
  'orange',
  'red',
  'carmine',
  'violet',
  'purple',
  'indigo',
  'grey',
  'default',
]);

export interface FeishuReceiverOptions {
  /** The token in the hook path. Default `test-token`. */
  token?: string;
  /** The bot's signing secret; `null` (default) when the bot does not check signatures. */
  secret?: string | null;
  /** The bot's custom keywords: a message must contain one. Default none. */
  keywords?: readonly string[];
  /** `false` answers 19022 as if the sender's IP were not on the bot's allowlist. Default `true`. */
  ipAllowed?: boolean;
  /** Answer success the way older endpoints do: `{"Extra":null,"StatusCode":0,"StatusMessage":"success"}` only. */
  legacySuccessBody?: boolean;
  /** Feishu's clock, epoch ms. Default `Date.now`. */
  now?: () => number;
}

/** A message the bot posted, with what a reader would see notify them. */
export interface FeishuPostedMessage {
  body: Record<string, unknown>;
  /** Every `lark_md` text of the card, in order. */
  larkMd: string[];
  /** Ids in `<at id=…></at>` tags of `lark_md` texts: the people the card notifies (`all` for everyone). */
  mentioned: string[];
}

/**
 * A Feishu-like custom bot; `start()` resolves to `http://127.0.0.1:<port>/open-apis/bot/v2/hook/<token>`, and
 * `posted` holds the messages the bot posted.
 */
export type FeishuReceiver = PlatformReceiver<FeishuPostedMessage>;

export function createFeishuReceiver(options: FeishuReceiverOptions = {}): FeishuReceiver {
  const token = options.token ?? 'test-token';
  const now = options.now ?? Date.now;
  const posted: FeishuPostedMessage[] = [];
  const second = createSlidingWindow(PER_SECOND, 1000);
  const minute = createSlidingWindow(PER_MINUTE, 60_000);

  // Feishu answers HTTP 200 to what it refuses too, its verdict in the body.
  const reply = (body: unknown): WebhookResponse => jsonAnswer(200, body, JSON_HEADERS);
  const answer = (code: number, msg: string): WebhookResponse => reply({ code, data: {}, msg });

  function respond(request: ReceivedWebhookRequest): WebhookResponse {
    if (request.method !== 'POST' || request.path !== `${FEISHU_HOOK_PATH}${token}`) {
      return { ...answer(19001, 'param invalid: incoming webhook access token invalid'), status: 404 };
    }
    if (Buffer.byteLength(request.body, 'utf8') > FEISHU_RECEIVER_MAX_BODY_BYTES)
      return answer(9499, 'Bad Request');
    const body = parseJsonObject(request.body);
    if (body === undefined) return answer(9499, 'Bad Request');
    if (options.ipAllowed === false) return answer(19022, 'Ip Not Allowed');
    if (options.secret && !validSignature(body, options.secret, now())) {
      return answer(19021, 'sign match fail or timestamp is not within one hour from current time');
    }
    const texts = cardTexts(body);
    if (texts === undefined) return answer(9499, 'Bad Request');
    const keywords = options.keywords ?? [];
    if (keywords.length > 0 && !keywords.some((keyword) => texts.some((text) => text.includes(keyword)))) {
      return answer(19024, 'Key Words Not Found');
    }
    const at = now();
    if (!second.hasRoom(at) || !minute.hasRoom(at)) {
      return answer(11232, 'frequency limited psm[lark.oapi.app_platform_runtime]appID[-1]');
    }
    second.record(at);
    minute.record(at);
    const larkMd = larkMdTexts(body);
    posted.push({
      body,
      larkMd,
      mentioned: larkMd.flatMap((text) =>
        [...text.matchAll(/<at id=([^>\s]+)><\/at>/g)].map((match) => match[1] ?? ''),
      ),
    });
    if (options.legacySuccessBody) return reply({ Extra: null, StatusCode: 0, StatusMessage: 'success' });
    return reply({ StatusCode: 0, StatusMessage: 'success', code: 0, data: {}, msg: 'success' });
  }

  return createPlatformReceiver({
    respond,
    now,
    webhookUrl: (base) => `${base}${FEISHU_HOOK_PATH}${token}`,
    posted,
  });
}

/** Feishu's check: `timestamp` (seconds, as a string) within an hour, and `sign` = Base64 HMAC over "" keyed by it. */
function validSignature(body: Record<string, unknown>, secret: string, nowMs: number): boolean {
  const { timestamp, sign } = body;
  if (!isTimestampWithin(timestamp, nowMs / 1000, SIGNATURE_WINDOW_SECONDS) || typeof sign !== 'string') {
    return false;
  }
  return isSignature(sign, createHmac('sha256', `${timestamp}\n${secret}`).update('').digest());
}

/**
 * Every text of a message Feishu would show, or `undefined` when the message is not one Feishu accepts: a `text`
 * message, or an interactive card whose header and elements have the JSON 1.0 shape.
 */
function cardTexts(body: Record<string, unknown>): string[] | undefined {
  if (body.msg_type === 'text') {
    const content = body.content;
    return isRecord(content) && typeof content.text === 'string' ? [content.text] : undefined;
  }
  if (body.msg_type !== 'interactive' || !isRecord(body.card)) return undefined;
  const { header, elements } = body.card;
  const texts: string[] = [];
  if (header !== undefined) {
    if (!isRecord(header) || !isText(header.title) || header.title.tag !== 'plain_text') return undefined;
    if (header.template !== undefined && !HEADER_TEMPLATES.has(String(header.template))) return undefined;
    texts.push(header.title.content);
  }
  if (!Array.isArray(elements) || elements.length === 0) return undefined;
  for (const element of elements) {
    const elementTexts = elementTextsOf(element);
    if (elementTexts === undefined) return undefined;
    texts.push(...elementTexts);
  }
  return texts;
}

function elementTextsOf(element: unknown): string[] | undefined {
  if (!isRecord(element)) return undefined;
  switch (element.tag) {
    case 'hr':
      return [];
    case 'div': {
      const texts: string[] = [];
      if (element.text !== undefined) {
        if (!isText(element.text)) return undefined;
        texts.push(element.text.content);
      }
      if (element.fields !== undefined) {
        if (!Array.isArray(element.fields)) return undefined;
        for (const field of element.fields) {
          if (!isRecord(field) || typeof field.is_short !== 'boolean' || !isText(field.text))
            return undefined;
          texts.push(field.text.content);
        }
      }
      return texts.length > 0 ? texts : undefined;
    }
    case 'note':
      return Array.isArray(element.elements) && element.elements.every(isText)
        ? element.elements.map((text) => text.content)
        : undefined;
    case 'action': {
      if (!Array.isArray(element.actions)) return undefined;
      const texts: string[] = [];
      for (const button of element.actions) {
        if (!isRecord(button) || button.tag !== 'button' || !isText(button.text)) return undefined;
        if (typeof button.url !== 'string' || !/^https?:\/\//.test(button.url)) return undefined;
        texts.push(button.text.content);
      }
      return texts;
    }
    default:
      return undefined;
  }
}

function larkMdTexts(body: Record<string, unknown>): string[] {
  const found: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
    } else if (isRecord(value)) {
      if (value.tag === 'lark_md' && typeof value.content === 'string') found.push(value.content);
      for (const child of Object.values(value)) walk(child);
    }
  };
  walk(body);
  return found;
}

function isText(value: unknown): value is { tag: 'plain_text' | 'lark_md'; content: string } {
  return (
    isRecord(value) &&
    (value.tag === 'plain_text' || value.tag === 'lark_md') &&
    typeof value.content === 'string'
  );
}
