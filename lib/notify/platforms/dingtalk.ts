import type { DailySummary, JobEvent } from '../../job.ts';
import type { ChatDestination, Mentions } from '../destination.ts';
import { describeDailySummary } from '../render/daily-summary-facts.ts';
import {
  type DigestSummary,
  digestMentions,
  fitSections,
  formatDigestLine,
  summarizeDigest,
} from '../render/digest.ts';
import { describeJobEvent, mentionsFor, type RenderContext } from '../render/job-facts.ts';
import { markdownLink } from '../render/links.ts';
import { countJsonStringBytes, fitEscaped, oneLine, truncateText } from '../render/text-fit.ts';
import { describeAnswer, judgeCommonAnswer } from './common-answers.ts';
import { jsonBodyBytes, parseJsonObject, postJson } from './json-body.ts';
import type { ChatPlatform, DeliveryOutcome, OutgoingRequest, PlatformResponse } from './platform.ts';
import { hmacSha256Base64 } from './signing.ts';

/**
 * DingTalk refuses messages over 20,000 bytes (errcode 460101, "message too long, exceed 20000 bytes"). We keep
 * the whole JSON body within that, so the markdown text is within it whichever of the two DingTalk counts.
 */
export const DINGTALK_BODY_MAX_BYTES = 20_000;
/** After errcode 130101 DingTalk throttles the robot for 10 minutes: nothing sent before then can arrive. */
export const DINGTALK_THROTTLE_PAUSE_MS = 10 * 60_000;
/** The notification preview (`markdown.title`) and the heading stay one short line (our choice). */
const TITLE_MAX_CHARS = 100;
/** One label/value line: enough for a long tag list, small enough to leave room for the error and SQL. */
const FIELD_VALUE_MAX_BYTES = 500;
/** The error text gets this much first; the SQL gets whatever room is left after it. */
const ERROR_MAX_BYTES = 8_000;
/** A section with less room than this would show a few characters: it is left out instead. */
const MIN_SECTION_BYTES = 64;
const FOOTER_MAX_CHARS = 200;
/** A link cut short points somewhere else: longer console links are left out. */
const URL_MAX_CHARS = 2_000;
/** Mentions beyond this many people are left out, so a long list cannot crowd the message out of its limit. */
const MAX_MENTIONS = 50;
/** Digits, optionally with `+` and `-` (`+86-13800000000`): a mobile number; anything else is a user id. */
const MOBILE = /^\+?\d[\d-]*$/;
/** A user id that cannot break the markdown text it is written into; others are left out. */
const SAFE_USER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** A custom-robot markdown message. */
export interface DingTalkMarkdownMessage {
  msgtype: 'markdown';
  /** `title` is what the notification and the chat list show; `text` is the message. */
  markdown: { title: string; text: string };
  at: { atMobiles: string[]; atUserIds: string[]; isAtAll: boolean };
}

