import { createHmac } from 'node:crypto';
import type { TerminalStatus } from '../dli/schemas.ts';
import type { JobEvent } from '../store/store.ts';
import type { ChatDestination, Mentions } from './destination.ts';
import { describeJobEvent, type JobFacts, type TextMeasure, truncateText } from './job-facts.ts';
import type { DeliveryOutcome, Platform, PlatformResponse, RenderContext } from './platform.ts';
import { describeAnswer, judgeCommonAnswer } from './retry-after.ts';

// ---------------------------------------------------------------------------------------------------------------
// Helpers shared by the Feishu and DingTalk renderers (dingtalk.ts imports them from here).
// ---------------------------------------------------------------------------------------------------------------

/**
 * The UTF-8 bytes `text` takes inside a JSON string literal, quotes excluded: what a body-size limit counts, since
 * quotes, backslashes and control characters grow when serialized. Additive over concatenation (JSON escapes one
 * character at a time), so it can measure where to cut.
 */
export const countJsonStringBytes: TextMeasure = (text) =>
  Buffer.byteLength(JSON.stringify(text), 'utf8') - 2;

/** Base64 of HMAC-SHA256(`key`, `message`): both Feishu and DingTalk sign this way, with different key and message. */
export function hmacSha256Base64(key: string, message: string): string {
  return createHmac('sha256', key).update(message, 'utf8').digest('base64');
}

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * Cuts raw user text so that, once escaped by `escapeText`, it takes at most `maxBytes` in a JSON body (counting
 * `marker`, appended only when something was cut), and returns it escaped. Cuts between grapheme clusters only.
 * The cut is found by bisection on the escaped size, so escapes that depend on context (a `-` only at the start
 * of a line) are measured exactly; `escapeText` must never get shorter when text is appended.
 */
export function fitEscaped(
  raw: string,
  maxBytes: number,
  escapeText: (text: string) => string,
  marker = '…',
): string {
  const size = (text: string) => countJsonStringBytes(escapeText(text));
  if (size(raw) <= maxBytes) return escapeText(raw);
  const ends = [0];
  for (const { index, segment } of graphemes.segment(raw)) ends.push(index + segment.length);
  // Largest number of graphemes whose escaped text plus the marker fits; none may fit at all.
  let low = -1;
  let high = ends.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (size(raw.slice(0, ends[middle]) + marker) <= maxBytes) low = middle;
    else high = middle - 1;
  }
  return low < 0 ? '' : escapeText(raw.slice(0, ends[low]) + marker);
}

const STATUS_ORDER: readonly TerminalStatus[] = ['FAILED', 'FINISHED', 'CANCELLED'];
const STATUS_WORDS: Record<TerminalStatus, string> = {
  FAILED: 'failed',
  FINISHED: 'finished',
  CANCELLED: 'cancelled',
};
const STATUS_EMOJI: Record<TerminalStatus, string> = { FINISHED: '✅', FAILED: '❌', CANCELLED: '🚫' };
/** A queue name longer than this is cut in a digest line: one line per job has to stay one line. */
const DIGEST_QUEUE_MAX_CHARS = 64;

/** What a digest says, before each platform lays it out in its own markup. */
export interface ChatDigest {
  /** "12 DLI jobs ended" ("1 DLI job ended"). */
  title: string;
  /** "❌ 3 failed · ✅ 8 finished · 🚫 1 cancelled": only the statuses present, failures first. */
  counts: string;
  /** Whether any job FAILED: mentions and the alarm colour depend on it. */
  anyFailed: boolean;
  /** The worst status present (FAILED, then FINISHED, then CANCELLED): what colours the message. */
  worstStatus: TerminalStatus;
  /** One entry per event, FAILED first, then FINISHED, then CANCELLED (stable within a status): a cut keeps failures. */
  jobs: JobFacts[];
}

