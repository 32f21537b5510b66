/**
 * A WeCom group robot on 127.0.0.1: checks requests the way `qyapi.weixin.qq.com/cgi-bin/webhook/send` does
 * (the `key`, the JSON shape per `msgtype`, the UTF-8 byte limits, 20 messages a minute) and answers like it:
 * always HTTP 200, with `errcode` 0 on success and WeCom's error codes and messages otherwise.
 */
import {
  createWebhookReceiver,
  type ReceivedWebhookRequest,
  type WebhookReceiver,
  type WebhookResponse,
} from '../../../lib/simulator/webhook-receiver.ts';

export const WECOM_ERRCODE = {
  ok: 0,
  /** The `msgtype` is missing or unknown. */
  invalidMessageType: 40008,
  /** `markdown.content` over 4096 bytes, `text.content` over 2048 bytes. */
  contentTooLong: 40058,
  /** Empty `content`. */
  emptyContent: 44004,
  /** Over 20 messages in a minute. */
  freqOutOfLimit: 45009,
  /** The body is not JSON. */
  dataFormatError: 47001,
  /** Unknown or missing `key`. */
  invalidWebhookUrl: 93000,
} as const;

/** A message the robot accepted and posted to the group. */
export interface WecomPostedMessage {
  msgtype: 'markdown' | 'text';
  content: string;
  mentionedList: string[];
  mentionedMobileList: string[];
  receivedAt: number;
}

export interface WecomReceiverOptions {
  /** The robot's key: the only credential a WeCom webhook has. */
  key: string;
  /** Clock for the rate limit window (and `receivedAt`). Default `Date.now`. */
  now?: () => number;
  /** Default 20, WeCom's published limit. */
  messagesPerMinute?: number;
}

export interface WecomReceiver {
  /** Listens; resolves to the robot's webhook URL, key included. */
  start(): Promise<string>;
  close(): Promise<void>;
  /** The underlying receiver: every request as sent, and `respondNext` to script server trouble. */
  readonly http: WebhookReceiver;
  /** Messages WeCom would have shown in the group. */
  readonly posted: readonly WecomPostedMessage[];
}

const MARKDOWN_MAX_BYTES = 4096;
const TEXT_MAX_BYTES = 2048;
const WINDOW_MS = 60_000;

let hintCounter = 1714538355214402000n;

/** WeCom's errmsg shape: the message, then a request hint, the caller's IP and a link to the error code. */
function errorAnswer(errcode: number, message: string): WebhookResponse {
  hintCounter += 1n;
  return json({
    errcode,
    errmsg: `${message}, hint: [${hintCounter}], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=${errcode}`,
  });
}

function json(body: unknown): WebhookResponse {
  return {
    status: 200,
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json; charset=UTF-8' },
  };
}

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((entry) => typeof entry === 'string');

/** Creates a WeCom-like robot; call `start()` to listen. */
export function createWecomReceiver(options: WecomReceiverOptions): WecomReceiver {
  const now = options.now ?? Date.now;
  const limit = options.messagesPerMinute ?? 20;
  const posted: WecomPostedMessage[] = [];
  const sentAt: number[] = [];

  function respond(request: ReceivedWebhookRequest): WebhookResponse {
    const url = new URL(request.path, 'http://robot.invalid');
    if (request.method !== 'POST' || url.pathname !== '/cgi-bin/webhook/send') {
      return { status: 404, body: '' };
    }
    if (url.searchParams.get('key') !== options.key) {
      return errorAnswer(WECOM_ERRCODE.invalidWebhookUrl, 'invalid webhook url');
    }

    // The limit counts every call with a valid key in a sliding minute.
    const at = request.receivedAt;
    while (sentAt.length > 0 && (sentAt[0] ?? 0) <= at - WINDOW_MS) sentAt.shift();
    if (sentAt.length >= limit) return errorAnswer(WECOM_ERRCODE.freqOutOfLimit, 'api freq out of limit');
    sentAt.push(at);

    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(request.body);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      return errorAnswer(WECOM_ERRCODE.dataFormatError, 'data format error');
    }

    if (body.msgtype === 'markdown') {
      const markdown = body.markdown as { content?: unknown } | undefined;
      const content = markdown?.content;
      if (typeof content !== 'string' || content === '') {
        return errorAnswer(WECOM_ERRCODE.emptyContent, 'empty content');
      }
      if (Buffer.byteLength(content, 'utf8') > MARKDOWN_MAX_BYTES) {
        return errorAnswer(
          WECOM_ERRCODE.contentTooLong,
          `markdown.content exceed max length ${MARKDOWN_MAX_BYTES}. invalid Request Parameter`,
        );
      }
      posted.push({
        msgtype: 'markdown',
        content,
        mentionedList: [],
        mentionedMobileList: [],
        receivedAt: at,
      });
      return json({ errcode: 0, errmsg: 'ok' });
    }

    if (body.msgtype === 'text') {
      const text = body.text as Record<string, unknown> | undefined;
      const content = text?.content;
      if (typeof content !== 'string' || content === '') {
        return errorAnswer(WECOM_ERRCODE.emptyContent, 'empty content');
      }
      if (Buffer.byteLength(content, 'utf8') > TEXT_MAX_BYTES) {
        return errorAnswer(
          WECOM_ERRCODE.contentTooLong,
          `text.content exceed max length ${TEXT_MAX_BYTES}. invalid Request Parameter`,
        );
      }
      const mentionedList = text?.mentioned_list ?? [];
      const mentionedMobileList = text?.mentioned_mobile_list ?? [];
      if (!isStringArray(mentionedList) || !isStringArray(mentionedMobileList)) {
        return errorAnswer(WECOM_ERRCODE.dataFormatError, 'data format error');
      }
      posted.push({ msgtype: 'text', content, mentionedList, mentionedMobileList, receivedAt: at });
      return json({ errcode: 0, errmsg: 'ok' });
    }

    return errorAnswer(WECOM_ERRCODE.invalidMessageType, 'invalid message type');
  }

  const http = createWebhookReceiver({ respond, now });
  return {
    async start() {
      const base = await http.start();
      return `${base}/cgi-bin/webhook/send?key=${encodeURIComponent(options.key)}`;
    },
    close: () => http.close(),
    http,
    get posted() {
      return posted;
    },
  };
}
