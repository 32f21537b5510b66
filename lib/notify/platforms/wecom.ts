import type { DailySummary, EventType, JobEvent } from '../../job.ts';
import { type Mentions, NO_MENTIONS } from '../destination.ts';
import type { Catalogue } from '../render/catalogue.ts';
import { describeDailySummary } from '../render/daily-summary-facts.ts';
import {
  type DigestSummary,
  digestMentions,
  fitSections,
  formatDigestLine,
  summarizeDigest,
} from '../render/digest.ts';
import { describeJobEvent, type JobFacts, mentionsFor, type RenderContext } from '../render/job-facts.ts';
import { markdownLink } from '../render/links.ts';
import {
  countUtf8Bytes,
  countUtf16Units,
  fitEscaped,
  oneLine,
  truncateToFit,
  ZERO_WIDTH_SPACE,
} from '../render/text-fit.ts';
import { describeAnswer, judgeCommonAnswer } from './common-answers.ts';
import { parseJsonObject, postJson } from './json-body.ts';
import type { ChatPlatform, DeliveryOutcome, PlatformResponse } from './platform.ts';

/** WeCom counts UTF-8 bytes, not characters: a CJK character is 3 bytes, most emoji 4. */
export const WECOM_MARKDOWN_MAX_BYTES = 4096;
/** The `text` message type (the only one that can mention people) allows half as much. */
export const WECOM_TEXT_MAX_BYTES = 2048;
/** After a 45009 the robot's minute window is full: nothing sent to it sooner can succeed. */
export const WECOM_THROTTLE_PAUSE_MS = 60_000;

const WECOM_SUCCESS = 0;
/** "api freq out of limit": more than 20 messages in a minute. */
const WECOM_FREQ_OUT_OF_LIMIT = 45009;

/** `<font color>` values WeCom markdown supports: green, grey, orange-red. */
type WecomColor = 'info' | 'comment' | 'warning';
const STATUS_COLOR: Record<EventType, WecomColor> = {
  FINISHED: 'info',
  FAILED: 'warning',
  CANCELLED: 'comment',
  LONG_RUNNING: 'warning',
  RECOVERED: 'info',
};

export interface WecomMarkdownMessage {
  msgtype: 'markdown';
  markdown: { content: string };
}

export interface WecomTextMessage {
  msgtype: 'text';
  text: {
    content: string;
    /** User ids to @; `"@all"` for everyone. */
    mentioned_list?: string[];
    /** Mobile numbers to @. */
    mentioned_mobile_list?: string[];
  };
}

export type WecomMessage = WecomMarkdownMessage | WecomTextMessage;

/**
 * Escapes user text for WeCom markdown: `<` cannot open `<font>` or a `<@userid>` mention, `]` cannot close a
 * link label before `(url)`, and a newline continues the surrounding `> ` quote so user text cannot start a
 * heading or leave the quote. Works character by character, so escaped lengths add up.
 */
export function escapeWecomMarkdown(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/</g, `<${ZERO_WIDTH_SPACE}`)
    .replace(/\]/g, `]${ZERO_WIDTH_SPACE}`)
    .replace(/\n/g, '\n> ');
}

/** Escapes user text for a WeCom `text` message: plain text, but `<@userid>` still mentions there. */
export function escapeWecomText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/</g, `<${ZERO_WIDTH_SPACE}`);
}

/**
 * Splits `mentions.users` the way WeCom wants them: digits-only entries are mobile numbers, the rest user ids;
 * `mentions.all` becomes `"@all"` in the user-id list. Groups have no WeCom equivalent and are left out.
 */
export function wecomMentionLists(mentions: Mentions): { userIds: string[]; mobiles: string[] } {
  const userIds = new Set<string>();
  const mobiles = new Set<string>();
  for (const raw of mentions.users) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (/^\d+$/.test(entry)) mobiles.add(entry);
    else userIds.add(entry);
  }
  if (mentions.all) userIds.add('@all');
  return { userIds: [...userIds], mobiles: [...mobiles] };
}

/** How one WeCom message type writes each part; the budget logic is the same for both. */
interface WecomDialect {
  maxBytes: number;
  escape: (text: string) => string;
  header(facts: JobFacts): string;
  fieldLine(label: string, value: string): string;
  /** What goes before a block of multi-line user text (error, SQL), which follows escaped with `escape`. */
  blockHead(title: string): string;
  link(url: string, text: Catalogue): string;
  footer(text: string): string;
}

