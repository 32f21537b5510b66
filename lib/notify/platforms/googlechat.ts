import { createHash } from 'node:crypto';
import type { DailySummary, JobEvent } from '../../job.ts';
import { type ChatDestination, type Mentions, NO_MENTIONS } from '../destination.ts';
import { describeDailySummary } from '../render/daily-summary-facts.ts';
import {
  type DigestSummary,
  digestMentions,
  fitSections,
  formatDigestLine,
  summarizeDigest,
} from '../render/digest.ts';
import { describeJobEvent, mentionsFor, type RenderContext } from '../render/job-facts.ts';
import {
  countCodePoints,
  countJsonStringBytes,
  countUtf16Units,
  fitEscaped,
  joinWhole,
  oneLine,
  truncateText,
  truncateToFit,
  ZERO_WIDTH_SPACE,
} from '../render/text-fit.ts';
import { describeAnswer, judgeCommonAnswer } from './common-answers.ts';
import { jsonBodyBytes, parseJsonObject, postJson } from './json-body.ts';
import type { ChatPlatform, DeliveryOutcome, OutgoingRequest, PlatformResponse } from './platform.ts';

/** Google Chat's documented maximum message size, text and cards included. */
export const GOOGLE_CHAT_MAX_BODY_BYTES = 32_000;
/**
 * What we aim for: Google counts the message, we count the JSON we send, and the two need not agree to the byte,
 * so a 1,000-byte margin keeps a message near the limit from being refused over a counting difference.
 */
export const GOOGLE_CHAT_BODY_BUDGET_BYTES = 31_000;
/** Widgets past this many per card are silently dropped by Google Chat. */
export const GOOGLE_CHAT_MAX_WIDGETS_PER_CARD = 100;
/** The limit on text people type in Chat; a notification's `text` never needs more. */
export const GOOGLE_CHAT_TEXT_MAX_CHARS = 4096;

/** The query parameter that makes a create request idempotent (see {@link googleChatRequestId}). */
export const GOOGLE_CHAT_REQUEST_ID_PARAM = 'requestId';

// Sizes of the user-text parts of a card, in bytes of the JSON sent. Chosen for a card people can still read
// (the whole SQL is in the DLI console); together they stay well under the 31,000-byte budget, which is
// nevertheless measured and enforced as a whole below.
const HEADER_TITLE_MAX_CHARS = 200;
const HEADLINE_MAX_CHARS = 300;
const FIELD_TEXT_MAX_BYTES = 1000;
const ERROR_TEXT_MAX_BYTES = 4000;
const SQL_TEXT_MAX_BYTES = 6000;
/** A cut link would point somewhere else; a link this long is left out instead. */
const LINK_MAX_CHARS = 2000;

export interface GoogleChatDecoratedText {
  decoratedText: { topLabel: string; text: string; wrapText: boolean };
}
export interface GoogleChatTextParagraph {
  textParagraph: { text: string };
}
export interface GoogleChatButtonList {
  buttonList: { buttons: { text: string; onClick: { openLink: { url: string } } }[] };
}
export type GoogleChatWidget = GoogleChatDecoratedText | GoogleChatTextParagraph | GoogleChatButtonList;

export interface GoogleChatSection {
  header?: string;
  widgets: GoogleChatWidget[];
}

export interface GoogleChatCard {
  /** Plain text: card headers take no markup, and colour cannot be set, so the status shows as its emoji. */
  header: { title: string; subtitle?: string };
  sections: GoogleChatSection[];
}

/** An incoming-webhook message: `text` is what notifications show and where mentions work, the card the rest. */
export interface GoogleChatMessage {
  text: string;
  cardsV2: { cardId: string; card: GoogleChatCard }[];
}

/** An HTML link, which card text takes; the URL is escaped as an attribute value. */
function googleChatLink(escapedText: string, url: string): string {
  return `<a href="${escapeGoogleChatCardText(url).replace(/"/g, '&quot;')}">${escapedText}</a>`;
}

/**
 * Escapes user text for card text fields, which take a small HTML subset: `&`, `<` and `>` become entities, and
 * newlines become `<br>` (the documented line break).
 */
