/**
 * A Feishu / Lark custom bot on 127.0.0.1: checks each request the way Feishu does (hook token, body size, JSON
 * shape of an interactive card, IP allowlist, signature and its one-hour window, keywords, 5/s and 100/min) and
 * answers with Feishu's own bodies — HTTP 200 with a `code`, also for the messages it rejects.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  createWebhookReceiver,
  type ReceivedWebhookRequest,
  type WebhookResponse,
} from '../../../lib/simulator/webhook-receiver.ts';

export const FEISHU_HOOK_PATH = '/open-apis/bot/v2/hook/';
/** Feishu says "20 KB"; the receiver takes the stricter reading. */
export const FEISHU_RECEIVER_MAX_BODY_BYTES = 20_000;
const SIGNATURE_WINDOW_SECONDS = 3600;
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
export interface FeishuAcceptedMessage {
  body: Record<string, unknown>;
  /** Every `lark_md` text of the card, in order. */
  larkMd: string[];
  /** Ids in `<at id=…></at>` tags of `lark_md` texts: the people the card notifies (`all` for everyone). */
  mentioned: string[];
}

export interface FeishuReceiver {
  /** Listens on a free port; resolves to the hook URL, `http://127.0.0.1:<port>/open-apis/bot/v2/hook/<token>`. */
  start(): Promise<string>;
  close(): Promise<void>;
  readonly requests: readonly ReceivedWebhookRequest[];
  readonly accepted: readonly FeishuAcceptedMessage[];
  /** Answers the next requests with these, before any check (to play server trouble). */
  respondNext(...responses: WebhookResponse[]): void;
}

export function createFeishuReceiver(options: FeishuReceiverOptions = {}): FeishuReceiver {
  const token = options.token ?? 'test-token';
  const now = options.now ?? Date.now;
  const accepted: FeishuAcceptedMessage[] = [];
  const acceptedAt: number[] = [];

  const answer = (code: number, msg: string): WebhookResponse => ({
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ code, data: {}, msg }),
  });

  function respond(request: ReceivedWebhookRequest): WebhookResponse {
    if (request.method !== 'POST' || request.path !== `${FEISHU_HOOK_PATH}${token}`) {
      return { ...answer(19001, 'param invalid: incoming webhook access token invalid'), status: 404 };
    }
    if (Buffer.byteLength(request.body, 'utf8') > FEISHU_RECEIVER_MAX_BODY_BYTES)
      return answer(9499, 'Bad Request');
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      return answer(9499, 'Bad Request');
    }
    if (!isObject(body)) return answer(9499, 'Bad Request');
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
    const lastSecond = acceptedAt.filter((time) => time > at - 1000).length;
    const lastMinute = acceptedAt.filter((time) => time > at - 60_000).length;
    if (lastSecond >= PER_SECOND || lastMinute >= PER_MINUTE) {
      return answer(11232, 'frequency limited psm[lark.oapi.app_platform_runtime]appID[-1]');
    }
    acceptedAt.push(at);
    const larkMd = larkMdTexts(body);
    accepted.push({
      body,
      larkMd,
      mentioned: larkMd.flatMap((text) =>
        [...text.matchAll(/<at id=([^>\s]+)><\/at>/g)].map((match) => match[1] ?? ''),
      ),
    });
    if (options.legacySuccessBody) {
      return {
        status: 200,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ Extra: null, StatusCode: 0, StatusMessage: 'success' }),
      };
    }
    return {
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ StatusCode: 0, StatusMessage: 'success', code: 0, data: {}, msg: 'success' }),
    };
  }

  const receiver = createWebhookReceiver({ respond, now });
  return {
    async start() {
      return `${await receiver.start()}${FEISHU_HOOK_PATH}${token}`;
    },
    close: () => receiver.close(),
    get requests() {
      return receiver.requests;
    },
    get accepted() {
      return accepted;
    },
    respondNext: (...responses) => receiver.respondNext(...responses),
  };
}

/** Feishu's check: `timestamp` (seconds, as a string) within an hour, and `sign` = Base64 HMAC over "" keyed by it. */
function validSignature(body: Record<string, unknown>, secret: string, nowMs: number): boolean {
  const { timestamp, sign } = body;
  if (typeof timestamp !== 'string' || !/^\d+$/.test(timestamp) || typeof sign !== 'string') return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > SIGNATURE_WINDOW_SECONDS) return false;
  const expected = createHmac('sha256', `${timestamp}\n${secret}`).update('').digest();
  const given = Buffer.from(sign, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Every text of a message Feishu would show, or `undefined` when the message is not one Feishu accepts: a `text`
 * message, or an interactive card whose header and elements have the JSON 1.0 shape.
 */
function cardTexts(body: Record<string, unknown>): string[] | undefined {
  if (body.msg_type === 'text') {
    const content = body.content;
    return isObject(content) && typeof content.text === 'string' ? [content.text] : undefined;
  }
  if (body.msg_type !== 'interactive' || !isObject(body.card)) return undefined;
  const { header, elements } = body.card;
  const texts: string[] = [];
  if (header !== undefined) {
    if (!isObject(header) || !isText(header.title) || header.title.tag !== 'plain_text') return undefined;
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
  if (!isObject(element)) return undefined;
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
          if (!isObject(field) || typeof field.is_short !== 'boolean' || !isText(field.text))
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
        if (!isObject(button) || button.tag !== 'button' || !isText(button.text)) return undefined;
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
    } else if (isObject(value)) {
      if (value.tag === 'lark_md' && typeof value.content === 'string') found.push(value.content);
      for (const child of Object.values(value)) walk(child);
    }
  };
  walk(body);
  return found;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isText(value: unknown): value is { tag: 'plain_text' | 'lark_md'; content: string } {
  return (
    isObject(value) &&
    (value.tag === 'plain_text' || value.tag === 'lark_md') &&
    typeof value.content === 'string'
  );
}