const FIELD_VALUE_MAX_BYTES = 256;
const HEADER_TITLE_MAX_BYTES = 256;
/** A cut link would point somewhere else; a link this long is left out instead. */
const LINK_MAX_BYTES = 1024;
/** Shares of the whole message: the SQL gets whatever the fields and the error leave. */
const FIELDS_SHARE = 0.35;
const ERROR_SHARE = 0.3;
/** Below this a SQL or error block would show almost nothing: better left out than shown as "…". */
const BLOCK_MIN_BYTES = 48;

const markdownDialect: WecomDialect = {
  maxBytes: WECOM_MARKDOWN_MAX_BYTES,
  escape: escapeWecomMarkdown,
  header: (facts) =>
    `### ${facts.statusEmoji} <font color="${STATUS_COLOR[facts.type]}">${fitEscaped(
      oneLine(facts.title),
      HEADER_TITLE_MAX_BYTES,
      countUtf8Bytes,
      escapeWecomMarkdown,
    )}</font> · ${escapeWecomMarkdown(facts.shortJobId)}`,
  fieldLine: (label, value) =>
    `> **${label}:** ${fitEscaped(oneLine(value), FIELD_VALUE_MAX_BYTES, countUtf8Bytes, escapeWecomMarkdown)}`,
  blockHead: (title) => `**${title}**\n> `,
  link: (url, text) => markdownLink(text.openInConsole, url),
  footer: (text) => `<font color="comment">${escapeWecomMarkdown(text)}</font>`,
};

const textDialect: WecomDialect = {
  maxBytes: WECOM_TEXT_MAX_BYTES,
  escape: escapeWecomText,
  header: (facts) =>
    `${facts.statusEmoji} ${fitEscaped(oneLine(facts.title), HEADER_TITLE_MAX_BYTES, countUtf8Bytes, escapeWecomText)} · ${escapeWecomText(facts.shortJobId)}`,
  fieldLine: (label, value) =>
    `${label}: ${fitEscaped(oneLine(value), FIELD_VALUE_MAX_BYTES, countUtf8Bytes, escapeWecomText)}`,
  blockHead: (title) => `${title}:\n`,
  // WeCom turns URLs in text messages into links by itself.
  link: (url, text) => `${text.openInConsole}: ${url}`,
  footer: (text) => escapeWecomText(text),
};

/**
 * Lays out one job's facts in `dialect`, cutting to its byte limit in order of importance: title, console link and
 * footer whole; then the fields (up to 35 % of the limit, whole lines only); then the error (up to 30 %); the
 * SQL gets what is left.
 */
function composeJobContent(facts: JobFacts, dialect: WecomDialect): string {
  const max = dialect.maxBytes;
  const bytes = countUtf8Bytes;
  // The header is bounded by construction: a title cut to 256 bytes, an emoji and a 9-character short id.
  const header = dialect.header(facts);
  const link = facts.consoleUrl === undefined ? undefined : dialect.link(facts.consoleUrl, facts.text);
  const footer = dialect.footer(
    truncateToFit(oneLine(facts.text.project(facts.projectId, facts.region)), FIELD_VALUE_MAX_BYTES, bytes),
  );
  const tail = link !== undefined && bytes(link) <= LINK_MAX_BYTES ? [link, footer] : [footer];

  // Every part is joined by one newline; count it with the part that follows.
  let remaining = max - bytes(header) - tail.reduce((sum, part) => sum + 1 + bytes(part), 0);

  const fieldsBudget = Math.min(remaining, Math.floor(max * FIELDS_SHARE));
  const fieldLines: string[] = [];
  let fieldsUsed = 0;
  for (const fact of facts.fields) {
    const line = dialect.fieldLine(fact.label, fact.value);
    if (fieldsUsed + 1 + bytes(line) > fieldsBudget) break;
    fieldLines.push(line);
    fieldsUsed += 1 + bytes(line);
  }
  remaining -= fieldsUsed;

  const block = (title: string, raw: string | undefined, budget: number): string | undefined => {
    if (raw === undefined) return undefined;
    const head = dialect.blockHead(title);
    const bodyBudget = budget - 1 - bytes(head);
    if (bodyBudget < BLOCK_MIN_BYTES) return undefined;
    return head + fitEscaped(raw, bodyBudget, bytes, dialect.escape);
  };
  const errorBlock = block(
    facts.text.error,
    facts.failureMessage,
    Math.min(remaining, Math.floor(max * ERROR_SHARE)),
  );
  if (errorBlock !== undefined) remaining -= 1 + bytes(errorBlock);
  const sqlBlock = block(facts.text.sql, facts.statement, remaining);

  const content = [header, ...fieldLines, errorBlock, sqlBlock, ...tail]
    .filter((part) => part !== undefined)
    .join('\n');
  // The budget above already guarantees the limit; this only guards against a mistake in it.
  return truncateToFit(content, max, bytes);
}