export function escapeGoogleChatCardText(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r\n?|\n/g, '<br>');
}

/**
 * Escapes user text for the message `text`, where `<users/all>` mentions everyone and `<url|label>` makes a link:
 * a zero-width space after `<` breaks both tokens while the reader still sees the text as written.
 */
export function escapeGoogleChatText(text: string): string {
  return text.replace(/</g, `<${ZERO_WIDTH_SPACE}`);
}

/**
 * The mention tokens for `mentions`: `<users/{id}>` per user (a configured `users/` prefix is accepted), then
 * `<users/all>`. Ids with characters no Google user id has are left out: they could only break the markup. Groups
 * cannot be mentioned through a webhook and are left out too.
 */
export function googleChatMentionTokens(mentions: Mentions): string[] {
  const tokens = new Set<string>();
  for (const raw of mentions.users) {
    const id = raw.trim().replace(/^users\//, '');
    if (/^[A-Za-z0-9._@+-]+$/.test(id)) tokens.add(`<users/${id}>`);
  }
  if (mentions.all) tokens.add('<users/all>');
  return [...tokens];
}

/** Mentions first (whole tokens only, as many as fit), then `rest`, all within the text limit. */
function composeText(mentionTokens: readonly string[], rest: string): string {
  const room = GOOGLE_CHAT_TEXT_MAX_CHARS - countCodePoints(rest) - 1;
  const mentionText = joinWhole(mentionTokens, room, countCodePoints);
  return mentionText === '' ? rest : `${mentionText} ${rest}`;
}

const REQUEST_ID_NAMESPACE = 'd92781e6-4d8b-4568-9f68-b10c5177ae43';

/**
 * The `requestId` for a message about `eventIds` to the space behind `webhookUrl`: a name-based (version 5) UUID,
 * so every retry of the same delivery carries the same id and Google Chat answers with the message it already
 * created instead of posting it again. Built from the space name and the event ids only: the webhook's key and
 * token (secrets) never go into it.
 */
export function googleChatRequestId(webhookUrl: string, eventIds: readonly string[]): string {
  const url = URL.parse(webhookUrl);
  const space =
    url?.pathname.match(/\/spaces\/([^/]+)/)?.[1] ?? (url ? `${url.host}${url.pathname}` : 'unparsed-url');
  const hash = createHash('sha1')
    .update(Buffer.from(REQUEST_ID_NAMESPACE.replace(/-/g, ''), 'hex'))
    .update(`${space}\n${eventIds.join('\n')}`, 'utf8')
    .digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The webhook URL with `requestId` set, keeping its `key`, `token` and any thread parameters. */
export function withRequestId(webhookUrl: string, requestId: string): string {
  const url = URL.parse(webhookUrl);
  if (url === null) {
    // Not a URL at all: sending will fail and say so; keep the configured text rather than throw while rendering.
    return `${webhookUrl}${webhookUrl.includes('?') ? '&' : '?'}${GOOGLE_CHAT_REQUEST_ID_PARAM}=${requestId}`;
  }
  url.searchParams.set(GOOGLE_CHAT_REQUEST_ID_PARAM, requestId);
  return url.toString();
}

function fitCardText(raw: string, maxBytes: number): string {
  return fitEscaped(raw, maxBytes, countJsonStringBytes, escapeGoogleChatCardText);
}

/**
 * Renders one job event as a Google Chat message: `text` carries the mentions (FAILED only) and the headline; a
 * card carries the status emoji and title, one labelled widget per fact, the error, the SQL and a console
 * button. Every piece of user text is escaped and cut, and the JSON body stays within the size budget.
 */
export function renderGoogleChatMessage(
  event: JobEvent,
  mentions: Mentions,
  context: RenderContext,
): GoogleChatMessage {
  const facts = describeJobEvent(event, context);
  const mentionTokens = googleChatMentionTokens(mentionsFor(facts.type, mentions));
  const headline = fitEscaped(
    oneLine(facts.headline),
    HEADLINE_MAX_CHARS,
    countCodePoints,
    escapeGoogleChatText,
  );

  const fieldSection: GoogleChatSection = {
    widgets: facts.fields.map((fact) => ({
      decoratedText: {
        topLabel: fact.label,
        text: fitCardText(oneLine(fact.value), FIELD_TEXT_MAX_BYTES),
        wrapText: true,
      },
    })),
  };
  const errorParagraph: GoogleChatTextParagraph = { textParagraph: { text: '' } };
  const sqlParagraph: GoogleChatTextParagraph = { textParagraph: { text: '' } };
  const sections: GoogleChatSection[] = [fieldSection];
  if (facts.failureMessage !== undefined)
    sections.push({ header: facts.text.error, widgets: [errorParagraph] });
  if (facts.statement !== undefined) sections.push({ header: facts.text.sql, widgets: [sqlParagraph] });
  if (facts.consoleUrl !== undefined && facts.consoleUrl.length <= LINK_MAX_CHARS) {
    sections.push({
      widgets: [
        {
          buttonList: {
            buttons: [{ text: facts.text.openInConsole, onClick: { openLink: { url: facts.consoleUrl } } }],
          },
        },
      ],
    });
  }

  const message: GoogleChatMessage = {
    text: composeText(mentionTokens, headline),
    cardsV2: [
      {
        cardId: 'dli-job',
        card: {
          header: {
            title: truncateText(
              oneLine(`${facts.statusEmoji} ${facts.title} · ${facts.shortJobId}`),
              HEADER_TITLE_MAX_CHARS,
            ),
            subtitle: truncateText(
              oneLine(facts.text.project(facts.projectId, facts.region)),
              HEADER_TITLE_MAX_CHARS,
            ),
          },
          sections,
        },
      },
    ],
  };

  // Measure everything but the two long texts, then give them what the budget leaves: the error first (it says
  // why the job failed), the SQL the rest.
  let remaining = GOOGLE_CHAT_BODY_BUDGET_BYTES - jsonBodyBytes(message);
  if (facts.failureMessage !== undefined) {
    errorParagraph.textParagraph.text = fitCardText(
      facts.failureMessage,
      Math.max(0, Math.min(ERROR_TEXT_MAX_BYTES, Math.floor(remaining / 2))),
    );
    remaining -= countJsonStringBytes(errorParagraph.textParagraph.text);
  }
  if (facts.statement !== undefined) {
    sqlParagraph.textParagraph.text = fitCardText(
      facts.statement,
      Math.max(0, Math.min(SQL_TEXT_MAX_BYTES, remaining)),
    );
  }
  return message;
}

/**
 * Renders many job events as one Google Chat message: `text` with the mentions (when a job FAILED) and the
 * counts, and a card with the title, the counts and one line per job (failures first) until the size budget,
 * ending with "… and N more".
 */
export function renderGoogleChatDigest(
  events: readonly JobEvent[],
  mentions: Mentions,
  context: RenderContext,
): GoogleChatMessage {
  return layOutGoogleChatDigest(summarizeDigest(events, context), mentions);
}

/**
 * Renders a daily summary in the digest's layout: the title and counts in the card header, then each list under
 * its bold heading in one paragraph, within the size budget. It mentions nobody.
 */
export function renderGoogleChatSummary(summary: DailySummary, context: RenderContext): GoogleChatMessage {
  return layOutGoogleChatDigest(describeDailySummary(summary, context), NO_MENTIONS);
}

function layOutGoogleChatDigest(digest: DigestSummary, mentions: Mentions): GoogleChatMessage {
  const mentionTokens = googleChatMentionTokens(digestMentions(digest, mentions));
  const paragraph: GoogleChatTextParagraph = { textParagraph: { text: '' } };
  const message: GoogleChatMessage = {
    text: composeText(mentionTokens, `${digest.title}: ${digest.counts}`),
    cardsV2: [
      {
        cardId: 'dli-digest',
        card: {
          header: {
            title: truncateText(oneLine(digest.title), HEADER_TITLE_MAX_CHARS),
            subtitle: truncateText(oneLine(digest.counts), HEADER_TITLE_MAX_CHARS),
          },
          sections: [{ widgets: [paragraph] }],
        },
      },
    ],
  };
  // One paragraph for every list: each widget costs its own JSON, and a card keeps at most 100 of them.
  paragraph.textParagraph.text = fitSections(
    digest.sections,
    GOOGLE_CHAT_BODY_BUDGET_BYTES - jsonBodyBytes(message),
    countJsonStringBytes,
    {
      separator: '<br>',
      sectionSeparator: '<br><br>',
      heading: (text) => `<b>${escapeGoogleChatCardText(oneLine(text))}</b>`,
      line: (line) => formatDigestLine(line, escapeGoogleChatCardText, googleChatLink),
      more: (hidden) => escapeGoogleChatCardText(digest.text.digest.more(hidden)),
    },
  );
  return message;
}

function request(
  destination: ChatDestination,
  eventIds: readonly string[],
  message: GoogleChatMessage,
): OutgoingRequest {
  const url = withRequestId(destination.url, googleChatRequestId(destination.url, eventIds));
  // Google Chat wants JSON declared as UTF-8.
  return postJson(url, message, 'application/json; charset=UTF-8');
}

/** Google's error body: `{"error":{"code":400,"message":"…","status":"INVALID_ARGUMENT"}}`. */
function describeGoogleError(response: PlatformResponse): string {
  const error = parseJsonObject(response.body)?.error;
  const fields = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : undefined;
  const message = fields?.message;
  const status = fields?.status;
  if (typeof message === 'string' || typeof status === 'string') {
    const parts = [String(response.status), typeof status === 'string' ? status : undefined];
    const head = parts.filter((part) => part !== undefined).join(' ');
    const text = typeof message === 'string' ? `${head}: ${oneLine(message)}` : head;
    return truncateToFit(text, 200, countUtf16Units);
  }
  // Not Google's JSON (a proxy's page): describe it as it is.
  return describeAnswer(response);
}

function isCreatedMessage(body: string): boolean {
  const name = parseJsonObject(body)?.name;
  return typeof name === 'string' && name.includes('/messages/');
}

/**
 * Google Chat incoming webhook (`https://chat.googleapis.com/v1/spaces/{space}/messages?key=…&token=…`).
 * Each request carries a `requestId` derived from the space and the event(s), so a retry after a lost answer
 * returns the message already posted instead of posting it twice.
 */
export const googleChatPlatform: ChatPlatform = {
  kind: 'chat',
  webhookHosts: { hosts: ['chat.googleapis.com'] },
  // Google Chat allows 60 message writes a minute per space (one a second), shared by every app in it.
  rateLimit: { perMinute: 60, perSecond: 1 },

  render(event, destination, context) {
    return request(destination, [event.id], renderGoogleChatMessage(event, destination.mentions, context));
  },

  renderDigest(events, destination, context) {
    return request(
      destination,
      events.map((event) => event.id),
      renderGoogleChatDigest(events, destination.mentions, context),
    );
  },

  renderSummary(summary, destination, context) {
    // The summary's id is the same on every retry of it, so a retry cannot post it twice.
    return request(destination, [summary.id], renderGoogleChatSummary(summary, context));
  },

  judge(response: PlatformResponse): DeliveryOutcome {
    const { status } = response;
    if (status === 200) {
      if (isCreatedMessage(response.body)) return { kind: 'delivered' };
      // A proxy's page also answers 200. Retrying is safe: the same requestId cannot post the message twice.
      return {
        kind: 'retry',
        reason: `${describeAnswer(response)} (200 without a message: not proven delivered)`,
      };
    }
    const common = judgeCommonAnswer(response);
    if (common) return common;
    if (status >= 200 && status < 300) {
      return {
        kind: 'retry',
        reason: `${describeAnswer(response)} (not 200 with a message: not proven delivered)`,
      };
    }
    // 400 invalid message or key, 401/403 bad token, 404 space gone: the same request gets the same answer.
    return { kind: 'reject', reason: describeGoogleError(response) };
  },
};
