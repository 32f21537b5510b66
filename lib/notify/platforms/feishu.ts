import type { DailySummary, EventType, JobEvent } from '../../job.ts';
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
import type { ChatPlatform, DeliveryOutcome, PlatformResponse } from './platform.ts';
import { hmacSha256Base64 } from './signing.ts';

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
export type FeishuHeaderTemplate = 'green' | 'red' | 'grey' | 'orange';

const HEADER_TEMPLATES: Record<EventType, FeishuHeaderTemplate> = {
  FINISHED: 'green',
  FAILED: 'red',
  CANCELLED: 'grey',
  LONG_RUNNING: 'orange',
  RECOVERED: 'green',
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
  const elements = mentionDivs(mentionsFor(facts.type, destination.mentions));
  elements.push({ tag: 'div', fields: facts.fields.map(({ label, value }) => larkField(label, value)) });
  const errorDiv = facts.failureMessage === undefined ? undefined : larkDiv(`**${facts.text.error}**\n`);
  const sqlDiv = facts.statement === undefined ? undefined : larkDiv(`**${facts.text.sql}**\n`);
  if (errorDiv) elements.push(errorDiv);
  if (sqlDiv) elements.push(sqlDiv);
  if (facts.consoleUrl !== undefined && facts.consoleUrl.length <= URL_MAX_CHARS) {
    elements.push({
      tag: 'action',
      actions: [
        {
          tag: 'button',
          text: { tag: 'plain_text', content: facts.text.openInConsole },
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
        content: truncateText(facts.text.project(facts.projectId, facts.region), NOTE_MAX_CHARS),
      },
    ],
  });

  const message = feishuEnvelope(
    {
      config: { wide_screen_mode: true },
      header: {
        template: HEADER_TEMPLATES[facts.type],
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
  let room = FEISHU_BODY_MAX_BYTES - jsonBodyBytes(message);
  const fill = (div: { text: FeishuText } | undefined, raw: string | undefined, maxBytes: number) => {
    if (!div || raw === undefined) return;
    if (maxBytes < MIN_SECTION_BYTES) {
      elements.splice(elements.indexOf(div as FeishuElement), 1);
      return;
    }
    const text = fitEscaped(raw, maxBytes, countJsonStringBytes, escapeLarkMd);
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
  return layOutFeishuDigest(summarizeDigest(events, context), destination, context);
}

/**
 * A daily summary in the digest's layout: the day in the header, its counts, then each list under its bold
 * heading, all cut to fit with "… and N more". It mentions nobody.
 */
export function renderFeishuSummary(
  summary: DailySummary,
  destination: ChatDestination,
  context: RenderContext,
): FeishuMessage {
  return layOutFeishuDigest(describeDailySummary(summary, context), destination, context);
}

/** The card of a digest or a summary, signed when the destination has a secret. */
function layOutFeishuDigest(
  digest: DigestSummary,
  destination: ChatDestination,
  context: RenderContext,
): FeishuMessage {
  const elements = mentionDivs(digestMentions(digest, destination.mentions));
  elements.push(larkDiv(`**${escapeLarkMd(digest.counts)}**`));
  const listDiv = larkDiv('');
  elements.push(listDiv);
  const message = feishuEnvelope(
    {
      config: { wide_screen_mode: true },
      header: {
        template: HEADER_TEMPLATES[digest.type],
        title: { tag: 'plain_text', content: truncateText(oneLine(digest.title), TITLE_MAX_CHARS) },
      },
      elements,
    },
    destination,
    context,
  );
  // The lists share one div: the card's only limit is the whole body's size, and it is measured once.
  listDiv.text.content = fitSections(
    digest.sections,
    FEISHU_BODY_MAX_BYTES - jsonBodyBytes(message),
    countJsonStringBytes,
    {
      separator: '\n',
      sectionSeparator: '\n\n',
      heading: (text) => `**${escapeLarkMd(truncateText(oneLine(text), TITLE_MAX_CHARS))}**`,
      line: (line) => formatDigestLine(line, escapeLarkMd, markdownLink),
      more: (hidden) => escapeLarkMd(digest.text.digest.more(hidden)),
    },
  );
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
export const feishuPlatform: ChatPlatform = {
  kind: 'chat',
  signingSecret: {
    accepts: (text) => text !== '',
    rule: "must not be empty (it is the signing secret from the bot's security settings)",
  },
  webhookHosts: { hosts: ['open.feishu.cn', 'open.larksuite.com'] },
  // Published per custom bot: 100 messages a minute and 5 a second.
  rateLimit: { perMinute: 100, perSecond: 5 },
  render(event, destination, context) {
    return postJson(destination.url, renderFeishuMessage(event, destination, context));
  },
  renderDigest(events, destination, context) {
    return postJson(destination.url, renderFeishuDigest(events, destination, context));
  },
  renderSummary(summary, destination, context) {
    return postJson(destination.url, renderFeishuSummary(summary, destination, context));
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

function larkDiv(content: string): { tag: 'div'; text: FeishuText } {
  return { tag: 'div', text: { tag: 'lark_md', content } };
}

function larkField(label: string, value: string): FeishuField {
  return {
    is_short: value.length <= SHORT_FIELD_MAX_CHARS,
    text: {
      tag: 'lark_md',
      content: `**${label}**\n${fitEscaped(value, FIELD_VALUE_MAX_BYTES, countJsonStringBytes, escapeLarkMd)}`,
    },
  };
}

/** The `lark_md` div that mentions people, first in a card; none when nobody is to be mentioned. */
function mentionDivs(mentions: Mentions): FeishuElement[] {
  const text = larkMentions(mentions);
  return text === '' ? [] : [larkDiv(text)];
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
