/**
 * A WeCom group robot on 127.0.0.1: checks requests the way `qyapi.weixin.qq.com/cgi-bin/webhook/send` does
 * (the `key`, the JSON shape per `msgtype`, the UTF-8 byte limits, 20 messages a minute) and answers like it:
 * always HTTP 200, with `errcode` 0 on success and WeCom's error codes and messages otherwise.
 */
import type { ReceivedWebhookRequest, WebhookResponse } from '../../../lib/simulator/webhook-receiver.ts';
import {
  createPlatformReceiver,
  createSlidingWindow,
  isStringArray,
  jsonAnswer,
  type PlatformReceiver,
  parseJsonObject,
} from './platform-receiver.ts';

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

/** A WeCom-like robot; `posted` holds the messages WeCom would have shown in the group. */
export type WecomReceiver = PlatformReceiver<WecomPostedMessage>;

const MARKDOWN_MAX_BYTES = 4096;
const TEXT_MAX_BYTES = 2048;

let hintCounter = 1714538355214402000n;

/** WeCom's errmsg shape: the message, then a request hint, the caller's IP and a link to the error code. */
function errorAnswer(errcode: number, message: string): WebhookResponse {
  hintCounter += 1n;
  return json({
    errcode,
    errmsg: `${message}, hint: [${hintCounter}], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=${errcode}`,
  });
}

/** WeCom answers HTTP 200 to everything, its verdict in the body. */
function json(body: unknown): WebhookResponse {
  return jsonAnswer(200, body, { 'content-type': 'application/json; charset=UTF-8' });
}

/** Creates a WeCom-like robot; call `start()` to listen. */
export function createWecomReceiver(options: WecomReceiverOptions): WecomReceiver {
  const now = options.now ?? Date.now;
  const minute = createSlidingWindow(options.messagesPerMinute ?? 20, 60_000);
  const posted: WecomPostedMessage[] = [];

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
    if (!minute.hasRoom(at)) return errorAnswer(WECOM_ERRCODE.freqOutOfLimit, 'api freq out of limit');
    minute.record(at);

    const body = parseJsonObject(request.body);
    if (body === undefined) return errorAnswer(WECOM_ERRCODE.dataFormatError, 'data format error');

    const msgtype = body.msgtype;
    if (msgtype !== 'markdown' && msgtype !== 'text') {
      return errorAnswer(WECOM_ERRCODE.invalidMessageType, 'invalid message type');
    }
    const message = body[msgtype] as Record<string, unknown> | undefined;
    const content = message?.content;
    if (typeof content !== 'string' || content === '') {
      return errorAnswer(WECOM_ERRCODE.emptyContent, 'empty content');
    }
    const maxBytes = msgtype === 'markdown' ? MARKDOWN_MAX_BYTES : TEXT_MAX_BYTES;
    if (Buffer.byteLength(content, 'utf8') > maxBytes) {
      return errorAnswer(
        WECOM_ERRCODE.contentTooLong,
        `${msgtype}.content exceed max length ${maxBytes}. invalid Request Parameter`,
      );
    }
    // Only a text message can mention people: markdown has no mention lists.
    const mentionedList = msgtype === 'text' ? (message?.mentioned_list ?? []) : [];
    const mentionedMobileList = msgtype === 'text' ? (message?.mentioned_mobile_list ?? []) : [];
    if (!isStringArray(mentionedList) || !isStringArray(mentionedMobileList)) {
      return errorAnswer(WECOM_ERRCODE.dataFormatError, 'data format error');
    }
    posted.push({ msgtype, content, mentionedList, mentionedMobileList, receivedAt: at });
    return json({ errcode: 0, errmsg: 'ok' });
  }

  return createPlatformReceiver({
    respond,
    now,
    webhookUrl: (base) => `${base}/cgi-bin/webhook/send?key=${encodeURIComponent(options.key)}`,
    posted,
  });
}