/** Counts and orders the events of one digest. */
export function summarizeDigest(events: readonly JobEvent[], context: RenderContext): ChatDigest {
  const jobs = events
    .map((event) => describeJobEvent(event, context))
    .map((facts, index) => ({ facts, index }))
    .sort(
      (a, b) =>
        STATUS_ORDER.indexOf(a.facts.status) - STATUS_ORDER.indexOf(b.facts.status) || a.index - b.index,
    )
    .map(({ facts }) => facts);
  const counts = STATUS_ORDER.map((status) => ({
    status,
    count: jobs.filter((job) => job.status === status).length,
  })).filter(({ count }) => count > 0);
  return {
    title: `${events.length} DLI job${events.length === 1 ? '' : 's'} ended`,
    counts: counts
      .map(({ status, count }) => `${STATUS_EMOJI[status]} ${count} ${STATUS_WORDS[status]}`)
      .join(' · '),
    anyFailed: counts.some(({ status }) => status === 'FAILED'),
    worstStatus: counts[0]?.status ?? 'FINISHED',
    jobs,
  };
}

/**
 * One digest line: "❌ 208b08d4… FAILED · default · 3 min 12 s". `escapeText` is applied to the user text in it (job
 * id and queue); the queue is cut first so that no line grows without bound.
 */
export function formatDigestLine(job: JobFacts, escapeText: (text: string) => string): string {
  let line = `${job.statusEmoji} ${escapeText(job.shortJobId)} ${job.status}`;
  if (job.queue !== undefined)
    line += ` · ${escapeText(oneLine(truncateText(job.queue, DIGEST_QUEUE_MAX_CHARS)))}`;
  if (job.duration !== undefined) line += ` · ${job.duration}`;
  return line;
}

/** "… and 5 more": what replaces the lines that did not fit. */
export function digestMoreLine(hidden: number): string {
  return `… and ${hidden} more`;
}

/**
 * The longest prefix of `lines` that, joined by `separator`, fits in `maxBytes` (measured by `measure`, JSON bytes
 * by default), followed by `formatMore(hidden)` when lines were left out. The room for that last line is kept
 * whenever anything has to be cut, so the result always fits.
 */
export function fitLines(
  lines: readonly string[],
  maxBytes: number,
  separator: string,
  formatMore: (hidden: number) => string,
  measure: TextMeasure = countJsonStringBytes,
): string[] {
  const sizes = lines.map((line) => measure(line));
  const separatorSize = measure(separator);
  const total = sizes.reduce((sum, size) => sum + size, 0) + separatorSize * Math.max(0, lines.length - 1);
  if (total <= maxBytes) return [...lines];
  // The "more" line for the most hidden lines has the most digits: reserving its size is always enough.
  const reserve = separatorSize + measure(formatMore(lines.length));
  const kept: string[] = [];
  let used = 0;
  for (const [index, line] of lines.entries()) {
    const size = (kept.length > 0 ? separatorSize : 0) + (sizes[index] ?? 0);
    if (used + size + reserve > maxBytes) break;
    kept.push(line);
    used += size;
  }
  const more = formatMore(lines.length - kept.length);
  // With no line kept there is no separator before the "more" line; without room even for it, say nothing.
  return measure(more) <= maxBytes ? [...kept, more] : kept;
}

/** Replaces each line break (with the whitespace around it) by one space: for text shown on one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ');
}

// ---------------------------------------------------------------------------------------------------------------
// Feishu / Lark custom bot.
// ---------------------------------------------------------------------------------------------------------------

/**
 * Feishu's limit is "20 KB" of request body; every body we send is at most this many bytes, under the limit
 * whichever KB is meant.
 */
export const FEISHU_BODY_MAX_BYTES = 20_000;
/** A header wraps after a line or two; a title template that makes more than this is cut (our choice). */
const TITLE_MAX_CHARS = 100;
/** One label/value pair of the card: enough for a long tag list, small enough to leave room for the error and SQL. */
const FIELD_VALUE_MAX_BYTES = 500;
/** A field up to this long shares its row with another one. */
const SHORT_FIELD_MAX_CHARS = 40;
/** The error text gets this much first; the SQL gets whatever room is left after it. */
const ERROR_MAX_BYTES = 8_000;
/** A section with less room than this would show a few characters of SQL: it is left out instead. */
const MIN_SECTION_BYTES = 64;
const NOTE_MAX_CHARS = 200;
/** A link cut short points somewhere else: longer console links are left out. */
const URL_MAX_CHARS = 2_000;
/** Mentions beyond this many people are left out, so a long list cannot crowd the message out of its 20 KB. */
const MAX_MENTIONED_USERS = 50;
/** An open_id (`ou_…`) or user_id: anything else could break out of the `<at>` tag, so it is left out. */
const SAFE_MENTION_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Feishu's own header colours (card JSON 1.0 `header.template`). */
export type FeishuHeaderTemplate = 'green' | 'red' | 'grey';

