import type { TerminalStatus } from '../dli/schemas.ts';
import type { JobEvent } from '../store/store.ts';
import type { ChatDestination, Mentions } from './destination.ts';
import {
  countUtf8Bytes,
  describeJobEvent,
  type JobFacts,
  type TextMeasure,
  truncateToFit,
} from './job-facts.ts';
import type { DeliveryOutcome, Platform, PlatformResponse, RenderContext } from './platform.ts';
import { describeAnswer, judgeCommonAnswer } from './retry-after.ts';

// ---------------------------------------------------------------------------------------------------------------
// Helpers shared by the WeCom and Google Chat renderers (kept here, once, rather than in both files).
// ---------------------------------------------------------------------------------------------------------------

/**
 * Inserted after characters that would otherwise start markup (`<@userid>`, `<users/all>`, `<font …>`, `](…)`):
 * invisible to readers, but the platform's parser no longer sees the token. Neither WeCom nor Google Chat text
 * documents an escape character, so breaking the token is the only reliable way to show user text literally.
 */
export const ZERO_WIDTH_SPACE = '\u200b';

/** Whether a message for events with these statuses should mention people: only when a job FAILED. */
export function shouldMention(statuses: readonly TerminalStatus[], mentions: Mentions): boolean {
  return statuses.includes('FAILED') && (mentions.users.length > 0 || mentions.all);
}

const STATUS_ORDER: readonly TerminalStatus[] = ['FAILED', 'FINISHED', 'CANCELLED'];
const STATUS_EMOJI: Record<TerminalStatus, string> = { FINISHED: '✅', FAILED: '❌', CANCELLED: '🚫' };
const STATUS_WORD: Record<TerminalStatus, string> = {
  FAILED: 'failed',
  FINISHED: 'finished',
  CANCELLED: 'cancelled',
};

/** One status's share of a digest: "❌ 3 failed". */
export interface DigestCount {
  status: TerminalStatus;
  count: number;
  /** "❌ 3 failed". */
  text: string;
}

/** What every platform's digest shows, before each lays it out in its own markup. */
export interface DigestSummary {
  /** "12 DLI jobs ended" ("1 DLI job ended"). */
  title: string;
  /** Non-zero counts, failed first: what a person needs to see first. */
  counts: DigestCount[];
  /** "❌ 3 failed · ✅ 8 finished · 🚫 1 cancelled". */
  countsLine: string;
  /** One entry per event, FAILED first then FINISHED then CANCELLED (stable within a status), so a cut keeps failures. */
  jobs: JobFacts[];
  /** The statuses present, for {@link shouldMention}. */
  statuses: TerminalStatus[];
}

/** Counts and orders the events of one digest. */
export function summarizeDigest(events: readonly JobEvent[], context: RenderContext): DigestSummary {
  // A digest has no single job to put in a title: the destination's title template is for single events.
  const jobContext: RenderContext = { ...context, titleTemplate: null };
  const jobs = events
    .map((event) => describeJobEvent(event, jobContext))
    .map((facts, index) => ({ facts, index }))
    .sort(
      (a, b) =>
        STATUS_ORDER.indexOf(a.facts.status) - STATUS_ORDER.indexOf(b.facts.status) || a.index - b.index,
    )
    .map(({ facts }) => facts);
  const counts: DigestCount[] = [];
  for (const status of STATUS_ORDER) {
    const count = jobs.filter((job) => job.status === status).length;
    if (count > 0)
      counts.push({ status, count, text: `${STATUS_EMOJI[status]} ${count} ${STATUS_WORD[status]}` });
  }
  const total = events.length;
  return {
    title: `${total} DLI ${total === 1 ? 'job' : 'jobs'} ended`,
    counts,
    countsLine: counts.map((c) => c.text).join(' · '),
    jobs,
    statuses: counts.map((c) => c.status),
  };
}

/**
 * One digest line, "❌ 208b08d4… FAILED · default · 3 min 12 s", with the queue (the only user text in it) passed
 * through `escapeText` and cut to `queueMax` UTF-8 bytes so one absurd queue name cannot crowd out other jobs.
 */
export function formatDigestLine(job: JobFacts, escapeText: (text: string) => string, queueMax = 64): string {
  const parts = [`${job.statusEmoji} ${escapeText(job.shortJobId)} ${job.status}`];
  if (job.queue !== undefined)
    parts.push(escapeText(truncateToFit(oneLine(job.queue), queueMax, countUtf8Bytes)));
  if (job.duration !== undefined) parts.push(job.duration);
  return parts.join(' · ');
}

/** "… and 12 more": what a cut digest ends with. */
export function moreLine(hidden: number): string {
  return `… and ${hidden} more`;
}

/**
 * Joins as many `lines` as fit in `max` (as measured by `measure`), ending with `more(hidden)` when some were
 * left out; the marker's own size is accounted for, so the result never exceeds `max`. Returns the number of
 * lines shown as well, for callers and tests that need it.
 */
export function fitLines(
  lines: readonly string[],
  max: number,
  measure: TextMeasure,
  separator: string,
  more: (hidden: number) => string = moreLine,
): { text: string; shown: number } {
  const separatorSize = measure(separator);
  const sizes = lines.map(measure);
  const total = sizes.reduce((sum, size, i) => sum + size + (i > 0 ? separatorSize : 0), 0);
  if (total <= max) return { text: lines.join(separator), shown: lines.length };
  let used = 0;
  let shown = 0;
  for (let i = 0; i < lines.length; i++) {
    const next = used + (i > 0 ? separatorSize : 0) + (sizes[i] ?? 0);
    const marker = more(lines.length - i - 1);
    const markerCost = i + 1 < lines.length ? separatorSize + measure(marker) : 0;
    if (next + markerCost > max) break;
    used = next;
    shown = i + 1;
  }
  const marker = more(lines.length - shown);
  const text = shown === 0 ? marker : `${lines.slice(0, shown).join(separator)}${separator}${marker}`;
  // Only when even the marker is too big (a max of a few bytes) could this cut; it keeps the promise anyway.
  return { text: truncateToFit(text, max, measure), shown };
}

