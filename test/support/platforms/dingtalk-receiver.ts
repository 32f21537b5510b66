/**
 * A DingTalk custom robot on 127.0.0.1: checks each request the way DingTalk does (access token, signature in the
 * query and its one-hour window, IP allowlist, keywords, JSON shape, 20,000-byte text, 20 messages a minute) and
 * answers with DingTalk's own bodies — HTTP 200 with an `errcode`, also for the messages it rejects. Like DingTalk,
 * it throttles the robot for 10 minutes once a 21st message arrives within a minute.
 */
import { createHmac } from 'node:crypto';
import type { ReceivedWebhookRequest, WebhookResponse } from '../../../lib/simulator/webhook-receiver.ts';
import {
  createPlatformReceiver,
  createSlidingWindow,
  isRecord,
  isSignature,
  isStringArray,
  isTimestampWithin,
  jsonAnswer,
  type PlatformReceiver,
  parseJsonObject,
} from './platform-receiver.ts';

export const DINGTALK_SEND_PATH = '/robot/send';
export const DINGTALK_RECEIVER_MAX_TEXT_BYTES = 20_000;
const SIGNATURE_WINDOW_MS = 3600_000;
const PER_MINUTE = 20;
const THROTTLE_MS = 10 * 60_000;

export interface DingTalkReceiverOptions {
  /** The robot's `access_token`. Default `test-token`. */
  accessToken?: string;
  /** The robot's signing secret (`SEC…`); `null` (default) when the robot does not check signatures. */
  secret?: string | null;
  /** The robot's custom keywords: a message must contain one. Default none. */
  keywords?: readonly string[];
  /** `false` answers 310000 as if the sender's IP were not on the robot's allowlist. Default `true`. */
  ipAllowed?: boolean;
  /** DingTalk's clock, epoch ms. Default `Date.now`. */
  now?: () => number;
}

/** A message the robot posted, with who DingTalk notifies for it. */
export interface DingTalkPostedMessage {
  body: Record<string, unknown>;
  title: string;
  text: string;
  /** Mobiles in `at.atMobiles` that also appear as `@<mobile>` in the text: DingTalk notifies only those. */
  notifiedMobiles: string[];
  /** User ids in `at.atUserIds` that also appear as `@<id>` in the text. */
  notifiedUserIds: string[];
  atAll: boolean;
}

/**
 * A DingTalk-like robot; `start()` resolves to `http://127.0.0.1:<port>/robot/send?access_token=<token>`, and
 * `posted` holds the messages the robot posted.
 */
export type DingTalkReceiver = PlatformReceiver<DingTalkPostedMessage>;

export function createDingTalkReceiver(options: DingTalkReceiverOptions = {}): DingTalkReceiver {
  const accessToken = options.accessToken ?? 'test-token';
  const now = options.now ?? Date.now;
  const posted: DingTalkPostedMessage[] = [];
  const minute = createSlidingWindow(PER_MINUTE, 60_000);
  let throttledUntil = 0;

  const answer = (errcode: number, errmsg: string): WebhookResponse =>
    jsonAnswer(200, { errcode, errmsg }, { 'content-type': 'application/json;charset=utf-8' });

  function respond(request: ReceivedWebhookRequest): WebhookResponse {
    const url = new URL(request.path, 'http://127.0.0.1');
    if (request.method !== 'POST' || url.pathname !== DINGTALK_SEND_PATH)
      return { status: 404, body: 'Not Found' };
    if (url.searchParams.get('access_token') !== accessToken) return answer(300001, 'token is not exist');
    if (options.ipAllowed === false) return answer(310000, 'ip 127.0.0.1 not in whitelist');
    if (options.secret) {
      const timestamp = url.searchParams.get('timestamp') ?? '';
      // searchParams.get has already URL-decoded the sign, as DingTalk does.
      const sign = url.searchParams.get('sign') ?? '';
      if (!isTimestampWithin(timestamp, now(), SIGNATURE_WINDOW_MS))
        return answer(310000, 'invalid timestamp');
      const expected = createHmac('sha256', options.secret)
        .update(`${timestamp}\n${options.secret}`)
        .digest();
      if (!isSignature(sign, expected)) return answer(310000, 'sign not match');
    }
    const message = markdownMessage(parseJsonObject(request.body));
    if (message === undefined) return answer(300001, 'param error');
    if (Buffer.byteLength(message.text, 'utf8') > DINGTALK_RECEIVER_MAX_TEXT_BYTES) {
      return answer(460101, 'message too long, exceed 20000 bytes');
    }
    const keywords = options.keywords ?? [];
    if (keywords.length > 0 && !keywords.some((k) => message.text.includes(k) || message.title.includes(k))) {
      return answer(310000, 'keywords not in content');
    }
    const at = now();
    if (at < throttledUntil) return answer(130101, 'send too fast, exceed 20 times per minute');
    if (!minute.hasRoom(at)) {
      throttledUntil = at + THROTTLE_MS;
      return answer(130101, 'send too fast, exceed 20 times per minute');
    }
    minute.record(at);
    const mentionedInText = (entry: string) => message.text.includes(`@${entry}`);
    posted.push({
      body: message.body,
      title: message.title,
      text: message.text,
      notifiedMobiles: message.atMobiles.filter(mentionedInText),
      notifiedUserIds: message.atUserIds.filter(mentionedInText),
      atAll: message.isAtAll,
    });
    return answer(0, 'ok');
  }

  return createPlatformReceiver({
    respond,
    now,
    webhookUrl: (base) => `${base}${DINGTALK_SEND_PATH}?access_token=${accessToken}`,
    posted,
  });
}

interface ParsedMarkdownMessage {
  body: Record<string, unknown>;
  title: string;
  text: string;
  atMobiles: string[];
  atUserIds: string[];
  isAtAll: boolean;
}

/** The fields of a markdown message, or `undefined` when DingTalk would refuse its shape. */
function markdownMessage(body: Record<string, unknown> | undefined): ParsedMarkdownMessage | undefined {
  if (body === undefined || body.msgtype !== 'markdown' || !isRecord(body.markdown)) return undefined;
  const { title, text } = body.markdown;
  if (typeof title !== 'string' || title === '' || typeof text !== 'string' || text === '') return undefined;
  const at = body.at ?? {};
  if (!isRecord(at)) return undefined;
  const atMobiles = at.atMobiles ?? [];
  const atUserIds = at.atUserIds ?? [];
  if (!isStringArray(atMobiles) || !isStringArray(atUserIds)) return undefined;
  if (at.isAtAll !== undefined && typeof at.isAtAll !== 'boolean') return undefined;
  return { body, title, text, atMobiles, atUserIds, isAtAll: at.isAtAll === true };
}