const HEADER_TEMPLATES: Record<TerminalStatus, FeishuHeaderTemplate> = {
  FINISHED: 'green',
  FAILED: 'red',
  CANCELLED: 'grey',
};

/** A card text: `plain_text` shows as typed, `lark_md` is Feishu's markdown subset (escape user text). */
export interface FeishuText {
  tag: 'plain_text' | 'lark_md';
  content: string;
}

/** One label/value pair of a `div`'s `fields`; short ones share a row. */
export interface FeishuField {
  is_short: boolean;
  text: FeishuText;
}

/** A link button: custom bots may open URLs, not call back. */
export interface FeishuButton {
  tag: 'button';
  text: FeishuText;
  url: string;
  type: 'default' | 'primary';
}

/** The card JSON 1.0 elements dli-watch uses. */
export type FeishuElement =
  | { tag: 'div'; text: FeishuText }
  | { tag: 'div'; fields: FeishuField[] }
  | { tag: 'action'; actions: FeishuButton[] }
  | { tag: 'note'; elements: FeishuText[] };

/** An interactive card (JSON 1.0): a coloured header and the elements under it. */
export interface FeishuCard {
  config: { wide_screen_mode: true };
  header: { template: FeishuHeaderTemplate; title: { tag: 'plain_text'; content: string } };
  elements: FeishuElement[];
}

/** A custom-bot message: an interactive card, with `timestamp` and `sign` when the bot has a signing secret. */
export interface FeishuMessage {
  timestamp?: string;
  sign?: string;
  msg_type: 'interactive';
  card: FeishuCard;
}

const LARK_MD_ENTITIES: Record<string, string> = {
  '&': '&#38;',
  '<': '&#60;',
  '>': '&#62;',
  '*': '&#42;',
  _: '&#95;',
  '~': '&#126;',
  '`': '&#96;',
  '[': '&#91;',
  ']': '&#93;',
  '\\': '&#92;',
};

/**
 * Escapes user text for `lark_md` the way Feishu documents it: characters that start markup become numeric HTML
 * entities (`<` → `&#60;`), so user text can neither format itself, nor link, nor open an `<at id=all>` tag.
 * `&` is escaped too, so an entity written by the user shows as typed. `:` is left alone although `:KEY:` can
 * show a Feishu emoji: colons are in every time and URL, and the worst case is an emoji in the text.
 */