// Characters that start markup anywhere in a line, and those that do only at its start (headings, quotes, lists,
// setext underlines, numbered lists).
const INLINE_MARKUP = /[\\`*_[\]<~]/g;
const LINE_START_MARK = /^(\s*)([#>+=-])/;
const LINE_START_NUMBER = /^(\s*\d+)([.)])/;

/**
 * Escapes user text for DingTalk markdown with CommonMark backslash escapes: inline markup (`*`, `_`, `` ` ``,
 * `[`, `]`, `<`, `~`, `\`) everywhere, and heading, quote and list markers at the start of a line. Line breaks are
 * kept; each caller decides how a line break is laid out.
 */
export function escapeDingTalkMarkdown(text: string): string {
  return text
    .split('\n')
    .map((line) =>
      line
        .replace(INLINE_MARKUP, '\\$&')
        .replace(LINE_START_MARK, '$1\\$2')
        .replace(LINE_START_NUMBER, '$1\\$2'),
    )
    .join('\n');
}

/** Escapes text written inside a line (after a label), where only inline markup matters. */
function escapeInline(text: string): string {
  return text.replace(INLINE_MARKUP, '\\$&');
}

/** The DingTalk signature: HMAC-SHA256 keyed by the secret over `timestamp + "\n" + secret`, Base64. */
export function signDingTalk(secret: string, timestampMs: number): string {
  return hmacSha256Base64(secret, `${timestampMs}\n${secret}`);
}

/**
 * The robot URL with `timestamp` (ms) and `sign` (URL-encoded) added to its query, next to its `access_token`.
 * DingTalk accepts the timestamp only within an hour of its own clock.
 */
export function signDingTalkUrl(url: string, secret: string, timestampMs: number): string {
  const signed = new URL(url);
  // URLSearchParams percent-encodes the Base64 `+`, `/` and `=`, which is the URL-encoding DingTalk asks for.
  signed.searchParams.set('timestamp', String(timestampMs));
  signed.searchParams.set('sign', signDingTalk(secret, timestampMs));
  return signed.toString();
}

/**
 * The `at` block and the `@…` text that goes with it. DingTalk notifies a mobile or user id only when it is in
 * `atMobiles`/`atUserIds` and `@<it>` is written in the text too. Entries of digits (with `+`/`-`) are mobiles,
 * others user ids; ids that could break the markdown are left out. DingTalk has no group mention:
 * `mentions.groups` is not used.
 */
export function dingTalkMentions(mentions: Mentions): { at: DingTalkMarkdownMessage['at']; text: string } {
  const entries = [...new Set(mentions.users.map((entry) => entry.trim()))].slice(0, MAX_MENTIONS);
  const atMobiles = entries.filter((entry) => MOBILE.test(entry));
  const atUserIds = entries.filter((entry) => !MOBILE.test(entry) && SAFE_USER_ID.test(entry));
  return {
    at: { atMobiles, atUserIds, isAtAll: mentions.all },
    text: [...atMobiles, ...atUserIds].map((entry) => `@${entry}`).join(' '),
  };
}

/**
 * The markdown message for one event: a heading with the status emoji, the mentions (FAILED only), the facts as a
 * list, the error (FAILED) and the SQL as quotes cut to fit, the console link, and the project. The serialized
 * body is at most {@link DINGTALK_BODY_MAX_BYTES}, whatever the event holds.
 */
export function renderDingTalkMessage(
  event: JobEvent,
  destination: ChatDestination,
  context: RenderContext,
): DingTalkMarkdownMessage {
  const facts = describeJobEvent(event, context);
  const mentions = dingTalkMentions(mentionsFor(facts.type, destination.mentions));
  const heading = `### ${facts.statusEmoji} ${escapeInline(truncateText(oneLine(facts.title), TITLE_MAX_CHARS))} · ${escapeInline(facts.shortJobId)}`;
  const fieldList = facts.fields
    .map(
      ({ label, value }) =>
        `- **${label}**: ${fitEscaped(oneLine(value), FIELD_VALUE_MAX_BYTES, countJsonStringBytes, escapeInline)}`,
    )
    .join('\n');
  const link =
    facts.consoleUrl !== undefined && facts.consoleUrl.length <= URL_MAX_CHARS
      ? markdownLink(facts.text.openInConsole, facts.consoleUrl)
      : undefined;
  const footer = escapeInline(
    truncateText(oneLine(facts.text.project(facts.projectId, facts.region)), FOOTER_MAX_CHARS),
  );

  // The error and the SQL share the room the rest leaves, error first (what a person acts on). Adding text to the
  // markdown string grows the body by exactly its JSON size.
  const compose = (error: string | undefined, sql: string | undefined): DingTalkMarkdownMessage => ({
    msgtype: 'markdown',
    markdown: {
      title: truncateText(oneLine(facts.headline), TITLE_MAX_CHARS),
      text: [
        heading,
        mentions.text,
        fieldList,
        error === undefined ? '' : `**${facts.text.error}**\n\n> ${error}`,
        sql === undefined ? '' : `**${facts.text.sql}**\n\n> ${sql}`,
        link ?? '',
        footer,
      ]
        .filter((block) => block !== '')
        .join('\n\n'),
    },
    at: mentions.at,
  });
  const placeholder = (raw: string | undefined) => (raw === undefined ? undefined : '');
  let room =
    DINGTALK_BODY_MAX_BYTES -
    jsonBodyBytes(compose(placeholder(facts.failureMessage), placeholder(facts.statement)));
  const fitSection = (raw: string | undefined, maxBytes: number): string | undefined => {
    if (raw === undefined || maxBytes < MIN_SECTION_BYTES) return undefined;
    const text = fitEscaped(raw.replace(/\r\n?/g, '\n'), maxBytes, countJsonStringBytes, quoted);
    room -= countJsonStringBytes(text);
    return text;
  };
  const error = fitSection(facts.failureMessage, Math.min(room, ERROR_MAX_BYTES));
  const sql = fitSection(facts.statement, room);
  return compose(error, sql);
}

/**
 * One message for many events: "12 DLI jobs ended", the counts by status, the mentions when any job FAILED, and
 * one list item per job (failures first) cut to fit with "… and N more".
 */
export function renderDingTalkDigest(
  events: readonly JobEvent[],
  destination: ChatDestination,
  context: RenderContext,
): DingTalkMarkdownMessage {
  return layOutDingTalkDigest(summarizeDigest(events, context), destination);
}

/**
 * A daily summary in the digest's layout: the day as the heading, its counts, then each list under its own
 * heading, all cut to fit with "… and N more". It mentions nobody.
 */
export function renderDingTalkSummary(
  summary: DailySummary,
  destination: ChatDestination,
  context: RenderContext,
): DingTalkMarkdownMessage {
  return layOutDingTalkDigest(describeDailySummary(summary, context), destination);
}