/**
 * Renders one job event as a WeCom message. A FAILED event with people to mention becomes a `text` message
 * (≤ 2048 bytes), because markdown messages cannot mention anyone; everything else is markdown (≤ 4096 bytes)
 * with the title coloured by status (green FINISHED, orange-red FAILED, grey CANCELLED).
 */
export function renderWecomMessage(
  event: JobEvent,
  mentions: Mentions,
  context: RenderContext,
): WecomMessage {
  const facts = describeJobEvent(event, context);
  if (mentionsSomeone(mentionsFor(facts.type, mentions))) {
    return textMessage(composeJobContent(facts, textDialect), mentions);
  }
  return { msgtype: 'markdown', markdown: { content: composeJobContent(facts, markdownDialect) } };
}

/**
 * Renders many job events as one WeCom message: title, counts by status, then one line per job (failures first)
 * until the byte limit, ending with "… and N more". A `text` message with mentions when a job FAILED and the
 * destination mentions someone, markdown otherwise.
 */
export function renderWecomDigest(
  events: readonly JobEvent[],
  mentions: Mentions,
  context: RenderContext,
): WecomMessage {
  return layOutWecomDigest(summarizeDigest(events, context), mentions);
}

/**
 * Renders a daily summary in the digest's layout: title, counts, then each list under its bold heading, within
 * the markdown byte limit. Always markdown: a summary mentions nobody, so it needs no `text` message.
 */
export function renderWecomSummary(summary: DailySummary, context: RenderContext): WecomMessage {
  return layOutWecomDigest(describeDailySummary(summary, context), NO_MENTIONS);
}

function layOutWecomDigest(digest: DigestSummary, mentions: Mentions): WecomMessage {
  const bytes = countUtf8Bytes;
  const more = digest.text.digest.more;
  const people = digestMentions(digest, mentions);
  if (mentionsSomeone(people)) {
    const head = `${escapeWecomText(digest.title)}\n${escapeWecomText(digest.counts)}\n`;
    // A text message has no bold: a heading reads as a label, the way a job's error and SQL blocks do.
    const body = fitSections(digest.sections, WECOM_TEXT_MAX_BYTES - bytes(head), bytes, {
      separator: '\n',
      sectionSeparator: '\n\n',
      heading: (text) => `${escapeWecomText(oneLine(text))}:`,
      line: (line) => formatDigestLine(line, escapeWecomText),
      more: (hidden) => escapeWecomText(more(hidden)),
    });
    return textMessage(head + body, people);
  }
  const head = `### ${escapeWecomMarkdown(oneLine(digest.title))}\n${colouredCounts(digest)}\n`;
  const body = fitSections(digest.sections, WECOM_MARKDOWN_MAX_BYTES - bytes(head), bytes, {
    separator: '\n',
    // A blank line ends the quote above: a heading right under a quoted line would be read as part of it.
    sectionSeparator: '\n\n',
    heading: (text) => `**${escapeWecomMarkdown(oneLine(text))}**`,
    line: (line) => `> ${formatDigestLine(line, escapeWecomMarkdown, markdownLink)}`,
    more: (hidden) => escapeWecomMarkdown(more(hidden)),
  });
  return { msgtype: 'markdown', markdown: { content: head + body } };
}

/**
 * The counts with each status in its colour. A summary's counts say more than its statuses ("No DLI job ended",
 * the jobs still running long): whatever follows the statuses is kept as written.
 */