export function escapeLarkMd(text: string): string {
  return text.replace(/[&<>*_~`[\]\\]/g, (char) => LARK_MD_ENTITIES[char] ?? char);
}

/**
 * The Feishu signature: HMAC-SHA256 keyed by `timestamp + "\n" + secret` over an empty message, Base64. The
 * timestamp is in seconds and must be within an hour of Feishu's clock.
 */
export function signFeishu(secret: string, timestampSeconds: number): string {
  return hmacSha256Base64(`${timestampSeconds}\n${secret}`, '');
}

/**
 * The card for one event: header coloured by status, the facts as fields, the error (FAILED) and the SQL cut to
 * fit, a console button, and for a FAILED job the configured mentions in a `lark_md` div, which is where a card
 * notifies people. The serialized body is at most {@link FEISHU_BODY_MAX_BYTES}, whatever the event holds.
 */
export function renderFeishuMessage(
  event: JobEvent,
  destination: ChatDestination,
  context: RenderContext,
): FeishuMessage {
  const facts = describeJobEvent(event, context);
  const elements: FeishuElement[] = [];
  const mentions = facts.status === 'FAILED' ? larkMentions(destination.mentions) : '';
  if (mentions !== '') elements.push(larkDiv(mentions));
  elements.push({ tag: 'div', fields: facts.fields.map(({ label, value }) => larkField(label, value)) });
  const errorDiv = facts.failureMessage === undefined ? undefined : larkDiv('**Error**\n');
  const sqlDiv = facts.statement === undefined ? undefined : larkDiv('**SQL**\n');
  if (errorDiv) elements.push(errorDiv);
  if (sqlDiv) elements.push(sqlDiv);
  if (facts.consoleUrl !== undefined && facts.consoleUrl.length <= URL_MAX_CHARS) {
    elements.push({
      tag: 'action',
      actions: [
        {
          tag: 'button',
          text: { tag: 'plain_text', content: 'Open in DLI console' },
          url: facts.consoleUrl,
          type: 'default',
        },
      ],
    });
  }
  elements.push({
    tag: 'note',
    elements: [
      {
        tag: 'plain_text',
        content: truncateText(`project ${facts.projectId} · ${facts.region}`, NOTE_MAX_CHARS),
      },
    ],
  });

  const message = feishuEnvelope(
    {
      config: { wide_screen_mode: true },
      header: {
        template: HEADER_TEMPLATES[facts.status],
        title: {
          tag: 'plain_text',
          content: truncateText(
            oneLine(`${facts.statusEmoji} ${facts.title} · ${facts.shortJobId}`),
            TITLE_MAX_CHARS,
          ),
        },
      },
      elements,
    },
    destination,
    context,
  );

  // Everything but the error and the SQL is capped already; those two share the room that is left, error first
  // (what a person acts on). Adding text to a string grows the body by exactly its JSON size.
  let room = FEISHU_BODY_MAX_BYTES - bodyBytes(message);
  const fill = (div: { text: FeishuText } | undefined, raw: string | undefined, maxBytes: number) => {
    if (!div || raw === undefined) return;
    if (maxBytes < MIN_SECTION_BYTES) {
      elements.splice(elements.indexOf(div as FeishuElement), 1);
      return;
    }
    const text = fitEscaped(raw, maxBytes, escapeLarkMd);
    div.text.content += text;
    room -= countJsonStringBytes(text);
  };
  fill(errorDiv, facts.failureMessage, Math.min(room, ERROR_MAX_BYTES));
  fill(sqlDiv, facts.statement, room);
  return message;
}

/**
 * One card for many events: "12 DLI jobs ended", the counts by status, one line per job (failures first) cut
 * to fit with "… and N more"; red with the mentions when any job FAILED.
 */
export function renderFeishuDigest(
  events: readonly JobEvent[],
  destination: ChatDestination,
  context: RenderContext,
): FeishuMessage {
  const digest = summarizeDigest(events, context);
  const elements: FeishuElement[] = [];
  const mentions = digest.anyFailed ? larkMentions(destination.mentions) : '';
  if (mentions !== '') elements.push(larkDiv(mentions));
  elements.push(larkDiv(`**${escapeLarkMd(digest.counts)}**`));
  const listDiv = larkDiv('');
  elements.push(listDiv);
  const message = feishuEnvelope(
    {
      config: { wide_screen_mode: true },
      header: {
        template: HEADER_TEMPLATES[digest.worstStatus],
        title: { tag: 'plain_text', content: digest.title },
      },
      elements,
    },
    destination,
    context,
  );
  const lines = digest.jobs.map((job) => formatDigestLine(job, escapeLarkMd));
  listDiv.text.content = fitLines(
    lines,
    FEISHU_BODY_MAX_BYTES - bodyBytes(message),
    '\n',
    digestMoreLine,
  ).join('\n');
  if (listDiv.text.content === '') elements.splice(elements.indexOf(listDiv), 1);
  return message;
}

/** Feishu's custom-bot answer codes that mean something to us. */
const FEISHU_CODE_HINTS: Record<number, string> = {
  9499: 'bad request',
  11232: 'rate limited by Feishu',
  19021: 'signature or timestamp rejected: check the secret and this machine’s clock',
  19022: 'this IP is not on the bot’s allowlist',
  19024: 'the message lacks the keyword the bot requires',
};

/**
 * Feishu / Lark custom bot (`open.feishu.cn` or `open.larksuite.com`, same API): an interactive card, signed in
 * the body when the destination has a secret. Feishu answers HTTP 200 for rejected messages, so success is HTTP 200
 * with body `code` 0 (or, from older endpoints, `StatusCode` 0).
 */
export const feishuPlatform: Platform<ChatDestination> = {
  // Published per custom bot: 100 messages a minute and 5 a second.
  rateLimit: { perMinute: 100, perSecond: 5 },
  render(event, destination, context) {
    return jsonPost(destination.url, renderFeishuMessage(event, destination, context));
  },
  renderDigest(events, destination, context) {
    return jsonPost(destination.url, renderFeishuDigest(events, destination, context));
  },
  judge(response: PlatformResponse): DeliveryOutcome {
    const common = judgeCommonAnswer(response);
    if (common) return common;
    const code = feishuAnswerCode(response.body);
    const reason = code === undefined ? describeAnswer(response) : describeCode(response, code);
    if (code === 11232) return { kind: 'retry', reason };
    if (code === 0 && response.status === 200) return { kind: 'delivered' };
    if (code !== undefined && code !== 0) return { kind: 'reject', reason };
    if (response.status >= 200 && response.status < 300) {
      return { kind: 'retry', reason: `${reason} (not 200 with code 0: not proven delivered)` };
    }
    return { kind: 'reject', reason };
  },
};

/** The answer's `code` (or the older `StatusCode`), `undefined` when the body is not a Feishu answer. */
function feishuAnswerCode(body: string): number | undefined {
  const answer = parseJsonObject(body);
  if (answer === undefined) return undefined;
  if (typeof answer.code === 'number') return answer.code;
  if (typeof answer.StatusCode === 'number') return answer.StatusCode;
  return undefined;
}

function describeCode(response: PlatformResponse, code: number): string {
  const hint = FEISHU_CODE_HINTS[code];
  return hint === undefined ? describeAnswer(response) : `${describeAnswer(response)} (${hint})`;
}

/** The body as a JSON object, or `undefined` when it is not one. */
export function parseJsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function jsonPost(url: string, body: unknown) {
  return {
    url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

function feishuEnvelope(
  card: FeishuCard,
  destination: ChatDestination,
  context: RenderContext,
): FeishuMessage {
  if (!destination.secret) return { msg_type: 'interactive', card };
  const timestampSeconds = Math.floor(context.now / 1000);
  return {
    timestamp: String(timestampSeconds),
    sign: signFeishu(destination.secret, timestampSeconds),
    msg_type: 'interactive',
    card,
  };
}

function bodyBytes(message: FeishuMessage): number {
  return Buffer.byteLength(JSON.stringify(message), 'utf8');
}

function larkDiv(content: string): { tag: 'div'; text: FeishuText } {
  return { tag: 'div', text: { tag: 'lark_md', content } };
}

function larkField(label: string, value: string): FeishuField {
  return {
    is_short: value.length <= SHORT_FIELD_MAX_CHARS,
    text: {
      tag: 'lark_md',
      content: `**${label}**\n${fitEscaped(value, FIELD_VALUE_MAX_BYTES, escapeLarkMd)}`,
    },
  };
}

/**
 * `<at id=…></at>` for each configured user and `<at id=all></at>` for everyone: the card syntax Feishu documents
 * for custom bots (open_id). Feishu has no group mention for custom bots, so `mentions.groups` is not used.
 */
function larkMentions(mentions: Mentions): string {
  const users = [...new Set(mentions.users)]
    .filter((id) => SAFE_MENTION_ID.test(id) && id !== 'all')
    .slice(0, MAX_MENTIONED_USERS);
  const tags = users.map((id) => `<at id=${id}></at>`);
  if (mentions.all) tags.push('<at id=all></at>');
  return tags.join(' ');
}