/**
 * Cuts raw user text so that `escapeText(result)` measures at most `max`, then escapes it. Measuring the escaped
 * form of each piece means a cut never lands inside an inserted escape. `escapeText` must work character by
 * character (the escaped length of a text is the sum over its characters).
 */
export function fitEscaped(
  raw: string,
  max: number,
  measure: TextMeasure,
  escapeText: (text: string) => string,
): string {
  return escapeText(truncateToFit(raw, max, (text) => measure(escapeText(text))));
}

/** Collapses every run of whitespace (newlines included) to one space: for single-line values. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

// ---------------------------------------------------------------------------------------------------------------
// WeCom group robot
// ---------------------------------------------------------------------------------------------------------------

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
const STATUS_COLOR: Record<TerminalStatus, WecomColor> = {
  FINISHED: 'info',
  FAILED: 'warning',
  CANCELLED: 'comment',
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
 * heading or leave the quote. Works character by character, as {@link fitEscaped} requires.
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
  link(url: string): string;
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
    `### ${facts.statusEmoji} <font color="${STATUS_COLOR[facts.status]}">${fitEscaped(
      oneLine(facts.title),
      HEADER_TITLE_MAX_BYTES,
      countUtf8Bytes,
      escapeWecomMarkdown,
    )}</font> · ${escapeWecomMarkdown(facts.shortJobId)}`,
  fieldLine: (label, value) =>
    `> **${label}:** ${fitEscaped(oneLine(value), FIELD_VALUE_MAX_BYTES, countUtf8Bytes, escapeWecomMarkdown)}`,
  blockHead: (title) => `**${title}**\n> `,
  // Parentheses and spaces would end the markdown link early; percent-encoding them keeps the same URL.
  link: (url) =>
    `[Open in DLI console](${url.replace(/[()<> ]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)})`,
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
  link: (url) => `Open in DLI console: ${url}`,
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
  const link = facts.consoleUrl === undefined ? undefined : dialect.link(facts.consoleUrl);
  const footer = dialect.footer(
    truncateToFit(oneLine(`project ${facts.projectId} · ${facts.region}`), FIELD_VALUE_MAX_BYTES, bytes),
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
  const errorBlock = block('Error', facts.failureMessage, Math.min(remaining, Math.floor(max * ERROR_SHARE)));
  if (errorBlock !== undefined) remaining -= 1 + bytes(errorBlock);
  const sqlBlock = block('SQL', facts.statement, remaining);

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
  if (shouldMention([facts.status], mentions)) {
    return textMessage(composeJobContent(facts, textDialect), mentions);
  }
  return { msgtype: 'markdown', markdown: { content: composeJobContent(facts, markdownDialect) } };
}

/** Digest lines are short; a queue name is cut to this many bytes so each line stays one line. */
const DIGEST_QUEUE_MAX_BYTES = 64;

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
  const summary = summarizeDigest(events, context);
  const bytes = countUtf8Bytes;
  if (shouldMention(summary.statuses, mentions)) {
    const head = `${summary.title}\n${summary.countsLine}\n`;
    const lines = summary.jobs.map((job) => formatDigestLine(job, escapeWecomText, DIGEST_QUEUE_MAX_BYTES));
    const body = fitLines(lines, WECOM_TEXT_MAX_BYTES - bytes(head), bytes, '\n').text;
    return textMessage(head + body, mentions);
  }
  const counts = summary.counts
    .map((c) => `<font color="${STATUS_COLOR[c.status]}">${c.text}</font>`)
    .join(' · ');
  const head = `### ${summary.title}\n${counts}\n`;
  const lines = summary.jobs.map(
    (job) => `> ${formatDigestLine(job, escapeWecomMarkdown, DIGEST_QUEUE_MAX_BYTES)}`,
  );
  const body = fitLines(lines, WECOM_MARKDOWN_MAX_BYTES - bytes(head), bytes, '\n').text;
  return { msgtype: 'markdown', markdown: { content: head + body } };
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
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { errcode, errmsg } = parsed as Record<string, unknown>;
    if (typeof errcode !== 'number') return undefined;
    return { errcode, errmsg: typeof errmsg === 'string' ? errmsg : '' };
  } catch {
    return undefined;
  }
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
    (t) => t.length,
  );
}

/**
 * WeCom group robot (`https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`). Unsigned: the `key` in the URL
 * is the secret. WeCom answers HTTP 200 for rejected messages too, so success is `errcode == 0` in the body.
 */
export const wecomPlatform: Platform<ChatDestination> = {
  // Published: 20 messages a minute per robot.
  rateLimit: { perMinute: 20 },

  render(event: JobEvent, destination: ChatDestination, context: RenderContext) {
    return {
      url: destination.url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(renderWecomMessage(event, destination.mentions, context)),
    };
  },

  renderDigest(events: readonly JobEvent[], destination: ChatDestination, context: RenderContext) {
    return {
      url: destination.url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(renderWecomDigest(events, destination.mentions, context)),
    };
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