/** The markdown message of a digest or a summary, its body within {@link DINGTALK_BODY_MAX_BYTES}. */
function layOutDingTalkDigest(digest: DigestSummary, destination: ChatDestination): DingTalkMarkdownMessage {
  const mentions = dingTalkMentions(digestMentions(digest, destination.mentions));
  const title = truncateText(oneLine(digest.title), TITLE_MAX_CHARS);
  const compose = (lists: string): DingTalkMarkdownMessage => ({
    msgtype: 'markdown',
    markdown: {
      title,
      text: [`### ${escapeInline(title)}`, `**${escapeInline(digest.counts)}**`, mentions.text, lists]
        .filter((block) => block !== '')
        .join('\n\n'),
    },
    at: mentions.at,
  });
  const room = DINGTALK_BODY_MAX_BYTES - jsonBodyBytes(compose('')) - countJsonStringBytes('\n\n');
  return compose(
    fitSections(digest.sections, room, countJsonStringBytes, {
      separator: '\n',
      sectionSeparator: '\n\n',
      // A heading ends at its line break, so the list can start on the next line.
      heading: (text) => `#### ${escapeInline(truncateText(oneLine(text), TITLE_MAX_CHARS))}`,
      // A list item's text is parsed as blocks: a queue line starting with "#" or "-" is escaped like a line start.
      line: (line) => `- ${formatDigestLine(line, escapeDingTalkMarkdown, markdownLink)}`,
      more: (hidden) => `- ${escapeInline(digest.text.digest.more(hidden))}`,
    }),
  );
}

/** DingTalk's answer codes that mean something to us. */
const DINGTALK_ERRCODE_HINTS: Record<number, string> = {
  130101: 'more than 20 messages a minute: DingTalk throttles this robot for 10 minutes',
  310000: 'security check failed: signature, timestamp, keyword or IP allowlist',
  460101: 'message too long',
};

/**
 * DingTalk custom robot: a markdown message, signed in the URL query when the destination has a secret (`SEC…`).
 * DingTalk answers HTTP 200 for rejected messages, so success is body `errcode` 0.
 */
export const dingtalkPlatform: ChatPlatform = {
  kind: 'chat',
  signingSecret: {
    accepts: (text) => text.startsWith('SEC') && text.length > 'SEC'.length,
    rule: 'must start with "SEC" (the signing secret from the robot\'s security settings)',
  },
  webhookHosts: { hosts: ['oapi.dingtalk.com'] },
  // Published per robot: 20 messages a minute (more gets the robot throttled for 10 minutes).
  rateLimit: { perMinute: 20 },
  render(event, destination, context) {
    return dingTalkPost(destination, context, renderDingTalkMessage(event, destination, context));
  },
  renderDigest(events, destination, context) {
    return dingTalkPost(destination, context, renderDingTalkDigest(events, destination, context));
  },
  renderSummary(summary, destination, context) {
    return dingTalkPost(destination, context, renderDingTalkSummary(summary, destination, context));
  },
  judge(response: PlatformResponse): DeliveryOutcome {
    const common = judgeCommonAnswer(response);
    if (common) return common;
    const errcode = dingTalkErrcode(response.body);
    const hint = errcode === undefined ? undefined : DINGTALK_ERRCODE_HINTS[errcode];
    const reason = hint === undefined ? describeAnswer(response) : `${describeAnswer(response)} (${hint})`;
    if (errcode === 130101) {
      // Sending anything sooner only meets the same refusal: hold this delivery and the whole destination.
      return {
        kind: 'retry',
        reason,
        retryAfterMs: DINGTALK_THROTTLE_PAUSE_MS,
        pauseDestinationMs: DINGTALK_THROTTLE_PAUSE_MS,
      };
    }
    const success = response.status >= 200 && response.status < 300;
    if (errcode === 0 && success) return { kind: 'delivered' };
    if (errcode !== undefined && errcode !== 0) return { kind: 'reject', reason };
    if (success) return { kind: 'retry', reason: `${reason} (no errcode 0: not proven delivered)` };
    return { kind: 'reject', reason };
  },
};

function dingTalkPost(
  destination: ChatDestination,
  context: RenderContext,
  message: DingTalkMarkdownMessage,
): OutgoingRequest {
  const url = destination.secret
    ? signDingTalkUrl(destination.url, destination.secret, Math.floor(context.now))
    : destination.url;
  return postJson(url, message);
}

function dingTalkErrcode(body: string): number | undefined {
  const errcode = parseJsonObject(body)?.errcode;
  return typeof errcode === 'number' ? errcode : undefined;
}

/** A quoted block's text after its first `> `: escaped, each line break starting a new quoted line. */
function quoted(text: string): string {
  return escapeDingTalkMarkdown(text).replace(/\n/g, '  \n> ');
}