function colouredCounts(digest: DigestSummary): string {
  const statuses = digest.countsByStatus.map((count) => count.text).join(' · ');
  const coloured = digest.countsByStatus
    .map((count) => `<font color="${STATUS_COLOR[count.type]}">${escapeWecomMarkdown(count.text)}</font>`)
    .join(' · ');
  if (!digest.counts.startsWith(statuses)) return escapeWecomMarkdown(digest.counts);
  return coloured + escapeWecomMarkdown(digest.counts.slice(statuses.length));
}

/**
 * Whether WeCom has anyone to notify: only a `text` message can mention, so only then is one sent instead of
 * markdown. Groups have no WeCom equivalent.
 */
function mentionsSomeone(mentions: Mentions): boolean {
  return mentions.users.length > 0 || mentions.all;
}

function textMessage(content: string, mentions: Mentions): WecomTextMessage {
  const { userIds, mobiles } = wecomMentionLists(mentions);
  return {
    msgtype: 'text',
    text: {
      content,
      ...(userIds.length > 0 && { mentioned_list: userIds }),
      ...(mobiles.length > 0 && { mentioned_mobile_list: mobiles }),
    },
  };
}

/** WeCom's answer body: `{"errcode":0,"errmsg":"ok"}` on success, an error code otherwise (still HTTP 200). */
interface WecomAnswer {
  errcode: number;
  errmsg: string;
}

function parseWecomAnswer(body: string): WecomAnswer | undefined {
  const answer = parseJsonObject(body);
  const errcode = answer?.errcode;
  if (typeof errcode !== 'number') return undefined;
  return { errcode, errmsg: typeof answer?.errmsg === 'string' ? answer.errmsg : '' };
}

/**
 * "200 errcode 40058 markdown.content exceed max length 4096. invalid Request Parameter": the part of `errmsg`
 * before WeCom's boilerplate (", hint: […], from ip: …, more info at …"), which only makes the reason long.
 */
function describeWecomError(status: number, answer: WecomAnswer): string {
  const message = oneLine(answer.errmsg.split(', hint:')[0] ?? '');
  return truncateToFit(
    `${status} errcode ${answer.errcode}${message ? ` ${message}` : ''}`,
    200,
    countUtf16Units,
  );
}

/**
 * WeCom group robot (`https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`). Unsigned: the `key` in the URL
 * is the secret. WeCom answers HTTP 200 for rejected messages too, so success is `errcode == 0` in the body.
 */
export const wecomPlatform: ChatPlatform = {
  kind: 'chat',
  webhookHosts: { hosts: ['qyapi.weixin.qq.com'] },
  // Published: 20 messages a minute per robot.
  rateLimit: { perMinute: 20 },

  render(event, destination, context) {
    return postJson(destination.url, renderWecomMessage(event, destination.mentions, context));
  },

  renderDigest(events, destination, context) {
    return postJson(destination.url, renderWecomDigest(events, destination.mentions, context));
  },

  renderSummary(summary, destination, context) {
    return postJson(destination.url, renderWecomSummary(summary, context));
  },

  judge(response: PlatformResponse): DeliveryOutcome {
    const { status } = response;
    if (status === 200) {
      const answer = parseWecomAnswer(response.body);
      if (answer === undefined) {
        // A proxy's page or a captive portal also answers 200: nothing proves WeCom posted the message.
        return {
          kind: 'retry',
          reason: `${describeAnswer(response)} (200 without an errcode: not proven delivered)`,
        };
      }
      if (answer.errcode === WECOM_SUCCESS) return { kind: 'delivered' };
      if (answer.errcode === WECOM_FREQ_OUT_OF_LIMIT) {
        // The robot's whole minute is used up: this message and every other one for this robot must wait.
        return {
          kind: 'retry',
          reason: `${describeWecomError(status, answer)} (rate limited)`,
          retryAfterMs: WECOM_THROTTLE_PAUSE_MS,
          pauseDestinationMs: WECOM_THROTTLE_PAUSE_MS,
        };
      }
      // 40058 content too long, 93000 invalid webhook URL (wrong key), 40008 bad message type, …: sending the
      // same message again gets the same answer.
      return { kind: 'reject', reason: describeWecomError(status, answer) };
    }
    const common = judgeCommonAnswer(response);
    if (common) return common;
    if (status >= 200 && status < 300) {
      return {
        kind: 'retry',
        reason: `${describeAnswer(response)} (not 200 with errcode 0: not proven delivered)`,
      };
    }
    return { kind: 'reject', reason: describeAnswer(response) };
  },
};
